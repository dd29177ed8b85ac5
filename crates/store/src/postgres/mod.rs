//! The PostgreSQL backend: the production store. A pool of sessions; every
//! write is one transaction that takes a transaction-scoped advisory lock, so
//! writes are serialised exactly as SQLite serialises them while reads and
//! scans never wait. Batches take a few set-wise statements each: new rows
//! are `COPY`ed in under ids drawn beforehand, and a scan streams one row
//! per person with their counting records packed (see `packed`).

mod audit;
mod conn;
mod copy;
mod ingest;
mod migrate;
mod models;
mod packed;
mod people;
mod read;
mod scores;
mod sqltypes;
mod units;

use std::str::FromStr;

use chengxin_domain::record::RecordStatus;
use chengxin_domain::IdNumber;

use crate::crypto::DataKeys;
use chengxin_domain::audit::{AuditEntry, AuditEvent};

use crate::{
    BatchClaim, BatchRow, Change, HistoryEntry, Inline, ModelStamp, NewRecord, RawPerson, Result,
    RowResult, Scan, ScoreRow, Store, StoreError, StoredModel, StoredRecord, StoredScore, UnitRow,
};

use conn::{Conn, Manager, Tx};

/// Advisory lock key held by every write transaction ("chengxio" in ASCII).
const WRITE_LOCK: i64 = 0x6368_656e_6778_696f;

/// Sessions in the pool: a scan, the saves it feeds and a few requests.
const POOL_SIZE: u32 = 12;

/// The PostgreSQL store.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    keys: DataKeys,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`, no TLS), migrates
    /// it and returns the store.
    pub fn open(url: &str, keys: DataKeys) -> Result<Box<dyn Store>> {
        let config = postgres::Config::from_str(url)?;
        let manager = Manager::new(config);
        // Connect once directly, so a bad URL or password fails at once with
        // the server's reason instead of after the pool's timeout.
        let mut first = r2d2::ManageConnection::connect(&manager)?;
        migrate::migrate(&mut first)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Box::new(PgStore { pool, keys }))
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in a write transaction and commits it.
    fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
            let mut audit = crate::audit::IngestAudit::new(change);
            let (results, touched) = ingest::ingest_tx(tx, &self.keys, rows, &mut audit)?;
            audit::append_tx(tx, audit.finish())?;
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
            let Some(row) = tx.query_opt(
                "SELECT r.id, r.person_id, r.status, p.id_index FROM records r JOIN persons p ON p.id = r.person_id
                 WHERE r.unit = $1 AND r.source_id = $2 ORDER BY r.version DESC LIMIT 1",
                &[&unit, &source_id],
            )?
            else {
                return Ok(None);
            };
            let (id, person_id): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let status: String = row.try_get(2)?;
            let index: Vec<u8> = row.try_get(3)?;
            let status = RecordStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("record {id} has status {status}")))?;
            let result = RowResult { outcome: crate::Outcome::Duplicate, record_id: id, person_id };
            if status == RecordStatus::Withdrawn {
                return Ok(Some(result));
            }
            let next = status
                .apply(chengxin_domain::record::RecordEvent::Withdraw)
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            tx.execute(
                "UPDATE records SET status = $2, status_reason = $3 WHERE id = $1",
                &[&id, &next.as_str(), &reason],
            )?;
            people::records_changed(tx, &[person_id])?;
            audit::append_tx(tx, vec![crate::audit::withdrawn(change, unit, source_id, id, reason, &index)])?;
            if let Some(inline) = inline {
                rescore_tx(tx, &[person_id], inline, change)?;
            }
            Ok(Some(RowResult { outcome: crate::Outcome::Corrected, ..result }))
        })
    }

    fn find_person(&self, id: &IdNumber) -> Result<Option<i64>> {
        let index = self.keys.blind_index(id.as_str().as_bytes());
        self.read(|c| {
            c.query_opt("SELECT id FROM persons WHERE id_index = $1", &[&&index[..]])?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(StoreError::from)
        })
    }

    fn load_person(&self, person_id: i64, model_version: &str) -> Result<Option<RawPerson>> {
        self.read(|c| read::load_person(c, person_id, model_version))
    }

    fn person_records(&self, person_id: i64) -> Result<Vec<StoredRecord>> {
        self.read(|c| read::person_records(c, person_id))
    }

    fn person_identity(&self, person_id: i64) -> Result<(IdNumber, Option<String>)> {
        let row = self
            .read(|c| {
                c.query_opt(
                    "SELECT id_cipher, name_cipher FROM persons WHERE id = $1",
                    &[&person_id],
                )
            })?
            .ok_or_else(|| StoreError::NotFound(format!("person {person_id}")))?;
        let id: &[u8] = row.try_get(0)?;
        let name: Option<&[u8]> = row.try_get(1)?;
        crate::decrypt_identity(&self.keys, id, name)
    }

    fn scan(
        &self,
        scan: Scan<'_>,
        batch: usize,
        sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
    ) -> Result<()> {
        let (model_version, dirty_only) = match scan {
            Scan::All { model_version } => (model_version, false),
            Scan::Dirty { model_version } => (model_version, true),
        };
        self.read(|c| read::scan(c, dirty_only, model_version, batch, sink))
    }

    fn save_scores(
        &self,
        rows: &[ScoreRow],
        stamp: &ModelStamp,
        change: &Change<'_>,
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        self.write(|tx| scores::save_scores_tx(tx, rows, stamp, change))
    }

    fn score(&self, person_id: i64, model_version: &str) -> Result<Option<StoredScore>> {
        self.read(|c| scores::score(c, person_id, model_version))
    }

    fn score_history(&self, person_id: i64) -> Result<Vec<HistoryEntry>> {
        self.read(|c| scores::score_history(c, person_id))
    }

    fn grade_counts(&self, model_version: &str) -> Result<Vec<(Option<String>, u64)>> {
        self.read(|c| scores::grade_counts(c, model_version))
    }

    fn counts(&self) -> Result<(u64, u64)> {
        self.read(scores::counts)
    }

    fn stage_model(&self, model: &StoredModel) -> Result<()> {
        self.write(|tx| models::stage(tx, model))
    }

    fn activate_model(&self, version: &str) -> Result<()> {
        self.write(|tx| models::activate(tx, version))
    }

    fn active_model(&self) -> Result<Option<StoredModel>> {
        self.read(models::active)
    }

    fn models(&self) -> Result<Vec<StoredModel>> {
        self.read(models::all)
    }

    fn add_unit(&self, unit: &UnitRow, key_hash: &[u8], change: &Change<'_>) -> Result<()> {
        self.write(|tx| units::add(tx, unit, key_hash, change))
    }

    fn units(&self) -> Result<Vec<UnitRow>> {
        self.read(units::list)
    }

    fn unit_by_key(&self, key_hash: &[u8]) -> Result<Option<UnitRow>> {
        self.read(|c| units::by_key(c, key_hash))
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
        self.read(|c| units::get(c, id))
    }

    fn append_audit(&self, events: &[AuditEvent]) -> Result<()> {
        self.write(|tx| audit::append_tx(tx, events.to_vec()))
    }

    fn audit_entries(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(|c| audit::entries(c, after_seq, limit))
    }

    fn audit_head(&self) -> Result<(i64, String)> {
        self.read(audit::head)
    }
}

/// Rescores people inside the caller's transaction.
fn rescore_tx(
    tx: &mut Tx<'_>,
    touched: &[i64],
    inline: &Inline<'_>,
    change: &Change<'_>,
) -> Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    for model in models::in_play(tx)? {
        let people = read::load_people(tx, touched, &model.version)?;
        if let Some(scores) = inline.score_all(&model, &people)? {
            scores::save_scores_tx(tx, &scores, &inline.stamp(&model), change)?;
        }
    }
    Ok(())
}
