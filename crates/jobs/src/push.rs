//! Units pushing single records and withdrawing them over HTTP: each change,
//! the person's rescoring and the audit entries commit together.

use chengxin_ingest::{Line, RowError, Validator};
use chengxin_store::{Cause, Change, Inline, Outcome};
use serde::Serialize;

use crate::units::Unit;
use crate::{Context, JobError};

/// Who is calling, for authorisation and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub unit: &'a Unit,
    /// The HTTP request id, recorded in audit entries.
    pub request_id: Option<&'a str>,
}

impl Caller<'_> {
    /// The audit actor name, `unit:CODE`.
    pub fn actor(&self) -> String {
        format!("unit:{}", self.unit.code)
    }
}

/// The answer to a push or withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordReceipt {
    pub source_id: String,
    pub record_id: i64,
    /// `accepted`, `duplicate`, `corrected`, or `withdrawn`.
    pub outcome: String,
    /// The person was rescored in the same transaction. The score itself is
    /// never shown to a unit (第十六条: no disclosure without the person's consent).
    pub rescored: bool,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The record is invalid or not permitted (`code` says which).
    #[error("{}", .0.message)]
    Invalid(RowError),
    /// No such record from this unit.
    #[error("no record `{0}` from this unit")]
    NotFound(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for PushError {
    fn from(e: chengxin_store::StoreError) -> Self {
        PushError::Job(e.into())
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Accepted => "accepted",
        Outcome::Duplicate => "duplicate",
        Outcome::Corrected => "corrected",
    }
}

/// Stores one record (the import format without `unit`) and rescores its person.
pub fn push_record(
    ctx: &Context,
    caller: Caller<'_>,
    body: &[u8],
) -> Result<RecordReceipt, PushError> {
    let validator = Validator::for_unit(
        ctx.catalogue.clone(),
        &caller.unit.code,
        caller.unit.items.clone(),
    );
    let line = Line::Json {
        line: 1,
        bytes: body.to_vec(),
    };
    let record = validator
        .validate(&line, None)
        .map_err(PushError::Invalid)?;
    let today = crate::today();
    let score = ctx.inline_scorer(today);
    let inline = Inline {
        as_of: today,
        score: &score,
    };
    let actor = caller.actor();
    let change = Change::request(Cause::Push, &actor, caller.request_id);
    let r = ctx
        .store
        .ingest(std::slice::from_ref(&record), &change, Some(&inline))?;
    let r = r
        .first()
        .ok_or_else(|| JobError::Invalid("the store returned no result".into()))?;
    Ok(RecordReceipt {
        source_id: record.source_id,
        record_id: r.record_id,
        outcome: outcome_name(r.outcome).into(),
        rescored: r.outcome != Outcome::Duplicate,
    })
}

/// Withdraws a record: it stops counting and the person is rescored.
pub fn withdraw(
    ctx: &Context,
    caller: Caller<'_>,
    source_id: &str,
    reason: &str,
) -> Result<RecordReceipt, PushError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(PushError::Invalid(RowError {
            line: 1,
            code: "missing_field",
            message: "a withdrawal needs a `reason` of 1 to 500 characters".into(),
            source_id: Some(source_id.to_owned()),
        }));
    }
    let today = crate::today();
    let score = ctx.inline_scorer(today);
    let inline = Inline {
        as_of: today,
        score: &score,
    };
    let actor = caller.actor();
    let change = Change::request(Cause::Withdraw, &actor, caller.request_id);
    let r = ctx
        .store
        .withdraw(&caller.unit.code, source_id, reason, &change, Some(&inline))?
        .ok_or_else(|| PushError::NotFound(source_id.to_owned()))?;
    Ok(RecordReceipt {
        source_id: source_id.to_owned(),
        record_id: r.record_id,
        outcome: "withdrawn".into(),
        rescored: r.outcome != Outcome::Duplicate,
    })
}
