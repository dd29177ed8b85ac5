//! Units and batches on SQLite.

use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::BatchProgress;
use crate::{now_text, BatchRow, BatchStatus, Result, UnitRow};

pub(super) fn add(conn: &Connection, u: &UnitRow, key_hash: &[u8]) -> Result<bool> {
    let now = now_text();
    let n = conn.execute(
        "INSERT INTO units (code, name, items, key_hash, disabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5) ON CONFLICT (code) DO NOTHING",
        params![u.code, u.name, u.items.join(","), key_hash, now],
    )?;
    Ok(n == 1)
}

fn unit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UnitRow> {
    let items: String = r.get(2)?;
    Ok(UnitRow {
        code: r.get(0)?,
        name: r.get(1)?,
        items: items
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        disabled: r.get(3)?,
    })
}

pub(super) fn list(conn: &Connection) -> Result<Vec<UnitRow>> {
    let mut stmt =
        conn.prepare_cached("SELECT code, name, items, disabled FROM units ORDER BY code")?;
    let rows = stmt
        .query_map([], unit_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn by_key(conn: &Connection, key_hash: &[u8]) -> Result<Option<UnitRow>> {
    Ok(conn
        .prepare_cached("SELECT code, name, items, disabled FROM units WHERE key_hash = ?1")?
        .query_row([key_hash], unit_row)
        .optional()?)
}

pub(super) fn set_key(conn: &Connection, code: &str, key_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "UPDATE units SET key_hash = ?2, updated_at = ?3 WHERE code = ?1",
        params![code, key_hash, now_text()],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(conn: &Connection, code: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE units SET disabled = 1, updated_at = ?2 WHERE code = ?1",
        params![code, now_text()],
    )?;
    Ok(n == 1)
}

const BATCH_COLS: &str =
    "id, unit, idempotency_key, body_hash, status, lease_until, receipt, created_at,
     owner, lines_done, prefix_hash";

fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchRow> {
    let status: String = r.get(4)?;
    Ok(BatchRow {
        id: r.get(0)?,
        unit: r.get(1)?,
        idempotency_key: r.get(2)?,
        body_hash: r.get(3)?,
        status: BatchStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(4, "status".into(), rusqlite::types::Type::Text)
        })?,
        lease_until: r.get(5)?,
        receipt: r.get(6)?,
        created_at: r.get(7)?,
        owner: r.get(8)?,
        lines_done: r.get(9)?,
        prefix_hash: r.get(10)?,
    })
}

pub(super) fn batch(conn: &Connection, id: &str) -> Result<Option<BatchRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {BATCH_COLS} FROM batches WHERE id = ?1"))?
        .query_row([id], batch_row)
        .optional()?)
}

pub(super) fn batch_by_key(conn: &Connection, unit: &str, key: &str) -> Result<Option<BatchRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {BATCH_COLS} FROM batches WHERE unit = ?1 AND idempotency_key = ?2"
        ))?
        .query_row(params![unit, key], batch_row)
        .optional()?)
}

pub(super) fn insert_batch(
    conn: &Connection,
    id: &str,
    unit: &str,
    key: Option<&str>,
    lease_until: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO batches (id, unit, idempotency_key, status, lease_until, created_at)
         VALUES (?1, ?2, ?3, 'processing', ?4, ?5)",
        params![id, unit, key, lease_until, now_text()],
    )?;
    Ok(())
}

pub(super) fn set_lease(conn: &Connection, id: &str, lease_until: i64) -> Result<()> {
    conn.execute(
        "UPDATE batches SET lease_until = ?2 WHERE id = ?1",
        params![id, lease_until],
    )?;
    Ok(())
}

pub(super) fn complete(
    conn: &Connection,
    id: &str,
    owner: &str,
    body_hash: &[u8],
    receipt: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET status = 'completed', body_hash = ?3, receipt = ?4
         WHERE id = ?1 AND owner = ?2 AND status = 'processing'",
        params![id, owner, body_hash, receipt],
    )?;
    Ok(n == 1)
}

pub(super) fn claim(conn: &Connection, id: &str, owner: &str, lease_until: i64) -> Result<()> {
    conn.execute(
        "UPDATE batches SET status = 'processing', owner = ?2, lease_until = ?3 WHERE id = ?1",
        params![id, owner, lease_until],
    )?;
    Ok(())
}

pub(super) fn renew(conn: &Connection, id: &str, owner: &str, lease_until: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET lease_until = ?3 WHERE id = ?1 AND owner = ?2 AND status = 'processing'",
        params![id, owner, lease_until],
    )?;
    Ok(n == 1)
}

pub(super) fn progress(
    conn: &Connection,
    id: &str,
    owner: &str,
    p: &BatchProgress<'_>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET lease_until = ?3, lines_done = ?4, prefix_hash = ?5, receipt = ?6
         WHERE id = ?1 AND owner = ?2 AND status = 'processing'",
        params![
            id,
            owner,
            p.lease_until,
            p.lines_done,
            p.prefix_hash,
            p.receipt
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn interrupt(conn: &Connection, id: &str, owner: &str, receipt: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET status = 'interrupted', lease_until = 0, receipt = ?3
         WHERE id = ?1 AND owner = ?2 AND status = 'processing'",
        params![id, owner, receipt],
    )?;
    Ok(n == 1)
}
