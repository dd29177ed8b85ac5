//! The population looks like a city's: the shares of each kind of person and
//! record are in the ranges the design asks for, and every case the score
//! engine must handle (each ineligibility reason, breaches, fulfilled
//! commitments, lifted listings, lapsed permits) occurs.

mod common;

use std::collections::HashMap;

use chengxin_domain::commitment::CommitmentOutcome;
use chengxin_domain::Catalogue;
use common::{as_of, commitment_outcomes, ineligibility, people, rows, run, Row};

const RESIDENTS: u64 = 20_000;

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole as f64
}

fn assert_between(what: &str, value: f64, low: f64, high: f64) {
    assert!(
        (low..=high).contains(&value),
        "{what}: {value:.4} not in [{low}, {high}]"
    );
}

fn has(person: &[Row], item: &str) -> bool {
    person.iter().any(|r| r.item == item)
}

#[test]
fn shares_and_cases() {
    let as_of = as_of();
    let (bytes, stats) = run(RESIDENTS, 99, as_of);
    let rows = rows(&bytes);
    let persons = people(&rows);
    let n = RESIDENTS as usize;

    assert_between(
        "records per resident",
        stats.records as f64 / n as f64,
        3.0,
        5.0,
    );

    // Every item occurs.
    let mut per_item: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *per_item.entry(r.item.as_str()).or_default() += 1;
    }
    for item in [
        "B01", "B02", "B03", "B04", "C01", "P01", "S01", "O01", "O02", "O03", "O04",
    ] {
        assert!(
            per_item.get(item).copied().unwrap_or(0) > 0,
            "no {item} rows"
        );
    }

    // Provincial evaluations: 800–849 dominate (92.5 % of draws, fewer
    // among the civic core and active, who are often in the top band), the
    // tails exist.
    let scores: Vec<i64> = rows
        .iter()
        .filter(|r| r.item == "B01")
        .map(|r| r.fields["score"].as_i64().expect("int score"))
        .collect();
    let typical = scores.iter().filter(|s| (800..=849).contains(*s)).count();
    assert_between("B01 in 800–849", share(typical, scores.len()), 0.87, 0.94);
    assert!(scores.iter().any(|&s| s >= 850));
    assert!(scores.iter().any(|&s| (700..800).contains(&s)));
    assert!(scores.iter().any(|&s| s < 700));

    // Who people are.
    let outsiders = persons
        .iter()
        .filter(|p| !p[0].id_number.starts_with("3306"))
        .count();
    assert_between("outsiders", share(outsiders, n), 0.06, 0.10);
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    let mut eligible = 0;
    for p in &persons {
        let why = ineligibility(p, as_of);
        eligible += usize::from(why.is_empty());
        for r in why {
            *reasons.entry(r).or_default() += 1;
        }
    }
    assert_between("under 18", share(reasons["UNDER_18"], n), 0.03, 0.05);
    assert!(
        reasons.get("LIMITED_CAPACITY").is_some_and(|&c| c >= 20),
        "{reasons:?}"
    );
    assert_between(
        "not resident",
        share(reasons["NOT_RESIDENT"], n),
        0.01,
        0.06,
    );
    assert_between("eligible", share(eligible, n), 0.88, 0.96);

    // What they did.
    let count = |item: &str| persons.iter().filter(|p| has(p, item)).count();
    assert_between("penalised", share(count("P01"), n), 0.02, 0.08);
    assert_between("committed", share(count("C01"), n), 0.25, 0.36);
    assert_between("listed", share(count("S01"), n), 0.001, 0.01);
    assert_between("evaluated", share(count("B01"), n), 0.9, 0.96);
    let civic = persons
        .iter()
        .filter(|p| ["O01", "O02", "O03"].iter().any(|i| has(p, i)))
        .count();
    // Adults: the core (2.5 %) and active (8 %) all, then 20 % of the rest.
    assert_between(
        "honour, donation or volunteering",
        share(civic, n),
        0.24,
        0.31,
    );
}

#[test]
fn every_case_the_engine_handles_occurs() {
    let as_of = as_of();
    let (bytes, _) = run(RESIDENTS, 5, as_of);
    let rows = rows(&bytes);
    let catalogue = Catalogue::builtin();

    let mut outcomes = [0usize; 3];
    for p in people(&rows) {
        for o in commitment_outcomes(&catalogue, p, as_of) {
            let k = match o {
                CommitmentOutcome::Running => 0,
                CommitmentOutcome::Breached { .. } => 1,
                CommitmentOutcome::Fulfilled { .. } => 2,
            };
            outcomes[k] += 1;
        }
    }
    let [running, breached, fulfilled] = outcomes;
    assert!(running > 100 && fulfilled > 100, "{outcomes:?}");
    // Half the penalised signers are made to breach (~230 here), on top of
    // the ~80 breaches that happen by chance.
    assert!(breached >= 200, "only {breached} breaches");

    let lists: Vec<&Row> = rows.iter().filter(|r| r.item == "S01").collect();
    assert!(lists.iter().any(|r| r.fields.contains_key("removed_on")));
    assert!(lists.iter().any(|r| !r.fields.contains_key("removed_on")));

    let permits: Vec<&Row> = rows.iter().filter(|r| r.item == "B04").collect();
    assert!(
        permits
            .iter()
            .any(|r| r.date("valid_until").unwrap() < as_of),
        "no lapsed permit"
    );
    assert!(
        permits
            .iter()
            .any(|r| r.date("valid_until").unwrap() >= as_of),
        "no current permit"
    );

    let moved = rows
        .iter()
        .filter(|r| r.item == "B03" && r.fields["active"] == false)
        .count();
    assert!(moved > 50, "{moved} inactive registrations");

    for level in ["minor", "general", "serious"] {
        assert!(
            rows.iter()
                .any(|r| r.item == "P01" && r.text("level") == Some(level)),
            "{level}"
        );
    }
    for level in ["national", "provincial", "city", "county"] {
        assert!(
            rows.iter()
                .any(|r| r.item == "O01" && r.text("level") == Some(level)),
            "{level}"
        );
    }
    for capacity in ["full", "limited", "none"] {
        assert!(
            rows.iter()
                .any(|r| r.item == "B02" && r.text("capacity") == Some(capacity)),
            "{capacity}"
        );
    }
    for domain in ["tax", "traffic", "market", "environment"] {
        assert!(
            rows.iter()
                .any(|r| r.item == "P01" && r.text("domain") == Some(domain)),
            "{domain}"
        );
    }
}
