//! Persistence for Chengxin: the unit-of-work interface by area (`uow`), its
//! SQLite and PostgreSQL backends, and encryption of personal data at rest.
//! Knows nothing of HTTP and makes no decisions: backends store and read
//! what use cases (in `chengxin-jobs`) tell them to.

pub mod binding;
pub mod crypto;
mod evidence;
mod group;
mod migrate;
pub mod postgres;
pub mod sqlite;
mod types;
pub mod uow;

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;

pub use crypto::{DataKeys, KeyConfig};
pub use group::Durable;
pub use types::*;
pub use uow::{ReadTx, WriteTx};

/// What went wrong in the store, in the caller's words.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(::postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A concurrent unit of work touched the same rows first (a deadlock, a
    /// serialisation failure, the same new record or person): running the
    /// whole unit of work again will succeed.
    #[error("concurrent change, try again: {0}")]
    Retry(String),
    #[error("{0}")]
    Conflict(String),
    /// The keys do not belong to this database (or are missing): the
    /// message names the key file expected.
    #[error("refusing to start: {0}")]
    Key(String),
    /// The first connection failed; the message has every cause (a TLS
    /// failure's reason too).
    #[error("cannot connect to the database: {0}")]
    Connect(String),
}

impl StoreError {
    /// Whether running the unit of work again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Retry(_))
    }
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A database: opens units of work on it.
///
/// Methods block; async callers run them on a blocking thread.
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The encryption keys in use.
    fn keys(&self) -> &DataKeys;

    /// Begins a write unit of work.
    fn write(&self) -> Result<Box<dyn WriteTx + '_>>;

    /// Reads whose statements each see the latest commits: the cheapest way
    /// to read one thing (a key, a batch, the model in force).
    fn read(&self) -> Result<Box<dyn ReadTx + '_>>;

    /// A read-only unit of work that sees one snapshot throughout: for reads
    /// that must agree with each other (an explanation, walking the audit log).
    fn snapshot(&self) -> Result<Box<dyn ReadTx + '_>>;

    /// Streams people in id order, `batch` at a time, to `sink`, with their
    /// counting records and their stored score under the scan's model. The
    /// scan holds no lock that writers need, so `sink` may write meanwhile.
    fn scan(
        &self,
        scan: Scan<'_>,
        batch: usize,
        sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
    ) -> Result<()>;

    /// Seals the audit entries committed so far into the hash chain, where a
    /// backend keeps them pending; returns how many. `audit verify` and
    /// checkpoints call it first; backends also seal on their own within a
    /// bounded delay.
    fn seal_audit(&self) -> Result<u64>;

    /// Whether a short read (one person's rows) runs in this process at
    /// memory speed, with no network round trip (SQLite): a server may then
    /// run it on its async worker instead of handing it to a blocking
    /// thread, which costs more than the read itself.
    fn reads_in_process(&self) -> bool {
        false
    }

    /// Queues the audit entries of reads for the next group commit (entries
    /// of concurrent callers share one commit). They are durable once the
    /// ticket settles: a read is answered only after that.
    fn enqueue_reads(&self, events: Vec<AuditEvent>) -> Durable;

    /// Appends the audit entries of reads and returns once they are durable.
    fn append_reads(&self, events: Vec<AuditEvent>) -> Result<()> {
        self.enqueue_reads(events).wait()
    }
}

/// Opens the store named by a URL (`sqlite://PATH`, `postgres://…`),
/// running migrations and loading the keys the environment names
/// ([`KeyConfig::from_env`]).
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    open_configured(url, &KeyConfig::from_env())
}

/// Opens the store named by a URL with the keys `config` names: a missing
/// key file is created only for a new, empty database, and keys other than
/// the ones the database was created with are refused.
pub fn open_configured(url: &str, config: &KeyConfig) -> Result<Box<dyn Store>> {
    let db_path = url
        .strip_prefix("sqlite://")
        .filter(|p| !p.is_empty())
        .map(std::path::Path::new);
    let loader = move |state: &binding::KeyState| -> Result<(DataKeys, binding::KeyOrigin)> {
        // The audit key first: a missing setting fails before any file is made.
        let audit = config.load_audit_key(state.no_audit_key())?;
        let mut data = config.load_data_key(db_path, state.new_database())?;
        if let Some(next) = &state.rotation {
            let named = match &next.key_file {
                Some(f) => format!("{} (key file {f})", next.key_id),
                None => next.key_id.clone(),
            };
            data = data.with_next(config.load_next_data_key(&named)?);
        }
        let origin = binding::KeyOrigin {
            data: config.data_key_origin(db_path),
            audit: config.audit_key_file.as_ref().map_or_else(
                || "no audit key file".to_owned(),
                |p| format!("audit key file {}", p.display()),
            ),
        };
        Ok((data.with_audit_key(audit), origin))
    };
    open_with(url, Box::new(loader))
}

/// Opens the store named by a URL for a key rotation to the key in
/// `next_file` (created, 0600, if missing and no rotation is under way):
/// the current key as `config` names it, the next one beside it.
pub fn open_rotating(
    url: &str,
    config: &KeyConfig,
    next_file: &std::path::Path,
) -> Result<Box<dyn Store>> {
    let db_path = url
        .strip_prefix("sqlite://")
        .filter(|p| !p.is_empty())
        .map(std::path::Path::new);
    let loader = move |state: &binding::KeyState| -> Result<(DataKeys, binding::KeyOrigin)> {
        let audit = config.load_audit_key(false)?;
        let data = config.load_data_key(db_path, false)?;
        let next = crypto::load_key(next_file, "next data key", state.rotation.is_none())
            .map(DataKeys::from_master)?;
        if next.key_id() == data.key_id() {
            return Err(StoreError::Key(format!(
                "{} holds the current data key: give a new key file to rotate to",
                next_file.display()
            )));
        }
        let origin = binding::KeyOrigin {
            data: config.data_key_origin(db_path),
            audit: config.audit_key_file.as_ref().map_or_else(
                || "no audit key file".to_owned(),
                |p| format!("audit key file {}", p.display()),
            ),
        };
        Ok((data.with_next(next).with_audit_key(audit), origin))
    };
    open_with(url, Box::new(loader))
}

/// Opens the store named by a URL with the given keys (which must carry an
/// audit key, and be the database's own).
pub fn open_with_keys(url: &str, keys: DataKeys) -> Result<Box<dyn Store>> {
    open_with(url, binding::given(keys))
}

/// Opens the store named by a URL; `load` gets the keys once the database's
/// key state is known.
pub fn open_with(url: &str, load: binding::KeyLoader<'_>) -> Result<Box<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.into()));
        }
        Ok(Box::new(sqlite::SqliteStore::open_with(
            std::path::Path::new(path),
            load,
        )?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::PgStore::open_with(url, load)
    } else {
        Err(StoreError::BadUrl(url.into()))
    }
}

/// How often a long-running process signs a checkpoint of entries appended
/// since the last one (besides one every [`chengxin_domain::audit::CHECKPOINT_EVERY`]
/// entries): `CHENGXIN_AUDIT_CHECKPOINT_SECONDS`, default five minutes.
pub(crate) fn checkpoint_interval() -> std::time::Duration {
    std::time::Duration::from_secs(
        std::env::var("CHENGXIN_AUDIT_CHECKPOINT_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    )
}

/// The content hash that decides "identical content": item, person and fields.
pub fn content_hash(item: &str, id_index: &[u8], fields: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(item.as_bytes());
    h.update([0]);
    h.update(id_index);
    h.update([0]);
    h.update(fields.as_bytes());
    h.finalize().to_vec()
}

/// The audit signing key, which every store is opened with.
pub(crate) fn audit_key(keys: &DataKeys) -> Result<&ed25519_dalek::SigningKey> {
    keys.audit_key()
        .ok_or_else(|| StoreError::Key("no audit signing key was loaded".into()))
}

/// Hex of a blind index, as audit entries name a person.
pub fn person_ref(index: &[u8]) -> String {
    hex::encode(index)
}

/// Current time as RFC 3339 text in UTC.
pub(crate) fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

/// Decrypts a stored ID number and name, each bound to the person's blind
/// index `index` (a value moved from another person's row fails), and checks
/// that the ID number is the one the index names.
pub(crate) fn decrypt_identity(
    keys: &DataKeys,
    index: &[u8],
    id_cipher: &[u8],
    name_cipher: Option<&[u8]>,
) -> Result<(IdNumber, Option<String>)> {
    use crypto::Kind;
    let id = keys.decrypt(Kind::IdNumber, index, id_cipher)?;
    let id = std::str::from_utf8(&id)
        .ok()
        .and_then(|s| IdNumber::parse(s).ok())
        .ok_or_else(|| {
            StoreError::Corrupt("stored ID number does not decrypt to a valid number".into())
        })?;
    if keys.blind_index(id.as_str().as_bytes())[..] != *index {
        return Err(crypto::CryptoError::Tampered.into());
    }
    let name = match name_cipher {
        Some(c) => Some(
            String::from_utf8(keys.decrypt(Kind::Name, index, c)?)
                .map_err(|_| StoreError::Corrupt("stored name".into()))?,
        ),
        None => None,
    };
    Ok((id, name))
}

/// The model states for which `keep` holds, as an SQL list: the rules
/// themselves (`in_play`, `published`) are the domain's.
pub(crate) fn model_states_sql(keep: fn(ModelStatus) -> bool) -> String {
    let names: Vec<String> = ModelStatus::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("({})", names.join(","))
}

/// The counting states as an SQL list, e.g. `('active','disputed')`: the
/// rule itself is the domain's ([`RecordStatus::counts`]).
pub(crate) fn counting_sql() -> String {
    let names: Vec<String> = RecordStatus::counting()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("({})", names.join(","))
}
