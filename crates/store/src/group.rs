//! Group commit for the audit entries of reads. Callers queue their entries
//! and get a [`Durable`] ticket; one committer thread per store takes
//! everything queued, writes it in one transaction and then settles every
//! ticket of that group. A caller's answer waits on its ticket, so each
//! entry is durable before its read is answered, yet a thousand concurrent
//! reads cost a handful of commits, not a thousand.
//!
//! The ticket can be waited on by a blocking thread ([`Durable::wait`]) or
//! awaited by an async task (it is a `Future`): a server's request then
//! waits for the commit without holding a thread, and the committer wakes
//! the tasks of a group with their runtime's own wake-ups instead of one
//! parked thread per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use chengxin_domain::audit::AuditEvent;

use crate::{Result, StoreError};

/// How a group is written: one transaction holding every entry given.
pub(crate) type Commit = Box<dyn FnMut(Vec<AuditEvent>) -> Result<()> + Send>;

/// One caller's entries and where to say how their commit went.
struct Job {
    events: Vec<AuditEvent>,
    slot: Arc<Slot>,
}

/// A ticket's shared state: the outcome once known, and who to wake.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    settled: Condvar,
}

#[derive(Default)]
struct SlotState {
    /// `Some` once the group is committed (`Ok`) or failed (the reason).
    outcome: Option<std::result::Result<(), String>>,
    waker: Option<Waker>,
}

impl Slot {
    fn settle(&self, outcome: std::result::Result<(), String>) {
        let waker = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.outcome = Some(outcome);
            st.waker.take()
        };
        self.settled.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Settles once the entries it was given for are durable (or could not be
/// stored). Wait on it with [`Durable::wait`] from a blocking thread, or
/// `.await` it.
#[must_use = "the entries are durable only once the ticket is settled"]
pub struct Durable(Option<Arc<Slot>>);

impl Durable {
    /// A ticket for nothing: settled at once.
    pub fn settled() -> Self {
        Durable(None)
    }

    /// Blocks until the entries are durable.
    pub fn wait(self) -> Result<()> {
        let Some(slot) = self.0 else { return Ok(()) };
        let mut st = slot.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = st.outcome.take() {
                return outcome.map_err(failed);
            }
            st = slot.settled.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Future for Durable {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(slot) = &self.0 else {
            return Poll::Ready(Ok(()));
        };
        let mut st = slot.state.lock().unwrap_or_else(|e| e.into_inner());
        match &st.outcome {
            Some(outcome) => Poll::Ready(outcome.clone().map_err(failed)),
            None => {
                if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

fn failed(reason: String) -> StoreError {
    StoreError::Conflict(format!("the audit entry could not be stored: {reason}"))
}

/// Queues entries and commits them in groups on its own thread.
pub(crate) struct GroupCommit {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    /// Starts the committer thread, which writes each group with `commit`.
    pub(crate) fn start(mut commit: Commit) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("audit-reads".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    jobs.extend(rx.try_iter());
                    let events = jobs.iter_mut().flat_map(|j| j.events.drain(..)).collect();
                    // A panic must not leave the group's callers waiting forever.
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(events)))
                            .unwrap_or_else(|_| {
                                Err(StoreError::Corrupt("the audit commit panicked".into()))
                            })
                            .map_err(|e| e.to_string());
                    for job in jobs {
                        job.slot.settle(outcome.clone());
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the audit committer: {e}")))?;
        Ok(GroupCommit {
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Adds `events` to the next group; the ticket settles once it is committed.
    pub(crate) fn enqueue(&self, events: Vec<AuditEvent>) -> Durable {
        if events.is_empty() {
            return Durable::settled();
        }
        let slot = Arc::new(Slot::default());
        let queued = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|q| {
                q.send(Job {
                    events,
                    slot: Arc::clone(&slot),
                })
            });
        if !matches!(queued, Some(Ok(()))) {
            slot.settle(Err("the store is closing".into()));
        }
        Durable(Some(slot))
    }

    /// Commits what is queued and stops the committer; later entries are
    /// refused. Called before a store's last seal.
    pub(crate) fn close(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn event(i: usize) -> AuditEvent {
        AuditEvent {
            actor: format!("t{i}"),
            action: "person.read".into(),
            subject: None,
            person: None,
            request_id: None,
            detail: serde_json::Value::Null,
        }
    }

    fn recording() -> (GroupCommit, Arc<Mutex<Vec<AuditEvent>>>, Arc<AtomicUsize>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let commits = Arc::new(AtomicUsize::new(0));
        let (w, c) = (written.clone(), commits.clone());
        let group = GroupCommit::start(Box::new(move |batch| {
            c.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(1));
            w.lock().unwrap().extend(batch);
            Ok(())
        }))
        .unwrap();
        (group, written, commits)
    }

    #[test]
    fn concurrent_callers_share_commits_and_every_entry_is_written() {
        let (group, written, commits) = recording();
        let group = Arc::new(group);
        let threads: Vec<_> = (0..32)
            .map(|i| {
                let (group, written) = (group.clone(), written.clone());
                std::thread::spawn(move || {
                    for j in 0..20 {
                        let id = format!("t{}", i * 100 + j);
                        group.enqueue(vec![event(i * 100 + j)]).wait().unwrap();
                        // Settled means written.
                        assert!(written.lock().unwrap().iter().any(|e| e.actor == id));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let written = written.lock().unwrap();
        assert_eq!(written.len(), 640);
        let mut actors: Vec<&str> = written.iter().map(|e| e.actor.as_str()).collect();
        actors.sort_unstable();
        actors.dedup();
        assert_eq!(actors.len(), 640, "each entry exactly once");
        assert!(commits.load(Ordering::Relaxed) < 640, "commits were shared");
    }

    #[test]
    fn an_awaited_ticket_settles_after_its_commit() {
        let (group, written, _) = recording();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let group = Arc::new(group);
        rt.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let (group, written) = (group.clone(), written.clone());
                    tokio::spawn(async move {
                        group.enqueue(vec![event(i)]).await.unwrap();
                        let id = format!("t{i}");
                        assert!(written.lock().unwrap().iter().any(|e| e.actor == id));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(written.lock().unwrap().len(), 64);
    }

    #[test]
    fn a_failed_commit_fails_its_callers_only() {
        let f = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let group = GroupCommit::start(Box::new(move |_| {
            if f.swap(false, Ordering::Relaxed) {
                Err(StoreError::Corrupt("disk".into()))
            } else {
                Ok(())
            }
        }))
        .unwrap();
        let err = group.enqueue(vec![event(1)]).wait().unwrap_err();
        assert!(err.to_string().contains("disk"));
        group.enqueue(vec![event(2)]).wait().unwrap();
    }

    #[test]
    fn a_panicking_commit_fails_its_callers_and_the_next_group_is_written() {
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let group = GroupCommit::start(Box::new(move |_| {
            if first.swap(false, Ordering::Relaxed) {
                panic!("commit failed hard");
            }
            Ok(())
        }))
        .unwrap();
        let err = group.enqueue(vec![event(1)]).wait().unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
        group.enqueue(vec![event(2)]).wait().unwrap();
    }

    #[test]
    fn entries_queued_before_close_are_committed_and_later_ones_refused() {
        let (group, written, _) = recording();
        let tickets: Vec<_> = (0..10).map(|i| group.enqueue(vec![event(i)])).collect();
        group.close();
        assert_eq!(written.lock().unwrap().len(), 10);
        for t in tickets {
            t.wait().unwrap();
        }
        assert!(group.enqueue(vec![event(11)]).wait().is_err());
        Durable::settled().wait().unwrap();
    }
}
