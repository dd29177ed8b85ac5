//! People on PostgreSQL: look-up by blind index, creation (concurrent
//! writers creating the same person meet on the unique index), revisions,
//! packed counting records and rescoring marks.

use std::collections::HashMap;

use crate::crypto::{DataKeys, Kind};
use crate::uow::{Identity, PersonKey};
use crate::{Result, StoreError};

use super::conn::Conn;
use super::packed;
use super::sqltypes::PgDate;

pub(super) fn find(conn: &mut Conn, index: &[u8; 32]) -> Result<Option<i64>> {
    conn.query_opt("SELECT id FROM persons WHERE id_index = $1", &[&&index[..]])?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(StoreError::from)
}

pub(super) fn identity(
    conn: &mut Conn,
    keys: &DataKeys,
    person_id: i64,
) -> Result<Option<Identity>> {
    let Some(row) = conn.query_opt(
        "SELECT id_cipher, name_cipher, id_index FROM persons WHERE id = $1",
        &[&person_id],
    )?
    else {
        return Ok(None);
    };
    let id: &[u8] = row.try_get(0)?;
    let name: Option<&[u8]> = row.try_get(1)?;
    let index: Vec<u8> = row.try_get(2)?;
    let (id_number, name) = crate::decrypt_identity(keys, &index, id, name)?;
    Ok(Some(Identity {
        id_number,
        name,
        index,
    }))
}

fn blind_index(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("stored blind index is not 32 bytes".into()))
}

fn known(conn: &mut Conn, indexes: &[&[u8]], into: &mut HashMap<[u8; 32], i64>) -> Result<()> {
    for r in conn.query(
        "SELECT id_index, id FROM persons WHERE id_index = ANY($1)",
        &[&indexes],
    )? {
        into.insert(blind_index(r.try_get(0)?)?, r.try_get(1)?);
    }
    Ok(())
}

/// Known people are read in one statement; the rest are inserted in one,
/// in order of first appearance. A person another writer creates meanwhile
/// is skipped by the insert and read afterwards.
pub(super) fn resolve(
    conn: &mut Conn,
    keys: &DataKeys,
    people: &[PersonKey<'_>],
) -> Result<Vec<i64>> {
    let mut first: HashMap<[u8; 32], usize> = HashMap::with_capacity(people.len());
    let mut unique: Vec<&[u8]> = Vec::new();
    for (i, p) in people.iter().enumerate() {
        first.entry(p.index).or_insert_with(|| {
            unique.push(&p.index[..]);
            i
        });
    }
    let mut ids: HashMap<[u8; 32], i64> = HashMap::with_capacity(unique.len());
    known(conn, &unique, &mut ids)?;
    let mut missing: Vec<usize> = unique
        .iter()
        .map(|i| first[*i])
        .filter(|&i| !ids.contains_key(&people[i].index))
        .collect();
    missing.sort_unstable();
    if !missing.is_empty() {
        let (mut index, mut id_cipher, mut name_cipher, mut birth, mut region) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &i in &missing {
            let p = &people[i];
            index.push(p.index.to_vec());
            id_cipher.push(keys.encrypt(Kind::IdNumber, &p.index, p.id_number.as_str().as_bytes()));
            name_cipher.push(
                p.name
                    .map(|n| keys.encrypt(Kind::Name, &p.index, n.as_bytes())),
            );
            birth.push(p.id_number.birth_date().to_string());
            region.push(p.id_number.region_code());
        }
        let inserted = conn.query(
            "INSERT INTO persons (id_index, id_cipher, name_cipher, birth_date, region)
             SELECT i, c, n, b::date, r
             FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::text[], $5::text[])
                  WITH ORDINALITY AS u(i, c, n, b, r, o)
             ORDER BY o
             ON CONFLICT (id_index) DO NOTHING
             RETURNING id_index, id",
            &[&index, &id_cipher, &name_cipher, &birth, &region],
        )?;
        for r in &inserted {
            ids.insert(blind_index(r.try_get(0)?)?, r.try_get(1)?);
        }
        if let Some(next) = keys.next() {
            // A rotation is under way: new people get both indexes.
            let fresh: Vec<_> = missing
                .iter()
                .map(|&i| &people[i])
                .filter(|p| {
                    inserted
                        .iter()
                        .any(|r| r.get::<_, &[u8]>(0) == &p.index[..])
                })
                .map(|p| {
                    let index = next.blind_index(p.id_number.as_str().as_bytes());
                    (ids[&p.index], index, p.id_number, p.name)
                })
                .collect();
            super::rotation::set_next_identities(conn, keys, &fresh)?;
        }
        if inserted.len() < missing.len() {
            let raced: Vec<&[u8]> = missing
                .iter()
                .map(|&i| &people[i].index[..])
                .filter(|i| !ids.contains_key(*i))
                .collect();
            known(conn, &raced, &mut ids)?;
        }
    }
    people
        .iter()
        .map(|p| {
            ids.get(&p.index)
                .copied()
                .ok_or_else(|| StoreError::Retry("a new person was not visible yet".into()))
        })
        .collect()
}

/// Locks the people (in id order, so concurrent writers cannot deadlock on
/// them), then repacks their counting records in a statement that starts
/// after every earlier writer of theirs committed, and marks them.
pub(super) fn records_changed(conn: &mut Conn, people: &[i64], models: &[String]) -> Result<()> {
    if people.is_empty() {
        return Ok(());
    }
    let mut ids = people.to_vec();
    ids.sort_unstable();
    ids.dedup();
    conn.query(
        "SELECT id FROM persons WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &[&ids],
    )?;
    conn.execute(packed::repack_and_mark_sql(), &[&ids, &models])?;
    Ok(())
}

pub(super) fn marked(conn: &mut Conn, model_version: &str, limit: usize) -> Result<Vec<i64>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.query(
        "SELECT person_id FROM rescore WHERE model_version = $1 ORDER BY person_id LIMIT $2",
        &[&model_version, &limit],
    )?
    .iter()
    .map(|r| r.try_get(0).map_err(StoreError::from))
    .collect()
}

pub(super) fn counts(conn: &mut Conn, model_version: &str) -> Result<(u64, u64)> {
    let row = conn
        .query_opt(
            "SELECT (SELECT count(*) FROM persons),
                    (SELECT count(*) FROM rescore WHERE model_version = $1)",
            &[&model_version],
        )?
        .ok_or_else(|| StoreError::Corrupt("count returned no row".into()))?;
    Ok((
        row.try_get::<_, i64>(0)?.unsigned_abs(),
        row.try_get::<_, i64>(1)?.unsigned_abs(),
    ))
}

pub(super) fn latest_record_dates(
    conn: &mut Conn,
    people: &[i64],
    item: &str,
) -> Result<Vec<Option<jiff::civil::Date>>> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "SELECT person_id, max(record_date) FROM records
             WHERE person_id = ANY($1) AND item = $2 AND status IN {}
             GROUP BY person_id",
            crate::counting_sql()
        )
    });
    let rows = conn.query(sql, &[&people, &item])?;
    let mut latest: HashMap<i64, jiff::civil::Date> = HashMap::with_capacity(rows.len());
    for r in &rows {
        let d: PgDate = r.try_get(1)?;
        latest.insert(r.try_get(0)?, d.0);
    }
    Ok(people.iter().map(|p| latest.get(p).copied()).collect())
}

pub(super) fn set_names(conn: &mut Conn, keys: &DataKeys, names: &[(i64, &str)]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = names.iter().map(|n| n.0).collect();
    // Each name is bound to its person's blind index (associated data).
    let rows = conn.query(
        "SELECT id, id_index FROM persons WHERE id = ANY($1::bigint[])",
        &[&ids],
    )?;
    let mut index: HashMap<i64, Vec<u8>> = HashMap::with_capacity(rows.len());
    for r in &rows {
        index.insert(r.try_get(0)?, r.try_get(1)?);
    }
    let mut ciphers: Vec<Vec<u8>> = Vec::with_capacity(names.len());
    for (id, name) in names {
        let row = index
            .get(id)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("no person {id} to rename")))?;
        ciphers.push(keys.encrypt(Kind::Name, row, name.as_bytes()));
    }
    conn.execute(
        "UPDATE persons p SET name_cipher = u.c
         FROM unnest($1::bigint[], $2::bytea[]) AS u(i, c) WHERE p.id = u.i",
        &[&ids, &ciphers],
    )?;
    Ok(())
}
