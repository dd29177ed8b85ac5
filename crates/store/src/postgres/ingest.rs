//! Storing a batch of records set-wise: a handful of statements per call,
//! whatever the batch size, with the outcome of storing the rows one by one.

use std::collections::HashMap;

use chengxin_domain::record::RecordStatus;

use crate::crypto::DataKeys;
use crate::{content_hash, NewRecord, Outcome, Result, RowResult, StoreError};

use super::conn::Tx;

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

/// A record version to insert.
struct NewVersion<'a> {
    row: &'a NewRecord,
    index: [u8; 32],
    person_id: i64,
    version: i32,
    hash: Vec<u8>,
    status: RecordStatus,
}

/// Stores rows in `tx`, which holds the write lock; returns per-row results
/// and the people touched, in id order.
pub(super) fn ingest_tx(
    tx: &mut Tx<'_>,
    keys: &DataKeys,
    rows: &[NewRecord],
    audit: &mut crate::audit::IngestAudit<'_>,
) -> Result<(Vec<RowResult>, Vec<i64>)> {
    if rows.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let indexes: Vec<[u8; 32]> = rows
        .iter()
        .map(|r| keys.blind_index(r.id_number.as_str().as_bytes()))
        .collect();
    // People created here are already marked for rescoring at revision 1.
    let (people, created) = resolve_people(tx, keys, rows, &indexes)?;
    let mut heads = stored_heads(tx, rows)?;

    // Decide each row in order, as if stored one at a time.
    let mut new: Vec<NewVersion<'_>> = Vec::new();
    let mut superseded: Vec<i64> = Vec::new();
    let mut touched: Vec<i64> = Vec::new();
    let mut decided: Vec<(Outcome, RecordRef, i64)> = Vec::with_capacity(rows.len());
    for (row, index) in rows.iter().zip(&indexes) {
        let person_id = people[index];
        let hash = content_hash(&row.item, index, &row.fields);
        let key = (row.unit.as_str(), row.source_id.as_str());
        let (outcome, version) = match heads.get(&key) {
            Some(h) if h.hash == hash => {
                decided.push((Outcome::Duplicate, h.record, h.person_id));
                continue;
            }
            Some(h) => {
                match h.record {
                    RecordRef::Stored(id) => superseded.push(id),
                    RecordRef::New(i) => {
                        let v = &mut new[i];
                        if matches!(
                            v.status,
                            RecordStatus::Active | RecordStatus::Disputed | RecordStatus::Pending
                        ) {
                            v.status = RecordStatus::Corrected;
                        }
                    }
                }
                touched.push(h.person_id);
                (Outcome::Corrected, h.version + 1)
            }
            None => (Outcome::Accepted, 1),
        };
        let record = RecordRef::New(new.len());
        new.push(NewVersion {
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
        touched.push(person_id);
        decided.push((outcome, record, person_id));
    }

    if !superseded.is_empty() {
        tx.execute(
            "UPDATE records SET status = 'corrected'
             WHERE id = ANY($1) AND status IN ('active','disputed','pending')",
            &[&superseded],
        )?;
    }
    let ids = insert_versions(tx, &new)?;
    touched.sort_unstable();
    touched.dedup();
    let bump: Vec<i64> = touched
        .iter()
        .copied()
        .filter(|p| !created.contains(p))
        .collect();
    if !bump.is_empty() {
        tx.execute(
            "UPDATE persons SET dirty = true, rev = rev + 1 WHERE id = ANY($1)",
            &[&bump],
        )?;
    }
    let results = decided
        .into_iter()
        .map(|(outcome, record, person_id)| {
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
                    let v = &new[i];
                    audit.stored(v.row, &result, i64::from(v.version), &v.index, &v.hash);
                }
                (_, RecordRef::Stored(_)) => {}
            }
            result
        })
        .collect();
    Ok((results, touched))
}

/// Person ids by blind index.
type People = HashMap<[u8; 32], i64>;

/// The person id for every blind index in the batch, creating the people not
/// yet known (from the first row naming them, in order of appearance).
fn resolve_people(
    tx: &mut Tx<'_>,
    keys: &DataKeys,
    rows: &[NewRecord],
    indexes: &[[u8; 32]],
) -> Result<(People, Vec<i64>)> {
    let mut first: HashMap<[u8; 32], usize> = HashMap::with_capacity(rows.len());
    let mut unique: Vec<&[u8]> = Vec::new();
    for (i, index) in indexes.iter().enumerate() {
        first.entry(*index).or_insert_with(|| {
            unique.push(index);
            i
        });
    }
    let mut people: HashMap<[u8; 32], i64> = HashMap::with_capacity(unique.len());
    let known = tx.query(
        "SELECT id_index, id FROM persons WHERE id_index = ANY($1)",
        &[&unique],
    )?;
    for r in &known {
        people.insert(blind_index(r.try_get(0)?)?, r.try_get(1)?);
    }
    let missing: Vec<usize> = unique
        .iter()
        .map(|i| first[*i])
        .filter(|i| !people.contains_key(&indexes[*i]))
        .collect();
    if missing.is_empty() {
        return Ok((people, Vec::new()));
    }
    let mut index_col: Vec<&[u8]> = Vec::with_capacity(missing.len());
    let mut id_col: Vec<Vec<u8>> = Vec::with_capacity(missing.len());
    let mut name_col: Vec<Option<Vec<u8>>> = Vec::with_capacity(missing.len());
    let mut birth_col: Vec<String> = Vec::with_capacity(missing.len());
    for &i in &missing {
        let row = &rows[i];
        index_col.push(&indexes[i]);
        id_col.push(keys.encrypt(row.id_number.as_str().as_bytes()));
        name_col.push(row.name.as_deref().map(|n| keys.encrypt(n.as_bytes())));
        birth_col.push(row.id_number.birth_date().to_string());
    }
    // No conflict is possible: the caller holds the write lock.
    let created = tx.query(
        "INSERT INTO persons (id_index, id_cipher, name_cipher, birth_date)
         SELECT i, c, n, b::date FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::text[])
              WITH ORDINALITY AS u(i, c, n, b, ord)
         ORDER BY ord
         RETURNING id_index, id",
        &[&index_col, &id_col, &name_col, &birth_col],
    )?;
    let mut new_ids = Vec::with_capacity(created.len());
    for r in &created {
        let id: i64 = r.try_get(1)?;
        people.insert(blind_index(r.try_get(0)?)?, id);
        new_ids.push(id);
    }
    Ok((people, new_ids))
}

fn blind_index(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("stored blind index is not 32 bytes".into()))
}

/// The stored newest version of every `(unit, source_id)` in the batch.
fn stored_heads<'a>(
    tx: &mut Tx<'_>,
    rows: &'a [NewRecord],
) -> Result<HashMap<(&'a str, &'a str), Head>> {
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

/// Inserts the new versions with ids drawn up front, so each row knows its
/// id whatever order the database inserts in. Returns the ids.
fn insert_versions(tx: &mut Tx<'_>, new: &[NewVersion<'_>]) -> Result<Vec<i64>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let count =
        i64::try_from(new.len()).map_err(|_| StoreError::Corrupt("batch too large".into()))?;
    let mut ids: Vec<i64> = tx
        .query(
            "SELECT nextval('records_id_seq') FROM generate_series(1, $1::bigint)",
            &[&count],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    let person: Vec<i64> = new.iter().map(|v| v.person_id).collect();
    let unit: Vec<&str> = new.iter().map(|v| v.row.unit.as_str()).collect();
    let source: Vec<&str> = new.iter().map(|v| v.row.source_id.as_str()).collect();
    let version: Vec<i32> = new.iter().map(|v| v.version).collect();
    let item: Vec<&str> = new.iter().map(|v| v.row.item.as_str()).collect();
    let date: Vec<String> = new.iter().map(|v| v.row.record_date.to_string()).collect();
    let fields: Vec<&str> = new.iter().map(|v| v.row.fields.as_str()).collect();
    let hash: Vec<&[u8]> = new.iter().map(|v| v.hash.as_slice()).collect();
    let status: Vec<&str> = new.iter().map(|v| v.status.as_str()).collect();
    tx.execute(
        "INSERT INTO records (id, person_id, unit, source_id, version, item, record_date, fields, content_hash, status)
         SELECT id, p, u, s, v, i, d::date, f, h, st
         FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int4[], $6::text[],
                     $7::text[], $8::text[], $9::bytea[], $10::text[]) AS t(id, p, u, s, v, i, d, f, h, st)",
        &[&ids, &person, &unit, &source, &version, &item, &date, &fields, &hash, &status],
    )?;
    Ok(ids)
}
