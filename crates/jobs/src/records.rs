//! Changing records, written once for every backend and every caller: new
//! versions arriving (imports, batches, pushes, self-reports) and a version
//! moving to another state (withdrawal, dispute, repair, verification). Each
//! runs inside the caller's unit of work; the domain decides every state.

use std::collections::HashMap;

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::record::{
    arrive, Arrival, NewRecord, Outcome, RecordEvent, RecordStatus, StoredHead, NAMING_ITEM,
};
use chengxin_store::uow::{NewVersion, PersonKey, RecordHead, StatusChange};
use chengxin_store::{content_hash, DataKeys, WriteTx};

use crate::audit_events::{self, IngestAudit};
use crate::uow::{Change, RowResult};
use crate::JobError;

/// What storing a set of records did.
pub(crate) struct Stored {
    /// Per row, in order.
    pub results: Vec<RowResult>,
    /// The people whose records changed, in id order.
    pub touched: Vec<i64>,
}

/// Where a row's version comes from before it has an id.
#[derive(Clone, Copy)]
enum Ref {
    Stored(i64),
    New(usize),
}

/// The newest version of a case while rows are decided one after another.
struct Head {
    record: Ref,
    person_id: i64,
    version: i32,
    hash: Vec<u8>,
    status: RecordStatus,
    source_version: Option<i64>,
}

/// Stores `rows` as if one at a time, in order (a row may repeat or correct
/// one before it), marks the people whose records changed for rescoring
/// under `models`, and adds the audit entries to the unit of work.
pub(crate) fn store_records(
    tx: &mut dyn WriteTx,
    keys: &DataKeys,
    rows: &[NewRecord],
    change: &Change<'_>,
    models: &[String],
    catalogue: i64,
) -> Result<Stored, JobError> {
    if rows.is_empty() {
        return Ok(Stored {
            results: Vec::new(),
            touched: Vec::new(),
        });
    }
    let indexes: Vec<[u8; 32]> = rows
        .iter()
        .map(|r| keys.blind_index(r.id_number.as_str().as_bytes()))
        .collect();
    let people: Vec<PersonKey<'_>> = rows
        .iter()
        .zip(&indexes)
        .map(|(r, &index)| PersonKey {
            index,
            id_number: &r.id_number,
            name: r.name.as_deref(),
        })
        .collect();
    // The rows were validated against catalogue version `catalogue`; one
    // published since may not accept them (on PostgreSQL the read holds
    // publications back until this unit of work ends).
    let in_force = tx.data_numbers()?.0;
    if in_force != catalogue && in_force != 0 {
        return Err(JobError::CatalogueChanged {
            validated: catalogue,
            in_force,
        });
    }
    let person_ids = tx.resolve_people(&people)?;

    let mut cases: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.unit.as_str(), r.source_id.as_str()))
        .collect();
    cases.sort_unstable();
    cases.dedup();
    let mut heads: HashMap<(&str, &str), Head> = HashMap::with_capacity(cases.len());
    for (case, head) in cases.iter().zip(tx.record_heads(&cases)?) {
        if let Some(h) = head {
            heads.insert(
                *case,
                Head {
                    record: Ref::Stored(h.id),
                    person_id: h.person_id,
                    version: h.version,
                    hash: h.content_hash,
                    status: h.status,
                    source_version: h.source_version,
                },
            );
        }
    }

    let hashes: Vec<Vec<u8>> = rows
        .iter()
        .zip(&indexes)
        .map(|(r, index)| content_hash(&r.item, index, &r.fields))
        .collect();
    // (row, version, status) of each new version, in order.
    let mut new: Vec<(usize, i32, RecordStatus)> = Vec::new();
    let mut superseded: Vec<(i64, RecordStatus)> = Vec::new();
    let mut touched: Vec<i64> = Vec::new();
    let mut decided: Vec<(Outcome, Ref, i64)> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let case = (row.unit.as_str(), row.source_id.as_str());
        let person_id = person_ids[i];
        let head = heads.get(&case);
        let stored = head.map(|h| StoredHead {
            status: h.status,
            same_content: h.hash == hashes[i],
            source_version: h.source_version,
        });
        let arrival = arrive(stored, row.status, row.source_version);
        let (outcome, version, status) = match (arrival, head) {
            (Arrival::Duplicate, Some(h)) => {
                decided.push((Outcome::Duplicate, h.record, h.person_id));
                continue;
            }
            (Arrival::Stale, Some(h)) => {
                decided.push((Outcome::Stale, h.record, h.person_id));
                continue;
            }
            (
                Arrival::Correction {
                    head: moved,
                    status,
                },
                Some(h),
            ) => {
                if moved != h.status {
                    match h.record {
                        Ref::Stored(id) => superseded.push((id, moved)),
                        Ref::New(j) => new[j].2 = moved,
                    }
                }
                touched.push(h.person_id);
                (Outcome::Corrected, h.version + 1, status)
            }
            (Arrival::New { status }, _) => (Outcome::Accepted, 1, status),
            (_, None) => {
                return Err(JobError::Invalid(
                    "a record without a stored version was judged against one".into(),
                ))
            }
        };
        let record = Ref::New(new.len());
        new.push((i, version, status));
        heads.insert(
            case,
            Head {
                record,
                person_id,
                version,
                hash: hashes[i].clone(),
                status,
                source_version: row.source_version,
            },
        );
        touched.push(person_id);
        decided.push((outcome, record, person_id));
    }

    let versions: Vec<NewVersion<'_>> = new
        .iter()
        .map(|&(i, version, status)| {
            let r = &rows[i];
            NewVersion {
                person_id: person_ids[i],
                unit: &r.unit,
                source_id: &r.source_id,
                version,
                item: &r.item,
                date: r.record_date,
                fields: &r.fields,
                content_hash: &hashes[i],
                status,
                source_version: r.source_version,
                catalogue_version: catalogue.max(1),
            }
        })
        .collect();
    let ids = tx.insert_records(&versions)?;
    let changes: Vec<StatusChange<'_>> = superseded
        .iter()
        .map(|&(record_id, status)| StatusChange {
            record_id,
            status,
            reason: None,
        })
        .collect();
    tx.set_record_status(&changes)?;
    touched.sort_unstable();
    touched.dedup();
    tx.records_changed(&touched, models)?;

    let mut audit = IngestAudit::new(change);
    for (person_id, i, j) in rename(tx, rows, &new, &person_ids)? {
        audit.renamed(person_id, &indexes[i], ids[j]);
    }
    let results = decided
        .iter()
        .map(|&(outcome, record, person_id)| {
            let record_id = match record {
                Ref::Stored(id) => id,
                Ref::New(j) => ids[j],
            };
            let result = RowResult {
                outcome,
                record_id,
                person_id,
            };
            match record {
                Ref::New(j) if matches!(outcome, Outcome::Accepted | Outcome::Corrected) => {
                    let (i, version, _) = new[j];
                    audit.stored(
                        &rows[i],
                        &result,
                        i64::from(version),
                        &indexes[i],
                        &hashes[i],
                    );
                }
                _ => audit.duplicate(),
            }
            result
        })
        .collect();
    tx.append_audit(audit.finish());
    Ok(Stored { results, touched })
}

/// Names follow the newest household registration: of the counting B03
/// versions stored here that carry a name, the latest-dated per person (the
/// last on a tie) renames them unless a counting B03 of theirs is dated
/// later. Runs after the people's records changed (on PostgreSQL they are
/// locked then, so concurrent writers decide one after the other). Returns
/// `(person, row, new version)` for each rename.
fn rename(
    tx: &mut dyn WriteTx,
    rows: &[NewRecord],
    new: &[(usize, i32, RecordStatus)],
    person_ids: &[i64],
) -> Result<Vec<(i64, usize, usize)>, JobError> {
    let mut best: HashMap<i64, (usize, usize)> = HashMap::new();
    for (j, &(i, _, status)) in new.iter().enumerate() {
        let r = &rows[i];
        if r.item != NAMING_ITEM || r.name.is_none() || !status.counts() {
            continue;
        }
        let entry = best.entry(person_ids[i]).or_insert((i, j));
        if r.record_date >= rows[entry.0].record_date {
            *entry = (i, j);
        }
    }
    if best.is_empty() {
        return Ok(Vec::new());
    }
    let mut people: Vec<i64> = best.keys().copied().collect();
    people.sort_unstable();
    let latest = tx.latest_record_dates(&people, NAMING_ITEM)?;
    let mut renamed = Vec::new();
    let mut names: Vec<(i64, &str)> = Vec::new();
    for (&p, latest) in people.iter().zip(latest) {
        let (i, j) = best[&p];
        let (Some(name), date) = (rows[i].name.as_deref(), rows[i].record_date) else {
            continue;
        };
        if latest.is_none_or(|l| date >= l) {
            names.push((p, name));
            renamed.push((p, i, j));
        }
    }
    tx.set_names(&names)?;
    Ok(renamed)
}

/// Why a state change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the record is {} and cannot be {event:?}", .state.as_str())]
pub struct NotAllowed {
    pub state: RecordStatus,
    pub event: RecordEvent,
}

/// Moves the newest version of a case by `event`, as the domain's lifecycle
/// allows; marks the person for rescoring under `models` and audits it as
/// `action`. `Ok(None)` when the version is already where the event leads
/// (repeating a withdrawal changes nothing).
pub(crate) fn apply_event(
    tx: &mut dyn WriteTx,
    head: &RecordHead,
    event: RecordEvent,
    reason: Option<&str>,
    change: &Change<'_>,
    action: &str,
    models: &[String],
) -> Result<Result<Option<RecordStatus>, NotAllowed>, JobError> {
    let next = match head.status.apply(event) {
        Ok(next) => next,
        Err(_) if event == RecordEvent::Withdraw && head.status == RecordStatus::Withdrawn => {
            return Ok(Ok(None));
        }
        Err(e) => {
            return Ok(Err(NotAllowed {
                state: e.from,
                event: e.event,
            }))
        }
    };
    tx.set_record_status(&[StatusChange {
        record_id: head.id,
        status: next,
        reason,
    }])?;
    tx.records_changed(&[head.person_id], models)?;
    let index = tx
        .identity(head.person_id)?
        .map(|i| i.index)
        .ok_or_else(|| JobError::Invalid(format!("record {} has no person", head.id)))?;
    let entry: AuditEvent = audit_events::state_changed(change, action, head, reason, &index);
    tx.append_audit(vec![entry]);
    Ok(Ok(Some(next)))
}
