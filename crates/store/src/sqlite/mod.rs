//! The SQLite backend: the embedded default. One writer connection behind a
//! mutex (SQLite has one writer anyway; queuing on a mutex beats busy-retry),
//! a pool of readers, WAL journal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chengxin_domain::dates::parse_date;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;
use jiff::civil::Date;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

mod audit;
mod units;

use crate::crypto::DataKeys;
use crate::migrate::SQLITE;
use crate::{
    content_hash, now_text, BatchClaim, BatchRow, Change, HistoryEntry, Inline, ModelStamp,
    ModelStatus, NewRecord, Outcome, RawPerson, RawRecord, Result, RowResult, Scan, ScoreRow,
    ScoreState, Store, StoreError, StoredModel, StoredRecord, StoredScore, UnitRow,
};

const COUNTING: &str = "('active','disputed')";

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    keys: DataKeys,
    /// Tells the checkpoint thread to stop.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
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
         PRAGMA synchronous = NORMAL;
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
fn spawn_checkpointer(
    path: &Path,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "checkpoint skipped");
                }
            }
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and migrates it.
    pub fn open(path: &Path, keys: DataKeys) -> Result<SqliteStore> {
        let mut writer = Connection::open(path)?;
        configure(&writer, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        let manager = SqliteConnectionManager::file(path)
            .with_init(|c: &mut Connection| configure(c, WRITER_CACHE_KIB / 4));
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        spawn_checkpointer(path, stop.clone())?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            keys,
            stop,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Corrupt("writer lock poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
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

fn date_col(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Date> {
    let text: String = row.get(i)?;
    parse_date(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, "date".into(), rusqlite::types::Type::Text)
    })
}

fn status_col(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<RecordStatus> {
    let text: String = row.get(i)?;
    RecordStatus::parse(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, "status".into(), rusqlite::types::Type::Text)
    })
}

fn state_cols(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<ScoreState>> {
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

/// Stores rows in `tx`; returns per-row results and the people touched.
fn ingest_tx(
    tx: &Transaction<'_>,
    keys: &DataKeys,
    rows: &[NewRecord],
    change: &Change<'_>,
) -> Result<(Vec<RowResult>, Vec<i64>)> {
    let now = now_text();
    let mut audit = crate::audit::IngestAudit::new(change);
    let mut find_person = tx.prepare_cached("SELECT id FROM persons WHERE id_index = ?1")?;
    let mut insert_person = tx.prepare_cached(
        "INSERT INTO persons (id_index, id_cipher, name_cipher, birth_date, dirty, rev, created_at)
         VALUES (?1, ?2, ?3, ?4, 1, 1, ?5)",
    )?;
    let mut find_head = tx.prepare_cached(
        "SELECT id, person_id, version, content_hash FROM records
         WHERE unit = ?1 AND source_id = ?2 ORDER BY version DESC LIMIT 1",
    )?;
    let mut insert_new = tx.prepare_cached(
        "INSERT INTO records (person_id, unit, source_id, version, item, record_date, fields, content_hash, status, received_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (unit, source_id, version) DO NOTHING",
    )?;
    let mut insert_record = tx.prepare_cached(
        "INSERT INTO records (person_id, unit, source_id, version, item, record_date, fields, content_hash, status, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut supersede = tx.prepare_cached(
        "UPDATE records SET status = 'corrected' WHERE id = ?1 AND status IN ('active','disputed','pending')",
    )?;
    let mut people: HashMap<[u8; 32], i64> = HashMap::new();
    // People created in this call are already marked for rescoring.
    let mut created: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut touched = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let index = keys.blind_index(row.id_number.as_str().as_bytes());
        let person_id = match people.get(&index) {
            Some(&id) => id,
            None => {
                let id = match find_person
                    .query_row([&index[..]], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    Some(id) => id,
                    None => {
                        let name = row.name.as_deref().map(|n| keys.encrypt(n.as_bytes()));
                        insert_person.execute(params![
                            &index[..],
                            keys.encrypt(row.id_number.as_str().as_bytes()),
                            name,
                            row.id_number.birth_date().to_string(),
                            now
                        ])?;
                        let id = tx.last_insert_rowid();
                        created.insert(id);
                        id
                    }
                };
                people.insert(index, id);
                id
            }
        };
        let hash = content_hash(&row.item, &index, &row.fields);
        // The common case is a new record: try it first, and only look for
        // an earlier version when version 1 already exists.
        let date = row.record_date.to_string();
        let fresh = insert_new.execute(params![
            person_id,
            row.unit,
            row.source_id,
            row.item,
            date,
            row.fields,
            hash,
            row.status.as_str(),
            now
        ])?;
        if fresh == 1 {
            touched.push(person_id);
            let r = RowResult {
                outcome: Outcome::Accepted,
                record_id: tx.last_insert_rowid(),
                person_id,
            };
            audit.stored(row, &r, 1, &index, &hash);
            out.push(r);
            continue;
        }
        let (id, pid, v, h) = find_head.query_row(params![row.unit, row.source_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        if h == hash {
            audit.duplicate();
            out.push(RowResult {
                outcome: Outcome::Duplicate,
                record_id: id,
                person_id: pid,
            });
            continue;
        }
        supersede.execute([id])?;
        touched.push(pid);
        let (outcome, version) = (Outcome::Corrected, v + 1);
        insert_record.execute(params![
            person_id,
            row.unit,
            row.source_id,
            version,
            row.item,
            date,
            row.fields,
            hash,
            row.status.as_str(),
            now
        ])?;
        touched.push(person_id);
        let r = RowResult {
            outcome,
            record_id: tx.last_insert_rowid(),
            person_id,
        };
        audit.stored(row, &r, version, &index, &hash);
        out.push(r);
    }
    audit::append_tx(tx, audit.finish())?;
    touched.sort_unstable();
    touched.dedup();
    let mut bump =
        tx.prepare_cached("UPDATE persons SET dirty = 1, rev = rev + 1 WHERE id = ?1")?;
    for p in touched.iter().filter(|p| !created.contains(p)) {
        bump.execute([p])?;
    }
    Ok((out, touched))
}

/// Rescores people inside the caller's transaction.
fn rescore_tx(
    tx: &Transaction<'_>,
    people: &[i64],
    inline: &Inline<'_>,
    change: &Change<'_>,
) -> Result<()> {
    if people.is_empty() {
        return Ok(());
    }
    for model in models_in_play_tx(tx)? {
        let mut loaded = Vec::with_capacity(people.len());
        for &p in people {
            loaded.extend(load_person(tx, p, &model.version)?);
        }
        if let Some(scores) = inline.score_all(&model, &loaded)? {
            save_scores_tx(tx, &scores, &inline.stamp(&model), change)?;
        }
    }
    Ok(())
}

/// The model in force first, then any staged one, as this transaction sees them.
fn models_in_play_tx(tx: &Transaction<'_>) -> Result<Vec<StoredModel>> {
    let mut stmt = tx.prepare_cached(
        "SELECT version, hash, content, effective_from, status FROM models
         WHERE status IN ('active', 'staged') ORDER BY status = 'staged', version",
    )?;
    let models = stmt
        .query_map([], model_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(models)
}

fn load_person(
    conn: &Connection,
    person_id: i64,
    model_version: &str,
) -> Result<Option<RawPerson>> {
    let head = conn
        .prepare_cached(
            "SELECT p.birth_date, p.rev, s.eligible, s.score, s.grade FROM persons p
             LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?2 WHERE p.id = ?1",
        )?
        .query_row(params![person_id, model_version], |r| {
            Ok((date_col(r, 0)?, r.get::<_, i64>(1)?, state_cols(r, 2)?))
        })
        .optional()?;
    let Some((birth_date, rev, stored)) = head else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, item, record_date, status, fields FROM records
         WHERE person_id = ?1 AND status IN {COUNTING} ORDER BY id"
    ))?;
    let records = stmt
        .query_map([person_id], |r| {
            Ok(RawRecord {
                id: r.get(0)?,
                item: r.get(1)?,
                date: date_col(r, 2)?,
                status: status_col(r, 3)?,
                fields: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(RawPerson {
        id: person_id,
        rev,
        birth_date,
        records,
        stored,
    }))
}

fn save_scores_tx(
    tx: &Transaction<'_>,
    rows: &[ScoreRow],
    stamp: &ModelStamp,
    change: &Change<'_>,
) -> Result<u64> {
    let cause = change.cause;
    let mut audit = crate::audit::ScoreAudit::new(change, stamp);
    let now = now_text();
    let as_of = stamp.as_of.to_string();
    let mut current = tx.prepare_cached(
        "SELECT p.rev, p.dirty, s.eligible, s.score, s.grade, p.id_index FROM persons p
         LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?2 WHERE p.id = ?1",
    )?;
    let mut history = tx.prepare_cached(
        "INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, computed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE scores SET model_hash = ?3, as_of = ?4, eligible = ?5, score = ?6, grade = ?7,
           reasons = ?8, computed_at = ?9 WHERE person_id = ?1 AND model_version = ?2",
    )?;
    let mut clean = tx.prepare_cached("UPDATE persons SET dirty = 0 WHERE id = ?1")?;
    let mut changed = 0;
    for row in rows {
        let cur = current
            .query_row(params![row.person_id, stamp.version], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, bool>(1)?,
                    state_cols(r, 2)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            })
            .optional()?;
        // A record arrived after this score was computed: leave the person marked.
        let Some((_, dirty, old, index)) = cur.filter(|(rev, _, _, _)| *rev == row.rev) else {
            continue;
        };
        let s = &row.state;
        if old.as_ref() != Some(s) {
            history.execute(params![
                row.person_id,
                stamp.version,
                stamp.hash,
                as_of,
                s.eligible,
                s.score,
                s.grade,
                cause.as_str(),
                now
            ])?;
            changed += 1;
            audit.changed(row, old.as_ref(), &index);
        }
        let values = params![
            row.person_id,
            stamp.version,
            stamp.hash,
            as_of,
            s.eligible,
            s.score,
            s.grade,
            row.reasons,
            now
        ];
        if old.is_some() {
            update.execute(values)?;
        } else {
            insert.execute(values)?;
        }
        if dirty {
            clean.execute([row.person_id])?;
        }
    }
    audit::append_tx(tx, audit.finish(rows.len()))?;
    Ok(changed)
}

fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredModel> {
    let status: String = r.get(4)?;
    Ok(StoredModel {
        version: r.get(0)?,
        hash: r.get(1)?,
        content: r.get(2)?,
        effective_from: date_col(r, 3)?,
        status: ModelStatus::parse(&status).unwrap_or(ModelStatus::Staged),
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn keys(&self) -> &DataKeys {
        &self.keys
    }

    fn ingest(
        &self,
        rows: &[NewRecord],
        change: &Change<'_>,
        inline: Option<&Inline<'_>>,
    ) -> Result<Vec<RowResult>> {
        self.write(|tx| {
            let (results, touched) = ingest_tx(tx, &self.keys, rows, change)?;
            if let Some(inline) = inline {
                rescore_tx(tx, &touched, inline, change)?;
            }
            Ok(results)
        })
    }

    fn withdraw(
        &self,
        unit: &str,
        source_id: &str,
        reason: &str,
        change: &Change<'_>,
        inline: Option<&Inline<'_>>,
    ) -> Result<Option<RowResult>> {
        self.write(|tx| {
            let head = tx
                .query_row(
                    "SELECT r.id, r.person_id, r.status, p.id_index FROM records r JOIN persons p ON p.id = r.person_id
                     WHERE r.unit = ?1 AND r.source_id = ?2 ORDER BY r.version DESC LIMIT 1",
                    params![unit, source_id],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, status_col(r, 2)?, r.get::<_, Vec<u8>>(3)?)),
                )
                .optional()?;
            let Some((id, person_id, status, index)) = head else { return Ok(None) };
            let result = RowResult { outcome: Outcome::Duplicate, record_id: id, person_id };
            if status == RecordStatus::Withdrawn {
                return Ok(Some(result)); // withdrawing twice changes nothing
            }
            let next = status
                .apply(chengxin_domain::record::RecordEvent::Withdraw)
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            tx.execute(
                "UPDATE records SET status = ?2, status_reason = ?3 WHERE id = ?1",
                params![id, next.as_str(), reason],
            )?;
            tx.execute("UPDATE persons SET dirty = 1, rev = rev + 1 WHERE id = ?1", [person_id])?;
            audit::append_tx(tx, vec![crate::audit::withdrawn(change, unit, source_id, id, reason, &index)])?;
            if let Some(inline) = inline {
                rescore_tx(tx, &[person_id], inline, change)?;
            }
            Ok(Some(RowResult { outcome: Outcome::Corrected, ..result }))
        })
    }

    fn find_person(&self, id: &IdNumber) -> Result<Option<i64>> {
        let index = self.keys.blind_index(id.as_str().as_bytes());
        let conn = self.readers.get()?;
        let id = conn
            .prepare_cached("SELECT id FROM persons WHERE id_index = ?1")?
            .query_row([&index[..]], |r| r.get(0))
            .optional()?;
        Ok(id)
    }

    fn load_person(&self, person_id: i64, model_version: &str) -> Result<Option<RawPerson>> {
        let conn = self.readers.get()?;
        load_person(&conn, person_id, model_version)
    }

    fn person_records(&self, person_id: i64) -> Result<Vec<StoredRecord>> {
        let conn = self.readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, unit, source_id, version, item, record_date, status, fields FROM records
             WHERE person_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([person_id], |r| {
                let fields: String = r.get(7)?;
                Ok(StoredRecord {
                    id: r.get(0)?,
                    unit: r.get(1)?,
                    source_id: r.get(2)?,
                    version: r.get(3)?,
                    item: r.get(4)?,
                    date: date_col(r, 5)?,
                    status: status_col(r, 6)?,
                    fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn person_identity(&self, person_id: i64) -> Result<(IdNumber, Option<String>)> {
        let conn = self.readers.get()?;
        let (id, name): (Vec<u8>, Option<Vec<u8>>) = conn
            .prepare_cached("SELECT id_cipher, name_cipher FROM persons WHERE id = ?1")?
            .query_row([person_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("person {person_id}")))?;
        crate::decrypt_identity(&self.keys, &id, name.as_deref())
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
        let filter = if dirty_only { "AND dirty = 1" } else { "" };
        // Keyset pages, each its own short read transaction: a reader held
        // open for the whole scan would stop WAL checkpoints while the
        // writer stores scores, and the WAL would grow without bound.
        let sql = format!(
            "SELECT p.id, p.rev, p.birth_date, s.eligible, s.score, s.grade,
                    r.id, r.item, r.record_date, r.status, r.fields
             FROM (SELECT id, rev, birth_date FROM persons WHERE id > ?2 {filter} ORDER BY id LIMIT ?3) p
             LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?1
             LEFT JOIN records r ON r.person_id = p.id AND r.status IN {COUNTING}
             ORDER BY p.id"
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

    fn save_scores(
        &self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        change: &Change<'_>,
    ) -> Result<u64> {
        self.write(|tx| save_scores_tx(tx, rows, stamp, change))
    }

    fn score(&self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>> {
        let conn = self.readers.get()?;
        let s = conn
            .prepare_cached(
                "SELECT model_hash, as_of, eligible, score, grade, reasons FROM scores
                 WHERE person_id = ?1 AND model_version = ?2",
            )?
            .query_row(params![person_id, model_version], |r| {
                Ok(StoredScore {
                    person_id,
                    model_version: model_version.to_owned(),
                    model_hash: r.get(0)?,
                    as_of: date_col(r, 1)?,
                    state: ScoreState {
                        eligible: r.get(2)?,
                        score: r.get(3)?,
                        grade: r.get(4)?,
                    },
                    reasons: r.get(5)?,
                })
            })
            .optional()?;
        Ok(s)
    }

    fn score_history(&self, person_id: i64) -> Result<Vec<HistoryEntry>> {
        let conn = self.readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT h.model_version, h.model_hash, h.as_of, h.eligible, h.score, h.grade, h.cause, h.changed_at
             FROM score_history h JOIN models m ON m.version = h.model_version AND m.status <> 'staged'
             WHERE h.person_id = ?1 ORDER BY h.id",
        )?;
        let rows = stmt
            .query_map([person_id], |r| {
                Ok(HistoryEntry {
                    model_version: r.get(0)?,
                    model_hash: r.get(1)?,
                    as_of: date_col(r, 2)?,
                    state: ScoreState {
                        eligible: r.get(3)?,
                        score: r.get(4)?,
                        grade: r.get(5)?,
                    },
                    cause: r.get(6)?,
                    changed_at: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn grade_counts(&self, model_version: &str) -> Result<Vec<(Option<String>, u64)>> {
        let conn = self.readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT grade, count(*) FROM scores WHERE model_version = ?1 GROUP BY grade ORDER BY grade",
        )?;
        let rows = stmt
            .query_map([model_version], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn counts(&self) -> Result<(u64, u64)> {
        let conn = self.readers.get()?;
        let all: i64 = conn.query_row("SELECT count(*) FROM persons", [], |r| r.get(0))?;
        let dirty: i64 =
            conn.query_row("SELECT count(*) FROM persons WHERE dirty = 1", [], |r| {
                r.get(0)
            })?;
        Ok((all as u64, dirty as u64))
    }

    fn stage_model(&self, m: &StoredModel) -> Result<()> {
        self.write(|tx| {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT status FROM models WHERE version = ?1",
                    [&m.version],
                    |r| r.get(0),
                )
                .optional()?;
            match existing.as_deref() {
                Some("staged") | None => {}
                Some(status) => {
                    return Err(StoreError::Conflict(format!(
                        "model {} is already {status}",
                        m.version
                    )));
                }
            }
            tx.execute("DELETE FROM scores WHERE model_version = ?1", [&m.version])?;
            tx.execute(
                "DELETE FROM score_history WHERE model_version = ?1",
                [&m.version],
            )?;
            tx.execute("DELETE FROM models WHERE version = ?1", [&m.version])?;
            tx.execute(
                "INSERT INTO models (version, hash, content, effective_from, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'staged', ?5)",
                params![
                    m.version,
                    m.hash,
                    m.content,
                    m.effective_from.to_string(),
                    now_text()
                ],
            )?;
            Ok(())
        })
    }

    fn activate_model(&self, version: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE models SET status = 'active', activated_at = ?2 WHERE version = ?1 AND status = 'staged'",
                params![version, now_text()],
            )?;
            if n != 1 {
                return Err(StoreError::NotFound(format!("staged model {version}")));
            }
            tx.execute("UPDATE models SET status = 'retired' WHERE status = 'active' AND version <> ?1", [version])?;
            Ok(())
        })
    }

    fn active_model(&self) -> Result<Option<StoredModel>> {
        let conn = self.readers.get()?;
        let m = conn
            .query_row(
                "SELECT version, hash, content, effective_from, status FROM models WHERE status = 'active'",
                [],
                model_row,
            )
            .optional()?;
        Ok(m)
    }

    fn models(&self) -> Result<Vec<StoredModel>> {
        let conn = self.readers.get()?;
        let mut stmt = conn.prepare(
            "SELECT version, hash, content, effective_from, status FROM models ORDER BY created_at",
        )?;
        let rows = stmt
            .query_map([], model_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn add_unit(&self, unit: &UnitRow, key_hash: &[u8], change: &Change<'_>) -> Result<()> {
        self.write(|tx| units::add(tx, unit, key_hash, change))
    }

    fn units(&self) -> Result<Vec<UnitRow>> {
        let conn = self.readers.get()?;
        units::list(&conn)
    }

    fn unit_by_key(&self, key_hash: &[u8]) -> Result<Option<UnitRow>> {
        let conn = self.readers.get()?;
        units::by_key(&conn, key_hash)
    }

    fn set_unit_key(&self, code: &str, key_hash: &[u8], change: &Change<'_>) -> Result<()> {
        self.write(|tx| units::set_key(tx, code, key_hash, change))
    }

    fn disable_unit(&self, code: &str, change: &Change<'_>) -> Result<()> {
        self.write(|tx| units::disable(tx, code, change))
    }

    fn claim_batch(
        &self,
        unit: &str,
        key: Option<&str>,
        new_id: &str,
        lease_until: i64,
    ) -> Result<BatchClaim> {
        self.write(|tx| units::claim(tx, unit, key, new_id, lease_until))
    }

    fn renew_batch(&self, id: &str, lease_until: i64) -> Result<()> {
        self.write(|tx| units::renew(tx, id, lease_until))
    }

    fn finish_batch(
        &self,
        id: &str,
        body_hash: &[u8],
        receipt: &str,
        change: &Change<'_>,
    ) -> Result<()> {
        self.write(|tx| units::finish(tx, id, body_hash, receipt, change))
    }

    fn batch(&self, id: &str) -> Result<Option<BatchRow>> {
        let conn = self.readers.get()?;
        units::get(&conn, id)
    }

    fn append_audit(&self, events: &[chengxin_domain::audit::AuditEvent]) -> Result<()> {
        self.write(|tx| audit::append_tx(tx, events.to_vec()))
    }

    fn audit_entries(
        &self,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<chengxin_domain::audit::AuditEntry>> {
        let conn = self.readers.get()?;
        audit::entries(&conn, after_seq, limit)
    }

    fn audit_head(&self) -> Result<(i64, String)> {
        let conn = self.readers.get()?;
        let head = conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(head)
    }
}
