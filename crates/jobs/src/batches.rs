//! Batches pushed by units over HTTP: streamed, validated row by row,
//! idempotent under an `Idempotency-Key`, with a receipt only the submitting
//! unit may read.

use std::io::BufRead;

use chengxin_ingest::{Format, ReadError, RowError};
use serde::{Deserialize, Serialize};

use crate::push::Caller;
use crate::units::Unit;
use crate::{Context, JobError};

/// A batch's receipt: counts and every rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    pub id: String,
    pub unit: String,
    /// `completed` (or `processing` while another request is still on it).
    pub status: String,
    pub accepted: u64,
    pub duplicate: u64,
    pub corrected: u64,
    pub rejected: u64,
    pub errors: Vec<BatchRowError>,
    pub created_at: String,
}

/// A rejected row in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRowError {
    pub line: u64,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

impl From<RowError> for BatchRowError {
    fn from(e: RowError) -> Self {
        BatchRowError { line: e.line, code: e.code.to_owned(), message: e.message, source_id: e.source_id }
    }
}

/// Why a batch was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The same `Idempotency-Key` was used with a different body.
    #[error("this Idempotency-Key was already used with a different body")]
    IdempotencyConflict,
    /// The body cannot be read at all (e.g. a CSV header without a required column).
    #[error(transparent)]
    Unreadable(#[from] ReadError),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Processes a batch body. With an idempotency key, a repeat with the same
/// body returns the first receipt and changes nothing.
pub fn submit_batch(
    ctx: &Context,
    caller: Caller<'_>,
    format: Format,
    body: impl BufRead + Send,
    idempotency_key: Option<&str>,
) -> Result<BatchReceipt, BatchError> {
    let _ = (ctx, caller, format, idempotency_key);
    drop(body);
    todo!("batches")
}

/// A batch's receipt, only for the unit that submitted it.
pub fn batch_receipt(ctx: &Context, unit: &Unit, id: &str) -> Result<Option<BatchReceipt>, JobError> {
    let _ = (ctx, unit, id);
    todo!("batches")
}
