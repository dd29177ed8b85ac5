//! People as records change: finding or creating them by blind index, and
//! marking them when their records change.

use std::collections::HashMap;

use crate::crypto::DataKeys;
use crate::{NewRecord, Result, StoreError};

use super::conn::Tx;
use super::copy::CopyRows;
use super::packed::{self, Packable};

/// Person ids by blind index.
pub(super) type People = HashMap<[u8; 32], i64>;

/// A person first seen in a batch: the id drawn for them and the row that
/// introduced them.
pub(super) struct Fresh {
    pub id: i64,
    pub row: usize,
}

/// The person id for every blind index in the batch. People not yet stored
/// get ids drawn now, in order of first appearance; [`insert_fresh`] writes
/// them once their records are known.
pub(super) fn resolve(tx: &mut Tx<'_>, indexes: &[[u8; 32]]) -> Result<(People, Vec<Fresh>)> {
    let mut first: HashMap<[u8; 32], usize> = HashMap::with_capacity(indexes.len());
    let mut unique: Vec<&[u8]> = Vec::new();
    for (i, index) in indexes.iter().enumerate() {
        first.entry(*index).or_insert_with(|| {
            unique.push(index);
            i
        });
    }
    let mut people: People = HashMap::with_capacity(unique.len());
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
    let ids = next_ids(tx, "persons_id_seq", missing.len())?;
    let fresh = missing
        .into_iter()
        .zip(ids)
        .map(|(row, id)| {
            people.insert(indexes[row], id);
            Fresh { id, row }
        })
        .collect();
    Ok((people, fresh))
}

fn blind_index(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("stored blind index is not 32 bytes".into()))
}

/// Writes the people first seen in a batch, once, with their identity
/// encrypted and their counting records packed (all of them are in the batch).
pub(super) fn insert_fresh<'a>(
    tx: &mut Tx<'_>,
    keys: &DataKeys,
    rows: &[NewRecord],
    indexes: &[[u8; 32]],
    fresh: &[Fresh],
    records: impl IntoIterator<Item = (i64, Packable<'a>)>,
) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let mut theirs: HashMap<i64, Vec<Packable<'a>>> = HashMap::with_capacity(fresh.len());
    for (person, record) in records {
        theirs.entry(person).or_default().push(record);
    }
    let mut copy = CopyRows::new();
    for f in fresh {
        let row = &rows[f.row];
        copy.plain(f.id)
            .bytes(&indexes[f.row])
            .bytes(&keys.encrypt(row.id_number.as_str().as_bytes()));
        match &row.name {
            Some(n) => copy.bytes(&keys.encrypt(n.as_bytes())),
            None => copy.null(),
        };
        copy.plain(row.id_number.birth_date())
            .text(&packed::pack(theirs.remove(&f.id).unwrap_or_default()))
            .end_row();
    }
    copy.send(
        tx,
        "persons (id, id_index, id_cipher, name_cipher, birth_date, counting)",
    )
}

/// Marks stored people whose records changed: bumps their revision,
/// repacks their counting records and marks them for rescoring. Every change
/// to stored records must end with this, in the same transaction.
pub(super) fn records_changed(tx: &mut Tx<'_>, people: &[i64]) -> Result<()> {
    if people.is_empty() {
        return Ok(());
    }
    tx.execute(packed::REPACK, &[&people])?;
    mark_dirty(tx, people)
}

/// Marks people for rescoring.
pub(super) fn mark_dirty(tx: &mut Tx<'_>, people: &[i64]) -> Result<()> {
    if !people.is_empty() {
        tx.execute(
            "INSERT INTO dirty_persons (person_id) SELECT unnest($1::int8[]) ON CONFLICT DO NOTHING",
            &[&people],
        )?;
    }
    Ok(())
}

/// `n` consecutive values of a sequence, ascending, in one round trip.
/// Safe because every writer holds the write lock and ids are only ever
/// drawn here.
pub(super) fn next_ids(tx: &mut Tx<'_>, sequence: &str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let n = i64::try_from(n).map_err(|_| StoreError::Corrupt("batch too large".into()))?;
    let row = tx.query_opt(
        "SELECT setval($1::text::regclass, nextval($1::text::regclass) + $2 - 1)",
        &[&sequence, &n],
    )?;
    let last: i64 = row
        .ok_or_else(|| StoreError::Corrupt("setval returned no row".into()))?
        .try_get(0)?;
    Ok((last - n + 1..=last).collect())
}
