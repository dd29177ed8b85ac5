//! Objections (异议, 第二十五、二十六条): a resident objects to a record or
//! to their score with a reason and optional evidence. An objection to a
//! record flags it `disputed` at once (it still counts, visibly); the agency
//! accepts within 2 working days and routes it to the record's unit, which
//! replies within 10 working days of acceptance; a reviewer decides
//! `corrected` (the record corrected or withdrawn, the person rescored in the
//! same unit of work) or `explained` (the explanation shown to the resident,
//! the flag resolved).
//!
//! The state machine and deadline rules are the domain's
//! ([`chengxin_domain::objection`]); working days come from the calendar in
//! force ([`crate::calendar::effective_in`]). Filing and listing are here;
//! the agency's and the units' steps in [`cases`].

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::calendar::Deadline;
use chengxin_domain::objection::{self as rules, ObjectionStatus, Timeline};
use chengxin_domain::record::{RecordEvent, RecordStatus};
use chengxin_domain::self_report::{check_evidence, EvidenceError};
use chengxin_store::uow::{NewEvidence, NewObjection, ObjectionFilter, ObjectionRow};
use chengxin_store::{person_ref, Cause, ReadTx};
use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::records::apply_event;
use crate::rescore::{rescore, versions};
use crate::resident::Resident;
use crate::self_reports::EvidenceInfo;
use crate::uow::{write, Change};
use crate::{Context, JobError};

mod cases;

pub use cases::{
    accept, decide, evidence_file, mark_overdue, mark_overdue_now, queue, reply, unit_queue,
    Decision, QueueFilter, Staff,
};

/// What an objection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A record, by the id of any of its versions (as `/me/records` lists it).
    Record(i64),
    /// The resident's score as a whole.
    Score,
}

/// Why a step on an objection was refused.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    /// No such record of the resident's (another person's is not revealed).
    #[error("no record {0} of yours (未找到您的该条信息)")]
    RecordNotFound(i64),
    /// A score objection from someone the platform holds nothing about.
    #[error("the platform holds no score of yours to object to (平台尚无您的诚信分)")]
    NoScore,
    /// An objection on this record (or the score) is still open.
    #[error("objection {0} on the same subject is still open (同一事项已有未办结的异议)")]
    AlreadyOpen(i64),
    /// The record no longer counts (withdrawn, corrected, repaired, pending
    /// or rejected): there is nothing to object to.
    #[error("the record is {} and cannot be objected to (该信息当前状态不能提出异议)", .0.as_str())]
    NotDisputable(RecordStatus),
    /// A text field is blank, too long or has U+0000: the code and message.
    #[error("{1}")]
    Text(&'static str, String),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// No such objection the caller may see.
    #[error("no objection {0} (未找到该异议)")]
    NotFound(i64),
    /// The objection's state does not allow the step.
    #[error("objection {id} is {} and cannot take this step (该异议当前状态不允许此操作)", .status.as_str())]
    WrongState { id: i64, status: ObjectionStatus },
    /// `corrected` was decided, but the unit has neither corrected nor
    /// withdrawn the record and the agency did not withdraw it.
    #[error("record {0} was neither corrected nor withdrawn by its unit; send \"withdraw\": true for the agency to withdraw it (单位尚未更正或撤回该信息)")]
    NotCorrected(i64),
    /// The staff member's role may not decide objections.
    #[error("the role `{0}` may not decide objections (该角色无权办理异议)")]
    Forbidden(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// A stored objection's id, status and deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub id: i64,
    pub status: ObjectionStatus,
    pub accept_by: Date,
    pub reply_by: Option<Date>,
    /// A deadline was counted through a year without calendar data (Monday
    /// to Friday): it may move once the year's arrangement is loaded.
    pub provisional: bool,
}

/// One step of an objection, with its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `submitted`, `accepted`, `routed_to_unit`, `unit_replied`,
    /// `corrected`, `explained`.
    pub step: &'static str,
    pub on: Date,
}

/// An objection as listed: to the resident, or with more to staff and units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objection {
    pub id: i64,
    /// `None`: an objection to the score.
    pub record_id: Option<i64>,
    pub status: ObjectionStatus,
    pub reason: String,
    pub accept_by: Date,
    pub reply_by: Option<Date>,
    pub provisional: bool,
    /// The explanation (or, for a correction, its note) shown to the resident.
    pub answer: Option<String>,
    pub steps: Vec<Step>,
    /// Past a deadline now (accept or reply), as of the day listed.
    pub overdue: bool,
    /// When the daily run first found it overdue.
    pub overdue_on: Option<Date>,
    pub evidence: Vec<EvidenceInfo>,
    /// Staff and units: the unit it is routed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Staff and units: the unit's reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Staff and units: whose objection, the ID number masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The dates the domain's deadline rules read.
pub(crate) fn timeline(o: &ObjectionRow) -> Timeline {
    Timeline {
        status: o.status,
        routed: o.unit.is_some(),
        accept_by: o.accept_by,
        accepted_on: o.accepted_on,
        reply_by: o.reply_by,
        replied_on: o.replied_on,
    }
}

fn steps(o: &ObjectionRow) -> Vec<Step> {
    let mut out = vec![Step {
        step: "submitted",
        on: o.submitted_on,
    }];
    if let Some(on) = o.accepted_on {
        out.push(Step {
            step: "accepted",
            on,
        });
        if o.unit.is_some() {
            out.push(Step {
                step: "routed_to_unit",
                on,
            });
        }
    }
    if let Some(on) = o.replied_on {
        out.push(Step {
            step: "unit_replied",
            on,
        });
    }
    if let Some(on) = o.decided_on {
        out.push(Step {
            step: o.status.as_str(),
            on,
        });
    }
    out
}

/// The resident's view of a stored objection, as of `today`.
pub(crate) fn view(o: ObjectionRow, evidence: Vec<EvidenceInfo>, today: Date) -> Objection {
    let overdue = rules::overdue(&timeline(&o), today).is_some();
    Objection {
        id: o.id,
        record_id: o.record_id,
        status: o.status,
        steps: steps(&o),
        reason: o.reason,
        accept_by: o.accept_by,
        reply_by: o.reply_by,
        provisional: o.accept_by_provisional || o.reply_by_provisional,
        answer: o.answer,
        overdue,
        overdue_on: o.overdue_on,
        evidence,
        unit: None,
        reply: None,
        id_number: None,
        name: None,
    }
}

/// The evidence of these objections, per objection.
pub(crate) fn evidence_of<T: ReadTx + ?Sized>(
    tx: &mut T,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<EvidenceInfo>>, JobError> {
    let mut out: std::collections::HashMap<i64, Vec<EvidenceInfo>> = Default::default();
    for e in tx.objection_evidence(ids)? {
        out.entry(e.objection_id).or_default().push(EvidenceInfo {
            sha256: hex::encode(&e.sha256),
            media_type: e.media_type,
            size: e.size,
        });
    }
    Ok(out)
}

fn text(field: &str, value: &str) -> Result<String, ObjectionError> {
    rules::check_text(field, value).map_err(|(code, m)| ObjectionError::Text(code, m))
}

/// Files an objection on `today`: checks the reason and evidence, then in
/// one unit of work stores the files and the objection with its acceptance
/// deadline, flags the record `disputed` (the domain's Dispute event; it
/// still counts) and writes the audit entries.
pub fn submit(
    ctx: &Context,
    resident: Resident<'_>,
    target: Target,
    reason: &str,
    evidence: &[Vec<u8>],
    today: Date,
) -> Result<Submitted, ObjectionError> {
    let reason = text("reason", reason)?;
    let kinds = if evidence.is_empty() {
        Vec::new()
    } else {
        check_evidence(evidence.iter().map(Vec::as_slice))?
    };
    let hashes: Vec<[u8; 32]> = evidence.iter().map(|f| Sha256::digest(f).into()).collect();
    let files: Vec<NewEvidence<'_>> = evidence
        .iter()
        .zip(&kinds)
        .zip(&hashes)
        .map(|((content, kind), sha256)| NewEvidence {
            sha256: *sha256,
            media_type: kind.media_type(),
            content,
        })
        .collect();
    let actor = resident.actor(ctx);
    let change = Change::request(Cause::Objection, &actor, resident.request_id);
    let index = resident.index(ctx);
    let not_found = || match target {
        Target::Record(id) => ObjectionError::RecordNotFound(id),
        Target::Score => ObjectionError::NoScore,
    };
    let outcome = write(&*ctx.store, |tx| {
        let Some(person_id) = tx.find_person(&index)? else {
            return Ok(Err(not_found()));
        };
        let head = match target {
            Target::Record(id) => match tx.head_of(id)? {
                Some(h) if h.person_id == person_id => Some(h),
                _ => return Ok(Err(not_found())),
            },
            Target::Score => None,
        };
        // One open objection per subject: the record's case, or the score.
        let open = tx.objections(&ObjectionFilter {
            person_id: Some(person_id),
            unit: None,
            statuses: &[
                ObjectionStatus::Submitted,
                ObjectionStatus::Accepted,
                ObjectionStatus::AwaitingUnit,
            ],
            after_id: 0,
            limit: usize::MAX >> 1,
        })?;
        for o in open {
            let same = match (&head, o.record_id) {
                (None, None) => true,
                (Some(h), Some(r)) => tx.head_of(r)?.is_some_and(|oh| oh.id == h.id),
                _ => false,
            };
            if same {
                return Ok(Err(ObjectionError::AlreadyOpen(o.id)));
            }
        }
        let calendar = crate::calendar::effective_in(tx)?;
        let accept_by: Deadline =
            rules::accept_by(&calendar, today).map_err(|e| JobError::Invalid(e.to_string()))?;
        let scorers = ctx.in_play(tx)?;
        if let Some(h) = &head {
            match apply_event(
                tx,
                h,
                RecordEvent::Dispute,
                Some(&reason),
                &change,
                "record.disputed",
                &versions(&scorers),
            )? {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Ok(Err(ObjectionError::NotDisputable(h.status))),
            }
        }
        tx.put_evidence(&files)?;
        let id = tx.insert_objection(&NewObjection {
            person_id,
            record_id: head.as_ref().map(|h| h.id),
            unit: head.as_ref().map(|h| h.unit.as_str()),
            reason: &reason,
            status: ObjectionStatus::Submitted,
            submitted_on: today,
            accept_by: accept_by.date,
            accept_by_provisional: accept_by.provisional,
        })?;
        tx.link_objection_evidence(id, &hashes)?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.clone(),
            action: "objection.submitted".into(),
            subject: Some(format!("objection:{id}")),
            person: Some(person_ref(&index)),
            request_id: resident.request_id.map(str::to_owned),
            detail: serde_json::json!({
                "record_id": head.as_ref().map(|h| h.id),
                "about": if head.is_some() { "record" } else { "score" },
                "accept_by": accept_by.date.to_string(),
                "provisional": accept_by.provisional,
                "evidence": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
            }),
        }]);
        if head.is_some() {
            // The flag changes no points, but the person was marked: clear it.
            rescore(ctx, tx, &scorers, &[person_id], today, &change)?;
        }
        Ok(Ok(Submitted {
            id,
            status: ObjectionStatus::Submitted,
            accept_by: accept_by.date,
            reply_by: None,
            provisional: accept_by.provisional,
        }))
    })?;
    outcome
}

/// The resident's objections, oldest first, with each step and its date
/// and whether a deadline is missed as of `today`. The read is audited.
pub fn list_mine(
    ctx: &Context,
    resident: Resident<'_>,
    today: Date,
) -> Result<Vec<Objection>, JobError> {
    let mut tx = ctx.store.snapshot()?;
    let Some(person_id) = resident.find(ctx, &mut *tx)? else {
        drop(tx);
        resident.audit_read(ctx, None, "objections")?;
        return Ok(Vec::new());
    };
    let rows = tx.objections(&ObjectionFilter {
        person_id: Some(person_id),
        unit: None,
        statuses: &[],
        after_id: 0,
        limit: usize::MAX >> 1,
    })?;
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut evidence = evidence_of(&mut *tx, &ids)?;
    drop(tx);
    resident.audit_read(ctx, Some(person_id), "objections")?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let e = evidence.remove(&o.id).unwrap_or_default();
            view(o, e, today)
        })
        .collect())
}
