//! The versioned catalogue and templates on SQLite. Writers are serialized
//! by SQLite itself, so publishing needs no lock of its own.

use rusqlite::{params, Connection, OptionalExtension};

use super::date_col;
use crate::uow::{DataKind, DataVersionRow, RecordFieldsRow};
use crate::Result;

const COLS: &str = "number, label, hash, content, effective_from, published_at, published_by";

fn row(kind: DataKind) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<DataVersionRow> {
    move |r| {
        Ok(DataVersionRow {
            kind,
            number: r.get(0)?,
            label: r.get(1)?,
            hash: r.get(2)?,
            content: r.get(3)?,
            effective_from: date_col(r, 4)?,
            published_at: r.get(5)?,
            published_by: r.get(6)?,
        })
    }
}

pub(super) fn versions(conn: &Connection, kind: DataKind) -> Result<Vec<DataVersionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM data_versions WHERE kind = ?1 ORDER BY number"
    ))?;
    let rows = stmt
        .query_map([kind.as_str()], row(kind))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn in_force(conn: &Connection, kind: DataKind) -> Result<Option<DataVersionRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM data_versions WHERE kind = ?1 ORDER BY number DESC LIMIT 1"
        ))?
        .query_row([kind.as_str()], row(kind))
        .optional()?)
}

pub(super) fn numbers(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(max(CASE WHEN kind = 'catalogue' THEN number END), 0),
                    coalesce(max(CASE WHEN kind = 'templates' THEN number END), 0)
             FROM data_versions",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

pub(super) fn fields_after(
    conn: &Connection,
    after_id: i64,
    limit: usize,
) -> Result<Vec<RecordFieldsRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, item, fields, catalogue_version FROM records WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![after_id, limit], |r| {
            Ok(RecordFieldsRow {
                id: r.get(0)?,
                item: r.get(1)?,
                fields: r.get(2)?,
                catalogue_version: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn insert(conn: &Connection, v: &DataVersionRow) -> Result<bool> {
    let n = conn.prepare_cached(
        "INSERT INTO data_versions (kind, number, label, hash, content, effective_from, published_at, published_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        v.kind.as_str(),
        v.number,
        v.label,
        v.hash,
        v.content,
        v.effective_from.to_string(),
        v.published_at,
        v.published_by
    ])?;
    Ok(n == 1)
}
