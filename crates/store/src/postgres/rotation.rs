//! Key rotation on PostgreSQL: the primitives of [`crate::uow::KeysWrite`].
//! The next key's values go into the `_next` columns (migration 0011) and
//! are copied over the current ones by the switch-over; see
//! `chengxin_jobs::keys`.

use chengxin_domain::IdNumber;

use crate::binding::NextKey;
use crate::crypto::{DataKeys, Kind};
use crate::uow::{ToRehash, ToRotate};
use crate::{Result, StoreError};

use super::conn::Conn;

fn next_key(keys: &DataKeys) -> Result<&DataKeys> {
    keys.next()
        .ok_or_else(|| StoreError::Key("no next data key was loaded for the rotation".into()))
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn rotation(conn: &mut Conn) -> Result<Option<NextKey>> {
    conn.query_opt(
        "SELECT next_key_id, next_key_check, next_key_file FROM key_rotation WHERE id = 1",
        &[],
    )?
    .map(|r| -> Result<NextKey> {
        Ok(NextKey {
            key_id: r.try_get(0)?,
            key_check: r.try_get(1)?,
            key_file: r.try_get(2)?,
        })
    })
    .transpose()
}

pub(super) fn start(conn: &mut Conn, keys: &DataKeys, key_file: Option<&str>) -> Result<()> {
    let next = next_key(keys)?;
    conn.execute(
        "INSERT INTO key_rotation (id, next_key_id, next_key_check, next_key_file)
         VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        &[
            &hex::encode(next.key_id()),
            &hex::encode(next.check_value()),
            &key_file,
        ],
    )?;
    Ok(())
}

pub(super) fn people_to_rotate(
    conn: &mut Conn,
    keys: &DataKeys,
    n: usize,
) -> Result<Vec<ToRotate>> {
    conn.query(
        "SELECT id, id_index, id_cipher, name_cipher FROM persons
         WHERE id_index_next IS NULL ORDER BY id LIMIT $1 FOR UPDATE",
        &[&limit(n)],
    )?
    .iter()
    .map(|r| {
        let index: &[u8] = r.try_get(1)?;
        let id: &[u8] = r.try_get(2)?;
        let name: Option<&[u8]> = r.try_get(3)?;
        let (id_number, name) = crate::decrypt_identity(keys, index, id, name)?;
        Ok(ToRotate {
            person_id: r.try_get(0)?,
            id_number,
            name,
        })
    })
    .collect()
}

pub(super) fn set_next_identities(
    conn: &mut Conn,
    keys: &DataKeys,
    rows: &[(i64, [u8; 32], &IdNumber, Option<&str>)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let next = next_key(keys)?;
    let (mut ids, mut index, mut id_cipher, mut name_cipher) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(id, i, id_number, name) in rows {
        ids.push(id);
        index.push(i.to_vec());
        id_cipher.push(next.encrypt(Kind::IdNumber, &i, id_number.as_str().as_bytes()));
        name_cipher.push(name.map(|n| next.encrypt(Kind::Name, &i, n.as_bytes())));
    }
    conn.execute(
        "UPDATE persons p SET id_index_next = u.i, id_cipher_next = u.c, name_cipher_next = u.n
         FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[]) AS u(p, i, c, n)
         WHERE p.id = u.p",
        &[&ids, &index, &id_cipher, &name_cipher],
    )?;
    Ok(())
}

/// During a rotation, the next-key copy of renamed people's names.
pub(super) fn set_next_names(
    conn: &mut Conn,
    keys: &DataKeys,
    names: &[(i64, &str)],
) -> Result<()> {
    let Some(next) = keys.next() else {
        return Ok(());
    };
    for &(id, name) in names {
        let row = conn.query_opt(
            "SELECT id_index_next FROM persons WHERE id = $1 AND id_index_next IS NOT NULL",
            &[&id],
        )?;
        if let Some(row) = row {
            let index: Vec<u8> = row.try_get(0)?;
            conn.execute(
                "UPDATE persons SET name_cipher_next = $2 WHERE id = $1",
                &[&id, &next.encrypt(Kind::Name, &index, name.as_bytes())],
            )?;
        }
    }
    Ok(())
}

pub(super) fn records_to_rehash(conn: &mut Conn, n: usize) -> Result<Vec<ToRehash>> {
    conn.query(
        "SELECT r.id, r.item, r.fields, p.id_index_next FROM records r
         JOIN persons p ON p.id = r.person_id
         WHERE r.content_hash_next IS NULL AND p.id_index_next IS NOT NULL
         ORDER BY r.id LIMIT $1",
        &[&limit(n)],
    )?
    .iter()
    .map(|r| {
        Ok(ToRehash {
            record_id: r.try_get(0)?,
            item: r.try_get(1)?,
            fields: r.try_get(2)?,
            next_index: r.try_get(3)?,
        })
    })
    .collect()
}

pub(super) fn set_next_hashes(conn: &mut Conn, rows: &[(i64, Vec<u8>)]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|r| &r.1[..]).collect();
    conn.execute(
        "UPDATE records r SET content_hash_next = u.h
         FROM unnest($1::bigint[], $2::bytea[]) AS u(i, h) WHERE r.id = u.i",
        &[&ids, &hashes],
    )?;
    Ok(())
}

pub(super) fn remaining(conn: &mut Conn) -> Result<(u64, u64)> {
    let row = conn
        .query_opt(
            "SELECT (SELECT count(*) FROM persons WHERE id_index_next IS NULL),
                    (SELECT count(*) FROM records WHERE content_hash_next IS NULL)",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("count returned no row".into()))?;
    Ok((
        row.try_get::<_, i64>(0)?.unsigned_abs(),
        row.try_get::<_, i64>(1)?.unsigned_abs(),
    ))
}

/// Locks the rotation row, persons and records first, so no writer adds a
/// row without next values between the count and the copy.
pub(super) fn switch(conn: &mut Conn) -> Result<bool> {
    conn.batch_execute("LOCK TABLE key_rotation, persons, records IN SHARE ROW EXCLUSIVE MODE")?;
    let Some(next) = rotation(conn)? else {
        return Err(StoreError::Conflict(
            "no key rotation is in progress".into(),
        ));
    };
    if remaining(conn)? != (0, 0) {
        return Ok(false);
    }
    let row = conn
        .query_opt(
            "SELECT data_key_id, data_key_check FROM key_binding WHERE id = 1",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("key_binding missing".into()))?;
    let (old_id, old_check): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    conn.batch_execute(
        "UPDATE persons SET id_index = id_index_next, id_cipher = id_cipher_next,
                name_cipher = name_cipher_next, id_index_next = NULL,
                id_cipher_next = NULL, name_cipher_next = NULL;
         UPDATE records SET content_hash = content_hash_next, content_hash_next = NULL;",
    )?;
    conn.execute(
        "INSERT INTO retired_keys (key_id, key_check, successor_id, successor_file)
         VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO NOTHING",
        &[&old_id, &old_check, &next.key_id, &next.key_file],
    )?;
    conn.execute(
        "UPDATE key_binding SET data_key_id = $1, data_key_check = $2 WHERE id = 1",
        &[&next.key_id, &next.key_check],
    )?;
    conn.execute("DELETE FROM key_rotation WHERE id = 1", &[])?;
    Ok(true)
}
