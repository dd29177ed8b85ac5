//! Rescoring many people: a scanning thread, parallel scoring, a writing
//! thread, joined by bounded channels so memory stays flat.

use std::time::Instant;

use chengxin_store::{Cause, RawPerson, Scan, ScoreRow, StoreError};
use crossbeam_channel::bounded;
use jiff::civil::Date;
use rayon::prelude::*;
use serde::Serialize;

use crate::audit_events::ScoreAudit;
use crate::context::Scorer;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// People per batch read, scored and written together.
const BATCH: usize = 4096;

/// Reports progress to whoever is watching (a terminal bar, a log).
pub trait Progress: Sync {
    /// The total is known.
    fn set_total(&self, _total: u64) {}
    /// `n` more done.
    fn inc(&self, _n: u64) {}
}

/// No progress reporting.
impl Progress for () {}

/// Whom to rescore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Everyone,
    /// Only people whose records changed since they were last scored.
    Changed,
}

/// What a recompute did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RecomputeSummary {
    pub persons: u64,
    pub changed: u64,
    pub seconds: f64,
}

/// Rescores `target` as of `as_of` under every model in play (the one in
/// force, and one being published), as the store holds them now. Crash-safe:
/// each batch commits on its own, and people stay marked for rescoring under
/// a model until their score under it is stored.
pub fn recompute(
    ctx: &Context,
    target: Target,
    as_of: Date,
    cause: Cause,
    progress: &dyn Progress,
) -> Result<RecomputeSummary, JobError> {
    let models: Vec<_> = ctx
        .store
        .read()?
        .models()?
        .into_iter()
        .filter(|m| m.status.in_play())
        .collect();
    let mut total = RecomputeSummary::default();
    for m in models {
        let scorer = ctx.scorer(m)?;
        let s = rescore_model(ctx, &scorer, target, as_of, cause, progress)?;
        tracing::info!(model = %scorer.model.version, persons = s.persons, changed = s.changed, "rescored");
        total.persons += s.persons;
        total.changed += s.changed;
        total.seconds += s.seconds;
    }
    Ok(total)
}

/// Rescores `target` under one model. Streams: a scanning thread, parallel
/// scoring, a writing thread, joined by bounded channels.
pub(crate) fn rescore_model(
    ctx: &Context,
    scorer: &Scorer,
    target: Target,
    as_of: Date,
    cause: Cause,
    progress: &dyn Progress,
) -> Result<RecomputeSummary, JobError> {
    let start = Instant::now();
    let stamp = scorer.stamp(as_of);
    let version = stamp.version.as_str();
    let scan = match target {
        Target::Everyone => Scan::All {
            model_version: version,
        },
        Target::Changed => Scan::Dirty {
            model_version: version,
        },
    };
    let (all, dirty) = ctx.store.read()?.counts(version)?;
    progress.set_total(if target == Target::Everyone {
        all
    } else {
        dirty
    });
    let (read_tx, read_rx) = bounded::<Vec<RawPerson>>(4);
    let (write_tx, write_rx) = bounded::<Vec<ScoreRow>>(4);
    let store = &ctx.store;
    let stamp = &stamp;
    let (scanned, written, persons) = std::thread::scope(|s| {
        let scanner = s.spawn(move || {
            store.scan(scan, BATCH, &mut |batch| {
                read_tx
                    .send(batch)
                    .map_err(|_| StoreError::Conflict("recompute stopped".into()))
            })
        });
        let writer = s.spawn(move || -> Result<u64, JobError> {
            let mut changed = 0;
            let mut busy = std::time::Duration::ZERO;
            let change = Change::bulk(cause, ctx.actor());
            for rows in write_rx {
                let t = Instant::now();
                changed += write(&**store, |tx| {
                    let changes = tx.save_scores(&rows, stamp, cause)?;
                    let mut audit = ScoreAudit::new(&change, stamp);
                    for c in &changes {
                        audit.changed(c);
                    }
                    tx.append_audit(audit.finish(rows.len()));
                    Ok(changes.len() as u64)
                })?;
                busy += t.elapsed();
                progress.inc(rows.len() as u64);
            }
            tracing::info!(seconds = busy.as_secs_f64(), "recompute: writing scores");
            Ok(changed)
        });
        let mut persons = 0u64;
        let (mut waiting, mut scoring) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let mut t = Instant::now();
        for batch in read_rx {
            waiting += t.elapsed();
            let t2 = Instant::now();
            persons += batch.len() as u64;
            let rows: Vec<ScoreRow> = batch
                .par_iter()
                .map(|p| ctx.score_with(scorer, p, as_of))
                .collect();
            scoring += t2.elapsed();
            if write_tx.send(rows).is_err() {
                break; // the writer failed; its error is reported below
            }
            t = Instant::now();
        }
        tracing::info!(
            waiting_for_reads = waiting.as_secs_f64(),
            scoring = scoring.as_secs_f64(),
            "recompute: reading and scoring"
        );
        drop(write_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(JobError::Invalid("score writer panicked".into())));
        let scanned = scanner
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("scanner panicked".into())));
        (scanned, written, persons)
    });
    let changed = written?;
    scanned?;
    Ok(RecomputeSummary {
        persons,
        changed,
        seconds: start.elapsed().as_secs_f64(),
    })
}
