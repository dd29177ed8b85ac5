//! Use cases shared by the CLI and the server: importing batches, rescoring,
//! explaining one person's score, and simulating and publishing score models.
//! Orchestrates the domain and the store; holds no SQL and no HTTP.

mod api_keys;
mod audit_events;
mod batch_run;
pub mod catalogue;
mod context;
pub mod failpoint;
mod import;
mod models;
pub mod own;
mod recompute;
mod records;
mod rescore;
mod score;
pub mod uow;

pub use context::{decode_person, Context, JobError, Scorer};
pub use import::{import, store_chunk, ImportOptions, ImportSummary};
pub use models::{activate, publish, simulate, stage_and_score, Simulation};
pub use recompute::{recompute, Progress, RecomputeSummary, Target};
pub use score::{explain, Explained};

/// The model in force, as the store holds it now.
pub fn model_in_force(ctx: &Context) -> Result<chengxin_store::StoredModel, JobError> {
    Ok(ctx.active(&mut *ctx.store.read()?)?.model)
}

/// How many people have each grade (`None`: ineligible).
pub type GradeCounts = Vec<(Option<String>, u64)>;

/// How many people have each grade under the model in force.
pub fn grade_distribution(
    ctx: &Context,
) -> Result<(chengxin_store::StoredModel, GradeCounts), JobError> {
    let mut tx = ctx.store.read()?;
    let model = ctx.active(&mut *tx)?.model;
    let counts = tx.grade_counts(&model.version)?;
    Ok((model, counts))
}

/// Every stored model, oldest first.
pub fn list_models(ctx: &Context) -> Result<Vec<chengxin_store::StoredModel>, JobError> {
    Ok(ctx.store.read()?.models()?)
}

/// Today's civil date in Asia/Shanghai, the city's calendar.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

pub mod audit;
pub mod authorisation_uses;
pub mod authorisations;
pub mod batches;
pub mod calendar;
pub mod certificates;
pub mod commitments;
pub mod console;
pub mod daily;
pub mod decisions;
pub mod keys;
pub mod me;
pub mod objections;
pub mod parties;
pub mod party_uses;
pub mod portal_sessions;
pub mod push;
pub mod repairs;
pub mod resident;
pub mod rules;
pub mod scenarios;
pub mod self_reports;
pub mod staff;
pub mod stats;
pub mod units;

/// The audit actor of a context nobody named (see [`Context::with_actor`]).
pub const SYSTEM: &str = "system";

/// The audit actor for an operator's command: `operator:NAME`.
pub fn operator(name: &str) -> String {
    format!("operator:{name}")
}
