//! What the agency console needs beyond the API's use cases: looking ONE
//! person up by ID number (第十八条: never a list or a ranking), with a
//! purpose the staff member states and the audit log keeps, and the repair
//! rule's view of each application in the reviewer's queue.
//!
//! The look-up reads one snapshot and records the read (found or not, with
//! the staff member as actor and the purpose) before it answers, like every
//! other read of personal data ([`crate::audit`]).

use std::collections::HashMap;

use chengxin_domain::objection::ObjectionStatus;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::repair::{self, ApplicationStatus, Level};
use chengxin_domain::self_report::ReportStatus;
use chengxin_domain::staff::Right;
use chengxin_domain::IdNumber;
use chengxin_store::uow::ObjectionFilter;
use jiff::civil::Date;
use serde::Serialize;

use crate::objections::Objection;
use crate::own::OwnRecord;
use crate::repairs::Application;
use crate::self_reports::Report;
use crate::staff::StaffMember;
use crate::{Context, JobError};

/// The longest purpose a look-up may state.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// Why a look-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The member's role may not look people up.
    #[error("the role `{0}` may not look residents up (该角色无权查询个人信息)")]
    Forbidden(String),
    /// The purpose is missing, too long or has a forbidden character: the
    /// code and message.
    #[error("{1}")]
    Purpose(&'static str, String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for LookupError {
    fn from(e: chengxin_store::StoreError) -> Self {
        LookupError::Job(e.into())
    }
}

/// The right a look-up needs: the reviewers', who decide the cases.
pub const LOOKUP_RIGHT: Right = Right::DecideObjections;

/// One person as the console shows them.
#[derive(Debug, Serialize)]
pub struct Lookup {
    pub id_number_masked: String,
    /// Whether the platform holds anything about them.
    pub found: bool,
    pub name: Option<String>,
    /// The score's explanation under the model in force (the object
    /// `chengxin score --json` prints); `None` when nothing is held.
    pub score: Option<serde_json::Value>,
    /// Every record version, oldest first.
    pub records: Vec<OwnRecord>,
    /// Objections not yet decided.
    pub objections: Vec<Objection>,
    /// Repair applications pending.
    pub repairs: Vec<Application>,
    /// Self-reports pending.
    pub self_reports: Vec<Report>,
}

/// Checks a look-up's purpose: trimmed, not blank, at most
/// [`MAX_PURPOSE_CHARS`], no control or invisible character.
pub fn check_purpose(purpose: &str) -> Result<String, LookupError> {
    let p = purpose.trim();
    if p.is_empty() {
        return Err(LookupError::Purpose(
            "missing_field",
            "a look-up needs its purpose, e.g. a case number (查询须填写事由，如案件编号)".into(),
        ));
    }
    if p.chars().count() > MAX_PURPOSE_CHARS {
        return Err(LookupError::Purpose(
            "out_of_range",
            format!("the purpose is longer than {MAX_PURPOSE_CHARS} characters (事由过长)"),
        ));
    }
    if let Err(e) = chengxin_domain::text::check(p) {
        return Err(LookupError::Purpose(
            chengxin_domain::text::TextError::CODE,
            format!("the purpose: {e}"),
        ));
    }
    Ok(p.to_owned())
}

/// Looks up the person with `id` as of `today` for `member`, who states
/// `purpose`: their score, records and open cases. The read (or the finding
/// that the platform holds nothing) is in the audit log with the member and
/// the purpose before the answer.
pub fn lookup(
    ctx: &Context,
    member: &StaffMember,
    id: &IdNumber,
    purpose: &str,
    request_id: Option<&str>,
    today: Date,
) -> Result<Lookup, LookupError> {
    if !member.may(LOOKUP_RIGHT) {
        return Err(LookupError::Forbidden(member.role.to_string()));
    }
    let purpose = check_purpose(purpose)?;
    let actor = member.actor();
    let Some(x) = crate::score::load(ctx, id, today, true)? else {
        let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
        crate::audit::record_lookup(ctx, &actor, &index, None, request_id, &purpose)?;
        return Ok(Lookup {
            id_number_masked: id.masked(),
            found: false,
            name: None,
            score: None,
            records: Vec::new(),
            objections: Vec::new(),
            repairs: Vec::new(),
            self_reports: Vec::new(),
        });
    };
    let records = crate::own::build_records(ctx, &x, today)?;
    let mut tx = ctx.store.snapshot()?;
    let name = tx.identity(x.person_id)?.and_then(|i| i.name);
    let rows = tx.objections(&ObjectionFilter {
        person_id: Some(x.person_id),
        unit: None,
        statuses: &[
            ObjectionStatus::Submitted,
            ObjectionStatus::Accepted,
            ObjectionStatus::AwaitingUnit,
        ],
        after_id: 0,
        limit: usize::MAX >> 1,
    })?;
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut evidence = crate::objections::evidence_of(&mut *tx, &ids)?;
    let objections = rows
        .into_iter()
        .map(|o| {
            let (unit, reply) = (o.unit.clone(), o.reply.clone());
            let e = evidence.remove(&o.id).unwrap_or_default();
            let mut v = crate::objections::view(o, e, today);
            v.unit = unit;
            v.reply = reply;
            v
        })
        .collect();
    let repairs = crate::repairs::of_person(&mut *tx, x.person_id)?
        .into_iter()
        .filter(|a| a.status == ApplicationStatus::Pending)
        .collect();
    let self_reports = crate::self_reports::of_person(ctx, &mut *tx, x.person_id)?
        .into_iter()
        .filter(|r| r.status == ReportStatus::Pending)
        .collect();
    drop(tx);
    crate::audit::record_lookup(
        ctx,
        &actor,
        &x.index,
        Some(x.person_id),
        request_id,
        &purpose,
    )?;
    Ok(Lookup {
        id_number_masked: id.masked(),
        found: true,
        name,
        score: Some(x.json(id)),
        records,
        objections,
        repairs,
        self_reports,
    })
}

/// What the repair rule says today about an application's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReview {
    /// The record's current state (its case's newest version).
    pub record_state: Option<RecordStatus>,
    pub record_date: Option<Date>,
    /// `None`: repair no longer reaches the record.
    pub level: Option<Level>,
    pub repairable_from: Option<Date>,
    /// No credit commitment is active now.
    pub needs_commitment: bool,
    /// The rule (date reached, commitment active) holds today.
    pub eligible_now: bool,
}

/// For each application (by id), its record's state and the repair rule's
/// assessment as of `today` — what the reviewer weighs. Reads no more than
/// the queue that listed them (already audited).
pub fn repair_reviews(
    ctx: &Context,
    applications: &[Application],
    today: Date,
) -> Result<HashMap<i64, RepairReview>, JobError> {
    let mut out = HashMap::new();
    let mut tx = ctx.store.snapshot()?;
    let catalogue = ctx.catalogue();
    for a in applications {
        let Some(head) = tx.head_of(a.record_id)? else {
            continue;
        };
        let records = crate::resident::current_records(ctx, &mut *tx, head.person_id)?;
        let record = records.iter().find(|r| r.id == head.id);
        let assessed = record.and_then(|r| repair::assess(&catalogue, r, &records, today));
        out.insert(
            a.id,
            RepairReview {
                record_state: Some(head.status),
                record_date: record.map(|r| r.date),
                level: assessed.as_ref().map(|x| x.reach.level),
                repairable_from: assessed.as_ref().map(|x| x.reach.repairable_from),
                needs_commitment: assessed.as_ref().is_some_and(|x| x.needs_commitment),
                eligible_now: assessed.as_ref().is_some_and(|x| x.eligible_now),
            },
        );
    }
    Ok(out)
}
