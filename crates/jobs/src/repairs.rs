//! Credit repair (信用修复, 第二十四条; NDRC Order No. 36 of 2025): a
//! resident sees which of their records repair can reach and from when,
//! applies with a statement, and a reviewer approves or rejects with a
//! reason. Approval applies the lifecycle's `Repair` event to the record's
//! case (it stops counting; later corrections of it stay repaired) and
//! rescores the person under every model in play, in the same unit of work
//! as the decision and its audit entries; the score history names the cause
//! `repaired`.
//!
//! Whether an application may be made is the domain's one rule
//! ([`chengxin_domain::repair::may_apply`]), which the resident's what-if
//! uses too. It is checked when the resident applies; an approval needs
//! only that the record still counts (the lifecycle allows `Repair`).

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::record::{RecordEvent, RecordStatus};
use chengxin_domain::repair::{
    self, check_statement, ApplicationStatus, Level, Refusal, RepairDecision,
};
use chengxin_store::uow::{NewRepair, RepairFilter, RepairRow};
use chengxin_store::{person_ref, Cause, ReadTx};
use jiff::civil::Date;
use serde::Serialize;

use crate::records::{apply_event, NotAllowed};
use crate::rescore::{rescore, versions};
use crate::resident::{current_records, Resident};
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// One record repair can reach, as the resident's options list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairOption {
    pub record_id: i64,
    pub item: String,
    pub level: Level,
    /// The first day an application may be made.
    pub repairable_from: Date,
    /// A credit commitment must be signed first (none is active).
    pub needs_commitment: bool,
    /// An application made today would be accepted (no application on it
    /// is pending, the date has come and a commitment is active).
    pub eligible_now: bool,
}

/// The resident's options as of today; the read is audited.
pub fn options(ctx: &Context, resident: Resident<'_>) -> Result<Vec<RepairOption>, JobError> {
    options_on(ctx, resident, crate::today())
}

/// [`options`] as of `today`.
pub fn options_on(
    ctx: &Context,
    resident: Resident<'_>,
    today: Date,
) -> Result<Vec<RepairOption>, JobError> {
    let mut tx = ctx.store.snapshot()?;
    let found = resident.find(ctx, &mut *tx)?;
    let mut out = Vec::new();
    if let Some(person_id) = found {
        let catalogue = ctx.catalogue();
        let records = current_records(ctx, &mut *tx, person_id)?;
        let pending: Vec<i64> = tx
            .repairs(&RepairFilter {
                person_id: Some(person_id),
                status: Some(ApplicationStatus::Pending),
                after_id: 0,
                limit: usize::MAX >> 1,
            })?
            .iter()
            .map(|r| r.record_id)
            .collect();
        for r in &records {
            let Some(a) = repair::assess(&catalogue, r, &records, today) else {
                continue;
            };
            out.push(RepairOption {
                record_id: r.id,
                item: catalogue.items[r.item].code.clone(),
                level: a.reach.level,
                repairable_from: a.reach.repairable_from,
                needs_commitment: a.needs_commitment,
                eligible_now: a.eligible_now && !pending.contains(&r.id),
            });
        }
    }
    drop(tx);
    resident.audit_read(ctx, found, "repair_options")?;
    Ok(out)
}

/// Why an application was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// No such record of the resident's (another person's record too).
    #[error("no record {0} of yours")]
    NotFound(i64),
    #[error("record {0} is not one credit repair applies to (only P01 general or serious penalties and S01 listings that still count)")]
    NotRepairable(i64),
    #[error("record {record_id} may be repaired from {from}")]
    TooEarly { record_id: i64, from: Date },
    #[error("repair needs an active credit commitment: sign one first")]
    NeedsCommitment,
    #[error("repair application {existing} on this record is still pending")]
    AlreadyPending { existing: i64 },
    #[error("{0}")]
    InvalidStatement(&'static str),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// A stored application's id and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub id: i64,
    pub status: ApplicationStatus,
}

/// Applies to repair `record_id` today with `statement`.
pub fn apply(
    ctx: &Context,
    resident: Resident<'_>,
    record_id: i64,
    statement: &str,
) -> Result<Applied, ApplyError> {
    apply_on(ctx, resident, record_id, statement, crate::today())
}

/// [`apply`] as of `today`: checks the domain's rule against the resident's
/// records, then stores the pending application and its audit entry in one
/// unit of work.
pub fn apply_on(
    ctx: &Context,
    resident: Resident<'_>,
    record_id: i64,
    statement: &str,
    today: Date,
) -> Result<Applied, ApplyError> {
    let statement = check_statement(statement).map_err(ApplyError::InvalidStatement)?;
    let actor = resident.actor(ctx);
    let index = resident.index(ctx);
    write(&*ctx.store, |tx| {
        let Some(person_id) = resident.find(ctx, tx)? else {
            return Ok(Err(ApplyError::NotFound(record_id)));
        };
        let head = match tx.head_of(record_id)? {
            Some(h) if h.person_id == person_id => h,
            _ => return Ok(Err(ApplyError::NotFound(record_id))),
        };
        let records = current_records(ctx, tx, person_id)?;
        let Some(record) = records.iter().find(|r| r.id == head.id) else {
            return Ok(Err(ApplyError::NotRepairable(record_id)));
        };
        let refusal = repair::may_apply(&ctx.catalogue(), record, &records, today).err();
        if refusal == Some(Refusal::NotRepairable) {
            return Ok(Err(ApplyError::NotRepairable(record_id)));
        }
        if let Some(existing) = tx.pending_repair(&head.unit, &head.source_id)? {
            return Ok(Err(ApplyError::AlreadyPending { existing }));
        }
        match refusal {
            Some(Refusal::TooEarly { from }) => {
                return Ok(Err(ApplyError::TooEarly { record_id, from }))
            }
            Some(Refusal::NeedsCommitment) => return Ok(Err(ApplyError::NeedsCommitment)),
            Some(Refusal::NotRepairable) | None => {}
        }
        let id = tx.insert_repair(&NewRepair {
            person_id,
            record_id: head.id,
            unit: &head.unit,
            source_id: &head.source_id,
            statement,
        })?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.clone(),
            action: "repair.applied".into(),
            subject: Some(format!("repair:{id}")),
            person: Some(person_ref(&index)),
            request_id: resident.request_id.map(str::to_owned),
            detail: serde_json::json!({"record_id": head.id, "item": head.item}),
        }]);
        Ok(Ok(Applied {
            id,
            status: ApplicationStatus::Pending,
        }))
    })?
}

/// An application as listed to the resident or to a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: i64,
    pub record_id: i64,
    pub item: String,
    pub statement: String,
    pub status: ApplicationStatus,
    /// The reviewer's reason (always given with a rejection).
    pub reason: Option<String>,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    /// For reviewers only: whose application it is, the ID number masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn application<T: ReadTx + ?Sized>(tx: &mut T, r: RepairRow) -> Result<Application, JobError> {
    let item = tx.head_of(r.record_id)?.map(|h| h.item).unwrap_or_default();
    Ok(Application {
        id: r.id,
        record_id: r.record_id,
        item,
        statement: r.statement,
        status: r.status,
        reason: r.reason,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
        id_number: None,
        name: None,
    })
}

/// The resident's applications, oldest first, with status and reason; the
/// read is audited.
pub fn list_mine(ctx: &Context, resident: Resident<'_>) -> Result<Vec<Application>, JobError> {
    let mut tx = ctx.store.snapshot()?;
    let found = resident.find(ctx, &mut *tx)?;
    let out = match found {
        Some(person_id) => of_person(&mut *tx, person_id)?,
        None => Vec::new(),
    };
    drop(tx);
    resident.audit_read(ctx, found, "repairs")?;
    Ok(out)
}

/// A person's applications, oldest first, in a unit of work already open.
pub(crate) fn of_person<T: ReadTx + ?Sized>(
    tx: &mut T,
    person_id: i64,
) -> Result<Vec<Application>, JobError> {
    let rows = tx.repairs(&RepairFilter {
        person_id: Some(person_id),
        status: None,
        after_id: 0,
        limit: usize::MAX >> 1,
    })?;
    rows.into_iter().map(|r| application(&mut *tx, r)).collect()
}

/// A reviewer acting: the audit actor (`staff:NAME`) and the request.
#[derive(Debug, Clone, Copy)]
pub struct Reviewer<'a> {
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
}

/// Applications in `status`, oldest first, after the id `after`, at most
/// `limit`, with whose they are (ID masked). Reading them is audited as a
/// read of each person's data.
pub fn queue(
    ctx: &Context,
    reviewer: Reviewer<'_>,
    status: ApplicationStatus,
    after: i64,
    limit: usize,
) -> Result<Vec<Application>, JobError> {
    let mut tx = ctx.store.snapshot()?;
    let rows = tx.repairs(&RepairFilter {
        person_id: None,
        status: Some(status),
        after_id: after,
        limit,
    })?;
    let mut out = Vec::with_capacity(rows.len());
    let mut people: Vec<(Vec<u8>, i64)> = Vec::new();
    for r in rows {
        let person_id = r.person_id;
        let mut a = application(&mut *tx, r)?;
        if let Some(i) = tx.identity(person_id)? {
            a.id_number = Some(i.id_number.masked());
            a.name = i.name;
            people.push((i.index, person_id));
        }
        out.push(a);
    }
    drop(tx);
    let refs: Vec<(&[u8], i64)> = people.iter().map(|(i, p)| (i.as_slice(), *p)).collect();
    crate::audit::record_reads(ctx, reviewer.actor, &refs, reviewer.request_id, "repair")?;
    Ok(out)
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no repair application {0}")]
    NotFound(i64),
    #[error("repair application {id} was already decided ({})", .status.as_str())]
    AlreadyDecided { id: i64, status: ApplicationStatus },
    /// The record no longer counts (withdrawn or corrected away since).
    #[error("the record is {} and can no longer be repaired", .0.state.as_str())]
    RecordChanged(NotAllowed),
    #[error("{0}")]
    InvalidReason(&'static str),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub id: i64,
    pub status: ApplicationStatus,
}

/// Approves or rejects a pending application. Approval repairs the
/// record's case and rescores the person under every model in play (cause
/// `repaired`); both record the decision, the reason and the reviewer, with
/// audit entries naming the reviewer — all in one unit of work.
pub fn decide(
    ctx: &Context,
    reviewer: Reviewer<'_>,
    id: i64,
    decision: RepairDecision,
    reason: Option<&str>,
) -> Result<Decided, DecideError> {
    let reason = decision
        .check_reason(reason)
        .map_err(DecideError::InvalidReason)?;
    let reason = reason.as_deref();
    let today = crate::today();
    let change = Change::request(Cause::Repaired, reviewer.actor, reviewer.request_id);
    write(&*ctx.store, |tx| {
        let Some(row) = tx.repair(id)? else {
            return Ok(Err(DecideError::NotFound(id)));
        };
        let Some(next) = row.status.decide(decision) else {
            return Ok(Err(DecideError::AlreadyDecided {
                id,
                status: row.status,
            }));
        };
        if next == ApplicationStatus::Approved {
            let head = tx
                .head_of(row.record_id)?
                .ok_or_else(|| JobError::Invalid(format!("record {} is gone", row.record_id)))?;
            let scorers = ctx.in_play(tx)?;
            let applied = apply_event(
                tx,
                &head,
                RecordEvent::Repair,
                reason,
                &change,
                "record.repaired",
                &versions(&scorers),
            )?;
            match applied {
                Ok(Some(RecordStatus::Repaired)) => {}
                Ok(other) => {
                    return Err(JobError::Invalid(format!(
                        "repairing record {} led to {other:?}",
                        head.id
                    )))
                }
                Err(e) => return Ok(Err(DecideError::RecordChanged(e))),
            }
            rescore(ctx, tx, &scorers, &[head.person_id], today, &change)?;
        }
        if !tx.decide_repair(id, next, reason, reviewer.actor)? {
            return Ok(Err(DecideError::NotFound(id)));
        }
        let index = tx
            .identity(row.person_id)?
            .map(|i| i.index)
            .ok_or_else(|| JobError::Invalid(format!("application {id} has no person")))?;
        tx.append_audit(vec![AuditEvent {
            actor: reviewer.actor.to_owned(),
            action: format!("repair.{}", next.as_str()),
            subject: Some(format!("repair:{id}")),
            person: Some(person_ref(&index)),
            request_id: reviewer.request_id.map(str::to_owned),
            detail: serde_json::json!({"record_id": row.record_id, "reason": reason}),
        }]);
        Ok(Ok(Decided { id, status: next }))
    })?
}
