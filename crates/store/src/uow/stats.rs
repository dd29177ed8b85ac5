//! Aggregates for the agency's dashboard: counts grouped in storage, never
//! a row naming a person (第十八条: nothing lists or ranks residents). What
//! the counts mean (which grade is which, which region is a district of the
//! city, what is overdue) is the jobs' and the domain's business; these only
//! count stored rows. Also the primitives of the back-fill of
//! `persons.region` for people stored before it existed.

use chengxin_domain::IdNumber;
use jiff::civil::Date;
use jiff::Timestamp;

use crate::Result;

/// Stored scores under one model sharing a grade and a score bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreBucket {
    /// `None`: no grade (an ineligible person).
    pub grade: Option<String>,
    /// `score / width` (integer division); `None`: no score (ineligible).
    pub bucket: Option<i64>,
    pub count: u64,
}

/// Record versions one unit sent on one civil day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitDay {
    pub unit: String,
    pub day: Date,
    pub count: u64,
}

/// The window of [`StatsRead::received_per_unit_day`].
#[derive(Debug, Clone, Copy)]
pub struct ReceivedWindow {
    /// Received at or after this instant…
    pub since: Timestamp,
    /// …and before this one.
    pub until: Timestamp,
    /// The days are civil days at this offset from UTC, in seconds
    /// (Asia/Shanghai: 28,800).
    pub utc_offset_seconds: i32,
}

/// Aggregate reads.
pub trait StatsRead {
    /// The stored scores under `model_version` counted by grade and by
    /// bucket of `width` points (`width` ≥ 1), ordered by grade then bucket.
    fn score_buckets(&mut self, model_version: &str, width: u32) -> Result<Vec<ScoreBucket>>;
    /// How many people are stored per region code (`None`: not yet
    /// back-filled), by code.
    fn region_counts(&mut self) -> Result<Vec<(Option<String>, u64)>>;
    /// Record versions received in `window`, per unit and civil day, by
    /// unit then day.
    fn received_per_unit_day(&mut self, window: ReceivedWindow) -> Result<Vec<UnitDay>>;
    /// Up to `limit` people stored without a region code, ids above
    /// `after` in order, with their decrypted ID numbers.
    fn people_without_region(&mut self, after: i64, limit: usize) -> Result<Vec<(i64, IdNumber)>>;
}

/// Aggregate-related writes.
pub trait StatsWrite {
    /// Stores these people's region codes, `(person id, code)`.
    fn set_regions(&mut self, regions: &[(i64, &str)]) -> Result<()>;
}
