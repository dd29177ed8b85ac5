//! Objections (异议) on every backend: filing flags the record at once,
//! deadlines follow the working-day calendar (a submission just before
//! National Day 2026, a count into a year without data), routing to the
//! record's unit, the unit's reply, both outcomes with the score before and
//! after, the daily overdue marking, the role matrix and the refusals.

use std::sync::Arc;

use chengxin_domain::audit::AuditEntry;
use chengxin_domain::objection::{ObjectionStatus, Outcome};
use chengxin_domain::record::RecordStatus;
use chengxin_domain::staff::Role;
use chengxin_domain::IdNumber;
use chengxin_jobs::objections::{self, Decision, ObjectionError, QueueFilter, Staff, Target};
use chengxin_jobs::push::{push_record, withdraw, Caller};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::staff::StaffMember;
use chengxin_jobs::units::{add_unit, Unit};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, own, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use jiff::civil::Date;
use serde_json::json;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn member(name: &str, role: Role) -> StaffMember {
    StaffMember {
        name: name.into(),
        role,
        disabled: false,
        created_at: 0,
    }
}

fn me(id: &IdNumber) -> Resident<'_> {
    Resident {
        id_number: id,
        name: None,
        request_id: Some("req-test"),
    }
}

fn all(statuses: Option<ObjectionStatus>, overdue: bool) -> QueueFilter {
    QueueFilter {
        status: statuses,
        overdue,
        after: 0,
        limit: 100,
    }
}

/// A resident with a household record and a general tax penalty (−20)
/// decided on 1 August 2026, scored as of `as_of`; returns the penalty's id.
fn setup(ctx: &Context, id: IdNumber, as_of: Date) -> i64 {
    let rows = vec![
        record(
            "SX-PSB",
            &format!("{}-b03", id.as_str()),
            id,
            "测试乙",
            "B03",
            json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
        ),
        record(
            "SX-TAX",
            &format!("{}-p1", id.as_str()),
            id,
            "测试乙",
            "P01",
            json!({"level": "general", "decided_on": "2026-08-01", "authority": "绍兴市税务局", "case_no": "绍税罚〔2026〕1号", "domain": "tax"}),
        ),
    ];
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(
        ctx,
        chengxin_jobs::Target::Changed,
        as_of,
        Cause::Import,
        &(),
    )
    .unwrap();
    record_of(ctx, &id, "P01").0
}

/// The newest version of the resident's record of `item`: id and state.
fn record_of(ctx: &Context, id: &IdNumber, item: &str) -> (i64, RecordStatus) {
    let records = own::records(ctx, id, d("2026-11-01"), None).unwrap();
    let r = records
        .iter()
        .filter(|r| r.item == item)
        .max_by_key(|r| r.id)
        .unwrap();
    (r.id, r.state)
}

fn score(ctx: &Context, id: &IdNumber, as_of: Date) -> i32 {
    explain(ctx, id, as_of)
        .unwrap()
        .unwrap()
        .evaluation()
        .score
        .unwrap()
}

fn entries(ctx: &Context) -> Vec<AuditEntry> {
    ctx.store.seal_audit().unwrap();
    ctx.store
        .snapshot()
        .unwrap()
        .audit_entries(0, 1_000_000)
        .unwrap()
}

fn units(ctx: &Context) -> (Unit, Unit) {
    let tax = add_unit(ctx, "SX-TAX", "绍兴市税务局", &["P01".into()], "operator:t")
        .unwrap()
        .0;
    let other = add_unit(
        ctx,
        "SX-MKT",
        "绍兴市市场监管局",
        &["P01".into()],
        "operator:t",
    )
    .unwrap()
    .0;
    (tax, other)
}

#[test]
fn a_record_objection_end_to_end_with_the_agency_withdrawing_it() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let (tax, other) = units(&ctx);
        let id = id_number("330602", "19850101", 11);
        let stranger = id_number("330602", "19850101", 12);
        let filed_on = d("2026-09-30");
        let p1 = setup(&ctx, id, filed_on);
        setup(&ctx, stranger, filed_on);
        let before = score(&ctx, &id, filed_on);

        // Someone else's record is not revealed.
        let e = objections::submit(
            &ctx,
            me(&stranger),
            Target::Record(p1),
            "不是我的",
            &[],
            filed_on,
        )
        .unwrap_err();
        assert!(matches!(e, ObjectionError::RecordNotFound(_)), "{e:?}");
        // A blank reason is refused before anything is stored.
        let e =
            objections::submit(&ctx, me(&id), Target::Record(p1), "  ", &[], filed_on).unwrap_err();
        assert!(
            matches!(e, ObjectionError::Text("missing_field", _)),
            "{e:?}"
        );

        // Filed on Wednesday 30 September, just before National Day: the
        // agency accepts by Friday 9 October.
        let s = objections::submit(
            &ctx,
            me(&id),
            Target::Record(p1),
            "该处罚已被复议撤销",
            &[],
            filed_on,
        )
        .unwrap();
        assert_eq!(s.status, ObjectionStatus::Submitted);
        assert_eq!(s.accept_by, d("2026-10-09"));
        assert_eq!(s.reply_by, None);
        assert!(!s.provisional);
        // Disputed at once, and it still counts.
        assert_eq!(record_of(&ctx, &id, "P01").1, RecordStatus::Disputed);
        assert_eq!(score(&ctx, &id, filed_on), before);

        let e = objections::submit(&ctx, me(&id), Target::Record(p1), "再次", &[], filed_on)
            .unwrap_err();
        assert!(
            matches!(e, ObjectionError::AlreadyOpen(x) if x == s.id),
            "{e:?}"
        );

        let reviewer = member("wang", Role::Reviewer);
        let staff = Staff {
            member: &reviewer,
            request_id: None,
        };
        let decision = |withdraw| Decision {
            outcome: Outcome::Corrected,
            explanation: "经核实，该处罚已撤销".into(),
            withdraw,
        };
        // No decision before acceptance.
        let e =
            objections::decide(&ctx, staff, s.id, &decision(true), d("2026-10-08")).unwrap_err();
        assert!(
            matches!(
                e,
                ObjectionError::WrongState {
                    status: ObjectionStatus::Submitted,
                    ..
                }
            ),
            "{e:?}"
        );

        let a = objections::accept(&ctx, staff, s.id, d("2026-10-09")).unwrap();
        assert_eq!(a.status, ObjectionStatus::AwaitingUnit);
        assert_eq!(a.unit.as_deref(), Some("SX-TAX"));
        // 10 working days from 9 October: Saturday 10 October is worked.
        assert_eq!(a.reply_by, Some(d("2026-10-22")));
        let e = objections::accept(&ctx, staff, s.id, d("2026-10-09")).unwrap_err();
        assert!(matches!(e, ObjectionError::WrongState { .. }));

        // Routed to SX-TAX only.
        let mine =
            objections::unit_queue(&ctx, &tax, None, all(None, false), d("2026-10-12")).unwrap();
        assert_eq!(mine.iter().map(|o| o.id).collect::<Vec<_>>(), [s.id]);
        assert!(mine[0].id_number.as_deref().unwrap().contains('*'));
        assert!(
            objections::unit_queue(&ctx, &other, None, all(None, false), d("2026-10-12"))
                .unwrap()
                .is_empty()
        );
        let e =
            objections::reply(&ctx, &other, None, s.id, "与我无关", d("2026-10-12")).unwrap_err();
        assert!(matches!(e, ObjectionError::NotFound(_)), "{e:?}");
        let r =
            objections::reply(&ctx, &tax, None, s.id, "请中心依法处理", d("2026-10-12")).unwrap();
        assert_eq!(r.status, ObjectionStatus::Accepted);

        // `corrected` needs the unit's correction or the agency's withdrawal.
        let e =
            objections::decide(&ctx, staff, s.id, &decision(false), d("2026-10-13")).unwrap_err();
        assert!(matches!(e, ObjectionError::NotCorrected(_)), "{e:?}");
        let done = objections::decide(&ctx, staff, s.id, &decision(true), d("2026-10-13")).unwrap();
        assert_eq!(done.status, ObjectionStatus::Corrected);
        assert_eq!(record_of(&ctx, &id, "P01").1, RecordStatus::Withdrawn);
        // The general penalty (−20) no longer counts, and the stored score
        // moved in the same unit of work, with the objection as its cause.
        assert_eq!(score(&ctx, &id, d("2026-10-13")), before + 20);
        let history = own::history(&ctx, &id, None).unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.cause, Cause::Objection);
        assert_eq!(last.score, Some(before + 20));
        let e =
            objections::decide(&ctx, staff, s.id, &decision(true), d("2026-10-14")).unwrap_err();
        assert!(matches!(
            e,
            ObjectionError::WrongState {
                status: ObjectionStatus::Corrected,
                ..
            }
        ));

        // The resident sees every step with its date.
        let listed = objections::list_mine(&ctx, me(&id), d("2026-10-14")).unwrap();
        assert_eq!(listed.len(), 1);
        let steps: Vec<(&str, Date)> = listed[0].steps.iter().map(|s| (s.step, s.on)).collect();
        assert_eq!(
            steps,
            [
                ("submitted", d("2026-09-30")),
                ("accepted", d("2026-10-09")),
                ("routed_to_unit", d("2026-10-09")),
                ("unit_replied", d("2026-10-12")),
                ("corrected", d("2026-10-13")),
            ]
        );
        assert_eq!(listed[0].answer.as_deref(), Some("经核实，该处罚已撤销"));
        assert!(objections::list_mine(&ctx, me(&stranger), d("2026-10-14"))
            .unwrap()
            .is_empty());

        // Every step is audited; the decision names the staff member.
        let log = entries(&ctx);
        let actions: Vec<&str> = log.iter().map(|e| e.event.action.as_str()).collect();
        for a in [
            "objection.submitted",
            "record.disputed",
            "objection.accepted",
            "objection.unit_replied",
            "record.withdrawn",
            "objection.decided",
        ] {
            assert!(actions.contains(&a), "{a} missing");
        }
        let decided = log
            .iter()
            .find(|e| e.event.action == "objection.decided")
            .unwrap();
        assert_eq!(decided.event.actor, "staff:wang");
        assert_eq!(decided.event.detail["staff"], "wang");
        assert_eq!(decided.event.detail["outcome"], "corrected");
    }
}

#[test]
fn a_unit_correction_is_recorded_and_an_explanation_resolves_the_flag() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let (tax, _) = units(&ctx);
        let id = id_number("330602", "19860101", 21);
        let on = d("2026-10-12");
        let p1 = setup(&ctx, id, on);
        let before = score(&ctx, &id, on);
        let reviewer = member("li", Role::Reviewer);
        let staff = Staff {
            member: &reviewer,
            request_id: None,
        };
        let s =
            objections::submit(&ctx, me(&id), Target::Record(p1), "处罚等级有误", &[], on).unwrap();
        objections::accept(&ctx, staff, s.id, on).unwrap();
        // The unit corrects the level to minor with a normal push: the new
        // version stays disputed until the decision.
        let caller = Caller {
            unit: &tax,
            request_id: None,
            client_request_id: None,
        };
        let body = json!({"unit": "SX-TAX", "source_id": format!("{}-p1", id.as_str()), "item": "P01",
            "id_number": id.as_str(), "name": "测试乙",
            "fields": {"level": "minor", "decided_on": "2026-08-01", "authority": "绍兴市税务局", "case_no": "绍税罚〔2026〕1号", "domain": "tax"}});
        push_record(&ctx, caller, body.to_string().as_bytes()).unwrap();
        let (v2, state) = record_of(&ctx, &id, "P01");
        assert_ne!(v2, p1);
        assert_eq!(state, RecordStatus::Disputed);
        let done = objections::decide(
            &ctx,
            staff,
            s.id,
            &Decision {
                outcome: Outcome::Corrected,
                explanation: "单位已更正为简易程序处罚".into(),
                withdraw: false,
            },
            on,
        )
        .unwrap();
        assert_eq!(done.status, ObjectionStatus::Corrected);
        assert_eq!(record_of(&ctx, &id, "P01"), (v2, RecordStatus::Active));
        assert_eq!(
            score(&ctx, &id, on),
            before + 20,
            "a minor penalty is never published"
        );

        // A score objection goes straight to the reviewer and is explained.
        let s2 = objections::submit(&ctx, me(&id), Target::Score, "分数偏低", &[], on).unwrap();
        let e = objections::submit(&ctx, me(&id), Target::Score, "分数偏低", &[], on).unwrap_err();
        assert!(matches!(e, ObjectionError::AlreadyOpen(_)));
        let a = objections::accept(&ctx, staff, s2.id, on).unwrap();
        assert_eq!(a.status, ObjectionStatus::Accepted);
        assert_eq!(a.unit, None);
        let e = objections::reply(&ctx, &tax, None, s2.id, "无", on).unwrap_err();
        assert!(matches!(e, ObjectionError::NotFound(_)));
        let e = objections::decide(
            &ctx,
            staff,
            s2.id,
            &Decision {
                outcome: Outcome::Explained,
                explanation: "x".into(),
                withdraw: true,
            },
            on,
        )
        .unwrap_err();
        assert!(matches!(e, ObjectionError::Text("invalid_field", _)));
        objections::decide(
            &ctx,
            staff,
            s2.id,
            &Decision {
                outcome: Outcome::Explained,
                explanation: "分数按现行模型计算无误".into(),
                withdraw: false,
            },
            on,
        )
        .unwrap();

        // An explained record objection resolves the flag; the record counts as before.
        let unit_withdrawn_later =
            objections::submit(&ctx, me(&id), Target::Record(v2), "仍有异议", &[], on).unwrap();
        assert_eq!(record_of(&ctx, &id, "P01").1, RecordStatus::Disputed);
        objections::accept(&ctx, staff, unit_withdrawn_later.id, on).unwrap();
        objections::decide(
            &ctx,
            staff,
            unit_withdrawn_later.id,
            &Decision {
                outcome: Outcome::Explained,
                explanation: "经核实信息无误".into(),
                withdraw: false,
            },
            on,
        )
        .unwrap();
        assert_eq!(record_of(&ctx, &id, "P01"), (v2, RecordStatus::Active));
        let listed = objections::list_mine(&ctx, me(&id), on).unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[1].record_id, None);
        assert_eq!(listed[1].status, ObjectionStatus::Explained);
        assert_eq!(listed[1].answer.as_deref(), Some("分数按现行模型计算无误"));
        assert_eq!(listed[2].status, ObjectionStatus::Explained);

        // A withdrawn record can no longer be objected to.
        withdraw(&ctx, caller, &format!("{}-p1", id.as_str()), "撤销").unwrap();
        let e = objections::submit(&ctx, me(&id), Target::Record(v2), "再议", &[], on).unwrap_err();
        assert!(
            matches!(e, ObjectionError::NotDisputable(RecordStatus::Withdrawn)),
            "{e:?}"
        );
    }
}

#[test]
fn deadlines_follow_the_calendar_and_late_cases_are_marked() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let (tax, _) = units(&ctx);
        let id = id_number("330602", "19870101", 31);
        let p1 = setup(&ctx, id, d("2026-09-30"));
        let reviewer = member("zhou", Role::Reviewer);
        let staff = Staff {
            member: &reviewer,
            request_id: None,
        };
        let s = objections::submit(
            &ctx,
            me(&id),
            Target::Record(p1),
            "有误",
            &[],
            d("2026-09-30"),
        )
        .unwrap();
        let mark = |on: &str| objections::mark_overdue_now(&ctx, d(on)).unwrap();
        // The deadline day itself is in time; the day after is late.
        assert_eq!(mark("2026-10-09"), 0);
        assert!(
            objections::queue(&ctx, staff, all(None, true), d("2026-10-09"))
                .unwrap()
                .is_empty()
        );
        // Late on Saturday 10 October (a make-up working day) already, but
        // listed at query time without a daily run.
        assert_eq!(
            objections::queue(&ctx, staff, all(None, true), d("2026-10-10"))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(mark("2026-10-10"), 1);
        assert_eq!(mark("2026-10-11"), 0, "marked once");
        // Accepted late on Monday 12 October: 10 working days to 26 October.
        let a = objections::accept(&ctx, staff, s.id, d("2026-10-12")).unwrap();
        assert_eq!(a.reply_by, Some(d("2026-10-26")));
        assert!(!a.overdue);
        assert_eq!(a.overdue_on, Some(d("2026-10-10")));
        let late = objections::queue(&ctx, staff, all(None, true), d("2026-10-12")).unwrap();
        assert_eq!(late.len(), 1, "a step done late stays listed as late");
        assert_eq!(
            objections::queue(
                &ctx,
                staff,
                all(Some(ObjectionStatus::Submitted), false),
                d("2026-10-12")
            )
            .unwrap()
            .len(),
            0
        );
        // The unit's reply is due on 26 October; on the 27th it is overdue.
        let unit_view =
            objections::unit_queue(&ctx, &tax, None, all(None, false), d("2026-10-27")).unwrap();
        assert!(unit_view[0].overdue);
        let unit_view =
            objections::unit_queue(&ctx, &tax, None, all(None, false), d("2026-10-26")).unwrap();
        assert!(!unit_view[0].overdue);

        // Filed on 30 December 2026: the count reaches 2027, which has no
        // calendar data, so the deadline (Friday 1 January, counted Monday
        // to Friday) is provisional.
        let other = id_number("330602", "19870101", 32);
        setup(&ctx, other, d("2026-12-30"));
        let s2 = objections::submit(
            &ctx,
            me(&other),
            Target::Score,
            "有误",
            &[],
            d("2026-12-30"),
        )
        .unwrap();
        assert_eq!(s2.accept_by, d("2027-01-01"));
        assert!(s2.provisional);
        let log = entries(&ctx);
        let overdue = log
            .iter()
            .filter(|e| e.event.action == "objection.overdue")
            .count();
        assert_eq!(overdue, 1);
    }
}

#[test]
fn only_reviewers_take_the_agency_steps() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        units(&ctx);
        let id = id_number("330602", "19880101", 41);
        let on = d("2026-10-12");
        setup(&ctx, id, on);
        let s = objections::submit(&ctx, me(&id), Target::Score, "有误", &[], on).unwrap();
        for role in [Role::Admin, Role::Auditor] {
            let m = member("x", role);
            let staff = Staff {
                member: &m,
                request_id: None,
            };
            let e = objections::accept(&ctx, staff, s.id, on).unwrap_err();
            assert!(matches!(e, ObjectionError::Forbidden(_)), "{role}: {e:?}");
            let e = objections::queue(&ctx, staff, all(None, false), on).unwrap_err();
            assert!(matches!(e, ObjectionError::Forbidden(_)));
            let e = objections::decide(
                &ctx,
                staff,
                s.id,
                &Decision {
                    outcome: Outcome::Explained,
                    explanation: "x".into(),
                    withdraw: false,
                },
                on,
            )
            .unwrap_err();
            assert!(matches!(e, ObjectionError::Forbidden(_)));
        }
        let listed = objections::list_mine(&ctx, me(&id), on).unwrap();
        assert_eq!(listed[0].status, ObjectionStatus::Submitted);
    }
}

/// The daily run marks objections that passed a deadline on its date: the
/// same marking as `mark_overdue`, once per case, counted in its summary.
#[test]
fn the_daily_run_marks_late_objections() {
    use chengxin_jobs::daily::{daily, DailyOutcome};
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        units(&ctx);
        let id = id_number("330602", "19870101", 32);
        let p1 = setup(&ctx, id, d("2026-09-30"));
        objections::submit(
            &ctx,
            me(&id),
            Target::Record(p1),
            "有误",
            &[],
            d("2026-09-30"),
        )
        .unwrap();
        let ran = |on: &str| match daily(&ctx, d(on), "test").unwrap() {
            DailyOutcome::Ran(s) => s.overdue_marked,
            DailyOutcome::AlreadyClaimed { .. } => panic!("{on} claimed before"),
        };
        // Accept by 9 October: in time that day, late on the 10th, once.
        assert_eq!(ran("2026-10-09"), 0, "{}", db.backend());
        assert_eq!(ran("2026-10-10"), 1, "{}", db.backend());
        assert_eq!(ran("2026-10-11"), 0, "{}", db.backend());
    }
}
