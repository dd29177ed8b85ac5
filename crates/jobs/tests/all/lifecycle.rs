//! Every (state, event) pair of a record's lifecycle, through the use cases,
//! on every backend: the stored state is the one the domain's transition
//! gives, a refused transition changes nothing, and the stored score always
//! equals one computed afresh.

use std::sync::Arc;

use chengxin_domain::record::{arrive, Arrival, RecordEvent, RecordStatus, StoredHead};
use chengxin_jobs::decisions::decide;
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use serde_json::json;

const EVENTS: [RecordEvent; 7] = [
    RecordEvent::Correct,
    RecordEvent::Withdraw,
    RecordEvent::Repair,
    RecordEvent::Dispute,
    RecordEvent::ResolveDispute,
    RecordEvent::Verify,
    RecordEvent::Reject,
];

/// How to bring a case's newest version into a state.
const STATES: [(RecordStatus, Option<RecordEvent>); 6] = [
    (RecordStatus::Active, None),
    (RecordStatus::Pending, None),
    (RecordStatus::Disputed, Some(RecordEvent::Dispute)),
    (RecordStatus::Repaired, Some(RecordEvent::Repair)),
    (RecordStatus::Withdrawn, Some(RecordEvent::Withdraw)),
    (RecordStatus::Rejected, Some(RecordEvent::Reject)),
];

fn penalty(case: u32, who: u32, level: &str, pending: bool) -> chengxin_domain::record::NewRecord {
    let mut r = record(
        "SX-TAX",
        &format!("c{case}"),
        id_number("330602", "19800101", who),
        "某人",
        "P01",
        json!({"level": level, "decided_on": "2026-03-01", "authority": "a", "case_no": "1", "domain": "tax"}),
    );
    if pending {
        r.status = RecordStatus::Pending;
    }
    r
}

/// Scores the people marked by bulk stores, as an import ends.
fn rescore_changed(ctx: &Context) {
    let today = chengxin_jobs::today();
    chengxin_jobs::recompute(ctx, chengxin_jobs::Target::Changed, today, Cause::Push, &()).unwrap();
}

fn head_state(ctx: &Context, who: u32, case: u32) -> (i64, RecordStatus) {
    let id = id_number("330602", "19800101", who);
    let x = explain(ctx, &id, chengxin_jobs::today()).unwrap().unwrap();
    let r = x
        .records
        .iter()
        .filter(|r| r.source_id == format!("c{case}"))
        .max_by_key(|r| r.version)
        .unwrap();
    // The stored score is current after every change.
    assert_eq!(
        x.stored.as_ref().map(|s| s.state.clone()),
        Some(chengxin_store::ScoreState {
            eligible: x.evaluation().eligible,
            score: x.evaluation().score,
            grade: x.evaluation().grade.map(str::to_owned),
        })
    );
    (r.id, r.status)
}

#[test]
fn every_state_and_event_follows_the_domain() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let change = Change::request(Cause::Push, "unit:SX-TAX", None);
        let mut case = 0;
        for (state, via) in STATES {
            for event in EVENTS {
                case += 1;
                let who = case;
                let pending = matches!(state, RecordStatus::Pending | RecordStatus::Rejected);
                let stored =
                    store_chunk(&ctx, &[penalty(case, who, "general", pending)], &change).unwrap();
                rescore_changed(&ctx);
                if let Some(via) = via {
                    decide(&ctx, stored[0].record_id, via, Some("setup"), "test", None)
                        .unwrap()
                        .unwrap();
                }
                let (id, before) = head_state(&ctx, who, case);
                assert_eq!(before, state, "{}: setting up {state:?}", db.url);
                let what = format!("{}: {state:?} + {event:?}", db.url);
                if event == RecordEvent::Correct {
                    // A correction is a new version of the case from its unit.
                    let incoming = if pending {
                        RecordStatus::Pending
                    } else {
                        RecordStatus::Active
                    };
                    store_chunk(&ctx, &[penalty(case, who, "serious", pending)], &change).unwrap();
                    rescore_changed(&ctx);
                    let head = StoredHead {
                        status: state,
                        same_content: false,
                        source_version: None,
                    };
                    let Arrival::Correction { status, .. } = arrive(Some(head), incoming, None)
                    else {
                        panic!("{what}: not a correction");
                    };
                    let (new_id, after) = head_state(&ctx, who, case);
                    assert_ne!(new_id, id, "{what}: a new version");
                    assert_eq!(after, status, "{what}");
                    continue;
                }
                let got = decide(&ctx, id, event, Some("test"), "test", None).unwrap();
                let (_, after) = head_state(&ctx, who, case);
                match state.apply(event) {
                    Ok(next) => {
                        assert_eq!(got, Ok(Some(next)), "{what}");
                        assert_eq!(after, next, "{what}");
                    }
                    Err(_)
                        if state == RecordStatus::Withdrawn && event == RecordEvent::Withdraw =>
                    {
                        assert_eq!(after, state, "{what}: repeating changes nothing");
                    }
                    Err(_) => {
                        assert!(got.is_err(), "{what}: refused");
                        assert_eq!(after, state, "{what}: unchanged");
                    }
                }
            }
        }
    }
}
