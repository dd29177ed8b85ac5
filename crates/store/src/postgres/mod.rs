//! The PostgreSQL backend: the production store. A pool of sessions; write
//! units of work run in parallel. What orders them:
//!
//! - people and record cases: a unit of work locks the heads of the cases it
//!   changes and the people whose records it changes (in id order, so two
//!   cannot deadlock on them); the unique index on `(unit, source_id,
//!   version)` turns two first arrivals of one case into a retry;
//! - scores: every write is guarded by the revision it was computed from,
//!   so a slow writer never stores an older score over a newer one;
//! - models: readers of the models in play hold a shared advisory lock that
//!   staging and activation take exclusively (see `models`);
//! - the audit log: a unit of work adds its entries to a pending table with
//!   no lock, and a sequencer seals them into the hash chain within a bounded
//!   delay, as Certificate Transparency logs do (see `audit`). Holding the
//!   head row through every writer's commit made it the one queue all
//!   pushes waited in (measured: 27 of 32 sessions waiting on it). The chain
//!   stays gap-free; every committed change has its entry, pending or sealed.
//!
//! Round trips are what a unit of work pays for on a loaded machine (each
//! one wakes the server and the client), so few are made: `BEGIN` goes out
//! with the first statement, a shared lock and the read it guards go out
//! together (simple protocol, constant SQL), a few scores are written in
//! one statement, and the audit entries go out with the `COMMIT`. Every
//! other statement is prepared once per session and cached (`conn`). A
//! single push over HTTP makes 13 round trips (it made 21): the unit's
//! key, the catalogue numbers, then in its unit of work `BEGIN` with the
//! numbers, the models in play, people, case heads, insert, lock people,
//! repack and mark, load, current scores, the score write, audit with
//! `COMMIT`.
//!
//! Batches take a few set-wise statements each: new records are `COPY`ed in
//! under ids drawn beforehand, and a scan streams one row per person with
//! their counting records packed (see `packed`).

mod audit;
mod calendar;
mod catalogue;
mod certificates;
mod conn;
mod copy;
mod daily;
mod migrate;
mod models;
mod objections;
mod packed;
mod parties;
mod people;
mod read;
mod records;
mod repairs;
mod rotation;
mod scenarios;
mod scores;
mod sqltypes;
mod staff;
mod stats;
mod submissions;
mod tls;
mod tx;
mod units;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chengxin_domain::audit::AuditEvent;

use crate::crypto::DataKeys;
use crate::group::{Durable, GroupCommit};
use crate::uow::{ReadTx, WriteTx};
use crate::{RawPerson, Result, Scan, Store, StoreError};

use conn::Manager;

/// Sessions in the pool: concurrent requests, a scan and the saves it feeds.
const POOL_SIZE: u32 = 40;

/// The PostgreSQL store.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    keys: DataKeys,
    reads: GroupCommit,
    /// Tells the sealing thread to stop.
    stop: Arc<AtomicBool>,
}

impl Drop for PgStore {
    /// Seals what this process left pending, so a command that ends leaves
    /// a complete chain behind it.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.reads.close();
        if let Err(e) = self.seal_audit() {
            tracing::warn!(error = %e, "audit entries left pending for the next sequencer");
        }
    }
}

/// Seals pending audit entries every [`audit::SEAL_EVERY`] until stopped.
/// Also writes a signed checkpoint every [`crate::checkpoint_interval`]
/// when entries were appended since the last one.
fn spawn_sealer(pool: r2d2::Pool<Manager>, keys: DataKeys, stop: Arc<AtomicBool>) -> Result<()> {
    let key = crate::audit_key(&keys)?.clone();
    std::thread::Builder::new()
        .name("audit-sealer".into())
        .spawn(move || {
            let mut since_signed = std::time::Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(audit::SEAL_EVERY);
                since_signed += audit::SEAL_EVERY;
                let sign = since_signed >= crate::checkpoint_interval();
                if sign {
                    since_signed = std::time::Duration::ZERO;
                }
                let sealed = pool.get().map_err(StoreError::from).and_then(|mut c| {
                    if sign {
                        audit::request_checkpoint_if_unsigned(&mut c)?;
                    }
                    audit::seal(&mut c, &key)
                });
                if let Err(e) = sealed {
                    tracing::warn!(error = %e, "sealing audit entries failed; retrying");
                }
            }
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot start the audit sealer: {e}")))?;
    Ok(())
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) with `keys`,
    /// migrates it and returns the store.
    pub fn open(url: &str, keys: DataKeys) -> Result<Box<dyn Store>> {
        PgStore::open_with(url, crate::binding::given(keys))
    }

    /// Connects to the database at `url`, migrates it, and checks the keys
    /// `load` gives against the ones the database was created with.
    pub fn open_with(url: &str, load: crate::binding::KeyLoader<'_>) -> Result<Box<dyn Store>> {
        let manager = Manager::from_url(url)?;
        // Connect once directly, so a bad URL or password fails at once with
        // the server's reason instead of after the pool's timeout.
        let mut first = r2d2::ManageConnection::connect(&manager).map_err(|e| {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                text.push_str(": ");
                text.push_str(&c.to_string());
                cause = c.source();
            }
            StoreError::Connect(text)
        })?;
        migrate::migrate(&mut first)?;
        let state = audit::key_state(&mut first)?;
        let (keys, origin) = load(&state)?;
        if let Some(b) = crate::binding::check(&state, &keys, &origin)? {
            audit::bind(&mut first, &b, !state.empty)?;
        }
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .build(manager)?;
        let stop = Arc::new(AtomicBool::new(false));
        spawn_sealer(pool.clone(), keys.clone(), Arc::clone(&stop))?;
        let (committer, committer_keys) = (pool.clone(), keys.clone());
        let reads = GroupCommit::start(Box::new(move |batch| {
            let mut tx: Box<dyn WriteTx> = Box::new(tx::PgTx::begin(
                committer.get()?,
                &committer_keys,
                tx::Mode::Write,
            )?);
            tx.append_audit(batch);
            tx.commit()
        }))?;
        let store = PgStore {
            pool,
            keys,
            reads,
            stop,
        };
        // Entries a process left pending when it died are sealed now.
        store.seal_audit()?;
        Ok(Box::new(store))
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn keys(&self) -> &DataKeys {
        &self.keys
    }

    fn write(&self) -> Result<Box<dyn WriteTx + '_>> {
        Ok(Box::new(tx::PgTx::begin(
            self.pool.get()?,
            &self.keys,
            tx::Mode::Write,
        )?))
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>> {
        Ok(Box::new(tx::PgTx::begin(
            self.pool.get()?,
            &self.keys,
            tx::Mode::Read,
        )?))
    }

    fn snapshot(&self) -> Result<Box<dyn ReadTx + '_>> {
        Ok(Box::new(tx::PgTx::begin(
            self.pool.get()?,
            &self.keys,
            tx::Mode::Snapshot,
        )?))
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
        let mut conn = self.pool.get()?;
        read::scan(&mut conn, dirty_only, model_version, batch, sink)
    }

    fn seal_audit(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        audit::seal(&mut conn, crate::audit_key(&self.keys)?)
    }

    fn enqueue_reads(&self, events: Vec<AuditEvent>) -> Durable {
        self.reads.enqueue(events)
    }
}

/// Whether an error means "a concurrent unit of work got there first".
pub(crate) fn is_retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if is_retryable(&e) {
            StoreError::Retry(e.to_string())
        } else {
            StoreError::Postgres(e)
        }
    }
}
