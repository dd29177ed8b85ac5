//! A decision on one record — a dispute opened or resolved, a repair
//! approved, a self-report verified or rejected — as one unit of work: the
//! state the domain allows, the person rescored under every model in play,
//! and the audit entry, together. The residents' and the agency's workflows
//! (objections, repairs, self-reports) call this; nothing else changes a
//! record's state apart from units' pushes and withdrawals.

use chengxin_domain::record::{RecordEvent, RecordStatus};
use chengxin_store::Cause;

use crate::records::apply_event;
pub use crate::records::NotAllowed;
use crate::rescore::{rescore, versions};
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// The audit action recorded for an event.
fn action(event: RecordEvent) -> &'static str {
    match event {
        RecordEvent::Correct => "record.corrected",
        RecordEvent::Withdraw => "record.withdrawn",
        RecordEvent::Repair => "record.repaired",
        RecordEvent::Dispute => "record.disputed",
        RecordEvent::ResolveDispute => "record.dispute_resolved",
        RecordEvent::Verify => "record.verified",
        RecordEvent::Reject => "record.rejected",
    }
}

/// Applies `event` to the case the version `record_id` belongs to (its
/// newest version) and rescores the person at once. `Ok(Err(_))` when the
/// record's state does not allow it; `Ok(Ok(None))` when the case is unknown.
pub fn decide(
    ctx: &Context,
    record_id: i64,
    event: RecordEvent,
    reason: Option<&str>,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Result<Option<RecordStatus>, NotAllowed>, JobError> {
    let today = crate::today();
    let change = Change::request(Cause::Decision, actor, request_id);
    write(&*ctx.store, |tx| {
        let Some(head) = tx.head_of(record_id)? else {
            return Ok(Ok(None));
        };
        let scorers = ctx.in_play(tx)?;
        let applied = apply_event(
            tx,
            &head,
            event,
            reason,
            &change,
            action(event),
            &versions(&scorers),
        )?;
        match applied {
            Ok(Some(next)) => {
                rescore(ctx, tx, &scorers, &[head.person_id], today, &change)?;
                Ok(Ok(Some(next)))
            }
            Ok(None) => Ok(Ok(Some(head.status))),
            Err(e) => Ok(Err(e)),
        }
    })
}
