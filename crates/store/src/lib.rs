//! Persistence for Chengxin: the `Store` trait, its SQLite and PostgreSQL
//! backends, and encryption of personal data at rest. Knows nothing of HTTP
//! and makes no scoring decisions: callers pass the scorer in.

mod audit;
pub mod crypto;
mod migrate;
pub mod postgres;
pub mod sqlite;
mod types;

use chengxin_domain::audit::{AuditEntry, AuditEvent};
use chengxin_domain::IdNumber;

pub use crypto::DataKeys;
pub use types::*;

/// What went wrong in the store, in the caller's words.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Computes a person's score under a stored model, inside the store's
/// transaction. An error means the model cannot be used (its text no longer
/// loads): fatal for the model in force, skipped with a warning for a staged one.
pub type Rescore<'a> = &'a (dyn Fn(&StoredModel, &RawPerson) -> Result<ScoreRow, String> + Sync);

/// Rescoring done inline by `ingest` and `withdraw`, as of `as_of`.
///
/// The people are scored under every model read in the same transaction as
/// the change: the one in force and any staged one. So a push never scores
/// under a model that was replaced meanwhile (a server started before a
/// publish), and a model being published already has the pushed person's
/// new score when it is put in force.
pub struct Inline<'a> {
    pub as_of: jiff::civil::Date,
    pub score: Rescore<'a>,
}

impl Inline<'_> {
    /// Scores `people` under `model`; `None` when a staged model cannot be used.
    pub(crate) fn score_all(
        &self,
        model: &StoredModel,
        people: &[RawPerson],
    ) -> Result<Option<Vec<ScoreRow>>> {
        let mut rows = Vec::with_capacity(people.len());
        for p in people {
            match (self.score)(model, p) {
                Ok(row) => rows.push(row),
                Err(e) if model.status == ModelStatus::Staged => {
                    tracing::warn!(model = %model.version, error = %e, "staged model cannot score; skipped");
                    return Ok(None);
                }
                Err(e) => {
                    return Err(StoreError::Corrupt(format!(
                        "model {} in force cannot score: {e}",
                        model.version
                    )))
                }
            }
        }
        Ok(Some(rows))
    }

    /// The stamp stored with scores under `model`.
    pub(crate) fn stamp(&self, model: &StoredModel) -> ModelStamp {
        ModelStamp {
            version: model.version.clone(),
            hash: model.hash.clone(),
            as_of: self.as_of,
        }
    }
}

/// The one interface to storage. Both backends pass the same test suite.
///
/// Methods block; async callers run them on a blocking thread.
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The encryption keys in use.
    fn keys(&self) -> &DataKeys;

    /// Stores records in one transaction. Affected people are rescored inside
    /// it when `inline` is given, otherwise marked for rescoring.
    fn ingest(
        &self,
        rows: &[NewRecord],
        change: &Change<'_>,
        inline: Option<&Inline<'_>>,
    ) -> Result<Vec<RowResult>>;

    /// Withdraws the newest version of `(unit, source_id)`: it stops counting,
    /// the person is marked (or rescored inline), and the change is audited.
    /// `None` if the unit has no such record.
    fn withdraw(
        &self,
        unit: &str,
        source_id: &str,
        reason: &str,
        change: &Change<'_>,
        inline: Option<&Inline<'_>>,
    ) -> Result<Option<RowResult>>;

    /// The person with this ID number, if known.
    fn find_person(&self, id: &IdNumber) -> Result<Option<i64>>;

    /// A person's counting records and their stored score under `model_version`.
    fn load_person(&self, person_id: i64, model_version: &str) -> Result<Option<RawPerson>>;

    /// Every version of every record of a person, any state.
    fn person_records(&self, person_id: i64) -> Result<Vec<StoredRecord>>;

    /// Decrypts a person's ID number and name.
    fn person_identity(&self, person_id: i64) -> Result<(IdNumber, Option<String>)>;

    /// Streams people in id order, `batch` at a time, to `sink`.
    fn scan(
        &self,
        scan: Scan<'_>,
        batch: usize,
        sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
    ) -> Result<()>;

    /// Stores computed scores in one transaction, writes history for those
    /// that changed, and clears the people's rescoring mark. Returns how many changed.
    fn save_scores(
        &self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        change: &Change<'_>,
    ) -> Result<u64>;

    /// A person's stored score under `model_version`.
    fn score(&self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>>;

    /// A person's score changes, oldest first, under published models only.
    fn score_history(&self, person_id: i64) -> Result<Vec<HistoryEntry>>;

    /// How many people have each grade (`None`: ineligible) under `model_version`.
    fn grade_counts(&self, model_version: &str) -> Result<Vec<(Option<String>, u64)>>;

    /// Number of people, and of those awaiting rescoring.
    fn counts(&self) -> Result<(u64, u64)>;

    /// Stores a model as staged (replacing a staged one of the same version
    /// and discarding its partial scores). An active or retired version is a conflict.
    fn stage_model(&self, model: &StoredModel) -> Result<()>;

    /// Makes a staged model the one in force, retiring the previous one, atomically.
    fn activate_model(&self, version: &str) -> Result<()>;

    /// The model in force.
    fn active_model(&self) -> Result<Option<StoredModel>>;

    /// All stored models.
    fn models(&self) -> Result<Vec<StoredModel>>;

    /// Creates a unit with the hash of its API key. A taken code is a conflict.
    fn add_unit(&self, unit: &UnitRow, key_hash: &[u8], change: &Change<'_>) -> Result<()>;

    /// All units, by code.
    fn units(&self) -> Result<Vec<UnitRow>>;

    /// The unit whose current key has this hash (disabled ones too; the caller decides).
    fn unit_by_key(&self, key_hash: &[u8]) -> Result<Option<UnitRow>>;

    /// Replaces a unit's key hash.
    fn set_unit_key(&self, code: &str, key_hash: &[u8], change: &Change<'_>) -> Result<()>;

    /// Disables a unit.
    fn disable_unit(&self, code: &str, change: &Change<'_>) -> Result<()>;

    /// Claims a batch: a new id, or the batch already under this idempotency
    /// key. A processing batch whose lease (unix seconds) lapsed is taken over.
    fn claim_batch(
        &self,
        unit: &str,
        idempotency_key: Option<&str>,
        new_id: &str,
        lease_until: i64,
    ) -> Result<BatchClaim>;

    /// Extends an owned batch's lease while it is being processed.
    fn renew_batch(&self, id: &str, lease_until: i64) -> Result<()>;

    /// Stores a batch's receipt and body hash, and audits it.
    fn finish_batch(
        &self,
        id: &str,
        body_hash: &[u8],
        receipt: &str,
        change: &Change<'_>,
    ) -> Result<()>;

    /// A stored batch.
    fn batch(&self, id: &str) -> Result<Option<BatchRow>>;

    /// Appends audit entries in their own transaction (reads of personal data).
    fn append_audit(&self, events: &[AuditEvent]) -> Result<()>;

    /// Up to `limit` audit entries after `after_seq`, in order.
    fn audit_entries(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>>;

    /// The stored head of the audit log: (size, hash of the last entry).
    fn audit_head(&self) -> Result<(i64, String)>;
}

/// Opens the store named by a URL (`sqlite://PATH`, `postgres://…`),
/// running migrations and loading (or creating) the data key.
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    let keys = match url.strip_prefix("sqlite://") {
        Some(path) if !path.is_empty() => DataKeys::load(Some(std::path::Path::new(path)))?,
        _ => DataKeys::load(None)?,
    };
    open_with_keys(url, keys)
}

/// Opens the store named by a URL with the given keys.
pub fn open_with_keys(url: &str, keys: DataKeys) -> Result<Box<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.into()));
        }
        Ok(Box::new(sqlite::SqliteStore::open(
            std::path::Path::new(path),
            keys,
        )?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::PgStore::open(url, keys)
    } else {
        Err(StoreError::BadUrl(url.into()))
    }
}

/// The content hash that decides "identical content": item, person and fields.
pub(crate) fn content_hash(item: &str, id_index: &[u8], fields: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(item.as_bytes());
    h.update([0]);
    h.update(id_index);
    h.update([0]);
    h.update(fields.as_bytes());
    h.finalize().to_vec()
}

/// Hex of a blind index, as audit entries name a person.
pub fn person_ref(index: &[u8]) -> String {
    hex::encode(index)
}

/// Current time as RFC 3339 text in UTC.
pub(crate) fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

/// Decrypts a stored ID number and name.
pub(crate) fn decrypt_identity(
    keys: &DataKeys,
    id_cipher: &[u8],
    name_cipher: Option<&[u8]>,
) -> Result<(IdNumber, Option<String>)> {
    let id = keys.decrypt(id_cipher)?;
    let id = std::str::from_utf8(&id)
        .ok()
        .and_then(|s| IdNumber::parse(s).ok())
        .ok_or_else(|| {
            StoreError::Corrupt("stored ID number does not decrypt to a valid number".into())
        })?;
    let name = match name_cipher {
        Some(c) => Some(
            String::from_utf8(keys.decrypt(c)?)
                .map_err(|_| StoreError::Corrupt("stored name".into()))?,
        ),
        None => None,
    };
    Ok((id, name))
}
