//! Credit-repair applications on SQLite.

use chengxin_domain::repair::ApplicationStatus;
use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::{NewRepair, RepairFilter, RepairRow};
use crate::{now_text, Result, StoreError};

const COLS: &str = "id, person_id, record_id, unit, source_id, statement, status, reason,
                    submitted_at, decided_at, decided_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RepairRow> {
    let status: String = r.get(6)?;
    Ok(RepairRow {
        id: r.get(0)?,
        person_id: r.get(1)?,
        record_id: r.get(2)?,
        unit: r.get(3)?,
        source_id: r.get(4)?,
        statement: r.get(5)?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(6, "status".into(), rusqlite::types::Type::Text)
        })?,
        reason: r.get(7)?,
        submitted_at: r.get(8)?,
        decided_at: r.get(9)?,
        decided_by: r.get(10)?,
    })
}

pub(super) fn get(conn: &Connection, id: i64) -> Result<Option<RepairRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM repair_applications WHERE id = ?1"
        ))?
        .query_row([id], row)
        .optional()?)
}

pub(super) fn list(conn: &Connection, f: &RepairFilter) -> Result<Vec<RepairRow>> {
    let sql = format!(
        "SELECT {COLS} FROM repair_applications
         WHERE (?1 IS NULL OR person_id = ?1) AND (?2 IS NULL OR status = ?2) AND id > ?3
         ORDER BY id LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(
            params![
                f.person_id,
                f.status.map(|s| s.as_str()),
                f.after_id,
                i64::try_from(f.limit).unwrap_or(i64::MAX)
            ],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn pending(conn: &Connection, unit: &str, source_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM repair_applications
             WHERE unit = ?1 AND source_id = ?2 AND status = 'pending'",
        )?
        .query_row([unit, source_id], |r| r.get(0))
        .optional()?)
}

pub(super) fn insert(conn: &Connection, r: &NewRepair<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO repair_applications
             (person_id, record_id, unit, source_id, statement, status, submitted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        params![
            r.person_id,
            r.record_id,
            r.unit,
            r.source_id,
            r.statement,
            now_text()
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Retry("a repair application on this record is already pending".into())
        }
        e => StoreError::from(e),
    })?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn decide(
    conn: &Connection,
    id: i64,
    status: ApplicationStatus,
    reason: Option<&str>,
    decided_by: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE repair_applications
         SET status = ?2, reason = ?3, decided_at = ?4, decided_by = ?5 WHERE id = ?1",
        params![id, status.as_str(), reason, now_text(), decided_by],
    )?;
    Ok(n == 1)
}
