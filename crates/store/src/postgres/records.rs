//! Record versions on PostgreSQL: heads of cases (locked in a write unit of
//! work), set-wise inserts under ids drawn beforehand, and state changes.

use std::collections::HashMap;

use crate::uow::{NewVersion, RecordHead, StatusChange};
use crate::{Result, StoreError, StoredRecord};

use super::conn::Conn;
use super::copy::CopyRows;
use super::packed::packable;
use super::read::status;
use super::sqltypes::PgDate;

fn head(r: &postgres::Row, from: usize) -> Result<RecordHead> {
    Ok(RecordHead {
        id: r.try_get(from)?,
        person_id: r.try_get(from + 1)?,
        unit: r.try_get(from + 2)?,
        source_id: r.try_get(from + 3)?,
        item: r.try_get(from + 4)?,
        version: r.try_get(from + 5)?,
        content_hash: r.try_get(from + 6)?,
        status: status(r.try_get(from + 7)?)?,
        source_version: r.try_get(from + 8)?,
    })
}

/// The newest version of each case. With `lock`, the heads are locked for
/// the rest of the unit of work and checked to still be the newest after
/// the wait (a concurrent correction may have added a version): if not,
/// the unit of work must run again.
pub(super) fn heads(
    conn: &mut Conn,
    cases: &[(&str, &str)],
    lock: bool,
) -> Result<Vec<Option<RecordHead>>> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let (units, sources): (Vec<&str>, Vec<&str>) = cases.iter().copied().unzip();
    let sql = if lock {
        "SELECT k.i, h.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(unit, source_id, i)
         CROSS JOIN LATERAL (
             SELECT id, person_id, unit, source_id, item, version, content_hash, status, source_version FROM records r
             WHERE r.unit = k.unit AND r.source_id = k.source_id
             ORDER BY r.version DESC LIMIT 1 FOR UPDATE
         ) h"
    } else {
        "SELECT k.i, h.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(unit, source_id, i)
         CROSS JOIN LATERAL (
             SELECT id, person_id, unit, source_id, item, version, content_hash, status, source_version FROM records r
             WHERE r.unit = k.unit AND r.source_id = k.source_id
             ORDER BY r.version DESC LIMIT 1
         ) h"
    };
    let mut out = vec![None; cases.len()];
    for r in conn.query(sql, &[&units, &sources])? {
        let i: i64 = r.try_get(0)?;
        let slot = usize::try_from(i - 1)
            .ok()
            .and_then(|i| out.get_mut(i))
            .ok_or_else(|| StoreError::Corrupt("record head out of range".into()))?;
        *slot = Some(head(&r, 1)?);
    }
    if lock && out.iter().any(Option::is_some) {
        let newest: HashMap<(String, String), i32> = conn
            .query(
                "SELECT r.unit, r.source_id, max(r.version) FROM records r
                 JOIN unnest($1::text[], $2::text[]) AS k(unit, source_id)
                   ON r.unit = k.unit AND r.source_id = k.source_id
                 GROUP BY r.unit, r.source_id",
                &[&units, &sources],
            )?
            .iter()
            .map(|r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)))
            .collect::<Result<_>>()?;
        for h in out.iter().flatten() {
            if newest.get(&(h.unit.clone(), h.source_id.clone())) != Some(&h.version) {
                return Err(StoreError::Retry(
                    "a record was corrected concurrently".into(),
                ));
            }
        }
    }
    Ok(out)
}

pub(super) fn head_of(conn: &mut Conn, record_id: i64, lock: bool) -> Result<Option<RecordHead>> {
    let Some(r) = conn.query_opt(
        "SELECT unit, source_id FROM records WHERE id = $1",
        &[&record_id],
    )?
    else {
        return Ok(None);
    };
    let (unit, source): (String, String) = (r.try_get(0)?, r.try_get(1)?);
    Ok(heads(conn, &[(&unit, &source)], lock)?.pop().flatten())
}

pub(super) fn of_person(conn: &mut Conn, person_id: i64) -> Result<Vec<StoredRecord>> {
    let rows = conn.query(
        "SELECT id, unit, source_id, version, item, record_date, status, fields FROM records
         WHERE person_id = $1 ORDER BY id",
        &[&person_id],
    )?;
    rows.iter()
        .map(|r| {
            let fields: &str = r.try_get(7)?;
            Ok(StoredRecord {
                id: r.try_get(0)?,
                unit: r.try_get(1)?,
                source_id: r.try_get(2)?,
                version: r.try_get(3)?,
                item: r.try_get(4)?,
                date: r.try_get::<_, PgDate>(5)?.0,
                status: status(r.try_get(6)?)?,
                fields: serde_json::from_str(fields).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// Draws ids from the sequence and copies the rows in under them.
pub(super) fn insert(conn: &mut Conn, rows: &[NewVersion<'_>]) -> Result<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(bad) = rows
        .iter()
        .find(|r| !packable(r.item) || !packable(r.fields))
    {
        return Err(StoreError::Corrupt(format!(
            "record {}/{} has control characters in its item or fields",
            bad.unit, bad.source_id
        )));
    }
    if rows.len() <= SMALL {
        return insert_small(conn, rows);
    }
    let n = i64::try_from(rows.len()).map_err(|_| StoreError::Corrupt("too many rows".into()))?;
    let ids: Vec<i64> = conn
        .query(
            "SELECT nextval('records_id_seq') FROM generate_series(1, $1::int8)",
            &[&n],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut copy = CopyRows::new();
    for (v, id) in rows.iter().zip(&ids) {
        copy.plain(id)
            .plain(v.person_id)
            .text(v.unit)
            .text(v.source_id)
            .plain(v.version)
            .text(v.item)
            .plain(v.date)
            .text(v.fields)
            .bytes(v.content_hash)
            .text(v.status.as_str());
        match v.source_version {
            Some(n) => copy.plain(n),
            None => copy.null(),
        };
        copy.plain(v.catalogue_version);
        copy.end_row();
    }
    copy.send(
        conn,
        "records (id, person_id, unit, source_id, version, item, record_date, fields, content_hash, status, source_version, catalogue_version)",
    )?;
    Ok(ids)
}

/// Up to this many rows go in with one INSERT (one round trip); more are
/// copied in, which costs three round trips but far less per row.
pub(super) const SMALL: usize = 32;

/// Inserts a few versions in one statement. Ids come from the column's
/// sequence in insertion order, which is the rows' order.
fn insert_small(conn: &mut Conn, rows: &[NewVersion<'_>]) -> Result<Vec<i64>> {
    let person: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    let unit: Vec<&str> = rows.iter().map(|r| r.unit).collect();
    let source: Vec<&str> = rows.iter().map(|r| r.source_id).collect();
    let version: Vec<i32> = rows.iter().map(|r| r.version).collect();
    let item: Vec<&str> = rows.iter().map(|r| r.item).collect();
    let date: Vec<String> = rows.iter().map(|r| r.date.to_string()).collect();
    let fields: Vec<&str> = rows.iter().map(|r| r.fields).collect();
    let hash: Vec<&[u8]> = rows.iter().map(|r| r.content_hash).collect();
    let status: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    let sv: Vec<Option<i64>> = rows.iter().map(|r| r.source_version).collect();
    let cv: Vec<i64> = rows.iter().map(|r| r.catalogue_version).collect();
    let mut ids: Vec<i64> = conn
        .query(
            "INSERT INTO records (person_id, unit, source_id, version, item, record_date, fields, content_hash, status, source_version, catalogue_version)
             SELECT p, u, s, v, i, d::date, f, h, st, sv, cv
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::text[], $6::text[],
                         $7::text[], $8::bytea[], $9::text[], $10::int8[], $11::int8[]) WITH ORDINALITY AS x(p, u, s, v, i, d, f, h, st, sv, cv, o)
             ORDER BY o RETURNING id",
            &[&person, &unit, &source, &version, &item, &date, &fields, &hash, &status, &sv, &cv],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

pub(super) fn set_status(conn: &mut Conn, changes: &[StatusChange<'_>]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changes.iter().map(|c| c.record_id).collect();
    let states: Vec<&str> = changes.iter().map(|c| c.status.as_str()).collect();
    let reasons: Vec<Option<&str>> = changes.iter().map(|c| c.reason).collect();
    conn.execute(
        "UPDATE records r SET status = u.status, status_reason = coalesce(u.reason, r.status_reason)
         FROM unnest($1::int8[], $2::text[], $3::text[]) AS u(id, status, reason)
         WHERE r.id = u.id",
        &[&ids, &states, &reasons],
    )?;
    Ok(())
}
