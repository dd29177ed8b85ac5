//! Key rotation on SQLite: the primitives of [`crate::uow::KeysWrite`]. The
//! next key's values go into the `_next` columns (migration 0011) and are
//! copied over the current ones by the switch-over; see `chengxin_jobs::keys`.

use rusqlite::{params, Connection, OptionalExtension};

use crate::binding::NextKey;
use crate::crypto::{DataKeys, Kind};
use crate::uow::{ToRehash, ToRotate};
use crate::{now_text, Result, StoreError};
use chengxin_domain::IdNumber;

/// The next key the store was opened with.
pub(super) fn next_key(keys: &DataKeys) -> Result<&DataKeys> {
    keys.next()
        .ok_or_else(|| StoreError::Key("no next data key was loaded for the rotation".into()))
}

pub(super) fn rotation(conn: &Connection) -> Result<Option<NextKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT next_key_id, next_key_check, next_key_file FROM key_rotation WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok(NextKey {
                key_id: r.get(0)?,
                key_check: r.get(1)?,
                key_file: r.get(2)?,
            })
        })
        .optional()?)
}

pub(super) fn start(conn: &Connection, keys: &DataKeys, key_file: Option<&str>) -> Result<()> {
    let next = next_key(keys)?;
    conn.execute(
        "INSERT INTO key_rotation (id, next_key_id, next_key_check, next_key_file, started_at)
         VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
        params![
            hex::encode(next.key_id()),
            hex::encode(next.check_value()),
            key_file,
            now_text()
        ],
    )?;
    Ok(())
}

pub(super) fn people_to_rotate(
    conn: &Connection,
    keys: &DataKeys,
    limit: usize,
) -> Result<Vec<ToRotate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, id_index, id_cipher, name_cipher FROM persons
         WHERE id_index_next IS NULL ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(person_id, index, id, name)| {
            let (id_number, name) = crate::decrypt_identity(keys, &index, &id, name.as_deref())?;
            Ok(ToRotate {
                person_id,
                id_number,
                name,
            })
        })
        .collect()
}

pub(super) fn set_next_identities(
    conn: &Connection,
    keys: &DataKeys,
    rows: &[(i64, [u8; 32], &IdNumber, Option<&str>)],
) -> Result<()> {
    let next = next_key(keys)?;
    let mut stmt = conn.prepare_cached(
        "UPDATE persons SET id_index_next = ?2, id_cipher_next = ?3, name_cipher_next = ?4
         WHERE id = ?1",
    )?;
    for &(id, index, id_number, name) in rows {
        stmt.execute(params![
            id,
            &index[..],
            next.encrypt(Kind::IdNumber, &index, id_number.as_str().as_bytes()),
            name.map(|n| next.encrypt(Kind::Name, &index, n.as_bytes())),
        ])?;
    }
    Ok(())
}

/// During a rotation, the next-key copy of renamed people's names.
pub(super) fn set_next_names(
    conn: &Connection,
    keys: &DataKeys,
    names: &[(i64, &str)],
) -> Result<()> {
    let Some(next) = keys.next() else {
        return Ok(());
    };
    let mut index = conn.prepare_cached("SELECT id_index_next FROM persons WHERE id = ?1")?;
    let mut stmt = conn.prepare_cached("UPDATE persons SET name_cipher_next = ?2 WHERE id = ?1")?;
    for &(id, name) in names {
        let row: Option<Vec<u8>> = index.query_row([id], |r| r.get(0))?;
        if let Some(row) = row {
            stmt.execute(params![id, next.encrypt(Kind::Name, &row, name.as_bytes())])?;
        }
    }
    Ok(())
}

pub(super) fn records_to_rehash(conn: &Connection, limit: usize) -> Result<Vec<ToRehash>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.item, r.fields, p.id_index_next FROM records r
         JOIN persons p ON p.id = r.person_id
         WHERE r.content_hash_next IS NULL AND p.id_index_next IS NOT NULL
         ORDER BY r.id LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok(ToRehash {
                record_id: r.get(0)?,
                item: r.get(1)?,
                fields: r.get(2)?,
                next_index: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn set_next_hashes(conn: &Connection, rows: &[(i64, Vec<u8>)]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("UPDATE records SET content_hash_next = ?2 WHERE id = ?1")?;
    for (id, hash) in rows {
        stmt.execute(params![id, hash])?;
    }
    Ok(())
}

pub(super) fn remaining(conn: &Connection) -> Result<(u64, u64)> {
    let (people, records): (i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM persons WHERE id_index_next IS NULL),
                (SELECT count(*) FROM records WHERE content_hash_next IS NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((people.unsigned_abs(), records.unsigned_abs()))
}

pub(super) fn switch(conn: &Connection) -> Result<bool> {
    let Some(next) = rotation(conn)? else {
        return Err(StoreError::Conflict(
            "no key rotation is in progress".into(),
        ));
    };
    if remaining(conn)? != (0, 0) {
        return Ok(false);
    }
    let (old_id, old_check): (String, String) = conn.query_row(
        "SELECT data_key_id, data_key_check FROM key_binding WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    conn.execute_batch(
        "UPDATE persons SET id_index = id_index_next, id_cipher = id_cipher_next,
                name_cipher = name_cipher_next, id_index_next = NULL,
                id_cipher_next = NULL, name_cipher_next = NULL;
         UPDATE records SET content_hash = content_hash_next, content_hash_next = NULL;",
    )?;
    conn.execute(
        "INSERT INTO retired_keys (key_id, key_check, successor_id, successor_file, retired_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id) DO NOTHING",
        params![old_id, old_check, next.key_id, next.key_file, now_text()],
    )?;
    conn.execute(
        "UPDATE key_binding SET data_key_id = ?1, data_key_check = ?2 WHERE id = 1",
        params![next.key_id, next.key_check],
    )?;
    conn.execute("DELETE FROM key_rotation WHERE id = 1", [])?;
    Ok(true)
}
