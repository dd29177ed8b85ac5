//! The values that cross the `Store` boundary.

use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;
use jiff::civil::Date;
use serde::Serialize;

/// Why something changed; stored with score history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Import,
    Push,
    Withdraw,
    ModelPublish,
    Recompute,
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
        }
    }
}

/// A validated record to store.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub unit: String,
    pub source_id: String,
    pub item: String,
    pub id_number: IdNumber,
    pub name: Option<String>,
    /// Canonical JSON of the validated fields.
    pub fields: String,
    pub record_date: Date,
    /// `Active` for units' records, `Pending` for self-reports.
    pub status: RecordStatus,
}

/// What storing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new `(unit, source_id)`.
    Accepted,
    /// Same `(unit, source_id)` and same content: nothing stored.
    Duplicate,
    /// Same `(unit, source_id)`, different content: a new version replaced the old.
    Corrected,
}

/// The result of storing one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowResult {
    pub outcome: Outcome,
    pub record_id: i64,
    pub person_id: i64,
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

/// A freshly computed score to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub person_id: i64,
    /// The revision of the person the score was computed from.
    pub rev: i64,
    pub state: ScoreState,
    /// Ineligibility reason codes, comma separated.
    pub reasons: String,
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
    pub cause: String,
    pub changed_at: String,
}

/// Where a model stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Stored, being simulated or published; not in force.
    Staged,
    /// The model in force.
    Active,
    /// Was in force before.
    Retired,
}

impl ModelStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Staged => "staged",
            ModelStatus::Active => "active",
            ModelStatus::Retired => "retired",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ModelStatus> {
        match s {
            "staged" => Some(ModelStatus::Staged),
            "active" => Some(ModelStatus::Active),
            "retired" => Some(ModelStatus::Retired),
            _ => None,
        }
    }
}

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

/// Who makes a change, and how finely it is audited.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub cause: Cause,
    /// `unit:SX-TAX`, `operator:cli`, `system`.
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    /// One audit entry per record and per score change (HTTP pushes), or one
    /// entry per transaction with a digest of what it changed (bulk jobs).
    pub granular: bool,
}

impl<'a> Change<'a> {
    /// A bulk job's change: one audit entry per transaction.
    pub fn bulk(cause: Cause, actor: &'a str) -> Change<'a> {
        Change {
            cause,
            actor,
            request_id: None,
            granular: false,
        }
    }

    /// A request's change: one audit entry per record and score change.
    pub fn request(cause: Cause, actor: &'a str, request_id: Option<&'a str>) -> Change<'a> {
        Change {
            cause,
            actor,
            request_id,
            granular: true,
        }
    }
}

/// A cooperating unit as stored (the key only as its hash, elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub items: Vec<String>,
    pub disabled: bool,
}

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub id: String,
    pub unit: String,
    pub idempotency_key: Option<String>,
    pub body_hash: Option<Vec<u8>>,
    /// `processing` or `completed`.
    pub status: String,
    /// The receipt JSON once completed.
    pub receipt: Option<String>,
    pub created_at: String,
}

/// The result of claiming a batch id / idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchClaim {
    /// This caller owns the batch (new, or taken over after its lease lapsed).
    Owned { id: String },
    /// Another request has (or had) this key.
    Existing(BatchRow),
}
