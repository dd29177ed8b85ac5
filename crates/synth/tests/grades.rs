//! The contract behind the demo dashboard: a generated population, scored by
//! the real engine with the built-in model, spreads over every grade in the
//! proportions the `rates` module documents. Nobody is given a grade; the
//! grades follow from the records.

mod common;

use common::run;
use common::score::grades;
use jiff::civil::date;

/// Share of graded residents allowed in each grade: (grade, at least, at most).
/// The generator's docs state about AAA 0.8 %, AA 2.8 %, A 91 %, B 4.6 %,
/// C 1.0 %; the bands leave room for a few thousand residents' sampling noise.
const BOUNDS: [(&str, f64, f64); 5] = [
    ("AAA", 0.003, 0.02),
    ("AA", 0.015, 0.06),
    ("A", 0.85, 0.95),
    ("B", 0.025, 0.08),
    ("C", 0.006, 0.02),
];

#[test]
fn every_grade_occurs_in_plausible_proportions() {
    let as_of = date(2026, 11, 1);
    let (bytes, _) = run(6_000, 1, as_of);
    let g = grades(&bytes, as_of);
    let table = g.table();
    let names: Vec<&str> = g.counts.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["AAA", "AA", "A", "B", "C"], "the model's grades");
    for (grade, low, high) in BOUNDS {
        assert!(g.count(grade) > 0, "no {grade} at all:\n{table}");
        let share = g.share(grade);
        assert!(
            (low..=high).contains(&share),
            "{grade}: {:.2} % not in [{:.1} %, {:.1} %]:\n{table}",
            100.0 * share,
            100.0 * low,
            100.0 * high
        );
    }
    // Minors, people of limited capacity and non-residents have no grade;
    // most adults do.
    let all = (g.graded() + g.ungraded) as f64;
    assert!(g.graded() as f64 > 0.88 * all, "{table}");
}

#[test]
fn the_top_and_bottom_hold_on_other_seeds_and_dates() {
    for (seed, as_of) in [(2, date(2026, 6, 1)), (3, date(2028, 2, 29))] {
        let (bytes, _) = run(4_000, seed, as_of);
        let g = grades(&bytes, as_of);
        for grade in ["AAA", "AA", "B", "C"] {
            assert!(
                g.count(grade) > 0,
                "seed {seed} as of {as_of}: no {grade}:\n{}",
                g.table()
            );
        }
        assert!(g.share("A") > 0.8, "{}", g.table());
    }
}
