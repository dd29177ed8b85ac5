//! Running one claimed batch: chunks committed with the batch's progress,
//! the lease renewed on a timer, the unit's key re-checked and cancellation
//! honoured before each chunk, and a resumed batch skipping the lines an
//! earlier request applied once their digest matches.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use chengxin_domain::record::{NewRecord, Outcome};
use chengxin_ingest::{ChunkReader, Line, RowError, Validator};
use chengxin_store::uow::BatchProgress;
use chengxin_store::{BatchRow, BatchStatus, Cause};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::audit_events::batch_completed;
use crate::batches::{
    lease_until, parse_receipt, BatchControl, BatchError, BatchReceipt, Hashing, MAX_LISTED_ERRORS,
};
use crate::push::Caller;
use crate::records::store_records;
use crate::rescore::{rescore, versions};
use crate::units::still_authorised;
use crate::uow::{write, write_on_timer, Change};
use crate::{Context, JobError};

/// Where an earlier request on the batch got to.
#[derive(Debug, Default)]
pub(crate) struct Resume {
    /// Input lines (blank JSONL lines aside) it applied.
    lines: u64,
    /// Their digest ([`LineDigest`]).
    digest: Option<Vec<u8>>,
    /// Its receipt so far: counts of what it stored.
    receipt: Option<BatchReceipt>,
    /// The same as stored, to put back if this request is refused.
    stored: Option<String>,
}

impl Resume {
    pub(crate) fn from_row(row: &BatchRow) -> Result<Resume, JobError> {
        let receipt = match row.receipt {
            Some(_) => Some(parse_receipt(row).map_err(|e| match e {
                BatchError::Job(j) => j,
                other => JobError::Invalid(other.to_string()),
            })?),
            None => None,
        };
        Ok(Resume {
            lines: u64::try_from(row.lines_done).unwrap_or(0),
            digest: row.prefix_hash.clone(),
            receipt,
            stored: row.receipt.clone(),
        })
    }
}

/// A digest of the lines as parsed (not of the raw bytes, which the CSV
/// parser reads ahead of the lines it has returned): the same input gives
/// the same digest at every line, however the upload arrived.
struct LineDigest(Sha256);

impl LineDigest {
    fn new(header: Option<&[String]>) -> LineDigest {
        let mut h = Sha256::new();
        for col in header.unwrap_or_default() {
            h.update((col.len() as u64).to_le_bytes());
            h.update(col.as_bytes());
        }
        LineDigest(h)
    }

    fn add(&mut self, line: &Line) {
        let h = &mut self.0;
        h.update(line.number().to_le_bytes());
        match line {
            Line::Json { bytes, .. } => {
                h.update([1]);
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(bytes);
            }
            Line::Csv { cells, .. } => {
                h.update([2]);
                h.update((cells.len() as u64).to_le_bytes());
                for c in cells {
                    h.update((c.len() as u64).to_le_bytes());
                    h.update(c);
                }
            }
            Line::Broken { code, .. } => {
                h.update([3]);
                h.update(code.as_bytes());
            }
        }
    }

    fn value(&self) -> Vec<u8> {
        self.0.clone().finalize().to_vec()
    }
}

/// Renews the batch's lease every third of its length until dropped; raises
/// `lost` if another request took the batch over.
struct Renewer<'s> {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<std::thread::ScopedJoinHandle<'s, ()>>,
}

impl<'s> Renewer<'s> {
    fn start<'e: 's>(
        scope: &'s std::thread::Scope<'s, 'e>,
        ctx: &'e Context,
        (id, owner): (&'e str, &'e str),
        lease_seconds: i64,
        lost: &'e AtomicBool,
    ) -> Renewer<'s> {
        let (stop, stopped) = mpsc::channel::<()>();
        let every =
            Duration::from_millis(u64::try_from(lease_seconds.max(1)).unwrap_or(15) * 1000 / 3);
        let lease = move || lease_until(lease_seconds);
        let handle = scope.spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                match write_on_timer(&*ctx.store, |tx| {
                    Ok(tx.renew_batch_lease(id, owner, lease())?)
                }) {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::Relaxed);
                        return;
                    }
                    // The next chunk's commit renews it too; a failed renewal
                    // only shortens the lease.
                    Err(e) => {
                        tracing::warn!(error = %e, batch = id, "cannot renew a batch's lease");
                    }
                }
            }
        });
        Renewer {
            stop: Some(stop),
            handle: Some(handle),
        }
    }
}

impl Drop for Renewer<'_> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Processes a claimed batch: `who` is (batch id, lease owner).
pub(crate) fn process<R: BufRead + Send>(
    ctx: &Context,
    caller: Caller<'_>,
    validator: &Validator,
    reader: ChunkReader<Hashing<R>>,
    who: (&str, &str),
    resume: Resume,
    control: &BatchControl,
) -> Result<BatchReceipt, BatchError> {
    let lost = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let renewer = Renewer::start(scope, ctx, who, control.lease_seconds, &lost);
        let out = run(ctx, caller, validator, reader, who, resume, control, &lost);
        drop(renewer);
        out
    })
}

#[allow(clippy::too_many_arguments)]
fn run<R: BufRead + Send>(
    ctx: &Context,
    caller: Caller<'_>,
    validator: &Validator,
    mut reader: ChunkReader<Hashing<R>>,
    (id, owner): (&str, &str),
    resume: Resume,
    control: &BatchControl,
    lost: &AtomicBool,
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
    let lease = || lease_until(control.lease_seconds);
    let mut receipt = start_receipt(id, caller, resume.receipt.clone());
    let mut digest = LineDigest::new(header.as_deref());
    let mut lines_done: u64 = 0;
    let keys = ctx.store.keys();
    let stop = |receipt: &mut BatchReceipt, why: &str| -> BatchError {
        receipt.status = BatchStatus::Interrupted;
        receipt.interrupted_by = Some(why.to_owned());
        let text = serde_json::to_string(&*receipt).unwrap_or_default();
        match write(&*ctx.store, |tx| Ok(tx.interrupt_batch(id, owner, &text)?)) {
            Ok(true) => BatchError::Interrupted(Box::new(receipt.clone())),
            Ok(false) => BatchError::LostLease,
            Err(e) => BatchError::Job(e),
        }
    };
    // Not the lines the earlier request applied: give the batch back as it was.
    let refuse = || -> BatchError {
        let text = resume.stored.as_deref().unwrap_or("{}");
        match write(&*ctx.store, |tx| Ok(tx.interrupt_batch(id, owner, text)?)) {
            Ok(_) => BatchError::IdempotencyConflict,
            Err(e) => BatchError::Job(e),
        }
    };
    loop {
        let chunk = match reader.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, batch = id, "batch body broke off");
                stop(&mut receipt, "unreadable_input");
                return Err(e.into());
            }
        };
        // Lines an earlier request applied: proven the same, not stored again;
        // their rejections are listed again (validation is pure).
        let skip = usize::try_from(resume.lines.saturating_sub(lines_done))
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let results: Vec<Result<NewRecord, RowError>> = chunk
            .par_iter()
            .map(|l| validator.validate(l, header.as_deref()))
            .collect();
        let mut good = Vec::with_capacity(results.len());
        for (i, (line, r)) in chunk.iter().zip(results).enumerate() {
            digest.add(line);
            match r {
                Ok(rec) if i >= skip => good.push(rec),
                Ok(_) => {}
                Err(e) => {
                    receipt.rejected += 1;
                    if receipt.errors.len() < MAX_LISTED_ERRORS {
                        receipt.errors.push(e.into());
                    }
                }
            }
        }
        lines_done += chunk.len() as u64;
        let last_line = chunk.last().map_or(0, Line::number);
        if skip == chunk.len() {
            if lines_done == resume.lines && resume.digest.as_deref() != Some(&digest.value()[..]) {
                return Err(refuse());
            }
            receipt.applied_through_line = last_line;
            continue;
        }
        if skip > 0 {
            // The earlier request's lines end inside this chunk: chunk sizes
            // changed between versions. Refuse rather than guess.
            return Err(refuse());
        }
        crate::failpoint::hit("chunk.read");
        if control.cancelled.load(Ordering::Relaxed) {
            return Err(stop(&mut receipt, "cancelled"));
        }
        if lost.load(Ordering::Relaxed) {
            return Err(BatchError::LostLease);
        }
        let mut next = receipt.clone();
        let prefix = digest.value();
        let stored = write(&*ctx.store, |tx| {
            if !still_authorised(tx, &control.key, &caller.unit.code)? {
                return Ok(Step::Unauthorised);
            }
            let scorers = ctx.in_play(tx)?;
            let stored = store_records(
                tx,
                keys,
                &good,
                &change,
                &versions(&scorers),
                validator.catalogue().number,
            )?;
            rescore(ctx, tx, &scorers, &stored.touched, today, &change)?;
            next = receipt.clone();
            next.applied_through_line = last_line;
            for r in &stored.results {
                count(&mut next, r.outcome);
            }
            let text = progress_text(&next)?;
            let progress = BatchProgress {
                lease_until: lease(),
                lines_done: i64::try_from(lines_done).unwrap_or(i64::MAX),
                prefix_hash: &prefix,
                receipt: &text,
            };
            if !tx.batch_progress(id, owner, progress)? {
                // Rolled back: the batch is another request's now.
                return Err(JobError::Invalid(LOST.into()));
            }
            Ok(Step::Stored)
        });
        match stored {
            Ok(Step::Stored) => receipt = next,
            Ok(Step::Unauthorised) => return Err(stop(&mut receipt, "unit_disabled")),
            Err(JobError::Invalid(m)) if m == LOST => return Err(BatchError::LostLease),
            Err(e) => {
                tracing::error!(error = %e, batch = id, "a batch chunk could not be stored");
                stop(&mut receipt, "chunk_failed");
                return Err(BatchError::Interrupted(Box::new(receipt)));
            }
        }
    }
    if lines_done < resume.lines {
        // Shorter than what the earlier request applied: another body.
        return Err(refuse());
    }
    finish(ctx, &change, reader, (id, owner), receipt)
}

const LOST: &str = "the batch's lease was taken over";

enum Step {
    Stored,
    Unauthorised,
}

fn start_receipt(id: &str, caller: Caller<'_>, earlier: Option<BatchReceipt>) -> BatchReceipt {
    let mut r = earlier.unwrap_or_else(|| BatchReceipt {
        id: id.to_owned(),
        unit: caller.unit.code.clone(),
        status: BatchStatus::Processing,
        accepted: 0,
        duplicate: 0,
        corrected: 0,
        stale: 0,
        rejected: 0,
        errors: Vec::new(),
        created_at: jiff::Timestamp::now().to_string(),
        applied_through_line: 0,
        interrupted_by: None,
    });
    // Rejections are counted again as the lines are read again.
    r.status = BatchStatus::Processing;
    r.rejected = 0;
    r.errors.clear();
    r.interrupted_by = None;
    r.applied_through_line = 0;
    r
}

fn count(receipt: &mut BatchReceipt, outcome: Outcome) {
    match outcome {
        Outcome::Accepted => receipt.accepted += 1,
        Outcome::Duplicate => receipt.duplicate += 1,
        Outcome::Corrected => receipt.corrected += 1,
        Outcome::Stale => receipt.stale += 1,
    }
}

/// The receipt so far, stored with each chunk: counts only (a resumed
/// request lists the earlier rejections again), so each chunk writes a
/// few hundred bytes however many rows were rejected.
fn progress_text(receipt: &BatchReceipt) -> Result<String, JobError> {
    let counts = BatchReceipt {
        errors: Vec::new(),
        ..receipt.clone()
    };
    serde_json::to_string(&counts).map_err(|e| JobError::Invalid(e.to_string()))
}

fn finish<R: BufRead>(
    ctx: &Context,
    change: &Change<'_>,
    reader: ChunkReader<Hashing<R>>,
    (id, owner): (&str, &str),
    mut receipt: BatchReceipt,
) -> Result<BatchReceipt, BatchError> {
    receipt.status = BatchStatus::Completed;
    let hash = reader.into_inner().hash.finalize().to_vec();
    let text = serde_json::to_string(&receipt).map_err(|e| JobError::Invalid(e.to_string()))?;
    let done = write(&*ctx.store, |tx| {
        if !tx.complete_batch(id, owner, &hash, &text)? {
            return Ok(false);
        }
        tx.append_audit(vec![batch_completed(change, id, &hash, &text)]);
        Ok(true)
    })?;
    if !done {
        return Err(BatchError::LostLease);
    }
    Ok(receipt)
}
