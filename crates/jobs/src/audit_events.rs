//! Building the audit events that accompany changes, once for every
//! backend. Requests get one entry per record and per score change; bulk
//! jobs get one entry per transaction with a digest of everything it changed.
//!
//! How entries name the rows they cover (what `audit verify` checks the data
//! tables against): a record version (a `records` row) by `subject`
//! `record:ID` (`record.accepted`, `record.corrected`) or by the ranges of
//! ids in `detail.records` (`records.ingested`); a score change (a
//! `score_history` row) by `subject` `person:ID` (`score.changed`) or, one
//! per person, by the ranges in `detail.persons` (`scores.changed`).

use chengxin_domain::audit::{id_ranges, AuditEvent};
use chengxin_domain::record::{NewRecord, Outcome};
use chengxin_store::{person_ref, ModelStamp, ScoreChange, ScoreState};
use serde_json::json;

use crate::uow::{Change, RowResult};

fn event(
    change: &Change<'_>,
    action: &str,
    subject: Option<String>,
    person: Option<String>,
    mut detail: serde_json::Value,
) -> AuditEvent {
    if let (Some(id), Some(d)) = (change.client_request_id, detail.as_object_mut()) {
        d.insert("client_request_id".into(), id.into());
    }
    AuditEvent {
        actor: change.actor.to_owned(),
        action: action.to_owned(),
        subject,
        person,
        request_id: change.request_id.map(str::to_owned),
        detail,
    }
}

/// Collects the audit of one ingest transaction.
pub(crate) struct IngestAudit<'c> {
    change: &'c Change<'c>,
    events: Vec<AuditEvent>,
    accepted: u64,
    corrected: u64,
    duplicate: u64,
    renamed: u64,
    first: Option<i64>,
    last: Option<i64>,
    ids: Vec<i64>,
    digest: sha2::Sha256,
}

impl<'c> IngestAudit<'c> {
    pub(crate) fn new(change: &'c Change<'c>) -> Self {
        use sha2::Digest;
        IngestAudit {
            change,
            events: Vec::new(),
            accepted: 0,
            corrected: 0,
            duplicate: 0,
            renamed: 0,
            first: None,
            last: None,
            ids: Vec::new(),
            digest: sha2::Sha256::new(),
        }
    }

    /// A record version was stored.
    pub(crate) fn stored(
        &mut self,
        row: &NewRecord,
        r: &RowResult,
        version: i64,
        index: &[u8],
        hash: &[u8],
    ) {
        use sha2::Digest;
        let action = if r.outcome == Outcome::Corrected {
            "record.corrected"
        } else {
            "record.accepted"
        };
        match r.outcome {
            Outcome::Corrected => self.corrected += 1,
            _ => self.accepted += 1,
        }
        self.first.get_or_insert(r.record_id);
        self.last = Some(r.record_id);
        if self.change.granular {
            let detail = json!({"unit": row.unit, "source_id": row.source_id, "item": row.item, "version": version});
            self.events.push(event(
                self.change,
                action,
                Some(format!("record:{}", r.record_id)),
                Some(person_ref(index)),
                detail,
            ));
        } else {
            self.ids.push(r.record_id);
            self.digest.update(r.record_id.to_le_bytes());
            self.digest.update(hash);
        }
    }

    /// A person was renamed by the household registration `record_id`.
    /// The name itself is never in the log.
    pub(crate) fn renamed(&mut self, person_id: i64, index: &[u8], record_id: i64) {
        self.renamed += 1;
        if self.change.granular {
            self.events.push(event(
                self.change,
                "person.renamed",
                Some(format!("person:{person_id}")),
                Some(person_ref(index)),
                json!({ "by_record": record_id }),
            ));
        }
    }

    /// A duplicate was ignored.
    pub(crate) fn duplicate(&mut self) {
        self.duplicate += 1;
    }

    /// The events to append.
    pub(crate) fn finish(self) -> Vec<AuditEvent> {
        use sha2::Digest;
        if self.change.granular || self.accepted + self.corrected == 0 {
            return self.events;
        }
        let detail = json!({
            "cause": self.change.cause.as_str(),
            "accepted": self.accepted, "corrected": self.corrected, "duplicate": self.duplicate,
            "renamed": self.renamed,
            "first_record": self.first, "last_record": self.last,
            "records": id_ranges(&self.ids),
            "sha256": hex::encode(self.digest.finalize()),
        });
        vec![event(self.change, "records.ingested", None, None, detail)]
    }
}

/// Collects the audit of one score-saving transaction.
pub(crate) struct ScoreAudit<'c> {
    change: &'c Change<'c>,
    stamp: &'c ModelStamp,
    events: Vec<AuditEvent>,
    changed: u64,
    persons: Vec<i64>,
    digest: sha2::Sha256,
}

fn state_json(s: Option<&ScoreState>) -> serde_json::Value {
    match s {
        None => serde_json::Value::Null,
        Some(s) => json!({"eligible": s.eligible, "score": s.score, "grade": s.grade}),
    }
}

impl<'c> ScoreAudit<'c> {
    pub(crate) fn new(change: &'c Change<'c>, stamp: &'c ModelStamp) -> Self {
        use sha2::Digest;
        ScoreAudit {
            change,
            stamp,
            events: Vec::new(),
            changed: 0,
            persons: Vec::new(),
            digest: sha2::Sha256::new(),
        }
    }

    /// A person's score changed.
    pub(crate) fn changed(&mut self, c: &ScoreChange) {
        use sha2::Digest;
        self.changed += 1;
        if self.change.granular {
            let detail = json!({
                "cause": self.change.cause.as_str(), "model_version": self.stamp.version,
                "as_of": self.stamp.as_of.to_string(), "old": state_json(c.old.as_ref()), "new": state_json(Some(&c.new)),
            });
            self.events.push(event(
                self.change,
                "score.changed",
                Some(format!("person:{}", c.person_id)),
                Some(person_ref(&c.index)),
                detail,
            ));
        } else {
            self.persons.push(c.person_id);
            self.digest.update(c.person_id.to_le_bytes());
            self.digest.update(c.new.score.unwrap_or(-1).to_le_bytes());
        }
    }

    /// The events to append.
    pub(crate) fn finish(self, saved: usize) -> Vec<AuditEvent> {
        use sha2::Digest;
        if self.change.granular || self.changed == 0 {
            return self.events;
        }
        let detail = json!({
            "cause": self.change.cause.as_str(), "model_version": self.stamp.version,
            "as_of": self.stamp.as_of.to_string(), "saved": saved, "changed": self.changed,
            "persons": id_ranges(&self.persons),
            "sha256": hex::encode(self.digest.finalize()),
        });
        vec![event(self.change, "scores.changed", None, None, detail)]
    }
}

/// The entry for a record moving to another state (`record.withdrawn`,
/// `record.disputed`, …).
pub(crate) fn state_changed(
    change: &Change<'_>,
    action: &str,
    head: &chengxin_store::uow::RecordHead,
    reason: Option<&str>,
    index: &[u8],
) -> AuditEvent {
    let detail = json!({"unit": head.unit, "source_id": head.source_id, "reason": reason});
    event(
        change,
        action,
        Some(format!("record:{}", head.id)),
        Some(person_ref(index)),
        detail,
    )
}

/// The entry for a change to a unit.
pub(crate) fn unit_event(
    change: &Change<'_>,
    action: &str,
    code: &str,
    detail: serde_json::Value,
) -> AuditEvent {
    event(change, action, Some(format!("unit:{code}")), None, detail)
}

/// The entry for a unit reading a batch's receipt.
pub(crate) fn batch_read(change: &Change<'_>, id: &str, found: bool) -> AuditEvent {
    event(
        change,
        "batch.read",
        Some(format!("batch:{id}")),
        None,
        json!({ "found": found }),
    )
}

/// The entry for a completed batch: its counts and the body's digest.
pub(crate) fn batch_completed(
    change: &Change<'_>,
    id: &str,
    body_hash: &[u8],
    receipt: &str,
) -> AuditEvent {
    let r: serde_json::Value = serde_json::from_str(receipt).unwrap_or_default();
    let detail = json!({
        "accepted": r["accepted"], "duplicate": r["duplicate"],
        "corrected": r["corrected"], "rejected": r["rejected"],
        "body_sha256": hex::encode(body_hash),
    });
    event(
        change,
        "batch.completed",
        Some(format!("batch:{id}")),
        None,
        detail,
    )
}

/// An entry about a staff account or session: subject `staff:NAME`.
pub(crate) fn staff_event(
    change: &Change<'_>,
    action: &str,
    name: &str,
    detail: serde_json::Value,
) -> AuditEvent {
    event(change, action, Some(format!("staff:{name}")), None, detail)
}
