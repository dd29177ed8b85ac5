//! Use cases shared by the CLI and the server: importing batches, rescoring,
//! explaining one person's score, and simulating and publishing score models.
//! Orchestrates the domain and the store; holds no SQL and no HTTP.

mod context;
mod import;
mod models;
mod recompute;
mod score;

pub use context::{decode_person, Context, JobError};
pub use import::{import, ImportOptions, ImportSummary};
pub use models::{publish, simulate, Simulation};
pub use recompute::{recompute, Progress, RecomputeSummary, Target};
pub use score::{explain, Explained};

/// Today's civil date in Asia/Shanghai, the city's calendar.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

pub mod audit;
pub mod batches;
pub mod push;
pub mod units;

/// The audit actor for jobs run by the agency's operators from the CLI.
pub const OPERATOR: &str = "operator:cli";
