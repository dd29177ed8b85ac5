//! Batches pushed by units over HTTP: streamed, validated row by row,
//! idempotent under an `Idempotency-Key`, with a receipt only the submitting
//! unit may read.

use std::io::BufRead;

use chengxin_domain::record::{NewRecord, Outcome};
use chengxin_ingest::{ChunkReader, Format, ReadError, RowError, Validator};
pub use chengxin_store::BatchStatus;
use chengxin_store::{BatchRow, Cause};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit_events::{batch_completed, batch_read};
use crate::push::Caller;
use crate::records::store_records;
use crate::rescore::{rescore, versions};
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// A batch's receipt: counts and every rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    pub id: String,
    pub unit: String,
    /// `completed`, or `processing` while a request is still on it.
    pub status: BatchStatus,
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
    /// Another request is still processing a batch under this key.
    #[error(
        "a batch with this Idempotency-Key is still being processed; retry in {retry_after} s"
    )]
    InProgress { retry_after: u64 },
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
/// Overrides [`LEASE_SECONDS`], for tests only (crash tests shorten the
/// wait for a killed request's lease to lapse).
pub const LEASE_VAR: &str = "CHENGXIN_BATCH_LEASE_SECONDS";
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

/// How long a claim lasts: [`LEASE_SECONDS`], or [`LEASE_VAR`] when set.
fn lease_seconds() -> i64 {
    static SECONDS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *SECONDS.get_or_init(|| {
        std::env::var(LEASE_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|&s| s > 0)
            .unwrap_or(LEASE_SECONDS)
    })
}

fn lease() -> i64 {
    jiff::Timestamp::now().as_second() + lease_seconds()
}

fn new_batch_id() -> String {
    format!("b{:016x}", rand::random::<u64>())
}

impl From<chengxin_store::StoreError> for BatchError {
    fn from(e: chengxin_store::StoreError) -> Self {
        BatchError::Job(e.into())
    }
}

/// What claiming a batch found.
enum Claim {
    /// This request processes the batch (new, or taken over after its lease lapsed).
    Owned(String),
    /// The batch under this key is complete.
    Completed(BatchRow),
    /// Another request holds the batch's lease until this time.
    Leased(i64),
}

fn claim(ctx: &Context, unit: &str, key: Option<&str>) -> Result<Claim, JobError> {
    let id = new_batch_id();
    write(&*ctx.store, |tx| {
        if let Some(key) = key {
            match tx.batch_by_key(unit, key)? {
                Some(row) if row.status == BatchStatus::Completed => {
                    return Ok(Claim::Completed(row))
                }
                Some(row) if row.lease_until >= now() => return Ok(Claim::Leased(row.lease_until)),
                Some(row) => {
                    // Its request died (crash, kill): take it over under the same id.
                    tx.set_batch_lease(&row.id, lease())?;
                    return Ok(Claim::Owned(row.id));
                }
                None => {}
            }
        }
        tx.insert_batch(&id, unit, key, lease())?;
        Ok(Claim::Owned(id.clone()))
    })
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Processes a batch body. With an idempotency key, a repeat with the same
/// body returns the first receipt and changes nothing; a repeat while the
/// first is still running is told to come back later (never kept waiting).
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
    match claim(ctx, &caller.unit.code, idempotency_key)? {
        Claim::Owned(id) => process(ctx, caller, &validator, reader, &id),
        Claim::Completed(row) => {
            // Same key: the body must be the same one.
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
    let actor = caller.actor();
    let change = Change {
        cause: Cause::Push,
        actor: &actor,
        request_id: caller.request_id,
        client_request_id: caller.client_request_id,
        granular: false,
    };
    let mut receipt = BatchReceipt {
        id: id.to_owned(),
        unit: caller.unit.code.clone(),
        status: BatchStatus::Completed,
        accepted: 0,
        duplicate: 0,
        corrected: 0,
        rejected: 0,
        errors: Vec::new(),
        created_at: jiff::Timestamp::now().to_string(),
    };
    let keys = ctx.store.keys();
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
        crate::failpoint::hit("chunk.read");
        let stored = write(&*ctx.store, |tx| {
            let scorers = ctx.in_play(tx)?;
            let stored = store_records(tx, keys, &good, &change, &versions(&scorers))?;
            rescore(ctx, tx, &scorers, &stored.touched, today, &change)?;
            tx.set_batch_lease(id, lease())?;
            Ok(stored)
        })?;
        for r in stored.results {
            match r.outcome {
                Outcome::Accepted => receipt.accepted += 1,
                Outcome::Duplicate => receipt.duplicate += 1,
                Outcome::Corrected => receipt.corrected += 1,
            }
        }
    }
    let hash = reader.into_inner().hash.finalize().to_vec();
    let text = serde_json::to_string(&receipt).map_err(|e| JobError::Invalid(e.to_string()))?;
    write(&*ctx.store, |tx| {
        if !tx.complete_batch(id, &hash, &text)? {
            return Err(JobError::Invalid(format!("batch {id} vanished")));
        }
        tx.append_audit(vec![batch_completed(&change, id, &hash, &text)]);
        Ok(())
    })?;
    Ok(receipt)
}

/// A batch's receipt, only for the unit that submitted it. Every look-up
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
    if row.status == BatchStatus::Completed {
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
