//! The SQLite backend: the embedded default. One writer connection behind a
//! mutex (SQLite has one writer anyway; queuing on a mutex beats busy-retry),
//! a pool of readers, WAL journal. Each area's primitives are in a module of
//! their own, over a plain connection inside the unit of work's transaction.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::dates::parse_date;
use chengxin_domain::record::RecordStatus;
use jiff::civil::Date;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

mod audit;
mod calendar;
mod catalogue;
mod certificates;
mod daily;
mod models;
mod objections;
mod parties;
mod people;
mod reads;
mod records;
mod repairs;
mod rotation;
mod scenarios;
mod scores;
mod staff;
mod stats;
mod submissions;
mod tx;
mod units;

use crate::crypto::DataKeys;
use crate::group::{Durable, GroupCommit};
use crate::migrate::SQLITE;
use crate::uow::{ReadTx, WriteTx};
use crate::{now_text, RawPerson, RawRecord, Result, Scan, ScoreState, Store, StoreError};

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    /// Evidence files (see `submissions`).
    evidence: PathBuf,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    keys: DataKeys,
    /// Tells the checkpoint thread to stop.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    reads: GroupCommit,
    /// The journal of read audit entries (see `reads`).
    journal: std::sync::Arc<Mutex<Connection>>,
}

impl Drop for SqliteStore {
    /// Seals the read journal, so a command that ends leaves a complete
    /// chain behind it.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.reads.close();
        if let Err(e) = self.seal_audit() {
            tracing::warn!(error = %e, "read audit entries left in the journal for the next sealer");
        }
    }
}

/// Page cache of the writer, in KiB; readers get a quarter each. Memory,
/// not mmap, so the process's footprint stays bounded whatever the file size.
const WRITER_CACHE_KIB: i64 = 262_144;

fn configure(conn: &Connection, cache_kib: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = 16384;
         PRAGMA journal_size_limit = 67108864;",
    )
}

/// Copies the WAL back into the database from a thread of its own, so that
/// a request's commit rarely pays for a checkpoint (they cost up to ~100 ms).
/// Bulk jobs that outrun it still checkpoint inline at 64 MiB of WAL, which
/// keeps the file bounded. Stops when the store is dropped.
///
/// The same thread seals the read journal into the audit chain every
/// [`reads::SEAL_EVERY`], through connections of its own (SQLite's file
/// lock orders it with the store's writer).
fn spawn_checkpointer(
    path: &Path,
    keys: DataKeys,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let sealer = Connection::open(path)?;
    sealer.busy_timeout(std::time::Duration::from_secs(10))?;
    let journal = reads::open(&reads::journal_path(path))?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let Ok(key) = crate::audit_key(&keys) else {
                return;
            };
            let mut since_seal = std::time::Duration::ZERO;
            let mut since_signed = std::time::Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(50));
                since_seal += std::time::Duration::from_millis(50);
                since_signed += std::time::Duration::from_millis(50);
                if since_seal >= reads::SEAL_EVERY {
                    since_seal = std::time::Duration::ZERO;
                    if let Err(e) = reads::seal(&sealer, &journal, key) {
                        tracing::warn!(error = %e, "sealing read audit entries failed; retrying");
                    }
                    if since_signed >= crate::checkpoint_interval() {
                        since_signed = std::time::Duration::ZERO;
                        if let Err(e) = audit::checkpoint_if_unsigned(&sealer, key) {
                            tracing::warn!(error = %e, "writing a timed audit checkpoint failed; retrying");
                        }
                    }
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "checkpoint skipped");
                    }
                }
            }
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` with `keys`, and
    /// migrates it.
    pub fn open(path: &Path, keys: DataKeys) -> Result<SqliteStore> {
        SqliteStore::open_with(path, crate::binding::given(keys))
    }

    /// Opens (creating if missing) the database at `path` and migrates it;
    /// `load` gets the keys once it is known whether the database is new,
    /// and they must be the ones the database was created with.
    pub fn open_with(path: &Path, load: crate::binding::KeyLoader<'_>) -> Result<SqliteStore> {
        create_private(path)?;
        let mut writer = Connection::open(path)?;
        configure(&writer, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        let state = key_state(&writer)?;
        let (keys, origin) = load(&state)?;
        if let Some(b) = crate::binding::check(&state, &keys, &origin)? {
            let n = writer.execute(
                "INSERT OR IGNORE INTO key_binding (id, data_key_id, data_key_check, audit_public_key, bound_at)
                 VALUES (1, ?1, ?2, ?3, ?4)",
                params![b.data_key_id, b.data_key_check, b.audit_public_key, now_text()],
            )?;
            if n == 0 && key_state(&writer)?.bound.as_ref() != Some(&b) {
                return Err(StoreError::Key(
                    "another process recorded other keys for this new database at the same time"
                        .into(),
                ));
            }
            if n == 1 && !state.empty {
                // A log from before checkpoints were signed: sign it now.
                writer.execute_batch("BEGIN IMMEDIATE")?;
                let signed = audit::append(
                    &writer,
                    crate::audit_key(&keys)?,
                    vec![chengxin_domain::audit::checkpoint_request()],
                );
                writer.execute_batch(if signed.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
                signed?;
            }
        }
        let manager = SqliteConnectionManager::file(path)
            .with_init(|c: &mut Connection| configure(c, WRITER_CACHE_KIB / 4));
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)?;
        let journal = reads::open(&reads::journal_path(path))?;
        // Entries a process left in the journal when it died are sealed now.
        reads::seal(&writer, &journal, crate::audit_key(&keys)?)?;
        let journal = std::sync::Arc::new(Mutex::new(journal));
        let committer = std::sync::Arc::clone(&journal);
        let reads = GroupCommit::start(Box::new(move |batch| {
            let journal = committer
                .lock()
                .map_err(|_| StoreError::Corrupt("journal lock poisoned".into()))?;
            reads::write(&journal, batch)
        }))?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        spawn_checkpointer(path, keys.clone(), stop.clone())?;
        Ok(SqliteStore {
            path: path.to_owned(),
            evidence: submissions::evidence_dir(path),
            writer: Mutex::new(writer),
            readers,
            keys,
            stop,
            reads,
            journal,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the database says about its keys (see `binding`).
fn key_state(conn: &Connection) -> Result<crate::binding::KeyState> {
    let bound = conn
        .query_row(
            "SELECT data_key_id, data_key_check, audit_public_key FROM key_binding WHERE id = 1",
            [],
            |r| {
                Ok(crate::binding::Binding {
                    data_key_id: r.get(0)?,
                    data_key_check: r.get(1)?,
                    audit_public_key: r.get(2)?,
                })
            },
        )
        .optional()?;
    let used: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM persons) OR EXISTS (SELECT 1 FROM units)
                OR EXISTS (SELECT 1 FROM audit_log)",
        [],
        |r| r.get(0),
    )?;
    let sample = conn
        .query_row(
            "SELECT id_index, id_cipher FROM persons ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let rotation = conn
        .query_row(
            "SELECT next_key_id, next_key_check, next_key_file FROM key_rotation WHERE id = 1",
            [],
            |r| {
                Ok(crate::binding::NextKey {
                    key_id: r.get(0)?,
                    key_check: r.get(1)?,
                    key_file: r.get(2)?,
                })
            },
        )
        .optional()?;
    let retired = conn
        .prepare("SELECT key_id, successor_id, successor_file FROM retired_keys")?
        .query_map([], |r| {
            Ok(crate::binding::RetiredKey {
                key_id: r.get(0)?,
                successor_id: r.get(1)?,
                successor_file: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(crate::binding::KeyState {
        bound,
        empty: !used,
        sample,
        rotation,
        retired,
    })
}

/// Creates `path` readable and writable by its owner only (0600) if it does
/// not exist, before SQLite opens it: the database holds personal data, and
/// SQLite gives its `-wal` and `-shm` files the database file's permissions.
pub(super) fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", path.display())))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for m in SQLITE {
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [m.version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![m.version, now_text()],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn date_col(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Date> {
    let text: String = row.get(i)?;
    parse_date(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, "date".into(), rusqlite::types::Type::Text)
    })
}

pub(super) fn status_col(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<RecordStatus> {
    let text: String = row.get(i)?;
    RecordStatus::parse(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, "status".into(), rusqlite::types::Type::Text)
    })
}

pub(super) fn state_cols(
    row: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<ScoreState>> {
    let eligible: Option<bool> = row.get(i)?;
    Ok(match eligible {
        None => None,
        Some(eligible) => Some(ScoreState {
            eligible,
            score: row.get(i + 1)?,
            grade: row.get(i + 2)?,
        }),
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn keys(&self) -> &DataKeys {
        &self.keys
    }

    fn write(&self) -> Result<Box<dyn WriteTx + '_>> {
        let conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Corrupt("writer lock poisoned".into()))?;
        Ok(Box::new(tx::SqliteTx::begin(
            tx::Handle::Writer(conn),
            &self.keys,
            &self.evidence,
            TransactionBehavior::Immediate,
        )?))
    }

    /// A deferred transaction costs nothing on SQLite, so every read sees
    /// one snapshot.
    fn snapshot(&self) -> Result<Box<dyn ReadTx + '_>> {
        self.read()
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>> {
        let conn = self.readers.get()?;
        Ok(Box::new(tx::SqliteTx::begin(
            tx::Handle::Reader(conn),
            &self.keys,
            &self.evidence,
            TransactionBehavior::Deferred,
        )?))
    }

    fn scan(
        &self,
        scan: Scan<'_>,
        batch: usize,
        sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
    ) -> Result<()> {
        let (version, dirty_only) = match scan {
            Scan::All { model_version } => (model_version, false),
            Scan::Dirty { model_version } => (model_version, true),
        };
        let people = if dirty_only {
            "SELECT p.id, p.rev, p.birth_date FROM rescore d JOIN persons p ON p.id = d.person_id
             WHERE d.model_version = ?1 AND d.person_id > ?2 ORDER BY d.person_id LIMIT ?3"
        } else {
            "SELECT id, rev, birth_date FROM persons WHERE id > ?2 ORDER BY id LIMIT ?3"
        };
        // Keyset pages, each its own short read transaction: a reader held
        // open for the whole scan would stop WAL checkpoints while the
        // writer stores scores, and the WAL would grow without bound.
        let sql = format!(
            "SELECT p.id, p.rev, p.birth_date, s.eligible, s.score, s.grade,
                    r.id, r.item, r.record_date, r.status, r.fields
             FROM ({people}) p
             LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?1
             LEFT JOIN records r ON r.person_id = p.id AND r.status IN {counting}
             ORDER BY p.id",
            counting = crate::counting_sql()
        );
        let mut last = 0i64;
        loop {
            let mut out: Vec<RawPerson> = Vec::with_capacity(batch);
            {
                let conn = self.readers.get()?;
                let mut stmt = conn.prepare_cached(&sql)?;
                let mut rows = stmt.query(params![version, last, batch as i64])?;
                while let Some(r) = rows.next()? {
                    let pid: i64 = r.get(0)?;
                    if out.last().is_none_or(|p| p.id != pid) {
                        out.push(RawPerson {
                            id: pid,
                            rev: r.get(1)?,
                            birth_date: date_col(r, 2)?,
                            records: Vec::new(),
                            stored: state_cols(r, 3)?,
                        });
                    }
                    if let Some(id) = r.get::<_, Option<i64>>(6)? {
                        let rec = RawRecord {
                            id,
                            item: r.get(7)?,
                            date: date_col(r, 8)?,
                            status: status_col(r, 9)?,
                            fields: r.get(10)?,
                        };
                        if let Some(p) = out.last_mut() {
                            p.records.push(rec);
                        }
                    }
                }
            }
            let Some(p) = out.last() else { return Ok(()) };
            last = p.id;
            sink(out)?;
        }
    }

    /// Writes chain their entries as they commit; only the read journal
    /// can hold entries waiting to be sealed.
    fn seal_audit(&self) -> Result<u64> {
        let poisoned = || StoreError::Corrupt("store lock poisoned".into());
        let writer = self.writer.lock().map_err(|_| poisoned())?;
        let journal = self.journal.lock().map_err(|_| poisoned())?;
        reads::seal(&writer, &journal, crate::audit_key(&self.keys)?)
    }

    fn reads_in_process(&self) -> bool {
        true
    }

    /// Read entries go to the journal, never waiting for the main writer.
    fn enqueue_reads(&self, events: Vec<AuditEvent>) -> Durable {
        self.reads.enqueue(events)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn database_files_are_private_to_their_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let keys = DataKeys::from_master([1; 32]).with_audit_key([2; 32]);
        let store = SqliteStore::open(&path, keys).unwrap();
        let mut tx = store.write().unwrap();
        tx.append_audit(vec![chengxin_domain::audit::AuditEvent {
            actor: "test".into(),
            action: "test.write".into(),
            subject: None,
            person: None,
            request_id: None,
            detail: serde_json::Value::Null,
        }]);
        tx.commit().unwrap();
        let mut files = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{:?} is {mode:o}", entry.file_name());
            files += 1;
        }
        assert!(files >= 3, "the database, its WAL and the read journal");
    }

    /// An answered commit survives a power cut: the WAL is synced at every
    /// commit (`synchronous = FULL`, 2), on the writer and on readers' pool.
    #[test]
    fn commits_are_synced() {
        let dir = tempfile::tempdir().unwrap();
        let keys = DataKeys::from_master([1; 32]).with_audit_key([2; 32]);
        let store = SqliteStore::open(&dir.path().join("s.db"), keys).unwrap();
        let sync = |c: &Connection| -> i64 {
            c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap()
        };
        assert_eq!(sync(&store.writer.lock().unwrap()), 2);
        assert_eq!(sync(&store.readers.get().unwrap()), 2);
    }
}
