//! Credit repair (信用修复, 第二十四条; NDRC Order No. 36 of 2025) on every
//! backend: the options and their dates, each refusal on the day before
//! and acceptance on the day, approval rescoring with the cause `repaired`
//! in the history, rejection with its reason, and a later correction of a
//! repaired case staying repaired.

use std::sync::Arc;

use chengxin_domain::record::RecordStatus;
use chengxin_domain::repair::{ApplicationStatus, Level, RepairDecision};
use chengxin_domain::IdNumber;
use chengxin_jobs::repairs::{self, ApplyError, DecideError, Reviewer};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record, TestDb};
use jiff::civil::{date, Date};
use serde_json::{json, Value};

const WANG: Reviewer<'static> = Reviewer {
    actor: "staff:wang",
    request_id: None,
};

fn person(n: u32) -> IdNumber {
    id_number("330602", "19800101", n)
}

fn me(id: &IdNumber) -> Resident<'_> {
    Resident {
        id_number: id,
        name: Some("测试居民"),
        request_id: None,
    }
}

fn penalty(level: &str, on: &str, case: &str) -> Value {
    json!({"level": level, "decided_on": on, "authority": "绍兴市税务局", "case_no": case, "domain": "tax"})
}

/// Stores rows as `unit` and rescores those affected, as an import does.
fn store(ctx: &Context, rows: &[(&str, &str, &IdNumber, &str, Value)]) {
    let rows: Vec<_> = rows
        .iter()
        .map(|(unit, source, id, item, fields)| {
            record(unit, source, **id, "测试居民", item, fields.clone())
        })
        .collect();
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

fn setup(db: &TestDb) -> Context {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let registered =
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true});
    let (a, b) = (person(1), person(2));
    store(
        &ctx,
        &[
            ("SX-PSB", "h1", &a, "B03", registered.clone()),
            ("SX-PSB", "h2", &b, "B03", registered),
            (
                "SX-TAX",
                "p-g",
                &a,
                "P01",
                penalty("general", "2026-01-31", "1"),
            ),
            (
                "SX-TAX",
                "p-s",
                &a,
                "P01",
                penalty("serious", "2025-03-15", "2"),
            ),
            (
                "SX-TAX",
                "p-m",
                &a,
                "P01",
                penalty("minor", "2025-01-01", "3"),
            ),
            (
                "SX-TAX",
                "p-b",
                &b,
                "P01",
                penalty("general", "2025-01-31", "4"),
            ),
            (
                "SX-CIV",
                "o1",
                &a,
                "O01",
                json!({"level": "city", "title": "文明市民", "awarded_on": "2025-06-01"}),
            ),
            (
                "SX-COURT",
                "l1",
                &a,
                "S01",
                json!({"list_type": "court", "listed_on": "2025-06-01"}),
            ),
        ],
    );
    ctx
}

/// The stored score, checked equal to one computed afresh.
fn score(ctx: &Context, id: &IdNumber) -> i32 {
    let x = explain(ctx, id, chengxin_jobs::today()).unwrap().unwrap();
    let stored = x.stored.as_ref().unwrap().state.score.unwrap();
    assert_eq!(
        Some(stored),
        x.evaluation().score,
        "stored score is current"
    );
    stored
}

/// The id of the newest version of `a`'s record case `source_id`.
fn id_of(ctx: &Context, id: &IdNumber, source: &str) -> i64 {
    let mut tx = ctx.store.read().unwrap();
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let person = tx.find_person(&index).unwrap().unwrap();
    let all = tx.person_records(person).unwrap();
    all.iter()
        .filter(|r| r.source_id == source)
        .max_by_key(|r| r.version)
        .unwrap()
        .id
}

fn apply(ctx: &Context, id: &IdNumber, record: i64, on: Date) -> Result<i64, ApplyError> {
    repairs::apply_on(ctx, me(id), record, "已缴清罚款并完成整改", on).map(|a| {
        assert_eq!(a.status, ApplicationStatus::Pending);
        a.id
    })
}

#[test]
fn repair_follows_order_36_and_approval_rescores_with_cause_repaired() {
    for db in backends() {
        let ctx = setup(&db);
        let (a, b) = (person(1), person(2));
        let (general, serious, minor) = (
            id_of(&ctx, &a, "p-g"),
            id_of(&ctx, &a, "p-s"),
            id_of(&ctx, &a, "p-m"),
        );
        let (honour, listing, others) = (
            id_of(&ctx, &a, "o1"),
            id_of(&ctx, &a, "l1"),
            id_of(&ctx, &b, "p-b"),
        );

        // The options: the general and serious penalties and the listing,
        // each with its date; the minor penalty and the honour are not there.
        let opts = repairs::options_on(&ctx, me(&a), date(2026, 4, 30)).unwrap();
        let seen: Vec<(i64, Level, Date, bool, bool)> = opts
            .iter()
            .map(|o| {
                (
                    o.record_id,
                    o.level,
                    o.repairable_from,
                    o.needs_commitment,
                    o.eligible_now,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (general, Level::General, date(2026, 4, 30), true, false),
                (serious, Level::Serious, date(2026, 3, 15), true, false),
                (listing, Level::Serious, date(2026, 6, 1), true, false),
            ],
            "{}",
            db.url
        );

        // Too early: one day before 3 months / 1 year; no commitment yet.
        assert!(matches!(
            apply(&ctx, &a, general, date(2026, 4, 29)),
            Err(ApplyError::TooEarly { from, .. }) if from == date(2026, 4, 30)
        ));
        assert!(matches!(
            apply(&ctx, &a, serious, date(2026, 3, 14)),
            Err(ApplyError::TooEarly { from, .. }) if from == date(2026, 3, 15)
        ));
        assert!(matches!(
            apply(&ctx, &a, listing, date(2026, 5, 31)),
            Err(ApplyError::TooEarly { from, .. }) if from == date(2026, 6, 1)
        ));
        assert!(matches!(
            apply(&ctx, &a, general, date(2026, 4, 30)),
            Err(ApplyError::NeedsCommitment)
        ));
        // Not repairable at all, or not theirs.
        for r in [minor, honour] {
            assert!(matches!(
                apply(&ctx, &a, r, date(2026, 6, 1)),
                Err(ApplyError::NotRepairable(x)) if x == r
            ));
        }
        assert!(matches!(
            apply(&ctx, &a, others, date(2026, 6, 1)),
            Err(ApplyError::NotFound(_))
        ));
        assert!(matches!(
            apply(&ctx, &a, 9_999_999, date(2026, 6, 1)),
            Err(ApplyError::NotFound(_))
        ));

        // A commitment signed at a counter after the penalties (T01 is not
        // breached by them): on the day, the applications are accepted.
        store(
            &ctx,
            &[(
                "SX-COUNTER",
                "c1",
                &a,
                "C01",
                json!({"template": "T01", "signed_on": "2026-02-01"}),
            )],
        );
        let opts = repairs::options_on(&ctx, me(&a), date(2026, 4, 30)).unwrap();
        assert!(opts[0].eligible_now && !opts[0].needs_commitment);
        let g = apply(&ctx, &a, general, date(2026, 4, 30)).unwrap();
        let s = apply(&ctx, &a, serious, date(2026, 3, 15)).unwrap();
        // A second pending application for the same record.
        assert!(matches!(
            apply(&ctx, &a, general, date(2026, 5, 1)),
            Err(ApplyError::AlreadyPending { existing }) if existing == g
        ));
        let opts = repairs::options_on(&ctx, me(&a), date(2026, 4, 30)).unwrap();
        assert!(!opts[0].eligible_now, "pending already");

        // The reviewer's queue names the resident masked.
        let queue = repairs::queue(&ctx, WANG, ApplicationStatus::Pending, 0, 100).unwrap();
        assert_eq!(queue.iter().map(|q| q.id).collect::<Vec<_>>(), [g, s]);
        assert_eq!(queue[0].id_number.as_deref(), Some(a.masked().as_str()));

        // Approval: the general penalty stops counting (+20) at once, and
        // the history names the cause.
        let before = score(&ctx, &a);
        let d = repairs::decide(&ctx, WANG, g, RepairDecision::Approved, None).unwrap();
        assert_eq!(d.status, ApplicationStatus::Approved);
        assert_eq!(score(&ctx, &a), before + 20, "{}", db.url);
        let history = chengxin_jobs::own::history(&ctx, &a, None).unwrap();
        assert_eq!(history.last().unwrap().cause, Cause::Repaired);
        assert_eq!(history.last().unwrap().score, Some(before + 20));
        let note = &chengxin_jobs::own::notifications(&ctx, &a, None).unwrap()[0];
        assert!(note.text_zh.contains("信用修复"), "{}", note.text_zh);
        assert!(note.text_en.contains("credit repair"), "{}", note.text_en);

        // Rejection: a reason is required, recorded and shown; nothing moves.
        assert!(matches!(
            repairs::decide(&ctx, WANG, s, RepairDecision::Rejected, Some("  ")),
            Err(DecideError::InvalidReason(_))
        ));
        let d = repairs::decide(
            &ctx,
            WANG,
            s,
            RepairDecision::Rejected,
            Some("整改材料不全"),
        )
        .unwrap();
        assert_eq!(d.status, ApplicationStatus::Rejected);
        assert_eq!(score(&ctx, &a), before + 20);
        assert!(matches!(
            repairs::decide(&ctx, WANG, s, RepairDecision::Approved, None),
            Err(DecideError::AlreadyDecided {
                status: ApplicationStatus::Rejected,
                ..
            })
        ));
        assert!(matches!(
            repairs::decide(&ctx, WANG, 9_999_999, RepairDecision::Approved, None),
            Err(DecideError::NotFound(_))
        ));
        let mine = repairs::list_mine(&ctx, me(&a)).unwrap();
        let shown: Vec<_> = mine
            .iter()
            .map(|m| (m.id, m.status, m.reason.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                (g, ApplicationStatus::Approved, None),
                (s, ApplicationStatus::Rejected, Some("整改材料不全")),
            ]
        );
        assert!(repairs::list_mine(&ctx, me(&b)).unwrap().is_empty());
        // After a rejection a new application may be made.
        assert!(apply(&ctx, &a, serious, date(2026, 6, 1)).is_ok());

        // Repaired, it cannot be applied for again; the unit's later
        // correction of the case stays repaired and does not count.
        assert!(matches!(
            apply(&ctx, &a, general, date(2026, 6, 1)),
            Err(ApplyError::NotRepairable(_))
        ));
        store(
            &ctx,
            &[(
                "SX-TAX",
                "p-g",
                &a,
                "P01",
                penalty("general", "2026-01-31", "1-corrected"),
            )],
        );
        let corrected = id_of(&ctx, &a, "p-g");
        assert_ne!(corrected, general);
        let head = ctx
            .store
            .read()
            .unwrap()
            .head_of(corrected)
            .unwrap()
            .unwrap();
        assert_eq!(head.status, RecordStatus::Repaired, "{}", db.url);
        assert_eq!(score(&ctx, &a), before + 20);

        // Each decision is audited with the reviewer's name.
        ctx.store.seal_audit().unwrap();
        let entries = ctx
            .store
            .read()
            .unwrap()
            .audit_entries(0, 1_000_000)
            .unwrap();
        let by_wang: Vec<&str> = entries
            .iter()
            .filter(|e| e.event.actor == "staff:wang" && e.event.action != "person.read")
            .map(|e| e.event.action.as_str())
            .collect();
        assert!(by_wang.contains(&"record.repaired"), "{by_wang:?}");
        assert!(by_wang.contains(&"repair.approved"), "{by_wang:?}");
        assert!(by_wang.contains(&"repair.rejected"), "{by_wang:?}");
    }
}
