//! 信易+ incentive scenarios as stored: what an admin registered, and when
//! (if ever) it was retired. Validation is the domain's; the store keeps
//! the validated values as given.

use jiff::civil::Date;

use crate::Result;

/// A scenario as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioRow {
    pub code: String,
    pub provider: String,
    /// The sector's code.
    pub sector: String,
    pub description_zh: String,
    pub description_en: String,
    /// The benefit kind's code.
    pub benefit_kind: String,
    /// The benefit's number, for kinds that have one.
    pub benefit_amount: Option<i64>,
    pub min_grade: Option<String>,
    pub min_score: Option<i32>,
    pub valid_from: Date,
    pub valid_until: Date,
    /// The audit actor who registered it (`staff:NAME`, `operator:NAME`).
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` while not retired.
    pub retired_at: Option<i64>,
}

/// Reading scenarios.
pub trait ScenariosRead {
    /// Every scenario (retired ones too), by code.
    fn scenarios(&mut self) -> Result<Vec<ScenarioRow>>;
    /// The scenario with this code (retired too).
    fn scenario(&mut self, code: &str) -> Result<Option<ScenarioRow>>;
}

/// Writes to scenarios.
pub trait ScenariosWrite {
    /// Stores a new scenario; `false` if the code is taken.
    fn insert_scenario(&mut self, row: &ScenarioRow) -> Result<bool>;
    /// Marks a scenario retired at `at` (unix seconds); `false` if there is
    /// no such scenario or it is already retired.
    fn retire_scenario(&mut self, code: &str, at: i64) -> Result<bool>;
}
