//! Record versions on SQLite: heads of cases, inserts and state changes.

use rusqlite::{params, Connection, OptionalExtension};

use super::{date_col, status_col};
use crate::uow::{NewVersion, RecordHead, StatusChange};
use crate::{now_text, Result, StoredRecord};

const HEAD_COLS: &str =
    "id, person_id, unit, source_id, item, version, content_hash, status, source_version";

fn head_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordHead> {
    Ok(RecordHead {
        id: r.get(0)?,
        person_id: r.get(1)?,
        unit: r.get(2)?,
        source_id: r.get(3)?,
        item: r.get(4)?,
        version: r.get(5)?,
        content_hash: r.get(6)?,
        status: status_col(r, 7)?,
        source_version: r.get(8)?,
    })
}

pub(super) fn heads(conn: &Connection, cases: &[(&str, &str)]) -> Result<Vec<Option<RecordHead>>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HEAD_COLS} FROM records WHERE unit = ?1 AND source_id = ?2
         ORDER BY version DESC LIMIT 1"
    ))?;
    let mut out = Vec::with_capacity(cases.len());
    for (unit, source_id) in cases {
        out.push(
            stmt.query_row(params![unit, source_id], head_row)
                .optional()?,
        );
    }
    Ok(out)
}

pub(super) fn head_of(conn: &Connection, record_id: i64) -> Result<Option<RecordHead>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {HEAD_COLS} FROM records WHERE (unit, source_id) =
                (SELECT unit, source_id FROM records WHERE id = ?1)
             ORDER BY version DESC LIMIT 1"
        ))?
        .query_row([record_id], head_row)
        .optional()?)
}

pub(super) fn of_person(conn: &Connection, person_id: i64) -> Result<Vec<StoredRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, unit, source_id, version, item, record_date, status, fields FROM records
         WHERE person_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([person_id], |r| {
            let fields: String = r.get(7)?;
            Ok(StoredRecord {
                id: r.get(0)?,
                unit: r.get(1)?,
                source_id: r.get(2)?,
                version: r.get(3)?,
                item: r.get(4)?,
                date: date_col(r, 5)?,
                status: status_col(r, 6)?,
                fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn insert(conn: &Connection, rows: &[NewVersion<'_>]) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO records (person_id, unit, source_id, version, item, record_date, fields, content_hash, status, received_at, source_version, catalogue_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let now = now_text();
    let mut ids = Vec::with_capacity(rows.len());
    for v in rows {
        stmt.execute(params![
            v.person_id,
            v.unit,
            v.source_id,
            v.version,
            v.item,
            v.date.to_string(),
            v.fields,
            v.content_hash,
            v.status.as_str(),
            now,
            v.source_version,
            v.catalogue_version
        ])?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

pub(super) fn set_status(conn: &Connection, changes: &[StatusChange<'_>]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE records SET status = ?2, status_reason = coalesce(?3, status_reason) WHERE id = ?1",
    )?;
    for c in changes {
        stmt.execute(params![c.record_id, c.status.as_str(), c.reason])?;
    }
    Ok(())
}
