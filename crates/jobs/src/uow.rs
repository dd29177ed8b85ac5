//! Running a use case as one unit of work: who makes the change (for the
//! audit log), and retrying the whole unit when a concurrent one got to the
//! same rows first.

use chengxin_domain::record::Outcome;
use chengxin_store::{Cause, Store, WriteTx};

use crate::JobError;

/// How often a unit of work is tried before a conflict is reported.
const ATTEMPTS: u32 = 8;

/// Who makes a change, and how finely it is audited.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub cause: Cause,
    /// `unit:SX-TAX`, `operator:cli`, `system`.
    pub actor: &'a str,
    /// Our id of the request (never one the client chose).
    pub request_id: Option<&'a str>,
    /// The id the client gave its request, kept apart from ours: audit
    /// entries carry it as `detail.client_request_id`.
    pub client_request_id: Option<&'a str>,
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
            client_request_id: None,
            granular: false,
        }
    }

    /// A request's change: one audit entry per record and score change.
    pub fn request(cause: Cause, actor: &'a str, request_id: Option<&'a str>) -> Change<'a> {
        Change {
            cause,
            actor,
            request_id,
            client_request_id: None,
            granular: true,
        }
    }

    /// The same change, naming the client's own id for its request.
    pub fn with_client_request_id(mut self, id: Option<&'a str>) -> Change<'a> {
        self.client_request_id = id;
        self
    }
}

/// The result of storing one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowResult {
    pub outcome: Outcome,
    pub record_id: i64,
    pub person_id: i64,
}

/// Runs `work` in a write unit of work and commits it; runs it again (from
/// the start, in a new unit of work) when a concurrent writer got first.
pub fn write<T>(
    store: &dyn Store,
    work: impl FnMut(&mut dyn WriteTx) -> Result<T, JobError>,
) -> Result<T, JobError> {
    write_marked(store, work, true)
}

/// [`write`] without the `commit.*` fail points: for work a timer does
/// (renewing a batch's lease), whose number of commits depends on time,
/// so that a crash test's count of the data path's commits stays exact.
pub(crate) fn write_on_timer<T>(
    store: &dyn Store,
    work: impl FnMut(&mut dyn WriteTx) -> Result<T, JobError>,
) -> Result<T, JobError> {
    write_marked(store, work, false)
}

fn write_marked<T>(
    store: &dyn Store,
    mut work: impl FnMut(&mut dyn WriteTx) -> Result<T, JobError>,
    marked: bool,
) -> Result<T, JobError> {
    let hit = |point| {
        if marked {
            crate::failpoint::hit(point);
        }
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = store.write().map_err(JobError::from).and_then(|mut tx| {
            let out = work(&mut *tx)?;
            hit("commit.before");
            tx.commit()?;
            hit("commit.after");
            Ok(out)
        });
        match result {
            Err(JobError::Store(e)) if e.is_retryable() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "unit of work runs again");
                let pause = 1u64 << attempt.min(6);
                std::thread::sleep(std::time::Duration::from_millis(
                    rand::random::<u64>() % pause,
                ));
            }
            other => return other,
        }
    }
}
