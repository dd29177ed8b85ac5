//! The daily run: who is due for rescoring by date, and the claim row per
//! run date that makes exactly one process do each date.

use jiff::civil::Date;

use crate::Result;

/// A claimed daily run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRun {
    pub date: Date,
    /// Who claimed it (host and process).
    pub owner: String,
    /// RFC 3339.
    pub claimed_at: String,
    /// RFC 3339; `None` while it runs (or if it stopped before the end).
    pub finished_at: Option<String>,
    pub counts: Option<DailyCounts>,
}

/// What a finished daily run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyCounts {
    /// People whose date had come, under any model in play.
    pub touched: i64,
    /// Scores computed and stored (a person once per model in play).
    pub rescored: i64,
    /// Scores whose visible state changed.
    pub changed: i64,
}

/// Reads for the daily run.
pub trait DailyRead {
    /// Up to `limit` people after `after`, in id order, whose stored score
    /// under `model_version` has its next change date on or before `on`.
    fn due_people(
        &mut self,
        model_version: &str,
        on: Date,
        after: i64,
        limit: usize,
    ) -> Result<Vec<i64>>;
    /// The claimed run with the latest date.
    fn last_daily_run(&mut self) -> Result<Option<DailyRun>>;
}

/// Writes for the daily run.
pub trait DailyWrite {
    /// Claims `date` for `owner` if nobody has: `false` if it was claimed.
    fn claim_daily_run(&mut self, date: Date, owner: &str) -> Result<bool>;
    /// Records that the run of `date` finished, with what it did.
    fn finish_daily_run(&mut self, date: Date, counts: DailyCounts) -> Result<()>;
}
