//! People on SQLite: look-up by blind index, creation with the identity
//! encrypted, loading with counting records, revisions and rescoring marks.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::{date_col, state_cols, status_col};
use crate::crypto::{DataKeys, Kind};
use crate::uow::{Identity, PersonKey};
use crate::{now_text, RawPerson, RawRecord, Result};

pub(super) fn find(conn: &Connection, index: &[u8; 32]) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM persons WHERE id_index = ?1")?
        .query_row([&index[..]], |r| r.get(0))
        .optional()?)
}

/// A person's encrypted ID number and name, and their blind index.
type Ciphers = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

pub(super) fn identity(
    conn: &Connection,
    keys: &DataKeys,
    person_id: i64,
) -> Result<Option<Identity>> {
    let row: Option<Ciphers> = conn
        .prepare_cached("SELECT id_cipher, name_cipher, id_index FROM persons WHERE id = ?1")?
        .query_row([person_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, name, index)) = row else {
        return Ok(None);
    };
    let (id_number, name) = crate::decrypt_identity(keys, &index, &id, name.as_deref())?;
    Ok(Some(Identity {
        id_number,
        name,
        index,
    }))
}

pub(super) fn resolve(
    conn: &Connection,
    keys: &DataKeys,
    people: &[PersonKey<'_>],
) -> Result<Vec<i64>> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO persons (id_index, id_cipher, name_cipher, birth_date, dirty, rev, created_at, region)
         VALUES (?1, ?2, ?3, ?4, 0, 1, ?5, ?6)",
    )?;
    let mut known: HashMap<[u8; 32], i64> = HashMap::with_capacity(people.len());
    let now = now_text();
    let mut out = Vec::with_capacity(people.len());
    for p in people {
        if let Some(&id) = known.get(&p.index) {
            out.push(id);
            continue;
        }
        let id = match find(conn, &p.index)? {
            Some(id) => id,
            None => {
                let name = p
                    .name
                    .map(|n| keys.encrypt(Kind::Name, &p.index, n.as_bytes()));
                insert.execute(params![
                    &p.index[..],
                    keys.encrypt(Kind::IdNumber, &p.index, p.id_number.as_str().as_bytes()),
                    name,
                    p.id_number.birth_date().to_string(),
                    now,
                    p.id_number.region_code()
                ])?;
                let id = conn.last_insert_rowid();
                if let Some(next) = keys.next() {
                    // A rotation is under way: the new person gets both.
                    let index = next.blind_index(p.id_number.as_str().as_bytes());
                    super::rotation::set_next_identities(
                        conn,
                        keys,
                        &[(id, index, p.id_number, p.name)],
                    )?;
                }
                id
            }
        };
        known.insert(p.index, id);
        out.push(id);
    }
    Ok(out)
}

pub(super) fn records_changed(conn: &Connection, people: &[i64], models: &[String]) -> Result<()> {
    let mut bump =
        conn.prepare_cached("UPDATE persons SET rev = rev + 1 WHERE id = ?1 RETURNING rev")?;
    let mut mark = conn.prepare_cached(
        "INSERT INTO rescore (model_version, person_id, rev) VALUES (?1, ?2, ?3)
         ON CONFLICT (model_version, person_id) DO UPDATE SET rev = excluded.rev",
    )?;
    for &p in people {
        let rev: Option<i64> = bump.query_row([p], |r| r.get(0)).optional()?;
        let Some(rev) = rev else { continue };
        for m in models {
            mark.execute(params![m, p, rev])?;
        }
    }
    Ok(())
}

pub(super) fn load(conn: &Connection, ids: &[i64], model_version: &str) -> Result<Vec<RawPerson>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut head = conn.prepare_cached(
        "SELECT p.birth_date, p.rev, s.eligible, s.score, s.grade FROM persons p
         LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?2 WHERE p.id = ?1",
    )?;
    let mut records = conn.prepare_cached(&format!(
        "SELECT id, item, record_date, status, fields FROM records
         WHERE person_id = ?1 AND status IN {} ORDER BY id",
        crate::counting_sql()
    ))?;
    let mut out = Vec::with_capacity(sorted.len());
    for id in sorted {
        let found = head
            .query_row(params![id, model_version], |r| {
                Ok((date_col(r, 0)?, r.get::<_, i64>(1)?, state_cols(r, 2)?))
            })
            .optional()?;
        let Some((birth_date, rev, stored)) = found else {
            continue;
        };
        let recs = records
            .query_map([id], |r| {
                Ok(RawRecord {
                    id: r.get(0)?,
                    item: r.get(1)?,
                    date: date_col(r, 2)?,
                    status: status_col(r, 3)?,
                    fields: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.push(RawPerson {
            id,
            rev,
            birth_date,
            records: recs,
            stored,
        });
    }
    Ok(out)
}

pub(super) fn marked(conn: &Connection, model_version: &str, limit: usize) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id FROM rescore WHERE model_version = ?1 ORDER BY person_id LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![model_version, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

pub(super) fn counts(conn: &Connection, model_version: &str) -> Result<(u64, u64)> {
    let all: i64 = conn.query_row("SELECT count(*) FROM persons", [], |r| r.get(0))?;
    let marked: i64 = conn
        .prepare_cached("SELECT count(*) FROM rescore WHERE model_version = ?1")?
        .query_row([model_version], |r| r.get(0))?;
    Ok((all.unsigned_abs(), marked.unsigned_abs()))
}

pub(super) fn latest_record_dates(
    conn: &Connection,
    people: &[i64],
    item: &str,
) -> Result<Vec<Option<jiff::civil::Date>>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT max(record_date) FROM records
         WHERE person_id = ?1 AND item = ?2 AND status IN {}",
        crate::counting_sql()
    ))?;
    people
        .iter()
        .map(|&p| {
            let text: Option<String> = stmt.query_row(params![p, item], |r| r.get(0))?;
            text.map(|t| {
                chengxin_domain::dates::parse_date(&t)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("stored date {t:?}")))
            })
            .transpose()
        })
        .collect()
}

pub(super) fn set_names(conn: &Connection, keys: &DataKeys, names: &[(i64, &str)]) -> Result<()> {
    let mut index = conn.prepare_cached("SELECT id_index FROM persons WHERE id = ?1")?;
    let mut stmt = conn.prepare_cached("UPDATE persons SET name_cipher = ?2 WHERE id = ?1")?;
    for &(id, name) in names {
        // The name is bound to its person's blind index (associated data).
        let row: Vec<u8> = index.query_row(params![id], |r| r.get(0))?;
        stmt.execute(params![id, keys.encrypt(Kind::Name, &row, name.as_bytes())])?;
    }
    Ok(())
}
