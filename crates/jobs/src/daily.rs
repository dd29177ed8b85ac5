//! The daily run (`chengxin daily`, and `serve` at 00:05 Asia/Shanghai):
//! rescores exactly the people whose records entered or left a counting
//! window since they were last scored, then runs the other date-driven steps.
//!
//! Who is due is the engine's business ([`chengxin_domain::Engine::next_change`]):
//! every stored score carries the first date after its as-of date on which it
//! can change with nothing written, so a run as of D rescores the people whose
//! date is on or before D. That covers every day since the last run, however
//! many there were, and nobody else. One claim row per date makes exactly one
//! process do each date; an earlier date than the last run is refused.

use std::collections::HashSet;
use std::time::Instant;

use chengxin_store::uow::DailyCounts;
use chengxin_store::{Cause, ModelStatus};
use jiff::civil::Date;
use rayon::prelude::*;
use serde::Serialize;

use crate::audit_events::ScoreAudit;
use crate::context::Scorer;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// People read, scored and written together.
const BATCH: usize = 2048;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DailySummary {
    /// The date the run was for.
    #[serde(serialize_with = "as_text")]
    pub as_of: Date,
    /// The previous run's date, if any.
    #[serde(serialize_with = "opt_as_text")]
    pub previous: Option<Date>,
    /// People whose date had come (under any model in play), each counted once.
    pub touched: u64,
    /// Scores computed and stored (a person once per model in play).
    pub rescored: u64,
    /// Scores whose visible state changed (each one a notification).
    pub changed: u64,
    /// Objections found past a deadline for the first time (marked overdue,
    /// audited).
    pub overdue_marked: u64,
    pub seconds: f64,
}

fn as_text<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn opt_as_text<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

/// How a request to run a date ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DailyOutcome {
    /// This process ran the date.
    Ran(DailySummary),
    /// The date was claimed before (by this or another process): nothing done.
    AlreadyClaimed { date: Date, owner: String },
}

/// One step of a run: it adds what it did to the summary.
type Step = fn(&Context, &mut DailySummary, &mut HashSet<i64>) -> Result<(), JobError>;

/// The steps of a run, in order.
const STEPS: &[(&str, Step)] = &[
    ("rescore people whose window dates came", rescore_due),
    ("mark overdue objections", mark_overdue),
];

/// Marks objections past their acceptance or reply deadline as of the run's
/// date (each once, audited; see `objections::mark_overdue`).
fn mark_overdue(
    ctx: &Context,
    summary: &mut DailySummary,
    _touched: &mut HashSet<i64>,
) -> Result<(), JobError> {
    let marked = crate::objections::mark_overdue_now(ctx, summary.as_of)?;
    summary.overdue_marked = marked as u64;
    Ok(())
}

/// Runs the daily task as of `as_of` as `owner` (who claims the date). A
/// date before the last run is refused; a date already claimed does nothing.
pub fn daily(ctx: &Context, as_of: Date, owner: &str) -> Result<DailyOutcome, JobError> {
    let start = Instant::now();
    let previous = match claim(ctx, as_of, owner)? {
        Ok(previous) => previous,
        Err(taken) => return Ok(taken),
    };
    let mut summary = DailySummary {
        as_of,
        previous,
        ..DailySummary::default()
    };
    let mut touched = HashSet::new();
    for (name, step) in STEPS {
        let t = Instant::now();
        step(ctx, &mut summary, &mut touched)?;
        tracing::info!(step = name, %as_of, seconds = t.elapsed().as_secs_f64(), "daily run step done");
    }
    summary.touched = touched.len() as u64;
    summary.seconds = start.elapsed().as_secs_f64();
    let counts = DailyCounts {
        touched: i64::try_from(summary.touched).unwrap_or(i64::MAX),
        rescored: i64::try_from(summary.rescored).unwrap_or(i64::MAX),
        changed: i64::try_from(summary.changed).unwrap_or(i64::MAX),
    };
    write(&*ctx.store, |tx| Ok(tx.finish_daily_run(as_of, counts)?))?;
    tracing::info!(
        %as_of,
        touched = summary.touched,
        rescored = summary.rescored,
        changed = summary.changed,
        overdue_marked = summary.overdue_marked,
        seconds = summary.seconds,
        "daily run done"
    );
    Ok(DailyOutcome::Ran(summary))
}

/// Claims `as_of`: `Ok(previous run date)` when this process has it.
fn claim(
    ctx: &Context,
    as_of: Date,
    owner: &str,
) -> Result<Result<Option<Date>, DailyOutcome>, JobError> {
    write(&*ctx.store, |tx| {
        let last = tx.last_daily_run()?;
        if let Some(last) = &last {
            if as_of < last.date {
                return Err(JobError::Invalid(format!(
                    "每日任务不能回到上次运行日期 {} 之前（要求 {as_of}）/ \
                     the daily run cannot go back before its last run on {} (asked for {as_of})",
                    last.date, last.date
                )));
            }
            if as_of == last.date {
                return Ok(Err(DailyOutcome::AlreadyClaimed {
                    date: as_of,
                    owner: last.owner.clone(),
                }));
            }
        }
        if tx.claim_daily_run(as_of, owner)? {
            Ok(Ok(last.map(|l| l.date)))
        } else {
            // Another process claimed the date between our read and insert.
            let owner = tx.last_daily_run()?.map(|l| l.owner).unwrap_or_default();
            Ok(Err(DailyOutcome::AlreadyClaimed { date: as_of, owner }))
        }
    })
}

/// Rescores, under every model in play, the people whose next change date
/// is on or before the run's date.
fn rescore_due(
    ctx: &Context,
    summary: &mut DailySummary,
    touched: &mut HashSet<i64>,
) -> Result<(), JobError> {
    let mut models = ctx.store.read()?.models()?;
    models.retain(|m| m.status.in_play());
    models.sort_by_key(|m| m.status != ModelStatus::Active);
    for m in models {
        let scorer = ctx.scorer(m)?;
        rescore_model(ctx, &scorer, summary, touched)?;
    }
    Ok(())
}

fn rescore_model(
    ctx: &Context,
    scorer: &Scorer,
    summary: &mut DailySummary,
    touched: &mut HashSet<i64>,
) -> Result<(), JobError> {
    let as_of = summary.as_of;
    let stamp = scorer.stamp(as_of);
    let version = scorer.model.version.as_str();
    let change = Change::bulk(Cause::Window, ctx.actor());
    // A cursor, not "due again": a person whose save lost to a concurrent
    // write is left for that write (which scored them from newer records).
    let mut after = 0i64;
    loop {
        let ids = ctx.store.read()?.due_people(version, as_of, after, BATCH)?;
        let Some(&last) = ids.last() else {
            break;
        };
        after = last;
        touched.extend(&ids);
        let (rescored, changed) = write(&*ctx.store, |tx| {
            let people = tx.load_people(&ids, version)?;
            let rows: Vec<_> = people
                .par_iter()
                .map(|p| ctx.score_with(scorer, p, as_of))
                .collect();
            let changes = tx.save_scores(&rows, &stamp, Cause::Window)?;
            let mut audit = ScoreAudit::new(&change, &stamp);
            for c in &changes {
                audit.changed(c);
            }
            tx.append_audit(audit.finish(rows.len()));
            Ok((rows.len() as u64, changes.len() as u64))
        })?;
        summary.rescored += rescored;
        summary.changed += changed;
    }
    Ok(())
}

/// The local time of the daily run in Asia/Shanghai (UTC+8, no daylight saving).
pub const RUN_AT: (i8, i8) = (0, 5);

fn shanghai() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(8))
}

/// The first 00:05 Asia/Shanghai strictly after `now`.
pub fn next_run_after(now: jiff::Timestamp) -> jiff::Timestamp {
    let local = now.to_zoned(shanghai());
    let (h, m) = RUN_AT;
    let at = |d: Date| {
        d.at(h, m, 0, 0)
            .to_zoned(shanghai())
            .map(|z| z.timestamp())
            .unwrap_or(now)
    };
    let today = at(local.date());
    if today > now {
        today
    } else {
        local.date().tomorrow().map(at).unwrap_or(now)
    }
}

/// Runs the daily task once a day at 00:05 Asia/Shanghai, as of that day,
/// on a thread of its own, for as long as the process lives. Of several
/// servers on one database, the date's claim row lets exactly one do it;
/// the others log that it was claimed. A failed run is logged; the next
/// day's run covers its people too (everyone whose date has come is due).
pub fn spawn_schedule(
    ctx: std::sync::Arc<Context>,
    owner: String,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("daily-run".into())
        .spawn(move || loop {
            let now = jiff::Timestamp::now();
            let next = next_run_after(now);
            let wait = (next - now)
                .total(jiff::Unit::Second)
                .map_or(60.0, |s| s.max(1.0));
            tracing::info!(next = %next, "daily run scheduled");
            std::thread::sleep(std::time::Duration::from_secs_f64(wait));
            let as_of = next.to_zoned(shanghai()).date();
            match daily(&ctx, as_of, &owner) {
                Ok(DailyOutcome::Ran(_)) => {}
                Ok(DailyOutcome::AlreadyClaimed { date, owner }) => {
                    tracing::info!(%date, claimed_by = %owner, "daily run skipped: another process has this date");
                }
                Err(e) => tracing::error!(%as_of, error = %e, "daily run failed"),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_at_five_past_midnight_in_shanghai() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        // 23:00 Shanghai on 28 February → 00:05 on 1 March, which is 16:05 UTC.
        assert_eq!(
            next_run_after(t("2026-02-28T15:00:00Z")),
            t("2026-02-28T16:05:00Z")
        );
        // 00:05 itself is not "after": the next day.
        assert_eq!(
            next_run_after(t("2026-02-28T16:05:00Z")),
            t("2026-03-01T16:05:00Z")
        );
        // 00:01 Shanghai → the same day's 00:05.
        assert_eq!(
            next_run_after(t("2026-02-28T16:01:00Z")),
            t("2026-02-28T16:05:00Z")
        );
    }
}
