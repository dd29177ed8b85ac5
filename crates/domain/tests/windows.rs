//! The dates on which a score can change with nothing written
//! (`Engine::change_dates`, `next_change`), checked against the engine
//! itself: for random people and days, the evaluation changes from one day
//! to the next only on one of those dates.

use chengxin_domain::catalogue::Raw;
use chengxin_domain::record::{PersonInput, Record, RecordStatus};
use chengxin_domain::{Catalogue, Engine, Evaluation, Model};
use jiff::civil::{date, Date};
use jiff::ToSpan;
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture() -> (Catalogue, Engine) {
    let catalogue = Catalogue::builtin();
    let model = Model::builtin(&catalogue);
    let engine = Engine::new(&catalogue, &model).unwrap();
    (catalogue, engine)
}

fn rec(c: &Catalogue, id: i64, item: &str, fields: &Value, status: RecordStatus) -> Record {
    let it = c.item(item).unwrap();
    let map = fields.as_object().unwrap();
    let f = c
        .validate(it, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
        .unwrap();
    Record {
        id,
        item: c.items.iter().position(|i| i.code == item).unwrap(),
        date: it.record_date(&f),
        status,
        fields: f,
    }
}

/// What a resident sees of an evaluation, without the date it was made on.
fn seen<'e>(e: &Evaluation<'e>) -> Evaluation<'e> {
    Evaluation {
        as_of: Date::MIN,
        ..e.clone()
    }
}

fn arb_date() -> impl Strategy<Value = String> {
    // Leap days included: they are where windows are easiest to get wrong.
    (2016i16..=2024, 1i8..=12, 1i8..=29).prop_map(|(y, m, d)| {
        let d = if m == 2 && y % 4 != 0 { d.min(28) } else { d };
        format!("{y:04}-{m:02}-{d:02}")
    })
}

fn arb_record() -> impl Strategy<Value = (String, Value, u8)> {
    prop_oneof![
        (0i64..=1000, arb_date()).prop_map(|(s, d)| ("B01".into(), json!({"score": s, "evaluated_on": d}))),
        (prop::sample::select(vec!["full", "limited"]), arb_date())
            .prop_map(|(c, d)| ("B02".into(), json!({"capacity": c, "decided_on": d}))),
        (any::<bool>(), arb_date(), prop::sample::select(vec!["330602", "320106"]))
            .prop_map(|(a, d, r)| ("B03".into(), json!({"region_code": r, "registered_on": d, "active": a}))),
        (arb_date(), arb_date()).prop_map(|(a, b)| {
            let (a, b) = if b < a { (b, a) } else { (a, b) };
            ("B04".into(), json!({"valid_from": a, "valid_until": b}))
        }),
        (prop::sample::select(vec!["T01", "T02", "T03"]), arb_date())
            .prop_map(|(t, d)| ("C01".into(), json!({"template": t, "signed_on": d}))),
        (prop::sample::select(vec!["minor", "general", "serious"]), arb_date(), prop::sample::select(vec!["tax", "traffic"]))
            .prop_map(|(l, d, dom)| ("P01".into(), json!({"level": l, "decided_on": d, "authority": "a", "case_no": "c", "domain": dom}))),
        (arb_date(), proptest::option::of(arb_date())).prop_map(|(l, r)| {
            let (l, r) = match r {
                Some(r) if r < l => (r, Some(l)),
                other => (l, other),
            };
            let mut v = json!({"list_type": "tax", "listed_on": l});
            if let Some(r) = r { v["removed_on"] = json!(r); }
            ("S01".into(), v)
        }),
        (prop::sample::select(vec!["national", "county"]), arb_date())
            .prop_map(|(l, d)| ("O01".into(), json!({"level": l, "title": "t", "awarded_on": d}))),
        (0u32..30_000, arb_date()).prop_map(|(a, d)| ("O02".into(), json!({"amount_cny": a.to_string(), "donated_on": d, "recipient": "r"}))),
        (0u32..300, arb_date()).prop_map(|(h, d)| ("O03".into(), json!({"hours": h.to_string(), "served_on": d, "organisation": "o"}))),
        (arb_date(), 100i64..=400).prop_map(|(d, v)| ("O04".into(), json!({"donated_on": d, "volume_ml": v}))),
    ]
    .prop_flat_map(|(item, v)| (Just(item), Just(v), 0u8..6))
}

fn person(c: &Catalogue, birth: Date, raw: &[(String, Value, u8)]) -> PersonInput {
    // A local registration first, so that most people have a score to watch.
    let local = json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true});
    let base = ("B03".to_string(), local, 5);
    let records = std::iter::once(&base)
        .chain(raw)
        .enumerate()
        .map(|(i, (item, v, s))| {
            let status = match s {
                0 => RecordStatus::Withdrawn,
                1 => RecordStatus::Disputed,
                _ => RecordStatus::Active,
            };
            rec(c, i as i64 + 1, item, v, status)
        })
        .collect();
    PersonInput {
        birth_date: birth,
        records,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_score_changes_only_on_a_change_date(
        raw in prop::collection::vec(arb_record(), 0..14),
        born in 0i64..3000,
        start in 0i64..3000,
    ) {
        let (c, engine) = fixture();
        let p = person(&c, date(1997, 1, 1).checked_add(born.days()).unwrap(), &raw);
        let dates = engine.person_change_dates(&p);
        let first = date(2017, 1, 1).checked_add(start.days()).unwrap();
        let mut prev_day = first;
        let mut prev = engine.evaluate(&p, first);
        for n in 1..400 {
            let day = first.checked_add(n.days()).unwrap();
            let e = engine.evaluate(&p, day);
            if seen(&e) != seen(&prev) {
                prop_assert!(dates.binary_search(&day).is_ok(), "changed on {day}, not in {dates:?}");
            }
            // The next change after the previous day is never later than a real change.
            let next = engine.next_change(&p, prev_day);
            prop_assert!(seen(&e) == seen(&prev) || next == Some(day), "next {next:?} on {day}");
            prop_assert!(next.is_none_or(|d| d > prev_day));
            prev = e;
            prev_day = day;
        }
    }
}

#[test]
fn a_penalty_leaves_publicity_on_its_date_and_nothing_else_moves_before() {
    let (c, engine) = fixture();
    let raw = [(
        "P01".to_string(),
        json!({"level": "general", "decided_on": "2025-03-01", "authority": "a", "case_no": "c", "domain": "market"}),
        5,
    )];
    let p = person(&c, date(1990, 5, 5), &raw);
    // On its own, the penalty could also age out of a breach of T01 …
    assert_eq!(
        engine.change_dates(&p.records[1]),
        [date(2025, 3, 1), date(2026, 3, 1), date(2028, 3, 1)]
    );
    // … but this person signed nothing, so only publicity matters.
    assert_eq!(
        engine.person_change_dates(&p),
        [
            date(2000, 1, 1),
            date(2008, 5, 5),
            date(2025, 3, 1),
            date(2026, 3, 1)
        ]
    );
    assert_eq!(
        engine.next_change(&p, date(2025, 6, 1)),
        Some(date(2026, 3, 1))
    );
    let before = engine.evaluate(&p, date(2026, 2, 28)).score.unwrap();
    let after = engine.evaluate(&p, date(2026, 3, 1)).score.unwrap();
    assert_eq!(after - before, 20);
    assert_eq!(engine.next_change(&p, date(2026, 3, 1)), None);
    // A withdrawn record has no dates of its own.
    let mut gone = p.records[1].clone();
    gone.status = RecordStatus::Withdrawn;
    assert!(engine.change_dates(&gone).is_empty());
}
