//! Batches pushed by units over HTTP: streamed, validated row by row,
//! idempotent under an `Idempotency-Key`, with a receipt only the submitting
//! unit may read.

use std::io::BufRead;

use chengxin_ingest::{ChunkReader, Format, ReadError, RowError, Validator};
use chengxin_store::{BatchClaim, BatchRow, Cause, Change, Inline, NewRecord, Outcome};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
        BatchRowError {
            line: e.line,
            code: e.code.to_owned(),
            message: e.message,
            source_id: e.source_id,
        }
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

/// Rows per transaction when processing a batch.
const CHUNK: usize = 2000;
/// How long a claim on a batch lasts without renewal, in seconds.
const LEASE_SECONDS: i64 = 15;
/// How long a second request with the same key waits for the first to finish.
const WAIT_SECONDS: u64 = 600;
/// At most this many rejected rows are listed in a receipt.
pub const MAX_LISTED_ERRORS: usize = 100_000;

/// Hashes everything read through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
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

fn lease() -> i64 {
    jiff::Timestamp::now().as_second() + LEASE_SECONDS
}

fn new_batch_id() -> String {
    format!("b{:016x}", rand::random::<u64>())
}

impl From<chengxin_store::StoreError> for BatchError {
    fn from(e: chengxin_store::StoreError) -> Self {
        BatchError::Job(e.into())
    }
}

/// Processes a batch body. With an idempotency key, a repeat with the same
/// body returns the first receipt and changes nothing; concurrent repeats
/// wait for the first to finish.
pub fn submit_batch(
    ctx: &Context,
    caller: Caller<'_>,
    format: Format,
    body: impl BufRead + Send,
    idempotency_key: Option<&str>,
) -> Result<BatchReceipt, BatchError> {
    let validator = Validator::for_unit(
        ctx.catalogue.clone(),
        &caller.unit.code,
        caller.unit.items.clone(),
    );
    let hashing = Hashing {
        inner: body,
        hash: Sha256::new(),
    };
    // The header is checked before anything is claimed or stored.
    let mut reader = ChunkReader::new(hashing, format, CHUNK, &validator.required_columns())?;
    let unit = caller.unit.code.as_str();
    let waited_since = std::time::Instant::now();
    loop {
        match ctx
            .store
            .claim_batch(unit, idempotency_key, &new_batch_id(), lease())?
        {
            BatchClaim::Owned { id } => return process(ctx, caller, &validator, reader, &id),
            BatchClaim::Existing(row) if row.status == "completed" => {
                // Same key: the body must be the same one.
                while reader.next_chunk()?.is_some() {}
                let mine = reader.into_inner().hash.finalize().to_vec();
                if row.body_hash.as_deref() != Some(&mine[..]) {
                    return Err(BatchError::IdempotencyConflict);
                }
                return parse_receipt(&row);
            }
            BatchClaim::Existing(_) => {
                if waited_since.elapsed().as_secs() > WAIT_SECONDS {
                    return Err(JobError::Invalid(
                        "a batch with this Idempotency-Key is still being processed".into(),
                    )
                    .into());
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

fn parse_receipt(row: &BatchRow) -> Result<BatchReceipt, BatchError> {
    let text = row.receipt.as_deref().unwrap_or("{}");
    serde_json::from_str(text)
        .map_err(|e| JobError::Invalid(format!("stored receipt of {}: {e}", row.id)).into())
}

fn process<R: BufRead + Send>(
    ctx: &Context,
    caller: Caller<'_>,
    validator: &Validator,
    mut reader: ChunkReader<Hashing<R>>,
    id: &str,
) -> Result<BatchReceipt, BatchError> {
    let header = reader.header.clone();
    let today = crate::today();
    let score = ctx.inline_scorer(today);
    let inline = Inline {
        as_of: today,
        score: &score,
    };
    let actor = caller.actor();
    let change = Change {
        cause: Cause::Push,
        actor: &actor,
        request_id: caller.request_id,
        granular: false,
    };
    let mut receipt = BatchReceipt {
        id: id.to_owned(),
        unit: caller.unit.code.clone(),
        status: "completed".into(),
        accepted: 0,
        duplicate: 0,
        corrected: 0,
        rejected: 0,
        errors: Vec::new(),
        created_at: jiff::Timestamp::now().to_string(),
    };
    while let Some(chunk) = reader.next_chunk()? {
        let results: Vec<Result<NewRecord, RowError>> = chunk
            .par_iter()
            .map(|l| validator.validate(l, header.as_deref()))
            .collect();
        let mut good = Vec::with_capacity(results.len());
        for r in results {
            match r {
                Ok(rec) => good.push(rec),
                Err(e) => {
                    receipt.rejected += 1;
                    if receipt.errors.len() < MAX_LISTED_ERRORS {
                        receipt.errors.push(e.into());
                    }
                }
            }
        }
        for r in ctx
            .store
            .ingest(&good, &change, Some(&inline))
            .map_err(JobError::from)?
        {
            match r.outcome {
                Outcome::Accepted => receipt.accepted += 1,
                Outcome::Duplicate => receipt.duplicate += 1,
                Outcome::Corrected => receipt.corrected += 1,
            }
        }
        ctx.store.renew_batch(id, lease()).map_err(JobError::from)?;
    }
    let hash = reader.into_inner().hash.finalize().to_vec();
    let text = serde_json::to_string(&receipt).map_err(|e| JobError::Invalid(e.to_string()))?;
    ctx.store
        .finish_batch(id, &hash, &text, &change)
        .map_err(JobError::from)?;
    Ok(receipt)
}

/// A batch's receipt, only for the unit that submitted it.
pub fn batch_receipt(
    ctx: &Context,
    unit: &Unit,
    id: &str,
) -> Result<Option<BatchReceipt>, JobError> {
    let Some(row) = ctx.store.batch(id)? else {
        return Ok(None);
    };
    if row.unit != unit.code {
        return Ok(None);
    }
    if row.status == "completed" {
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
        rejected: 0,
        errors: Vec::new(),
        created_at: row.created_at,
    }))
}
