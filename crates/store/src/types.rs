//! The values that cross the `Store` boundary.

use chengxin_domain::record::RecordStatus;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Why something changed; stored with score history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Import,
    Push,
    Withdraw,
    ModelPublish,
    Recompute,
    /// A record's state changed by a decision (dispute, repair, verification).
    Decision,
    /// A resident signed a credit commitment.
    Commitment,
    /// The daily run: a record entered or left a counting window (a
    /// publicity period ended, a commitment's term ended, an evaluation aged
    /// out, a listing was removed) with nothing written.
    Window,
    /// A resident submitted a self-report (pending: it counts once verified).
    SelfReport,
    /// A reviewer decided an objection (异议) and the record was corrected or withdrawn.
    Objection,
    /// A credit repair (信用修复) was approved: the record stopped counting.
    Repaired,
}

impl Cause {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Import => "import",
            Cause::Push => "push",
            Cause::Withdraw => "withdraw",
            Cause::ModelPublish => "model_publish",
            Cause::Recompute => "recompute",
            Cause::Decision => "decision",
            Cause::Commitment => "commitment",
            Cause::Window => "window",
            Cause::SelfReport => "self_report",
            Cause::Objection => "objection",
            Cause::Repaired => "repaired",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Cause> {
        Some(match s {
            "import" => Cause::Import,
            "push" => Cause::Push,
            "withdraw" => Cause::Withdraw,
            "model_publish" => Cause::ModelPublish,
            "recompute" => Cause::Recompute,
            "decision" => Cause::Decision,
            "commitment" => Cause::Commitment,
            "window" => Cause::Window,
            "self_report" => Cause::SelfReport,
            "objection" => Cause::Objection,
            "repaired" => Cause::Repaired,
            _ => return None,
        })
    }
}

/// A stored record as the engine needs it (fields still JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub id: i64,
    pub item: String,
    pub date: Date,
    pub status: RecordStatus,
    pub fields: String,
}

/// A person's eligibility-and-score state under one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreState {
    pub eligible: bool,
    pub score: Option<i32>,
    pub grade: Option<String>,
}

/// A person with the records that count, and their stored score if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPerson {
    pub id: i64,
    /// The person's revision when read; a score computed from it is only
    /// saved if no record changed since.
    pub rev: i64,
    pub birth_date: Date,
    pub records: Vec<RawRecord>,
    pub stored: Option<ScoreState>,
}

/// A stored score that changed, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreChange {
    pub person_id: i64,
    /// The person's blind index.
    pub index: Vec<u8>,
    pub old: Option<ScoreState>,
    pub new: ScoreState,
}

/// A freshly computed score to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub person_id: i64,
    /// The revision of the person the score was computed from.
    pub rev: i64,
    pub state: ScoreState,
    /// Ineligibility reason codes, comma separated.
    pub reasons: String,
    /// The first date after the score's as-of date on which it can change
    /// with no record written (`None`: never); the daily run rescores the
    /// people whose date has come.
    pub next_change: Option<Date>,
}

/// Which model, and as of which date, scores were computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStamp {
    pub version: String,
    pub hash: String,
    pub as_of: Date,
}

/// A stored current score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredScore {
    pub person_id: i64,
    pub model_version: String,
    pub model_hash: String,
    pub as_of: Date,
    pub state: ScoreState,
    pub reasons: String,
}

/// One change of a person's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub model_version: String,
    pub model_hash: String,
    pub as_of: Date,
    pub state: ScoreState,
    pub cause: Cause,
    pub changed_at: String,
}

pub use chengxin_domain::publication::ModelStatus;

/// A stored score model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredModel {
    pub version: String,
    pub hash: String,
    pub content: String,
    pub effective_from: Date,
    pub status: ModelStatus,
}

/// Which people a scan visits.
#[derive(Debug, Clone, Copy)]
pub enum Scan<'a> {
    /// Everyone; `stored` holds their score under this model version.
    All { model_version: &'a str },
    /// Only people whose records changed since they were last scored.
    Dirty { model_version: &'a str },
}

/// A stored record with its lifecycle, for display and audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRecord {
    pub id: i64,
    pub unit: String,
    pub source_id: String,
    pub version: i32,
    pub item: String,
    pub date: Date,
    pub status: RecordStatus,
    pub fields: serde_json::Value,
}

/// A cooperating unit as stored (the key only as its hash, elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub items: Vec<String>,
    pub disabled: bool,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// A request is (or was, if its lease lapsed) storing its rows.
    Processing,
    /// Every row was handled; the receipt is stored.
    Completed,
    /// Its request stopped before the end (a chunk failed, the unit was
    /// disabled, the request was cancelled); the receipt so far is stored
    /// and a retry under the same key resumes after `lines_done`.
    Interrupted,
}

impl BatchStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Processing => "processing",
            BatchStatus::Completed => "completed",
            BatchStatus::Interrupted => "interrupted",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<BatchStatus> {
        match s {
            "processing" => Some(BatchStatus::Processing),
            "completed" => Some(BatchStatus::Completed),
            "interrupted" => Some(BatchStatus::Interrupted),
            _ => None,
        }
    }
}

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub id: String,
    pub unit: String,
    pub idempotency_key: Option<String>,
    pub body_hash: Option<Vec<u8>>,
    pub status: BatchStatus,
    /// Unix seconds; a processing batch past it was abandoned.
    pub lease_until: i64,
    /// The receipt JSON once completed (so far, while processing or interrupted).
    pub receipt: Option<String>,
    pub created_at: String,
    /// The request holding (or last holding) the lease.
    pub owner: Option<String>,
    /// Input lines applied so far, in order.
    pub lines_done: i64,
    /// Digest of those lines, so a retry can prove it sends the same ones.
    pub prefix_hash: Option<Vec<u8>>,
}
