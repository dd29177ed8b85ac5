//! The agency's bulk import: stream, validate in parallel, store in chunks,
//! then rescore everyone affected.

use std::io::{BufRead, Write};

use chengxin_domain::record::{NewRecord, Outcome};
use chengxin_ingest::{ChunkReader, Format, RowError, Validator};
use chengxin_store::Cause;

use crossbeam_channel::bounded;
use jiff::civil::Date;
use rayon::prelude::*;
use serde::Serialize;

use crate::recompute::{recompute, Progress, Target};
use crate::records::store_records;
use crate::uow::{write, Change, RowResult};
use crate::{Context, JobError};

/// How to import.
pub struct ImportOptions {
    pub format: Format,
    /// Lines per chunk (and per transaction).
    pub chunk: usize,
    /// Where rejected rows are written as JSON Lines.
    pub errors: Option<Box<dyn Write + Send>>,
    /// The date affected people are rescored as of.
    pub as_of: Date,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub accepted: u64,
    pub duplicate: u64,
    pub corrected: u64,
    /// Rows older (by their `source_version`) than the version stored: not applied.
    pub stale: u64,
    pub rejected: u64,
    pub rescored: u64,
    pub scores_changed: u64,
    pub seconds: f64,
    /// The first rejections, for a quick look (all of them go to the errors file).
    #[serde(skip)]
    pub first_errors: Vec<RowError>,
}

type Parsed = (Vec<NewRecord>, Vec<RowError>);

/// Imports a JSONL or CSV stream. Fails only when the input cannot be read
/// at all; bad rows are counted, reported and skipped.
pub fn import(
    ctx: &Context,
    input: impl BufRead + Send,
    mut opts: ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary, JobError> {
    let start = std::time::Instant::now();
    // A historical import (`--as-of`) accepts nothing dated after its date.
    let validator = Validator::any_unit(ctx.catalogue_now()?).with_latest(opts.as_of);
    let mut reader = ChunkReader::new(
        input,
        opts.format,
        opts.chunk,
        &validator.required_columns(),
    )?;
    let header = reader.header.clone();
    let (tx, rx) = bounded::<Result<Parsed, JobError>>(2);
    let mut summary = ImportSummary::default();
    std::thread::scope(|s| -> Result<(), JobError> {
        s.spawn(move || loop {
            let chunk = match reader.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e.into()));
                    break;
                }
            };
            let results: Vec<Result<NewRecord, RowError>> = chunk
                .par_iter()
                .map(|l| validator.validate(l, header.as_deref()))
                .collect();
            let mut good = Vec::with_capacity(results.len());
            let mut bad = Vec::new();
            for r in results {
                match r {
                    Ok(rec) => good.push(rec),
                    Err(e) => bad.push(e),
                }
            }
            if tx.send(Ok((good, bad))).is_err() {
                break;
            }
        });
        let (mut waiting, mut storing) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let mut t = std::time::Instant::now();
        for parsed in rx {
            waiting += t.elapsed();
            let (good, bad) = parsed?;
            let bad_count = bad.len();
            crate::failpoint::hit("chunk.read");
            let t2 = std::time::Instant::now();
            let stored = store_chunk(ctx, &good, &Change::bulk(Cause::Import, ctx.actor()))?;
            storing += t2.elapsed();
            for r in &stored {
                match r.outcome {
                    Outcome::Accepted => summary.accepted += 1,
                    Outcome::Duplicate => summary.duplicate += 1,
                    Outcome::Corrected => summary.corrected += 1,
                    Outcome::Stale => summary.stale += 1,
                }
            }
            summary.rejected += bad.len() as u64;
            if let Some(out) = opts.errors.as_mut() {
                for e in &bad {
                    serde_json::to_writer(&mut *out, e)
                        .map_err(|e| JobError::Output("errors file".into(), e.into()))?;
                    out.write_all(b"\n")
                        .map_err(|e| JobError::Output("errors file".into(), e))?;
                }
            }
            let room = 20usize.saturating_sub(summary.first_errors.len());
            summary.first_errors.extend(bad.into_iter().take(room));
            progress.inc((stored.len() + bad_count) as u64);
            t = std::time::Instant::now();
        }
        tracing::info!(
            waiting_for_parse = waiting.as_secs_f64(),
            storing = storing.as_secs_f64(),
            "import: rows stored"
        );
        Ok(())
    })?;
    if let Some(out) = opts.errors.as_mut() {
        out.flush()
            .map_err(|e| JobError::Output("errors file".into(), e))?;
    }
    let rescored = recompute(ctx, Target::Changed, opts.as_of, Cause::Import, &())?;
    summary.rescored = rescored.persons;
    summary.scores_changed = rescored.changed;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Stores records in one unit of work without rescoring anyone: the people
/// are marked under the models this unit of work sees (a later
/// `recompute --changed-only`, or the end of an import, scores them).
pub fn store_chunk(
    ctx: &Context,
    rows: &[NewRecord],
    change: &Change<'_>,
) -> Result<Vec<RowResult>, JobError> {
    let keys = ctx.store.keys();
    Ok(write(&*ctx.store, |tx| {
        let models: Vec<String> = tx
            .models_in_play()?
            .into_iter()
            .map(|m| m.version)
            .collect();
        store_records(tx, keys, rows, change, &models, ctx.catalogue().number)
    })?
    .results)
}
