//! Units pushing single records and withdrawing them over HTTP: each change,
//! the person's rescoring and the audit entries commit together.

use chengxin_ingest::RowError;
use chengxin_store::Outcome;
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

/// The answer to a push or withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordReceipt {
    pub source_id: String,
    pub record_id: i64,
    /// `accepted`, `duplicate`, `corrected`, or `withdrawn`.
    pub outcome: String,
    /// The person's eligibility and score right after the change.
    pub eligible: bool,
    pub score: Option<i32>,
    pub grade: Option<String>,
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

/// Stores one record (the import format without `unit`) and rescores its person.
pub fn push_record(ctx: &Context, caller: Caller<'_>, body: &[u8]) -> Result<RecordReceipt, PushError> {
    let _ = (ctx, caller, body, Outcome::Accepted);
    todo!("push")
}

/// Withdraws a record: it stops counting and the person is rescored.
pub fn withdraw(ctx: &Context, caller: Caller<'_>, source_id: &str, reason: &str) -> Result<RecordReceipt, PushError> {
    let _ = (ctx, caller, source_id, reason);
    todo!("push")
}
