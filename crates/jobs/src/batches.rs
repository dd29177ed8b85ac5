//! Batches pushed by units over HTTP: streamed, validated row by row, applied
//! exactly once under a required `Idempotency-Key`, with a receipt only the
//! submitting unit may read.
//!
//! Exactly once: one request at a time holds a batch's lease, renewed on a
//! timer while it runs (`batch_run`); each chunk commits together with the
//! batch's progress (lines applied, a digest of them), so a request that
//! dies or stops leaves a receipt saying how far it got, and a retry under
//! the same key resumes after those lines, once it has shown that it sends
//! the same ones.

use std::io::BufRead;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use chengxin_ingest::{ChunkReader, Format, ReadError, RowError, Validator};
pub use chengxin_store::BatchStatus;
use chengxin_store::{BatchRow, Cause};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit_events::batch_read;
use crate::batch_run::{process, Resume};
use crate::push::Caller;
use crate::uow::write;
use crate::{Context, JobError};

/// A batch's receipt: counts and every rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    pub id: String,
    pub unit: String,
    /// `completed`; `processing` while a request is on it; `interrupted`
    /// when its request stopped early (see `interrupted_by`).
    pub status: BatchStatus,
    pub accepted: u64,
    pub duplicate: u64,
    pub corrected: u64,
    /// Rows older (by `source_version`) than the version stored: not applied.
    #[serde(default)]
    pub stale: u64,
    pub rejected: u64,
    pub errors: Vec<BatchRowError>,
    pub created_at: String,
    /// Every input line up to and including this one was applied (0: none).
    #[serde(default)]
    pub applied_through_line: u64,
    /// Why the batch stopped early: `unit_disabled` (the key stopped
    /// authenticating its unit), `cancelled` (the request timed out or the
    /// client went away), `chunk_failed` (storing a chunk failed),
    /// `unreadable_input` (the upload broke off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<String>,
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
        BatchRowError {
            line: e.line,
            code: e.code.to_owned(),
            message: e.message,
            source_id: e.source_id,
        }
    }
}

/// Why a batch was refused or stopped as a whole.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The same `Idempotency-Key` was used with a different body.
    #[error("this Idempotency-Key was already used with a different body")]
    IdempotencyConflict,
    /// Another request is still processing a batch under this key.
    #[error(
        "a batch with this Idempotency-Key is still being processed; retry in {retry_after} s"
    )]
    InProgress { retry_after: u64 },
    /// The body cannot be read at all (e.g. a CSV header without a required column).
    #[error(transparent)]
    Unreadable(#[from] ReadError),
    /// The batch stopped before its end; the receipt says how far it got and
    /// why (`interrupted_by`), and is stored for a retry to resume from.
    #[error("the batch stopped after line {}: {}", .0.applied_through_line, .0.interrupted_by.as_deref().unwrap_or("interrupted"))]
    Interrupted(Box<BatchReceipt>),
    /// Another request took the batch over: this one's lease had lapsed.
    #[error("another request took this batch over")]
    LostLease,
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for BatchError {
    fn from(e: chengxin_store::StoreError) -> Self {
        BatchError::Job(e.into())
    }
}

/// How a running batch learns that it must stop.
#[derive(Debug, Clone)]
pub struct BatchControl {
    /// Set when the request is cancelled (timed out, client gone): checked
    /// before each chunk is stored.
    pub cancelled: Arc<AtomicBool>,
    /// The API key the request authenticated with: re-checked in each
    /// chunk's unit of work.
    pub key: String,
    /// How long a claim lasts unless renewed (it is renewed every third of
    /// this while the batch runs); a retry may take over a batch whose
    /// claim lapsed.
    pub lease_seconds: i64,
}

impl BatchControl {
    /// Control for a request authenticated with `key`, not cancelled, with
    /// the default lease ([`default_lease_seconds`]).
    pub fn new(key: impl Into<String>) -> BatchControl {
        BatchControl {
            cancelled: Arc::new(AtomicBool::new(false)),
            key: key.into(),
            lease_seconds: default_lease_seconds(),
        }
    }
}

/// How long a claim on a batch lasts without renewal, in seconds.
const LEASE_SECONDS: i64 = 15;
/// Overrides [`LEASE_SECONDS`], for tests only (crash tests shorten the
/// wait for a killed request's lease to lapse).
pub const LEASE_VAR: &str = "CHENGXIN_BATCH_LEASE_SECONDS";
/// At most this many rejected rows are listed in a receipt.
pub const MAX_LISTED_ERRORS: usize = 100_000;

/// How long a claim lasts by default: [`LEASE_SECONDS`], or [`LEASE_VAR`] when set.
pub fn default_lease_seconds() -> i64 {
    static SECONDS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *SECONDS.get_or_init(|| {
        std::env::var(LEASE_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|&s| s > 0)
            .unwrap_or(LEASE_SECONDS)
    })
}

/// Until when a claim made now lasts.
pub(crate) fn lease_until(seconds: i64) -> i64 {
    now() + seconds.max(1)
}

pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn new_token(prefix: char) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

/// Hashes everything read through it.
pub(crate) struct Hashing<R> {
    pub inner: R,
    pub hash: Sha256,
}

impl<R: BufRead> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashing<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.hash.update(&buf[..n]);
        }
        self.inner.consume(amt);
    }
}

/// What claiming a batch found.
enum Claim {
    /// This request processes the batch (new, or taken over after its
    /// lease lapsed or its request stopped), from where it got to.
    Owned {
        id: String,
        owner: String,
        resume: Resume,
    },
    /// The batch under this key is complete.
    Completed(BatchRow),
    /// Another request holds the batch's lease until this time.
    Leased(i64),
}

fn claim(ctx: &Context, unit: &str, key: &str, lease_seconds: i64) -> Result<Claim, JobError> {
    let lease = || lease_until(lease_seconds);
    let id = new_token('b');
    let owner = new_token('r');
    write(&*ctx.store, |tx| {
        match tx.batch_by_key(unit, key)? {
            Some(row) if row.status == BatchStatus::Completed => return Ok(Claim::Completed(row)),
            Some(row) if row.status == BatchStatus::Processing && row.lease_until >= now() => {
                return Ok(Claim::Leased(row.lease_until))
            }
            Some(row) => {
                // Its request died or stopped: take it over under the same
                // id, resuming after the lines it applied.
                tx.claim_batch(&row.id, &owner, lease())?;
                return Ok(Claim::Owned {
                    resume: Resume::from_row(&row)?,
                    id: row.id,
                    owner: owner.clone(),
                });
            }
            None => {}
        }
        tx.insert_batch(&id, unit, Some(key), lease())?;
        tx.claim_batch(&id, &owner, lease())?;
        Ok(Claim::Owned {
            id: id.clone(),
            owner: owner.clone(),
            resume: Resume::default(),
        })
    })
}

/// Processes a batch body under its idempotency key: a repeat with the same
/// body returns the first receipt and changes nothing; a repeat while the
/// first is still running is told to come back later (never kept waiting);
/// a repeat after the first stopped or died resumes where it got to.
pub fn submit_batch(
    ctx: &Context,
    caller: Caller<'_>,
    format: Format,
    body: impl BufRead + Send,
    idempotency_key: &str,
    control: &BatchControl,
) -> Result<BatchReceipt, BatchError> {
    let validator = Validator::for_unit(
        ctx.catalogue_now()?,
        &caller.unit.code,
        caller.unit.items.clone(),
    );
    let hashing = Hashing {
        inner: body,
        hash: Sha256::new(),
    };
    // The header is checked before anything is claimed or stored.
    let reader = ChunkReader::new(hashing, format, CHUNK, &validator.required_columns())?;
    match claim(
        ctx,
        &caller.unit.code,
        idempotency_key,
        control.lease_seconds,
    )? {
        Claim::Owned { id, owner, resume } => process(
            ctx,
            caller,
            &validator,
            reader,
            (&id, &owner),
            resume,
            control,
        ),
        Claim::Completed(row) => {
            // Same key: the body must be the same one.
            let mut reader = reader;
            while reader.next_chunk()?.is_some() {}
            let mine = reader.into_inner().hash.finalize().to_vec();
            if row.body_hash.as_deref() != Some(&mine[..]) {
                return Err(BatchError::IdempotencyConflict);
            }
            parse_receipt(&row)
        }
        Claim::Leased(until) => Err(BatchError::InProgress {
            retry_after: u64::try_from(until - now()).unwrap_or(0).clamp(1, 60),
        }),
    }
}

/// Rows per transaction when processing a batch.
pub(crate) const CHUNK: usize = 2000;

pub(crate) fn parse_receipt(row: &BatchRow) -> Result<BatchReceipt, BatchError> {
    let text = row.receipt.as_deref().unwrap_or("{}");
    let mut receipt: BatchReceipt = serde_json::from_str(text)
        .map_err(|e| JobError::Invalid(format!("stored receipt of {}: {e}", row.id)))?;
    receipt.status = row.status;
    Ok(receipt)
}

/// A batch's receipt, only for the unit that submitted it: the final one,
/// or how far it got while processing or once interrupted. Every look-up
/// is audited (`batch.read`), found or not: a receipt names the unit's
/// records and the rows it refused.
pub fn batch_receipt(
    ctx: &Context,
    caller: Caller<'_>,
    id: &str,
) -> Result<Option<BatchReceipt>, JobError> {
    let row = ctx
        .store
        .read()?
        .batch(id)?
        .filter(|row| row.unit == caller.unit.code);
    let actor = caller.actor();
    let change = caller.change(Cause::Push, &actor);
    ctx.store
        .append_reads(vec![batch_read(&change, id, row.is_some())])?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.receipt.is_some() {
        return parse_receipt(&row).map(Some).map_err(|e| match e {
            BatchError::Job(j) => j,
            other => JobError::Invalid(other.to_string()),
        });
    }
    Ok(Some(BatchReceipt {
        id: row.id,
        unit: row.unit,
        status: row.status,
        accepted: 0,
        duplicate: 0,
        corrected: 0,
        stale: 0,
        rejected: 0,
        errors: Vec::new(),
        created_at: row.created_at,
        applied_through_line: 0,
        interrupted_by: None,
    }))
}
