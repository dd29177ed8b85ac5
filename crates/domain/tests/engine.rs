//! Engine behaviour on hand-made people, and its invariants under proptest.

use chengxin_domain::catalogue::Raw;
use chengxin_domain::record::{PersonInput, Record, RecordStatus};
use chengxin_domain::{Catalogue, Engine, Evaluation, Model};
use jiff::civil::{date, Date};
use proptest::prelude::*;
use serde_json::{json, Value};

struct Fixture {
    catalogue: Catalogue,
    engine: Engine,
}

impl Fixture {
    fn new() -> Fixture {
        let catalogue = Catalogue::builtin();
        let model = Model::builtin(&catalogue);
        let engine = Engine::new(&catalogue, &model).unwrap();
        Fixture { catalogue, engine }
    }

    fn rec(&self, id: i64, item: &str, fields: Value) -> Record {
        let it = self.catalogue.item(item).unwrap();
        let map = fields.as_object().unwrap();
        let f = self
            .catalogue
            .validate(it, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .unwrap();
        Record {
            id,
            item: self
                .catalogue
                .items
                .iter()
                .position(|i| i.code == item)
                .unwrap(),
            date: it.record_date(&f),
            status: RecordStatus::Active,
            fields: f,
        }
    }

    /// An adult local with a household registration and a provincial evaluation.
    fn local(&self, province: i64) -> Vec<Record> {
        vec![
            self.rec(
                1,
                "B03",
                json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
            ),
            self.rec(
                2,
                "B01",
                json!({"score": province, "evaluated_on": "2026-01-15"}),
            ),
        ]
    }
}

fn person(records: Vec<Record>) -> PersonInput {
    PersonInput {
        birth_date: date(1990, 1, 1),
        records,
    }
}

fn points(e: &Evaluation<'_>, code: &str) -> i32 {
    e.contributions
        .iter()
        .find(|c| c.indicator == code)
        .map_or(0, |c| c.points)
}

const D: Date = date(2026, 6, 1);

#[test]
fn baseline_local_scores_by_provincial_band() {
    let fx = Fixture::new();
    for (province, expected, grade) in [
        (900, 620, "A"),
        (820, 600, "A"),
        (760, 570, "B"),
        (650, 480, "C"),
    ] {
        let e = fx.engine.evaluate(&person(fx.local(province)), D);
        assert!(e.eligible);
        assert_eq!(e.score, Some(expected));
        assert_eq!(e.grade, Some(grade));
        assert_eq!(e.model_version, "2026.1");
    }
    // No evaluation in the last two years: 600, and the factor says so.
    let mut recs = fx.local(900);
    recs[1] = fx.rec(
        2,
        "B01",
        json!({"score": 900, "evaluated_on": "2024-06-01"}),
    );
    recs.push(fx.rec(
        3,
        "O01",
        json!({"level": "national", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        4,
        "O01",
        json!({"level": "national", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        5,
        "O03",
        json!({"hours": "300", "served_on": "2025-01-01", "organisation": "o"}),
    ));
    recs.push(fx.rec(
        6,
        "O02",
        json!({"amount_cny": "50000", "donated_on": "2025-01-01", "recipient": "r"}),
    ));
    let e = fx.engine.evaluate(&person(recs), D);
    assert_eq!(e.score, Some(600 + 100 + 60 + 40));
    let provincial = &e.contributions[0];
    assert_eq!((provincial.points, provincial.records.len()), (600, 0));
    assert!(e
        .factors
        .iter()
        .any(|f| f.code == "PROVINCIAL_EVALUATION_MISSING"));
}

#[test]
fn ineligible_people_have_reasons_and_no_score() {
    let fx = Fixture::new();
    let child = PersonInput {
        birth_date: date(2008, 6, 2),
        records: fx.local(820),
    };
    let e = fx.engine.evaluate(&child, D);
    assert_eq!((e.eligible, e.score), (false, None));
    assert_eq!(e.reasons[0].code, "UNDER_18");
    // The 18th birthday counts.
    let adult = PersonInput {
        birth_date: date(2008, 6, 1),
        records: fx.local(820),
    };
    assert!(fx.engine.evaluate(&adult, D).eligible);

    let mut recs = fx.local(820);
    recs.push(fx.rec(
        3,
        "B02",
        json!({"capacity": "limited", "decided_on": "2020-01-01"}),
    ));
    assert_eq!(
        fx.engine.evaluate(&person(recs.clone()), D).reasons[0].code,
        "LIMITED_CAPACITY"
    );
    recs.push(fx.rec(
        4,
        "B02",
        json!({"capacity": "full", "decided_on": "2024-01-01"}),
    ));
    assert!(fx.engine.evaluate(&person(recs), D).eligible);

    let outsider = vec![
        fx.rec(
            1,
            "B03",
            json!({"region_code": "320106", "registered_on": "2000-01-01", "active": true}),
        ),
        fx.rec(
            2,
            "B04",
            json!({"valid_from": "2024-01-01", "valid_until": "2026-05-31"}),
        ),
    ];
    assert_eq!(
        fx.engine.evaluate(&person(outsider.clone()), D).reasons[0].code,
        "NOT_RESIDENT"
    );
    assert!(
        fx.engine
            .evaluate(&person(outsider), date(2026, 5, 31))
            .eligible
    );
    let moved = vec![fx.rec(
        1,
        "B03",
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": false}),
    )];
    assert_eq!(
        fx.engine.evaluate(&person(moved), D).reasons[0].code,
        "NOT_RESIDENT"
    );
}

#[test]
fn penalties_count_only_while_in_publicity() {
    let fx = Fixture::new();
    let mut recs = fx.local(820);
    let p = |id, level: &str, on: &str| {
        fx.rec(id, "P01", json!({"level": level, "decided_on": on, "authority": "x", "case_no": "1", "domain": "market"}))
    };
    recs.push(p(10, "general", "2026-03-01"));
    recs.push(p(11, "serious", "2024-01-01"));
    recs.push(p(12, "minor", "2026-05-01"));
    let e = fx.engine.evaluate(&person(recs.clone()), D);
    assert_eq!(points(&e, "administrative_penalties"), -70);
    assert_eq!(e.score, Some(530));
    let penalty = e
        .contributions
        .iter()
        .find(|c| c.indicator == "administrative_penalties")
        .unwrap();
    assert_eq!(penalty.records, vec![10, 11]);
    // The serious one leaves publicity after 3 years, the general one after 1,
    // each on the anniversary itself.
    let e = fx.engine.evaluate(&person(recs.clone()), date(2027, 1, 1));
    assert_eq!(points(&e, "administrative_penalties"), -20);
    let e = fx.engine.evaluate(&person(recs), date(2027, 3, 1));
    assert_eq!(points(&e, "administrative_penalties"), 0);
}

#[test]
fn serious_listing_caps_the_score_on_its_own_line() {
    let fx = Fixture::new();
    let mut recs = fx.local(900);
    recs.push(fx.rec(
        20,
        "O01",
        json!({"level": "national", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        21,
        "O01",
        json!({"level": "provincial", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        22,
        "O03",
        json!({"hours": "300", "served_on": "2025-01-01", "organisation": "o"}),
    ));
    recs.push(fx.rec(
        23,
        "O02",
        json!({"amount_cny": "50000", "donated_on": "2025-01-01", "recipient": "r"}),
    ));
    let e = fx.engine.evaluate(&person(recs.clone()), D);
    assert_eq!(e.score, Some(620 + 100 + 60 + 40));
    recs.push(fx.rec(
        30,
        "S01",
        json!({"list_type": "court", "listed_on": "2026-01-01"}),
    ));
    let e = fx.engine.evaluate(&person(recs.clone()), D);
    assert_eq!(points(&e, "serious_dishonesty"), -150);
    assert_eq!(points(&e, "serious_dishonesty_ceiling"), 549 - 670);
    assert_eq!(e.score, Some(549));
    assert_eq!(e.grade, Some("C"));
    assert_eq!(e.contributions.iter().map(|c| c.points).sum::<i32>(), 549);
    assert_eq!(e.factors[0].indicator, "serious_dishonesty");
    // Removed from the list: the ceiling goes too.
    recs.pop();
    recs.push(fx.rec(
        30,
        "S01",
        json!({"list_type": "court", "listed_on": "2026-01-01", "removed_on": "2026-05-01"}),
    ));
    assert_eq!(fx.engine.evaluate(&person(recs), D).score, Some(820));
}

#[test]
fn the_ceiling_text_quotes_the_model_ceiling() {
    let catalogue = Catalogue::builtin();
    let text = chengxin_domain::model::DEFAULT_MODEL.replace("ceiling = 549", "ceiling = 599");
    let model = Model::parse(&text, &catalogue).unwrap();
    let fx = Fixture {
        engine: Engine::new(&catalogue, &model).unwrap(),
        catalogue,
    };
    let mut recs = fx.local(900);
    recs.push(fx.rec(
        30,
        "S01",
        json!({"list_type": "court", "listed_on": "2026-01-01"}),
    ));
    recs.push(fx.rec(
        31,
        "O01",
        json!({"level": "national", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        32,
        "O01",
        json!({"level": "provincial", "title": "t", "awarded_on": "2025-01-01"}),
    ));
    recs.push(fx.rec(
        33,
        "O03",
        json!({"hours": "300", "served_on": "2025-01-01", "organisation": "o"}),
    ));
    // 620 + 100 + 60 − 150 = 630, held to 599.
    let e = fx.engine.evaluate(&person(recs), D);
    assert_eq!(points(&e, "serious_dishonesty_ceiling"), 599 - 630);
    assert_eq!(e.score, Some(599));
    let ceiling = e
        .factors
        .iter()
        .find(|f| f.indicator == "serious_dishonesty_ceiling")
        .expect("the ceiling is a factor");
    assert_eq!(ceiling.zh, "存在严重失信名单记录期间，诚信分最高为599分");
    assert!(ceiling.en.ends_with("capped at 599"), "{}", ceiling.en);
    let texts = serde_json::to_string(&e.factors).unwrap();
    assert!(!texts.contains("549"), "{texts}");
}

#[test]
fn a_value_in_a_band_gap_scores_gap_points() {
    let catalogue = Catalogue::builtin();
    let text = chengxin_domain::model::DEFAULT_MODEL
        .replace(
            "{ min = 800, max = 849, points = 600 }",
            "{ min = 810, max = 849, points = 600 }",
        )
        .replace(
            "missing_points = 600",
            "missing_points = 600\ngap_points = 590",
        );
    let model = Model::parse(&text, &catalogue).unwrap();
    let fx = Fixture {
        engine: Engine::new(&catalogue, &model).unwrap(),
        catalogue,
    };
    for (province, expected) in [(799, 570), (800, 590), (809, 590), (810, 600)] {
        let e = fx.engine.evaluate(&person(fx.local(province)), D);
        assert_eq!(points(&e, "provincial_evaluation"), expected, "{province}");
        assert_eq!(e.score, Some(expected));
    }
}

#[test]
fn commitments_signed_fulfilled_and_breached() {
    let fx = Fixture::new();
    let c = |id, t: &str, on: &str| fx.rec(id, "C01", json!({"template": t, "signed_on": on}));
    let mut recs = fx.local(820);
    recs.push(c(40, "T01", "2026-01-01")); // in force
    recs.push(c(41, "T03", "2024-01-01")); // fulfilled 2025-01-01
    recs.push(c(42, "T02", "2025-01-10")); // breached by the tax penalty below
    recs.push(fx.rec(43, "P01", json!({"level": "general", "decided_on": "2025-03-01", "authority": "税务局", "case_no": "1", "domain": "tax"})));
    let e = fx.engine.evaluate(&person(recs), D);
    assert_eq!(points(&e, "commitments_signed"), 5);
    assert_eq!(points(&e, "commitments_fulfilled"), 10);
    assert_eq!(points(&e, "commitment_breaches"), -30);
    assert_eq!(points(&e, "administrative_penalties"), 0);
    assert_eq!(e.score, Some(600 + 5 + 10 - 30));
}

#[test]
fn sums_use_full_steps_of_exact_decimals() {
    let fx = Fixture::new();
    let mut recs = fx.local(820);
    recs.push(fx.rec(
        50,
        "O02",
        json!({"amount_cny": "999.99", "donated_on": "2025-01-01", "recipient": "r"}),
    ));
    recs.push(fx.rec(
        51,
        "O02",
        json!({"amount_cny": "1000.00", "donated_on": "2025-02-01", "recipient": "r"}),
    ));
    recs.push(fx.rec(
        52,
        "O03",
        json!({"hours": "9.9", "served_on": "2025-01-01", "organisation": "o"}),
    ));
    let e = fx.engine.evaluate(&person(recs), D);
    assert_eq!(points(&e, "donations"), 2);
    assert_eq!(points(&e, "volunteer_service"), 0);
}

#[test]
fn withdrawn_and_future_records_do_not_count() {
    let fx = Fixture::new();
    let mut recs = fx.local(820);
    let mut w = fx.rec(
        60,
        "S01",
        json!({"list_type": "court", "listed_on": "2026-01-01"}),
    );
    w.status = RecordStatus::Withdrawn;
    recs.push(w);
    recs.push(fx.rec(
        61,
        "S01",
        json!({"list_type": "court", "listed_on": "2026-06-02"}),
    ));
    assert_eq!(fx.engine.evaluate(&person(recs), D).score, Some(600));
}

#[test]
fn factors_are_the_four_largest_gaps() {
    let fx = Fixture::new();
    let e = fx.engine.evaluate(&person(fx.local(820)), D);
    let codes: Vec<&str> = e.factors.iter().map(|f| f.indicator).collect();
    // Gaps: honours 100, fulfilled 60, volunteer 60, donations 40, blood 30, signed 20, provincial 20.
    assert_eq!(
        codes,
        [
            "honours",
            "commitments_fulfilled",
            "volunteer_service",
            "donations"
        ]
    );
    assert!(e
        .factors
        .iter()
        .all(|f| !f.zh.is_empty() && !f.en.is_empty()));
}

// ---- invariants ----

fn arb_date() -> impl Strategy<Value = String> {
    (2015i16..=2028, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn arb_record() -> impl Strategy<Value = (String, Value, u8)> {
    let status = 0u8..8;
    prop_oneof![
        (0i64..=1000, arb_date()).prop_map(|(s, d)| ("B01".to_string(), json!({"score": s, "evaluated_on": d}))),
        (prop::sample::select(vec!["full", "limited", "none"]), arb_date())
            .prop_map(|(c, d)| ("B02".to_string(), json!({"capacity": c, "decided_on": d}))),
        (any::<bool>(), arb_date(), prop::sample::select(vec!["330602", "330681", "320106"]))
            .prop_map(|(a, d, r)| ("B03".to_string(), json!({"region_code": r, "registered_on": d, "active": a}))),
        (prop::sample::select(vec!["T01", "T02", "T03"]), arb_date())
            .prop_map(|(t, d)| ("C01".to_string(), json!({"template": t, "signed_on": d}))),
        (prop::sample::select(vec!["minor", "general", "serious"]), arb_date(), prop::sample::select(vec!["tax", "traffic", "market"]))
            .prop_map(|(l, d, dom)| ("P01".to_string(), json!({"level": l, "decided_on": d, "authority": "a", "case_no": "c", "domain": dom}))),
        (arb_date(), proptest::option::of(arb_date()))
            .prop_map(|(l, r)| {
                // A removal never precedes the listing (the catalogue refuses it).
                let (l, r) = match r {
                    Some(r) if r < l => (r, Some(l)),
                    other => (l, other),
                };
                let mut v = json!({"list_type": "tax", "listed_on": l});
                if let Some(r) = r { v["removed_on"] = json!(r); }
                ("S01".to_string(), v)
            }),
        (prop::sample::select(vec!["national", "provincial", "city", "county"]), arb_date())
            .prop_map(|(l, d)| ("O01".to_string(), json!({"level": l, "title": "t", "awarded_on": d}))),
        (0u32..100_000, arb_date()).prop_map(|(a, d)| ("O02".to_string(), json!({"amount_cny": format!("{}.{:02}", a, a % 100), "donated_on": d, "recipient": "r"}))),
        (0u32..2000, arb_date()).prop_map(|(h, d)| ("O03".to_string(), json!({"hours": format!("{}.5", h), "served_on": d, "organisation": "o"}))),
        (arb_date(), 100i64..=400).prop_map(|(d, v)| ("O04".to_string(), json!({"donated_on": d, "volume_ml": v}))),
    ]
    .prop_flat_map(move |(item, v)| (Just(item), Just(v), status.clone()))
}

fn build(fx: &Fixture, raw: &[(String, Value, u8)]) -> PersonInput {
    let mut recs = fx.local(820);
    for (i, (item, v, s)) in raw.iter().enumerate() {
        let mut r = fx.rec(100 + i as i64, item, v.clone());
        r.status = match s {
            0 => RecordStatus::Withdrawn,
            1 => RecordStatus::Repaired,
            2 => RecordStatus::Disputed,
            3 => RecordStatus::Pending,
            _ => RecordStatus::Active,
        };
        recs.push(r);
    }
    PersonInput {
        birth_date: date(1980, 2, 29),
        records: recs,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn points_sum_to_the_score_within_bounds(raw in prop::collection::vec(arb_record(), 0..30), day in 0i32..1500) {
        let fx = Fixture::new();
        let p = build(&fx, &raw);
        let as_of = date(2023, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap();
        let e = fx.engine.evaluate(&p, as_of);
        if let Some(score) = e.score {
            prop_assert!((0..=1000).contains(&score));
            prop_assert_eq!(e.contributions.iter().map(|c| c.points).sum::<i32>(), score);
            prop_assert!(e.factors.len() <= 4);
            prop_assert!(e.factors.windows(2).all(|w| w[0].gap >= w[1].gap));
        } else {
            prop_assert!(!e.reasons.is_empty());
        }
        // Deterministic.
        prop_assert_eq!(fx.engine.evaluate(&p, as_of), e);
    }

    #[test]
    fn records_after_the_date_change_nothing(raw in prop::collection::vec(arb_record(), 0..20), later in prop::collection::vec(arb_record(), 1..10)) {
        let fx = Fixture::new();
        let as_of = date(2020, 6, 1);
        let base = build(&fx, &raw);
        let mut more = base.clone();
        for (i, (item, v, _)) in later.iter().enumerate() {
            let mut r = fx.rec(10_000 + i as i64, item, v.clone());
            // Move every date field strictly after as_of.
            r.date = date(2020, 6, 2).checked_add(jiff::Span::new().days(i as i64)).unwrap();
            if r.date <= as_of { continue; }
            let it = &fx.catalogue.items[r.item];
            let df = it.date_field();
            let mut fields = r.fields.0.to_vec();
            fields[df] = Some(chengxin_domain::catalogue::Value::Date(r.date));
            r.fields = chengxin_domain::catalogue::Fields(fields.into_boxed_slice());
            more.records.push(r);
        }
        let a = fx.engine.evaluate(&base, as_of);
        let b = fx.engine.evaluate(&more, as_of);
        prop_assert_eq!(a, b);
    }
}
