//! Storing a batch of records set-wise: a handful of statements per call,
//! whatever the batch size, with the outcome of storing the rows one by one.

use std::collections::{HashMap, HashSet};

use chengxin_domain::record::RecordStatus;

use crate::crypto::DataKeys;
use crate::{content_hash, NewRecord, Outcome, Result, RowResult, StoreError};

use super::conn::Tx;
use super::copy::CopyRows;
use super::packed::{packable, Packable};
use super::people::{self, People};

/// A record as `ingest` refers to it before the new ones have ids.
#[derive(Clone, Copy)]
enum RecordRef {
    Stored(i64),
    /// Index into the batch's new versions.
    New(usize),
}

/// The newest version of a `(unit, source_id)`, stored or from this batch.
struct Head {
    record: RecordRef,
    person_id: i64,
    version: i32,
    hash: Vec<u8>,
}

/// Heads by `(unit, source_id)`.
type Heads<'a> = HashMap<(&'a str, &'a str), Head>;

/// A record version to insert.
struct NewVersion<'a> {
    row: &'a NewRecord,
    index: [u8; 32],
    person_id: i64,
    version: i32,
    hash: Vec<u8>,
    status: RecordStatus,
}

/// What storing the rows one at a time would do.
struct Plan<'a> {
    new: Vec<NewVersion<'a>>,
    /// Stored versions replaced by new ones.
    superseded: Vec<i64>,
    /// People whose records change, in id order.
    touched: Vec<i64>,
    /// Per row: outcome, record, person.
    decided: Vec<(Outcome, RecordRef, i64)>,
}

/// Stores rows in `tx`, which holds the write lock; returns per-row results
/// and the people touched, in id order.
///
/// Ids of new people and records are drawn up front, so everything is
/// decided in memory and written with one statement per table. People new in
/// this batch are written once, complete with their packed records.
pub(super) fn ingest_tx(
    tx: &mut Tx<'_>,
    keys: &DataKeys,
    rows: &[NewRecord],
    audit: &mut crate::audit::IngestAudit<'_>,
) -> Result<(Vec<RowResult>, Vec<i64>)> {
    if rows.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    if let Some(bad) = rows
        .iter()
        .find(|r| !packable(&r.item) || !packable(&r.fields))
    {
        return Err(StoreError::Corrupt(format!(
            "record {}/{} has control characters in its item or fields",
            bad.unit, bad.source_id
        )));
    }
    let indexes: Vec<[u8; 32]> = rows
        .iter()
        .map(|r| keys.blind_index(r.id_number.as_str().as_bytes()))
        .collect();
    let (people, fresh) = people::resolve(tx, &indexes)?;
    let heads = stored_heads(tx, rows)?;
    let plan = plan(rows, &indexes, &people, heads);

    let ids = people::next_ids(tx, "records_id_seq", plan.new.len())?;
    let created: HashSet<i64> = fresh.iter().map(|f| f.id).collect();
    let counting = plan
        .new
        .iter()
        .zip(&ids)
        .filter(|(v, _)| v.status.counts() && created.contains(&v.person_id))
        .map(|(v, &id)| {
            let r = v.row;
            let record = Packable {
                id,
                item: &r.item,
                date: r.record_date,
                status: v.status,
                fields: &r.fields,
            };
            (v.person_id, record)
        });
    people::insert_fresh(tx, keys, rows, &indexes, &fresh, counting)?;
    insert_versions(tx, &plan.new, &ids)?;
    if !plan.superseded.is_empty() {
        tx.execute(
            "UPDATE records SET status = 'corrected'
             WHERE id = ANY($1) AND status IN ('active','disputed','pending')",
            &[&plan.superseded],
        )?;
    }
    let stored: Vec<i64> = plan
        .touched
        .iter()
        .copied()
        .filter(|p| !created.contains(p))
        .collect();
    people::records_changed(tx, &stored)?;
    people::mark_dirty(tx, &plan.touched)?;
    let results = results(&plan, &ids, audit);
    Ok((results, plan.touched))
}

/// Decides each row in order, as if stored one at a time: a row may repeat
/// or correct one earlier in the batch.
fn plan<'a>(
    rows: &'a [NewRecord],
    indexes: &[[u8; 32]],
    people: &People,
    mut heads: Heads<'a>,
) -> Plan<'a> {
    let mut plan = Plan {
        new: Vec::new(),
        superseded: Vec::new(),
        touched: Vec::new(),
        decided: Vec::with_capacity(rows.len()),
    };
    for (row, index) in rows.iter().zip(indexes) {
        let person_id = people[index];
        let hash = content_hash(&row.item, index, &row.fields);
        let key = (row.unit.as_str(), row.source_id.as_str());
        let (outcome, version) = match heads.get(&key) {
            Some(h) if h.hash == hash => {
                plan.decided
                    .push((Outcome::Duplicate, h.record, h.person_id));
                continue;
            }
            Some(h) => {
                match h.record {
                    RecordRef::Stored(id) => plan.superseded.push(id),
                    RecordRef::New(i) => {
                        let v = &mut plan.new[i];
                        if matches!(
                            v.status,
                            RecordStatus::Active | RecordStatus::Disputed | RecordStatus::Pending
                        ) {
                            v.status = RecordStatus::Corrected;
                        }
                    }
                }
                plan.touched.push(h.person_id);
                (Outcome::Corrected, h.version + 1)
            }
            None => (Outcome::Accepted, 1),
        };
        let record = RecordRef::New(plan.new.len());
        plan.new.push(NewVersion {
            row,
            index: *index,
            person_id,
            version,
            hash: hash.clone(),
            status: row.status,
        });
        heads.insert(
            key,
            Head {
                record,
                person_id,
                version,
                hash,
            },
        );
        plan.touched.push(person_id);
        plan.decided.push((outcome, record, person_id));
    }
    plan.touched.sort_unstable();
    plan.touched.dedup();
    plan
}

/// The per-row results, once new records have ids; audits each row.
fn results(
    plan: &Plan<'_>,
    ids: &[i64],
    audit: &mut crate::audit::IngestAudit<'_>,
) -> Vec<RowResult> {
    plan.decided
        .iter()
        .map(|&(outcome, record, person_id)| {
            let record_id = match record {
                RecordRef::Stored(id) => id,
                RecordRef::New(i) => ids[i],
            };
            let result = RowResult {
                outcome,
                record_id,
                person_id,
            };
            match (outcome, record) {
                (Outcome::Duplicate, _) => audit.duplicate(),
                (_, RecordRef::New(i)) => {
                    let v = &plan.new[i];
                    audit.stored(v.row, &result, i64::from(v.version), &v.index, &v.hash);
                }
                (_, RecordRef::Stored(_)) => {}
            }
            result
        })
        .collect()
}

/// The stored newest version of every `(unit, source_id)` in the batch.
fn stored_heads<'a>(tx: &mut Tx<'_>, rows: &'a [NewRecord]) -> Result<Heads<'a>> {
    let mut keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.unit.as_str(), r.source_id.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let (units, sources): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
    let found = tx.query(
        "SELECT k.i, h.id, h.person_id, h.version, h.content_hash
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(unit, source_id, i)
         CROSS JOIN LATERAL (
             SELECT id, person_id, version, content_hash FROM records r
             WHERE r.unit = k.unit AND r.source_id = k.source_id
             ORDER BY r.version DESC LIMIT 1
         ) h",
        &[&units, &sources],
    )?;
    let mut heads = HashMap::with_capacity(rows.len());
    for r in &found {
        let i: i64 = r.try_get(0)?;
        let key = usize::try_from(i - 1)
            .ok()
            .and_then(|i| keys.get(i))
            .copied();
        let key = key.ok_or_else(|| StoreError::Corrupt("record head out of range".into()))?;
        heads.insert(
            key,
            Head {
                record: RecordRef::Stored(r.try_get(1)?),
                person_id: r.try_get(2)?,
                version: r.try_get(3)?,
                hash: r.try_get(4)?,
            },
        );
    }
    Ok(heads)
}

/// Inserts the new record versions under the ids drawn for them.
fn insert_versions(tx: &mut Tx<'_>, new: &[NewVersion<'_>], ids: &[i64]) -> Result<()> {
    let mut copy = CopyRows::new();
    for (v, id) in new.iter().zip(ids) {
        copy.plain(id)
            .plain(v.person_id)
            .text(&v.row.unit)
            .text(&v.row.source_id)
            .plain(v.version)
            .text(&v.row.item)
            .plain(v.row.record_date)
            .text(&v.row.fields)
            .bytes(&v.hash)
            .text(v.status.as_str())
            .end_row();
    }
    copy.send(
        tx,
        "records (id, person_id, unit, source_id, version, item, record_date, fields, content_hash, status)",
    )
}
