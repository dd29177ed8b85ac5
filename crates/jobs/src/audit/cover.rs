//! `audit verify`'s check of the data tables against the log: every record
//! version (a `records` row) and every score change (a `score_history` row)
//! is covered by an audit entry, named as `audit_events` describes. A row
//! written behind the log's back, or a log entry whose row was removed, is
//! named.

use std::collections::HashMap;

use chengxin_domain::audit::AuditEvent;
use chengxin_store::ReadTx;

use super::AuditFailure;

/// Rows read per page.
const PAGE: usize = 50_000;

/// What the log's entries cover.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    records: Vec<[i64; 2]>,
    /// Score changes per person.
    changes: HashMap<i64, i64>,
    /// A `scores.changed` entry from before entries named their persons:
    /// score history cannot be checked person by person.
    unnamed_changes: bool,
}

fn subject_id(e: &AuditEvent, prefix: &str) -> Option<i64> {
    e.subject.as_deref()?.strip_prefix(prefix)?.parse().ok()
}

fn ranges(v: &serde_json::Value) -> Option<Vec<[i64; 2]>> {
    serde_json::from_value(v.clone()).ok()
}

impl Coverage {
    /// Notes what an entry covers.
    pub(super) fn note(&mut self, e: &AuditEvent) {
        match e.action.as_str() {
            "record.accepted" | "record.corrected" => {
                if let Some(id) = subject_id(e, "record:") {
                    self.records.push([id, id]);
                }
            }
            "records.ingested" => match ranges(&e.detail["records"]) {
                Some(r) => self.records.extend(r),
                // Entries from before ranges were written name a span.
                None => {
                    if let (Some(a), Some(b)) = (
                        e.detail["first_record"].as_i64(),
                        e.detail["last_record"].as_i64(),
                    ) {
                        self.records.push([a, b]);
                    }
                }
            },
            "score.changed" => {
                if let Some(id) = subject_id(e, "person:") {
                    *self.changes.entry(id).or_default() += 1;
                }
            }
            "scores.changed" => match ranges(&e.detail["persons"]) {
                Some(r) => {
                    for [a, b] in r {
                        for id in a..=b {
                            *self.changes.entry(id).or_default() += 1;
                        }
                    }
                }
                None => self.unnamed_changes = true,
            },
            _ => {}
        }
    }

    /// Checks the data tables, as `tx` sees them, against what was noted.
    /// Returns (record versions, score changes) checked.
    pub(super) fn check(mut self, tx: &mut dyn ReadTx) -> Result<(u64, u64), AuditFailure> {
        let uncovered = |what: String| AuditFailure::Uncovered(what);
        self.records.sort_unstable();
        let mut covered = self.records.iter().peekable();
        let (mut after, mut records) = (0i64, 0u64);
        loop {
            let ids = tx.record_ids(after, PAGE)?;
            let Some(&last) = ids.last() else { break };
            for id in ids {
                while covered.peek().is_some_and(|r| r[1] < id) {
                    covered.next();
                }
                if covered.peek().is_none_or(|r| r[0] > id) {
                    return Err(uncovered(format!(
                        "record version {id} is stored but no audit entry records it: it was written behind the log's back"
                    )));
                }
                records += 1;
            }
            after = last;
        }
        if self.unnamed_changes {
            return Ok((records, 0));
        }
        let (mut after, mut changes) = (0i64, 0u64);
        loop {
            let page = tx.history_counts(after, PAGE)?;
            let Some(&(last, _)) = page.last() else { break };
            for (person, rows) in page {
                let logged = self.changes.remove(&person).unwrap_or(0);
                if rows != logged {
                    return Err(uncovered(format!(
                        "person {person} has {rows} score changes stored but {logged} in the audit log: score history was changed behind the log's back"
                    )));
                }
                changes += rows.unsigned_abs();
            }
            after = last;
        }
        if let Some((person, logged)) = self.changes.iter().find(|(_, n)| **n > 0) {
            return Err(uncovered(format!(
                "person {person} has {logged} score changes in the audit log but none stored: score history was removed"
            )));
        }
        Ok((records, changes))
    }
}
