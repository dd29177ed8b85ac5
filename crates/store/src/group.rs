//! Group commit for the audit entries of reads: callers that arrive while a
//! commit is running wait together, and the next caller to find no commit
//! running (the leader) writes everything queued in one transaction. Each
//! caller returns only once its entries are durable, yet a thousand
//! concurrent reads cost a handful of commits, not a thousand.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use chengxin_domain::audit::AuditEvent;

use crate::{Result, StoreError};

/// Failures kept for waiters that have not woken yet.
const KEEP_FAILURES: u64 = 1024;

#[derive(Default)]
struct State {
    /// Entries waiting for the next commit, all of group `open`.
    pending: Vec<AuditEvent>,
    /// The group new entries join.
    open: u64,
    /// Every group up to this one has been committed (or failed).
    done: Option<u64>,
    committing: bool,
    /// Groups whose commit failed, with the error.
    failed: BTreeMap<u64, String>,
}

/// Queues entries and commits them in groups.
///
/// Waiters sleep on the condition variable of their group's parity: while
/// group `g` commits, only `g` (committing) and `g + 1` (open) can have
/// waiters, so a finished commit wakes exactly its own group's callers, and
/// one caller of the open group to lead the next commit, rather than
/// everyone (most of whom would only go back to sleep).
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    wake: [Condvar; 2],
}

/// The condition variable group `g`'s waiters sleep on.
fn parity(g: u64) -> usize {
    (g % 2) as usize
}

impl GroupCommit {
    /// Adds `events` to the next group and returns once that group is
    /// committed by `commit` (called by whichever waiter leads).
    pub(crate) fn submit(
        &self,
        events: Vec<AuditEvent>,
        commit: &dyn Fn(Vec<AuditEvent>) -> Result<()>,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let poisoned = || StoreError::Corrupt("audit group commit poisoned".into());
        let mut st = self.state.lock().map_err(|_| poisoned())?;
        st.pending.extend(events);
        let mine = st.open;
        loop {
            if st.done.is_some_and(|d| d >= mine) {
                return match st.failed.get(&mine) {
                    Some(e) => Err(StoreError::Conflict(format!(
                        "the audit entry could not be stored: {e}"
                    ))),
                    None => Ok(()),
                };
            }
            if !st.committing {
                st.committing = true;
                let group = st.open;
                st.open += 1;
                let batch = std::mem::take(&mut st.pending);
                drop(st);
                let result = commit(batch);
                st = self.state.lock().map_err(|_| poisoned())?;
                st.committing = false;
                st.done = Some(group);
                if let Err(e) = result {
                    st.failed.insert(group, e.to_string());
                }
                while st
                    .failed
                    .first_key_value()
                    .is_some_and(|(&g, _)| g + KEEP_FAILURES < group)
                {
                    st.failed.pop_first();
                }
                self.wake[parity(group)].notify_all();
                if !st.pending.is_empty() {
                    // The open group's entries need a leader.
                    self.wake[parity(st.open)].notify_one();
                }
                continue;
            }
            st = self.wake[parity(mine)].wait(st).map_err(|_| poisoned())?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

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

    #[test]
    fn concurrent_callers_share_commits_and_every_entry_is_written() {
        let group = Arc::new(GroupCommit::default());
        let written = Arc::new(Mutex::new(Vec::new()));
        let commits = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..32)
            .map(|i| {
                let (group, written, commits) = (group.clone(), written.clone(), commits.clone());
                std::thread::spawn(move || {
                    for j in 0..20 {
                        group
                            .submit(vec![event(i * 100 + j)], &|batch| {
                                commits.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(std::time::Duration::from_millis(1));
                                written.lock().unwrap().extend(batch);
                                Ok(())
                            })
                            .unwrap();
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
    fn a_failed_commit_fails_its_callers_only() {
        let group = GroupCommit::default();
        let err = group
            .submit(vec![event(1)], &|_| Err(StoreError::Corrupt("disk".into())))
            .unwrap_err();
        assert!(err.to_string().contains("disk"));
        group.submit(vec![event(2)], &|_| Ok(())).unwrap();
    }
}
