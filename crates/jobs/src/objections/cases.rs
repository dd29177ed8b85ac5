//! The agency's and the units' steps on objections: the reviewer's queue,
//! acceptance (routing to the record's unit), the unit's reply, the
//! decision (with rescoring in the same unit of work) and the daily marking
//! of overdue cases. Each step is one unit of work with its audit entry.

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::objection::{self as rules, ObjectionEvent, ObjectionStatus, Outcome};
use chengxin_domain::record::{RecordEvent, RecordStatus};
use chengxin_domain::staff::Right;
use chengxin_store::uow::{ObjectionFilter, ObjectionRow};
use chengxin_store::{person_ref, Cause, WriteTx};
use jiff::civil::Date;

use super::{evidence_of, text, timeline, view, Objection, ObjectionError};
use crate::records::apply_event;
use crate::rescore::{rescore, versions};
use crate::staff::StaffMember;
use crate::units::Unit;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// A staff member acting in a request.
#[derive(Debug, Clone, Copy)]
pub struct Staff<'a> {
    pub member: &'a StaffMember,
    pub request_id: Option<&'a str>,
}

impl Staff<'_> {
    /// The member's audit actor, if their role may decide objections.
    fn actor(&self) -> Result<String, ObjectionError> {
        if self.member.may(Right::DecideObjections) {
            Ok(self.member.actor())
        } else {
            Err(ObjectionError::Forbidden(self.member.role.to_string()))
        }
    }
}

/// Which objections the reviewer lists.
#[derive(Debug, Clone, Copy)]
pub struct QueueFilter {
    pub status: Option<ObjectionStatus>,
    /// Only late ones: past a deadline now, a step done after its deadline,
    /// or marked overdue by a daily run.
    pub overdue: bool,
    /// Only ids above this.
    pub after: i64,
    pub limit: usize,
}

/// A reviewer's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Outcome,
    /// Shown to the resident as the answer; required.
    pub explanation: String,
    /// With `corrected`: the agency withdraws the record itself (the unit
    /// did not correct or withdraw it).
    pub withdraw: bool,
}

const PAGE: usize = 500;

fn open_statuses() -> &'static [ObjectionStatus] {
    &[
        ObjectionStatus::Submitted,
        ObjectionStatus::Accepted,
        ObjectionStatus::AwaitingUnit,
    ]
}

/// Lists objections for staff (`unit: None`) or for one unit, with whose
/// they are (ID masked), each person's read audited.
fn listing(
    ctx: &Context,
    actor: &str,
    request_id: Option<&str>,
    unit: Option<&str>,
    filter: QueueFilter,
    today: Date,
) -> Result<Vec<Objection>, JobError> {
    let statuses: Vec<ObjectionStatus> = filter.status.into_iter().collect();
    let mut tx = ctx.store.snapshot()?;
    let mut rows: Vec<ObjectionRow> = Vec::new();
    let mut after = filter.after;
    // Lateness is the domain's rule, so it is filtered here, page by page.
    while rows.len() < filter.limit {
        let page = tx.objections(&ObjectionFilter {
            person_id: None,
            unit,
            statuses: &statuses,
            after_id: after,
            limit: PAGE,
        })?;
        let done = page.len() < PAGE;
        if let Some(last) = page.last() {
            after = last.id;
        }
        rows.extend(page.into_iter().filter(|o| {
            !filter.overdue || o.overdue_on.is_some() || rules::ever_late(&timeline(o), today)
        }));
        if done {
            break;
        }
    }
    rows.truncate(filter.limit);
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut evidence = evidence_of(&mut *tx, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    let mut people: Vec<(Vec<u8>, i64)> = Vec::new();
    for o in rows {
        let identity = tx.identity(o.person_id)?;
        let (unit, reply, person_id) = (o.unit.clone(), o.reply.clone(), o.person_id);
        let e = evidence.remove(&o.id).unwrap_or_default();
        let mut v = view(o, e, today);
        v.unit = unit;
        v.reply = reply;
        if let Some(i) = identity {
            v.id_number = Some(i.id_number.masked());
            v.name = i.name;
            people.push((i.index, person_id));
        }
        out.push(v);
    }
    drop(tx);
    let refs: Vec<(&[u8], i64)> = people.iter().map(|(i, p)| (i.as_slice(), *p)).collect();
    crate::audit::record_reads(ctx, actor, &refs, request_id, "objection")?;
    Ok(out)
}

/// The reviewer's list: every objection (or those in a status, or the late
/// ones), oldest first, as of `today`.
pub fn queue(
    ctx: &Context,
    staff: Staff<'_>,
    filter: QueueFilter,
    today: Date,
) -> Result<Vec<Objection>, ObjectionError> {
    let actor = staff.actor()?;
    Ok(listing(ctx, &actor, staff.request_id, None, filter, today)?)
}

/// The objections routed to `unit`, oldest first.
pub fn unit_queue(
    ctx: &Context,
    unit: &Unit,
    request_id: Option<&str>,
    filter: QueueFilter,
    today: Date,
) -> Result<Vec<Objection>, JobError> {
    let actor = format!("unit:{}", unit.code);
    listing(ctx, &actor, request_id, Some(&unit.code), filter, today)
}

/// Loads an objection for a step and applies `event`; `NotFound` unless
/// `visible`, `WrongState` when the state machine refuses.
fn step(
    tx: &mut dyn WriteTx,
    id: i64,
    event: impl Fn(&ObjectionRow) -> ObjectionEvent,
    visible: impl Fn(&ObjectionRow) -> bool,
) -> Result<Result<(ObjectionRow, ObjectionStatus), ObjectionError>, JobError> {
    let Some(o) = tx.objection(id)?.filter(|o| visible(o)) else {
        return Ok(Err(ObjectionError::NotFound(id)));
    };
    match o.status.apply(event(&o)) {
        Ok(next) => Ok(Ok((o, next))),
        Err(e) => Ok(Err(ObjectionError::WrongState { id, status: e.from })),
    }
}

fn audit(
    tx: &mut dyn WriteTx,
    actor: &str,
    request_id: Option<&str>,
    action: &str,
    o: &ObjectionRow,
    detail: serde_json::Value,
) -> Result<(), JobError> {
    let person = tx.identity(o.person_id)?.map(|i| person_ref(&i.index));
    tx.append_audit(vec![AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: Some(format!("objection:{}", o.id)),
        person,
        request_id: request_id.map(str::to_owned),
        detail,
    }]);
    Ok(())
}

/// Accepts a submitted objection on `today`: one about a record goes to
/// its unit (`awaiting_unit`), one about the score stays with the reviewer
/// (`accepted`); the reply is due 10 working days later.
pub fn accept(
    ctx: &Context,
    staff: Staff<'_>,
    id: i64,
    today: Date,
) -> Result<Objection, ObjectionError> {
    let actor = staff.actor()?;
    let row = write(&*ctx.store, |tx| {
        let (mut o, next) = match step(
            tx,
            id,
            |o| ObjectionEvent::Accept {
                routed: o.unit.is_some(),
            },
            |_| true,
        )? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let calendar = crate::calendar::effective_in(tx)?;
        let reply_by =
            rules::reply_by(&calendar, today).map_err(|e| JobError::Invalid(e.to_string()))?;
        o.status = next;
        o.accepted_on = Some(today);
        o.accepted_by = Some(staff.member.name.clone());
        o.reply_by = Some(reply_by.date);
        o.reply_by_provisional = reply_by.provisional;
        tx.update_objection(&o)?;
        let detail = serde_json::json!({
            "staff": staff.member.name,
            "routed_to": o.unit,
            "reply_by": reply_by.date.to_string(),
            "provisional": reply_by.provisional,
            "late": today > o.accept_by,
        });
        audit(
            tx,
            &actor,
            staff.request_id,
            "objection.accepted",
            &o,
            detail,
        )?;
        Ok(Ok(o))
    })??;
    Ok(staff_view(row, today))
}

fn staff_view(o: ObjectionRow, today: Date) -> Objection {
    let (unit, reply) = (o.unit.clone(), o.reply.clone());
    let mut v = view(o, Vec::new(), today);
    v.unit = unit;
    v.reply = reply;
    v
}

/// The unit's reply to an objection routed to it. Another unit's objection
/// is [`ObjectionError::NotFound`].
pub fn reply(
    ctx: &Context,
    unit: &Unit,
    request_id: Option<&str>,
    id: i64,
    reply: &str,
    today: Date,
) -> Result<Objection, ObjectionError> {
    let reply = text("text", reply)?;
    let actor = format!("unit:{}", unit.code);
    let row = write(&*ctx.store, |tx| {
        let (mut o, next) = match step(
            tx,
            id,
            |_| ObjectionEvent::UnitReply,
            |o| o.unit.as_deref() == Some(unit.code.as_str()),
        )? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        o.status = next;
        o.replied_on = Some(today);
        o.reply = Some(reply.clone());
        tx.update_objection(&o)?;
        let late = o.reply_by.is_some_and(|d| today > d);
        audit(
            tx,
            &actor,
            request_id,
            "objection.unit_replied",
            &o,
            serde_json::json!({ "late": late }),
        )?;
        Ok(Ok(o))
    })??;
    Ok(staff_view(row, today))
}

/// Decides an accepted objection on `today`, in one unit of work:
///
/// - `corrected` on a record: the unit's correction (the record's case has a
///   newer version) or withdrawal is recorded, or with `withdraw` the agency
///   withdraws the record itself; a corrected version still flagged is
///   resolved. Neither: [`ObjectionError::NotCorrected`].
/// - `corrected` on the score: the person is rescored.
/// - `explained`: the record's flag is resolved (the domain's
///   ResolveDispute); the explanation is the resident's answer.
///
/// The person is rescored at once (history cause `objection`) and the
/// decision audited with the staff member's name.
pub fn decide(
    ctx: &Context,
    staff: Staff<'_>,
    id: i64,
    decision: &Decision,
    today: Date,
) -> Result<Objection, ObjectionError> {
    let actor = staff.actor()?;
    let explanation = text("explanation", &decision.explanation)?;
    if decision.withdraw && decision.outcome != Outcome::Corrected {
        return Err(ObjectionError::Text(
            "invalid_field",
            "`withdraw` goes only with the outcome `corrected`".into(),
        ));
    }
    let change = Change::request(Cause::Objection, &actor, staff.request_id);
    let row = write(&*ctx.store, |tx| {
        let (mut o, next) = match step(
            tx,
            id,
            |_| ObjectionEvent::Decide(decision.outcome),
            |_| true,
        )? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let scorers = ctx.in_play(tx)?;
        let models = versions(&scorers);
        let mut record_action = None;
        if let Some(record_id) = o.record_id {
            let head = tx.head_of(record_id)?.ok_or_else(|| {
                JobError::Invalid(format!("objection {id}: no record {record_id}"))
            })?;
            let by_unit = head.id != record_id || head.status == RecordStatus::Withdrawn;
            let event = match decision.outcome {
                Outcome::Corrected if decision.withdraw => Some(RecordEvent::Withdraw),
                Outcome::Corrected if !by_unit => {
                    return Ok(Err(ObjectionError::NotCorrected(record_id)))
                }
                _ if head.status == RecordStatus::Disputed => Some(RecordEvent::ResolveDispute),
                _ => None,
            };
            if let Some(event) = event {
                let action = match event {
                    RecordEvent::Withdraw => "record.withdrawn",
                    _ => "record.dispute_resolved",
                };
                if let Err(e) = apply_event(
                    tx,
                    &head,
                    event,
                    Some(&explanation),
                    &change,
                    action,
                    &models,
                )? {
                    // A repaired record cannot be withdrawn: the case is settled.
                    return Ok(Err(ObjectionError::NotDisputable(e.state)));
                }
                record_action = Some(action);
            } else if decision.outcome == Outcome::Corrected {
                record_action = Some("corrected_by_unit");
            }
        } else if decision.withdraw {
            return Ok(Err(ObjectionError::Text(
                "invalid_field",
                "an objection to the score has no record to withdraw".into(),
            )));
        } else {
            // The score itself was found wrong: it is computed afresh.
            tx.records_changed(&[o.person_id], &models)?;
        }
        rescore(ctx, tx, &scorers, &[o.person_id], today, &change)?;
        o.status = next;
        o.decided_on = Some(today);
        o.decided_by = Some(staff.member.name.clone());
        o.answer = Some(explanation.clone());
        tx.update_objection(&o)?;
        let detail = serde_json::json!({
            "staff": staff.member.name,
            "outcome": decision.outcome.as_str(),
            "record_id": o.record_id,
            "record": record_action,
            "explanation": explanation,
        });
        audit(
            tx,
            &actor,
            staff.request_id,
            "objection.decided",
            &o,
            detail,
        )?;
        Ok(Ok(o))
    })??;
    Ok(staff_view(row, today))
}

/// Marks the open objections past a deadline on `today` as overdue (the
/// date first found), with an audit entry each, inside the caller's unit
/// of work; returns how many were newly marked. The daily run calls this.
pub fn mark_overdue(tx: &mut dyn WriteTx, today: Date) -> Result<usize, JobError> {
    let mut after = 0;
    let mut marked = 0;
    loop {
        let page = tx.objections(&ObjectionFilter {
            person_id: None,
            unit: None,
            statuses: open_statuses(),
            after_id: after,
            limit: PAGE,
        })?;
        let done = page.len() < PAGE;
        for seen in page {
            after = seen.id;
            if seen.overdue_on.is_some() || rules::overdue(&timeline(&seen), today).is_none() {
                continue;
            }
            // Read again, locked: a concurrent step may have moved it since
            // the page was read, and the whole row is written back.
            let Some(mut o) = tx.objection(seen.id)? else {
                continue;
            };
            if o.overdue_on.is_some() {
                continue;
            }
            let Some(missed) = rules::overdue(&timeline(&o), today) else {
                continue;
            };
            o.overdue_on = Some(today);
            tx.update_objection(&o)?;
            let deadline = match missed {
                rules::Missed::Accept => Some(o.accept_by),
                rules::Missed::Reply => o.reply_by,
            };
            audit(
                tx,
                crate::SYSTEM,
                None,
                "objection.overdue",
                &o,
                serde_json::json!({
                    "missed": missed,
                    "deadline": deadline.map(|d| d.to_string()),
                    "unit": o.unit,
                }),
            )?;
            marked += 1;
        }
        if done {
            return Ok(marked);
        }
    }
}

/// [`mark_overdue`] in a unit of work of its own.
pub fn mark_overdue_now(ctx: &Context, today: Date) -> Result<usize, JobError> {
    write(&*ctx.store, |tx| mark_overdue(tx, today))
}

/// One evidence file of an objection, for a reviewer: its media type and
/// content (`None`: no such objection or file). Reading it is audited as a
/// read of the person's data.
pub fn evidence_file(
    ctx: &Context,
    staff: Staff<'_>,
    id: i64,
    sha256_hex: &str,
) -> Result<Option<(String, Vec<u8>)>, ObjectionError> {
    let actor = staff.actor()?;
    let Ok(sha256) = hex::decode(sha256_hex) else {
        return Ok(None);
    };
    let mut tx = ctx.store.snapshot().map_err(JobError::from)?;
    let Some(o) = tx.objection(id).map_err(JobError::from)? else {
        return Ok(None);
    };
    let Some(e) = tx
        .objection_evidence(&[id])
        .map_err(JobError::from)?
        .into_iter()
        .find(|e| e.sha256 == sha256)
    else {
        return Ok(None);
    };
    let Some(content) = tx.evidence_content(&sha256).map_err(JobError::from)? else {
        return Ok(None);
    };
    let index = tx
        .identity(o.person_id)
        .map_err(JobError::from)?
        .map(|i| i.index);
    drop(tx);
    if let Some(index) = index {
        crate::audit::record_read(
            ctx,
            &actor,
            &index,
            o.person_id,
            staff.request_id,
            "objection_evidence",
        )?;
    }
    Ok(Some((e.media_type, content)))
}
