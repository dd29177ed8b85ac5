//! The calendar's invariants (property tests), every 2025 and 2026 holiday
//! boundary checked against the notices by hand, and file validation.

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn add(start: &str, n: i64) -> (Date, bool) {
    let r = Calendar::shipped().add_working_days(d(start), n).unwrap();
    (r.date, r.provisional)
}

/// (start, n, expected date): written from the notices' text, not from the
/// data file, so a wrong date in the file fails here. For every holiday:
/// the last working day before it + 1 is the first working day after it;
/// and every make-up day is reached from the working day before it.
const BOUNDARIES: &[(&str, i64, &str)] = &[
    // 2025 (国办发明电〔2024〕12号)
    ("2024-12-31", 1, "2025-01-02"), // 元旦 1/1
    ("2025-01-24", 1, "2025-01-26"), // 调休 Sun 1/26
    ("2025-01-26", 1, "2025-01-27"),
    ("2025-01-27", 1, "2025-02-05"), // 春节 1/28–2/4
    ("2025-02-07", 1, "2025-02-08"), // 调休 Sat 2/8
    ("2025-02-08", 1, "2025-02-10"),
    ("2025-04-03", 1, "2025-04-07"), // 清明 4/4–4/6
    ("2025-04-25", 1, "2025-04-27"), // 调休 Sun 4/27
    ("2025-04-30", 1, "2025-05-06"), // 劳动节 5/1–5/5
    ("2025-05-30", 1, "2025-06-03"), // 端午 5/31–6/2
    ("2025-09-26", 1, "2025-09-28"), // 调休 Sun 9/28
    ("2025-09-30", 1, "2025-10-09"), // 国庆中秋 10/1–10/8
    ("2025-10-10", 1, "2025-10-11"), // 调休 Sat 10/11
    ("2025-10-11", 1, "2025-10-13"),
    // 2026 (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04)
    ("2025-12-31", 1, "2026-01-04"), // 元旦 1/1–1/3, 调休 Sun 1/4
    ("2026-01-04", 1, "2026-01-05"),
    ("2026-02-13", 1, "2026-02-14"), // 调休 Sat 2/14
    ("2026-02-14", 1, "2026-02-24"), // 春节 2/15–2/23
    ("2026-02-27", 1, "2026-02-28"), // 调休 Sat 2/28
    ("2026-02-28", 1, "2026-03-02"),
    ("2026-04-03", 1, "2026-04-07"), // 清明 4/4–4/6
    ("2026-04-30", 1, "2026-05-06"), // 劳动节 5/1–5/5
    ("2026-05-08", 1, "2026-05-09"), // 调休 Sat 5/9
    ("2026-06-18", 1, "2026-06-22"), // 端午 6/19–6/21
    ("2026-09-18", 1, "2026-09-20"), // 调休 Sun 9/20
    ("2026-09-24", 1, "2026-09-28"), // 中秋 9/25–9/27
    ("2026-09-30", 1, "2026-10-08"), // 国庆 10/1–10/7
    ("2026-10-09", 1, "2026-10-10"), // 调休 Sat 10/10
    // Longer counts, as objection deadlines use them (2 and 10 working days).
    ("2025-09-30", 2, "2025-10-10"),
    ("2025-09-30", 10, "2025-10-21"),
    ("2026-02-13", 2, "2026-02-24"),
    ("2026-02-12", 10, "2026-03-04"),
];

#[test]
fn every_holiday_boundary_of_2025_and_2026() {
    for &(start, n, want) in BOUNDARIES {
        assert_eq!(add(start, n), (d(want), false), "{start} + {n}");
    }
}

#[test]
fn every_shipped_holiday_is_bridged_from_the_working_day_before() {
    // The same rule derived from the data: no holiday is missed by the table.
    let cal = Calendar::shipped();
    let mut seen = 0;
    for y in cal.years() {
        for h in &y.holidays {
            let mut before = h.from.yesterday().unwrap();
            while !cal.is_working_day(before) {
                before = before.yesterday().unwrap();
            }
            let mut after = h.to.tomorrow().unwrap();
            while !cal.is_working_day(after) {
                after = after.tomorrow().unwrap();
            }
            let got = cal.add_working_days(before, 1).unwrap().date;
            assert_eq!(got, after, "{} {}", y.year, h.name_en);
            assert!(
                BOUNDARIES
                    .iter()
                    .any(|(s, n, w)| *n == 1 && d(s) == before && d(w) == after),
                "{} {} ({before} → {after}) is not in the hand-checked table",
                y.year,
                h.name_en
            );
            seen += 1;
        }
        for w in &y.working_days {
            assert!(cal.is_working_day(w.date), "{}", w.date);
            assert!(
                BOUNDARIES.iter().any(|(_, n, t)| *n == 1 && d(t) == w.date),
                "make-up day {} is not in the hand-checked table",
                w.date
            );
        }
    }
    assert_eq!(seen, 13, "6 holidays in 2025, 7 in 2026");
}

#[test]
fn undescribed_years_count_weekdays_and_are_provisional() {
    // 2027-01-01 is a Friday; nobody has described 2027.
    assert_eq!(add("2026-12-31", 1), (d("2027-01-01"), true));
    assert_eq!(add("2026-12-31", 2), (d("2027-01-04"), true));
    assert_eq!(add("2024-12-30", 1), (d("2024-12-31"), true));
    // A count that stays inside 2026 is not provisional.
    assert_eq!(add("2026-12-29", 2), (d("2026-12-31"), false));
}

#[test]
fn a_loaded_year_replaces_the_shipped_one() {
    let text = r#"{"year":2026,"source":"测试 test","holidays":[
        {"name_zh":"测试日","name_en":"Test day","from":"2026-03-02","to":"2026-03-02"}],
        "working_days":[]}"#;
    let cal = Calendar::shipped().with_year(CalendarYear::parse(text).unwrap());
    assert!(!cal.is_working_day(date(2026, 3, 2)));
    // The shipped Spring Festival is gone with the shipped 2026.
    assert!(cal.is_working_day(date(2026, 2, 16)));
    assert!(!cal.is_working_day(date(2026, 2, 14)));
    assert_eq!(cal.year(2025).unwrap().holidays.len(), 6);
}

#[test]
fn bad_counts_are_refused() {
    let cal = Calendar::shipped();
    for n in [0, -1, i64::from(MAX_WORKING_DAYS) + 1] {
        assert_eq!(
            cal.add_working_days(date(2025, 1, 1), n),
            Err(CalendarError::BadCount(n))
        );
    }
    assert_eq!(
        cal.add_working_days(date(9999, 12, 30), 5),
        Err(CalendarError::OutOfRange)
    );
}

fn invalid(text: &str) -> Vec<String> {
    match CalendarYear::parse(text) {
        Err(CalendarError::Invalid(e)) => e,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

const HEAD: &str = "year = 2027\nsource = \"测试通知 test notice\"\n";

fn holiday(name: &str, from: &str, to: &str) -> String {
    format!("[[holidays]]\nname_zh = \"{name}\"\nname_en = \"{name} en\"\nfrom = \"{from}\"\nto = \"{to}\"\n")
}

fn working(date: &str, for_: &str) -> String {
    format!("[[working_days]]\ndate = \"{date}\"\nfor = \"{for_}\"\n")
}

#[test]
fn invalid_files_name_every_problem_with_its_path() {
    // Overlapping holidays.
    let e = invalid(&format!(
        "{HEAD}{}{}",
        holiday("甲", "2027-02-01", "2027-02-05"),
        holiday("乙", "2027-02-05", "2027-02-06")
    ));
    assert_eq!(e, ["holidays[1]: 2027-02-05 is also in holidays[0]"]);
    // Malformed and out-of-year dates, reversed range.
    let e = invalid(&format!(
        "{HEAD}{}{}{}",
        holiday("甲", "2027-02-30", "2027-03-01"),
        holiday("乙", "2026-12-31", "2027-01-01"),
        holiday("丙", "2027-05-05", "2027-05-01")
    ));
    assert_eq!(
        e,
        [
            "holidays[0].from: `2027-02-30` is not a date YYYY-MM-DD",
            "holidays[1].from: 2026-12-31 is not in 2027",
            "holidays[2]: from 2027-05-05 is after to 2027-05-01",
        ]
    );
    // Make-up days: on a weekday, inside a holiday, twice, for no holiday.
    let e = invalid(&format!(
        "{HEAD}{}{}{}{}{}",
        holiday("甲", "2027-02-06", "2027-02-12"),
        working("2027-02-01", "甲"),
        working("2027-02-06", "甲"),
        working("2027-02-13", "甲"),
        working("2027-02-13", "乙"),
    ));
    assert_eq!(
        e,
        [
            "working_days[0].date: 2027-02-01 is a Monday, not a Saturday or Sunday",
            "working_days[1].date: 2027-02-06 is also a day off in holidays[0]",
            "working_days[3].for: `乙` is not the name_zh of a holiday in this file",
            "working_days[3].date: 2027-02-13 is listed twice",
        ]
    );
    // Names and source.
    let e = invalid(&format!(
        "year = 2027\nsource = \" \"\n{}{}",
        holiday("甲", "2027-02-01", "2027-02-01"),
        holiday("甲", "2027-03-01", "2027-03-01")
    ));
    assert_eq!(
        e,
        [
            "source: must not be empty",
            "holidays[1].name_zh: `甲` is listed twice"
        ]
    );
    assert_eq!(
        invalid("year = 20270\nsource = \"x\"\n"),
        ["year: 20270 is not a year from 1949 to 9998"]
    );
}

#[test]
fn malformed_files_are_syntax_errors() {
    for text in [
        "not toml at all [",
        "{\"year\": 2027}",
        "year = 2027\nsource = \"x\"\nextra = 1\n",
        "{\"year\":\"2027\",\"source\":\"x\"}",
    ] {
        assert!(
            matches!(CalendarYear::parse(text), Err(CalendarError::Syntax(_))),
            "{text}"
        );
    }
}

#[test]
fn shipped_files_name_their_notices() {
    let cal = Calendar::shipped();
    assert!(cal
        .year(2025)
        .unwrap()
        .source
        .contains("国办发明电〔2024〕12号"));
    assert!(cal
        .year(2026)
        .unwrap()
        .source
        .contains("2026年部分节假日安排的通知（2025年11月4日"));
    assert_eq!(cal.years().count(), 2);
}

/// Dates from 2024 to 2027: described years and undescribed ones on both sides.
fn any_date() -> impl Strategy<Value = Date> {
    (0i32..4 * 366).prop_map(|k| {
        date(2024, 1, 1)
            .checked_add(jiff::Span::new().days(k))
            .unwrap()
    })
}

fn working_days_between(cal: &Calendar, after: Date, upto: Date) -> i64 {
    after
        .tomorrow()
        .unwrap()
        .series(jiff::ToSpan::days(1))
        .take_while(|d| *d <= upto)
        .filter(|d| cal.is_working_day(*d))
        .count() as i64
}

proptest! {
    #[test]
    fn the_result_is_the_nth_working_day_after_the_start(start in any_date(), n in 1i64..80) {
        let cal = Calendar::shipped();
        let r = cal.add_working_days(start, n).unwrap();
        prop_assert!(r.date > start);
        prop_assert!(cal.is_working_day(r.date));
        prop_assert_eq!(working_days_between(&cal, start, r.date), n);
        let expected = start
            .tomorrow()
            .unwrap()
            .series(jiff::ToSpan::days(1))
            .take_while(|d| *d <= r.date)
            .any(|d| cal.year(d.year()).is_none());
        prop_assert_eq!(r.provisional, expected);
    }

    #[test]
    fn monotonic_in_n_and_in_the_start(a in any_date(), b in any_date(), n in 1i64..60, m in 1i64..60) {
        let cal = Calendar::shipped();
        let (lo, hi) = (n.min(m), n.max(m));
        let r_lo = cal.add_working_days(a, lo).unwrap().date;
        let r_hi = cal.add_working_days(a, hi).unwrap().date;
        prop_assert!(lo == hi || r_lo < r_hi);
        let (s1, s2) = (a.min(b), a.max(b));
        prop_assert!(cal.add_working_days(s1, n).unwrap().date <= cal.add_working_days(s2, n).unwrap().date);
    }

    #[test]
    fn counts_compose(start in any_date(), n in 1i64..40, m in 1i64..40) {
        let cal = Calendar::shipped();
        let first = cal.add_working_days(start, n).unwrap().date;
        prop_assert_eq!(
            cal.add_working_days(first, m).unwrap().date,
            cal.add_working_days(start, n + m).unwrap().date
        );
    }
}
