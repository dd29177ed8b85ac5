//! 信易+ scenarios end to end on every backend: registering (and refusing
//! anything that is not a benefit), what is offered today, a resident above
//! and below the minimum, the provider's `eligible` check agreeing with
//! them, retirement, and the audit entries.

use std::sync::Arc;

use chengxin_domain::scenario::Reason;
use chengxin_domain::IdNumber;
use chengxin_jobs::resident::Resident;
use chengxin_jobs::scenarios::{self, CreateError, ScenarioError};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use jiff::ToSpan;
use serde_json::{json, Value};

fn days_from_today(n: i64) -> String {
    chengxin_jobs::today()
        .checked_add(n.days())
        .unwrap()
        .to_string()
}

/// A resident of Yuecheng (600, grade A) and, with `penalty`, one with a
/// serious penalty 30 days old (below 600).
fn resident(ctx: &Context, id: IdNumber, penalty: bool) {
    let mut rows = vec![record(
        "SX-PSB",
        &format!("{}-b03", id.as_str()),
        id,
        "测试甲",
        "B03",
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
    )];
    if penalty {
        rows.push(record(
            "SX-TAX",
            &format!("{}-p", id.as_str()),
            id,
            "测试甲",
            "P01",
            json!({"level": "serious", "decided_on": days_from_today(-30), "authority": "绍兴市税务局", "case_no": "2", "domain": "tax"}),
        ));
    }
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(
        ctx,
        chengxin_jobs::Target::Changed,
        chengxin_jobs::today(),
        Cause::Import,
        &(),
    )
    .unwrap();
}

fn scenario(code: &str) -> Value {
    json!({
        "code": code,
        "provider": "绍兴公交集团",
        "sector": "transport",
        "description_zh": "诚信分达标者乘坐公交享受八折优惠",
        "description_en": "20% off bus fares",
        "benefit": {"kind": "discount", "percent": 20},
        "min_score": 600,
        "valid_from": days_from_today(-10),
        "valid_until": days_from_today(365),
    })
}

fn create(ctx: &Context, v: &Value) -> Result<scenarios::StoredScenario, CreateError> {
    let input = scenarios::parse_input(v).unwrap();
    scenarios::create(ctx, &input, "staff:admin", Some("r1"), 1_000)
}

fn refused(ctx: &Context, v: &Value) -> Vec<(String, Reason)> {
    match create(ctx, v) {
        Err(CreateError::Invalid(e)) => {
            assert!(e.not_incentive(), "{e}");
            e.0.into_iter().map(|i| (i.path, i.reason)).collect()
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn only_benefits_are_registered() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let s = create(&ctx, &scenario("BUS")).unwrap();
        assert_eq!(s.scenario.code, "BUS");
        assert!(matches!(
            create(&ctx, &scenario("BUS")),
            Err(CreateError::Exists(_))
        ));

        let mut v = scenario("SURCHARGE");
        v["description_en"] = json!("A surcharge of 10% below the minimum");
        assert_eq!(
            refused(&ctx, &v),
            [("description_en".to_owned(), Reason::PenaltyWording)]
        );
        let mut v = scenario("DEPOSIT");
        v["sector"] = json!("rental");
        v["benefit"] = json!({"kind": "deposit_waiver"});
        v["description_zh"] = json!("未达标者提高押金");
        assert_eq!(
            refused(&ctx, &v),
            [("description_zh".to_owned(), Reason::PenaltyWording)]
        );
        let mut v = scenario("DENY");
        v["description_zh"] = json!("低于标准者不予办理");
        assert_eq!(
            refused(&ctx, &v),
            [("description_zh".to_owned(), Reason::PenaltyWording)]
        );
        let mut v = scenario("NEGATIVE");
        v["benefit"] = json!({"kind": "discount", "percent": -15});
        assert_eq!(
            refused(&ctx, &v),
            [("benefit.percent".to_owned(), Reason::NotPositive)]
        );
        let codes: Vec<String> = scenarios::list(&ctx)
            .unwrap()
            .into_iter()
            .map(|s| s.scenario.code)
            .collect();
        assert_eq!(
            codes,
            ["BUS"],
            "{}: nothing refused is stored",
            db.backend()
        );
    }
}

#[test]
fn residents_qualify_by_their_stored_score_and_eligible_agrees() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let (above, below) = (
            id_number("330602", "19800101", 1),
            id_number("330602", "19800101", 2),
        );
        resident(&ctx, above, false);
        resident(&ctx, below, true);
        create(&ctx, &scenario("BUS")).unwrap();
        let mut grade = scenario("HOTEL");
        grade["sector"] = json!("hotel_catering");
        grade["benefit"] = json!({"kind": "deposit_waiver"});
        grade["description_zh"] = json!("入住免押金");
        grade["description_en"] = json!("No deposit at check-in");
        grade.as_object_mut().unwrap().remove("min_score");
        grade["min_grade"] = json!("A");
        create(&ctx, &grade).unwrap();
        let mut later = scenario("LATER");
        later["valid_from"] = json!(days_from_today(30));
        create(&ctx, &later).unwrap();

        let today = chengxin_jobs::today();
        let offered: Vec<String> = scenarios::offered(&ctx, today)
            .unwrap()
            .into_iter()
            .map(|s| s.scenario.code)
            .collect();
        assert_eq!(offered, ["BUS", "HOTEL"], "not yet valid is not offered");

        let before = chengxin_jobs::audit::size(&ctx).unwrap();
        for (id, expected) in [(above, true), (below, false)] {
            let me = Resident {
                id_number: &id,
                name: None,
                request_id: Some("r2"),
            };
            let mine = scenarios::mine(&ctx, me).unwrap();
            let got: Vec<(String, bool)> = mine
                .iter()
                .map(|m| (m.scenario.scenario.code.clone(), m.qualifies))
                .collect();
            assert_eq!(
                got,
                [("BUS".to_owned(), expected), ("HOTEL".to_owned(), expected)],
                "{}",
                db.backend()
            );
            // The provider's check agrees.
            let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
            let mut tx = ctx.store.read().unwrap();
            let pid = tx.find_person(&index).unwrap().unwrap();
            for code in ["BUS", "HOTEL"] {
                assert_eq!(
                    scenarios::eligible(&ctx, &mut *tx, pid, code, today).unwrap(),
                    expected
                );
            }
            for code in ["LATER", "NOPE"] {
                assert!(matches!(
                    scenarios::eligible(&ctx, &mut *tx, pid, code, today),
                    Err(ScenarioError::NotFound(_))
                ));
            }
        }
        // Each resident's read is audited as theirs.
        let entries = chengxin_jobs::audit::entries_after(&ctx, before, 100).unwrap();
        let reads: Vec<_> = entries
            .iter()
            .filter(|e| e.event.action == "person.read")
            .collect();
        assert_eq!(reads.len(), 2, "{entries:?}");

        // Retiring hides it from the list, the resident and the check.
        let r = scenarios::retire(&ctx, "BUS", "staff:admin", None, 2_000).unwrap();
        assert_eq!(r.retired_at, Some(2_000));
        assert!(matches!(
            scenarios::retire(&ctx, "BUS", "staff:admin", None, 2_001),
            Err(ScenarioError::AlreadyRetired(_))
        ));
        assert!(matches!(
            scenarios::retire(&ctx, "NOPE", "staff:admin", None, 2_001),
            Err(ScenarioError::NotFound(_))
        ));
        let offered: Vec<String> = scenarios::offered(&ctx, today)
            .unwrap()
            .into_iter()
            .map(|s| s.scenario.code)
            .collect();
        assert_eq!(offered, ["HOTEL"]);
        let me = Resident {
            id_number: &above,
            name: None,
            request_id: None,
        };
        let mine = scenarios::mine(&ctx, me).unwrap();
        assert_eq!(mine.len(), 1);
        let index = ctx.store.keys().blind_index(above.as_str().as_bytes());
        let mut tx = ctx.store.read().unwrap();
        let pid = tx.find_person(&index).unwrap().unwrap();
        assert!(matches!(
            scenarios::eligible(&ctx, &mut *tx, pid, "BUS", today),
            Err(ScenarioError::NotFound(_))
        ));
        drop(tx);
        // The agency's list keeps it, retired.
        assert_eq!(scenarios::list(&ctx).unwrap().len(), 3);

        // Creation and retirement are audited with the staff member.
        let all = chengxin_jobs::audit::entries_after(&ctx, 0, 10_000).unwrap();
        let mine: Vec<(&str, &str)> = all
            .iter()
            .filter(|e| e.event.action.starts_with("scenario."))
            .map(|e| (e.event.action.as_str(), e.event.actor.as_str()))
            .collect();
        assert_eq!(
            mine,
            [
                ("scenario.created", "staff:admin"),
                ("scenario.created", "staff:admin"),
                ("scenario.created", "staff:admin"),
                ("scenario.retired", "staff:admin"),
            ]
        );
    }
}
