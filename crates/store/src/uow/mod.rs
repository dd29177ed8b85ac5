//! The store's primitives, by area, and the unit of work that holds them.
//!
//! A use case (in `chengxin-jobs`) opens one [`WriteTx`], calls primitives
//! from any area (find people, read record heads, insert versions, change
//! states, save scores, append audit entries) and commits them together. A
//! backend implements each primitive once and decides nothing: which state
//! follows which, what counts and who may do what are the domain's and the
//! jobs' business. Reads that need no write go through a [`ReadTx`], which
//! sees one snapshot.

use chengxin_domain::audit::{AuditEntry, AuditEvent};
use chengxin_domain::publication::ModelStatus;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;
use jiff::civil::Date;

mod calendar;
mod catalogue;
mod certificates;
mod daily;
mod keys;
mod objections;
mod parties;
mod repairs;
mod scenarios;
mod staff;
mod stats;
mod submissions;

pub use calendar::*;
pub use catalogue::*;
pub use certificates::*;
pub use daily::*;
pub use keys::*;
pub use objections::*;
pub use parties::*;
pub use repairs::*;
pub use scenarios::*;
pub use staff::*;
pub use stats::*;
pub use submissions::*;

use crate::{
    BatchRow, Cause, HistoryEntry, ModelStamp, RawPerson, Result, ScoreChange, ScoreRow,
    StoredModel, StoredRecord, StoredScore, UnitRow,
};

/// A person to find, or create if unknown, by blind index.
#[derive(Debug, Clone, Copy)]
pub struct PersonKey<'a> {
    pub index: [u8; 32],
    pub id_number: &'a IdNumber,
    pub name: Option<&'a str>,
}

/// A person's decrypted identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id_number: IdNumber,
    pub name: Option<String>,
    /// The blind index, as audit entries name the person.
    pub index: Vec<u8>,
}

/// People: identities, their records as the engine reads them, and the
/// marks saying who awaits rescoring under which model.
pub trait PeopleRead {
    /// The person with this blind index.
    fn find_person(&mut self, index: &[u8; 32]) -> Result<Option<i64>>;
    /// A person's decrypted identity.
    fn identity(&mut self, person_id: i64) -> Result<Option<Identity>>;
    /// These people with their counting records and their stored score
    /// under `model_version`, in id order; unknown ids are left out.
    fn load_people(&mut self, ids: &[i64], model_version: &str) -> Result<Vec<RawPerson>>;
    /// Up to `limit` people awaiting rescoring under `model_version`, in id order.
    fn marked_people(&mut self, model_version: &str, limit: usize) -> Result<Vec<i64>>;
    /// Number of people, and of those awaiting rescoring under `model_version`.
    fn counts(&mut self, model_version: &str) -> Result<(u64, u64)>;
    /// For each of these people, in order, the latest date of their counting
    /// versions of catalogue item `item` (`None`: they have none).
    fn latest_record_dates(&mut self, people: &[i64], item: &str) -> Result<Vec<Option<Date>>>;
}

/// Writes to people.
pub trait PeopleWrite {
    /// The ids of these people, in order, creating the unknown ones (their
    /// identity encrypted). The same index twice gets the same id.
    fn resolve_people(&mut self, people: &[PersonKey<'_>]) -> Result<Vec<i64>>;
    /// The records of these people changed in this unit of work: their
    /// revision moves on, derived data is refreshed, and each is marked for
    /// rescoring under every model in `models`.
    fn records_changed(&mut self, people: &[i64], models: &[String]) -> Result<()>;
    /// Replaces these people's names (stored encrypted), `(person id, name)`.
    fn set_names(&mut self, names: &[(i64, &str)]) -> Result<()>;
}

/// The newest stored version of a record case `(unit, source_id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHead {
    pub id: i64,
    pub person_id: i64,
    pub unit: String,
    pub source_id: String,
    pub item: String,
    pub version: i32,
    pub content_hash: Vec<u8>,
    pub status: RecordStatus,
    /// The unit's own version number of this version, if it sent one.
    pub source_version: Option<i64>,
}

/// A record version to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub person_id: i64,
    pub unit: &'a str,
    pub source_id: &'a str,
    pub version: i32,
    pub item: &'a str,
    pub date: Date,
    /// Canonical JSON.
    pub fields: &'a str,
    pub content_hash: &'a [u8],
    pub status: RecordStatus,
    /// The unit's own version number, if it sent one.
    pub source_version: Option<i64>,
    /// The catalogue version the record was validated against.
    pub catalogue_version: i64,
}

/// A record version moving to another state.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    pub record_id: i64,
    pub status: RecordStatus,
    /// Why (a withdrawal's reason, a decision's explanation).
    pub reason: Option<&'a str>,
}

/// Records: every version of every case, never deleted.
pub trait RecordsRead {
    /// The newest version of each case, in order (`None`: unknown case).
    fn record_heads(&mut self, cases: &[(&str, &str)]) -> Result<Vec<Option<RecordHead>>>;
    /// The newest version of the case the version `record_id` belongs to.
    fn head_of(&mut self, record_id: i64) -> Result<Option<RecordHead>>;
    /// Every version of every record of a person, in id order.
    fn person_records(&mut self, person_id: i64) -> Result<Vec<StoredRecord>>;
}

/// Writes to records.
pub trait RecordsWrite {
    /// Inserts new versions; returns their ids, in order.
    fn insert_records(&mut self, rows: &[NewVersion<'_>]) -> Result<Vec<i64>>;
    /// Moves versions to new states.
    fn set_record_status(&mut self, changes: &[StatusChange<'_>]) -> Result<()>;
}

/// Scores and their history.
pub trait ScoresRead {
    /// A person's stored score under `model_version`.
    fn score(&mut self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>>;
    /// A person's score changes, oldest first, under published models only.
    fn score_history(&mut self, person_id: i64) -> Result<Vec<HistoryEntry>>;
    /// How many people have each grade (`None`: ineligible) under `model_version`.
    fn grade_counts(&mut self, model_version: &str) -> Result<Vec<(Option<String>, u64)>>;
}

/// Writes to scores.
pub trait ScoresWrite {
    /// Stores scores computed under `stamp`. A row is stored only if it was
    /// computed from the person's current revision and no score from a later
    /// revision is stored (concurrent writers never go back in time); history
    /// is written where the visible state changed; the person's rescoring mark
    /// under this model is cleared up to the row's revision. Returns the
    /// changes, for the audit log.
    fn save_scores(
        &mut self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        cause: Cause,
    ) -> Result<Vec<ScoreChange>>;
}

/// Score models.
pub trait ModelsRead {
    /// The model in force.
    fn active_model(&mut self) -> Result<Option<StoredModel>>;
    /// All stored models, oldest first.
    fn models(&mut self) -> Result<Vec<StoredModel>>;
    /// The state of one version.
    fn model_status(&mut self, version: &str) -> Result<Option<ModelStatus>>;
}

/// Writes to models. In a write unit of work, reading the models in play
/// and changing a model's state are ordered: a unit of work that read the
/// models in play commits before any state change becomes visible, so every
/// record change is marked or scored under each model that will be in force.
pub trait ModelsWrite {
    /// The models in play (the one in force, any staged one), by version,
    /// as this unit of work will commit under.
    fn models_in_play(&mut self) -> Result<Vec<StoredModel>>;
    /// Stores a model as staged, replacing one of the same version and its
    /// partial scores, history and marks.
    fn put_staged_model(&mut self, model: &StoredModel) -> Result<()>;
    /// Changes a version's state.
    fn set_model_status(&mut self, version: &str, status: ModelStatus) -> Result<()>;
    /// Drops the rescoring marks under `version` (a retired model needs none).
    fn clear_marks(&mut self, version: &str) -> Result<()>;
}

/// Cooperating units.
pub trait UnitsRead {
    /// All units, by code.
    fn units(&mut self) -> Result<Vec<UnitRow>>;
    /// The unit whose current key has this hash (disabled ones too).
    fn unit_by_key(&mut self, key_hash: &[u8]) -> Result<Option<UnitRow>>;
}

/// Writes to units.
pub trait UnitsWrite {
    /// Creates a unit; `false` if the code is taken.
    fn insert_unit(&mut self, unit: &UnitRow, key_hash: &[u8]) -> Result<bool>;
    /// Replaces a unit's key hash; `false` if there is no such unit.
    fn set_unit_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool>;
    /// Disables a unit; `false` if there is no such unit.
    fn disable_unit(&mut self, code: &str) -> Result<bool>;
}

/// Batches submitted by units.
pub trait BatchesRead {
    /// A batch by id.
    fn batch(&mut self, id: &str) -> Result<Option<BatchRow>>;
    /// A unit's batch under an idempotency key.
    fn batch_by_key(&mut self, unit: &str, key: &str) -> Result<Option<BatchRow>>;
}

/// Writes to batches.
pub trait BatchesWrite {
    /// Records a new batch being processed, leased until `lease_until` (unix seconds).
    fn insert_batch(
        &mut self,
        id: &str,
        unit: &str,
        key: Option<&str>,
        lease_until: i64,
    ) -> Result<()>;
    /// Extends (or takes over) a processing batch's lease.
    fn set_batch_lease(&mut self, id: &str, lease_until: i64) -> Result<()>;
    /// Stores a batch's receipt and body hash: it is complete. `false` if
    /// `owner` no longer holds it.
    fn complete_batch(
        &mut self,
        id: &str,
        owner: &str,
        body_hash: &[u8],
        receipt: &str,
    ) -> Result<bool>;
    /// `owner` takes (or takes over) the batch: processing, leased until `lease_until`.
    fn claim_batch(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<()>;
    /// Extends the lease if `owner` still holds the processing batch.
    fn renew_batch_lease(&mut self, id: &str, owner: &str, lease_until: i64) -> Result<bool>;
    /// Records how far `owner` got (lines applied, their digest, the receipt
    /// so far) and extends its lease; `false` if it no longer holds it.
    fn batch_progress(
        &mut self,
        id: &str,
        owner: &str,
        progress: BatchProgress<'_>,
    ) -> Result<bool>;
    /// `owner` stopped before the end: the batch is interrupted, its lease
    /// released, its receipt so far stored. `false` if it no longer holds it.
    fn interrupt_batch(&mut self, id: &str, owner: &str, receipt: &str) -> Result<bool>;
}

/// How far a batch got.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress<'a> {
    pub lease_until: i64,
    pub lines_done: i64,
    pub prefix_hash: &'a [u8],
    /// The receipt so far (JSON).
    pub receipt: &'a str,
}

/// The audit log.
pub trait AuditRead {
    /// Up to `limit` sealed entries after `after_seq`, in order.
    fn audit_entries(&mut self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Up to `limit` sealed entries naming `person` (a [`crate::person_ref`]),
    /// newest first, leaving out those made by `except_actor`.
    fn person_audit(
        &mut self,
        person: &str,
        except_actor: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>>;
    /// The stored head of the log: (size, hash of the last entry).
    fn audit_head(&mut self) -> Result<(i64, String)>;
    /// The last signed checkpoint written into the log, if any.
    fn audit_last_checkpoint(&mut self) -> Result<Option<AuditEntry>>;
    /// Entries committed but not yet sealed into the chain (always none
    /// where writers chain as they commit).
    fn audit_pending(&mut self) -> Result<Vec<AuditEvent>>;
    /// Up to `limit` ids of record versions (`records` rows) after `after`,
    /// in order: what `audit verify` checks the log covers.
    fn record_ids(&mut self, after: i64, limit: usize) -> Result<Vec<i64>>;
    /// Up to `limit` (person id, number of score-history rows), persons
    /// after `after` in order.
    fn history_counts(&mut self, after: i64, limit: usize) -> Result<Vec<(i64, i64)>>;
}

/// Appending to the audit log.
pub trait AuditWrite {
    /// Adds entries to this unit of work. They are chained at commit, after
    /// everything else, so the log's head is the last thing a writer waits for.
    fn append_audit(&mut self, events: Vec<AuditEvent>);
}

/// A read-only unit of work: one snapshot.
pub trait ReadTx:
    PeopleRead
    + RecordsRead
    + ScoresRead
    + ModelsRead
    + UnitsRead
    + BatchesRead
    + AuditRead
    + SubmissionsRead
    + CalendarRead
    + DailyRead
    + StaffRead
    + ObjectionsRead
    + RepairsRead
    + PartiesRead
    + ScenariosRead
    + CertificatesRead
    + CatalogueRead
    + StatsRead
{
}

/// A write unit of work: everything in it commits together or not at all.
/// Dropped without [`WriteTx::commit`], it rolls back.
pub trait WriteTx:
    ReadTx
    + PeopleWrite
    + RecordsWrite
    + ScoresWrite
    + ModelsWrite
    + UnitsWrite
    + BatchesWrite
    + AuditWrite
    + SubmissionsWrite
    + CalendarWrite
    + DailyWrite
    + StaffWrite
    + CatalogueWrite
    + KeysWrite
    + ObjectionsWrite
    + RepairsWrite
    + PartiesWrite
    + ScenariosWrite
    + CertificatesWrite
    + StatsWrite
{
    /// Chains the audit entries and commits.
    fn commit(self: Box<Self>) -> Result<()>;
}
