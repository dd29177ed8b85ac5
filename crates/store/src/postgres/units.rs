//! Units and batches on PostgreSQL.

use crate::uow::BatchProgress;
use crate::{BatchRow, BatchStatus, Result, StoreError, UnitRow};

use super::conn::Conn;
use super::sqltypes::PgTimestamp;

pub(super) fn add(conn: &mut Conn, u: &UnitRow, key_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO units (code, name, items, key_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
        &[&u.code, &u.name, &u.items.join(","), &key_hash],
    )?;
    Ok(n == 1)
}

fn unit_row(r: &postgres::Row) -> Result<UnitRow> {
    let items: String = r.try_get(2)?;
    Ok(UnitRow {
        code: r.try_get(0)?,
        name: r.try_get(1)?,
        items: items
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        disabled: r.try_get(3)?,
    })
}

pub(super) fn list(c: &mut Conn) -> Result<Vec<UnitRow>> {
    c.query(
        "SELECT code, name, items, disabled FROM units ORDER BY code COLLATE \"C\"",
        &[],
    )?
    .iter()
    .map(unit_row)
    .collect()
}

pub(super) fn by_key(c: &mut Conn, key_hash: &[u8]) -> Result<Option<UnitRow>> {
    c.query_opt(
        "SELECT code, name, items, disabled FROM units WHERE key_hash = $1",
        &[&key_hash],
    )?
    .as_ref()
    .map(unit_row)
    .transpose()
}

pub(super) fn set_key(conn: &mut Conn, code: &str, key_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "UPDATE units SET key_hash = $2, updated_at = now() WHERE code = $1",
        &[&code, &key_hash],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(conn: &mut Conn, code: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE units SET disabled = true, updated_at = now() WHERE code = $1",
        &[&code],
    )?;
    Ok(n == 1)
}

fn batch_row(r: &postgres::Row) -> Result<BatchRow> {
    let status: &str = r.try_get(4)?;
    Ok(BatchRow {
        id: r.try_get(0)?,
        unit: r.try_get(1)?,
        idempotency_key: r.try_get(2)?,
        body_hash: r.try_get(3)?,
        status: BatchStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("batch status `{status}`")))?,
        lease_until: r.try_get(5)?,
        receipt: r.try_get(6)?,
        created_at: r.try_get::<_, PgTimestamp>(7)?.0,
        owner: r.try_get(8)?,
        lines_done: r.try_get(9)?,
        prefix_hash: r.try_get(10)?,
    })
}

pub(super) fn batch(c: &mut Conn, id: &str) -> Result<Option<BatchRow>> {
    c.query_opt(
        "SELECT id, unit, idempotency_key, body_hash, status, lease_until, receipt, created_at,
                owner, lines_done, prefix_hash
         FROM batches WHERE id = $1",
        &[&id],
    )?
    .as_ref()
    .map(batch_row)
    .transpose()
}

pub(super) fn batch_by_key(c: &mut Conn, unit: &str, key: &str) -> Result<Option<BatchRow>> {
    c.query_opt(
        "SELECT id, unit, idempotency_key, body_hash, status, lease_until, receipt, created_at,
                owner, lines_done, prefix_hash
         FROM batches WHERE unit = $1 AND idempotency_key = $2",
        &[&unit, &key],
    )?
    .as_ref()
    .map(batch_row)
    .transpose()
}

pub(super) fn insert_batch(
    conn: &mut Conn,
    id: &str,
    unit: &str,
    key: Option<&str>,
    lease_until: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO batches (id, unit, idempotency_key, status, lease_until) VALUES ($1, $2, $3, 'processing', $4)",
        &[&id, &unit, &key, &lease_until],
    )?;
    Ok(())
}

pub(super) fn set_lease(conn: &mut Conn, id: &str, lease_until: i64) -> Result<()> {
    conn.execute(
        "UPDATE batches SET lease_until = $2 WHERE id = $1",
        &[&id, &lease_until],
    )?;
    Ok(())
}

pub(super) fn complete(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    body_hash: &[u8],
    receipt: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET status = 'completed', body_hash = $3, receipt = $4
         WHERE id = $1 AND owner = $2 AND status = 'processing'",
        &[&id, &owner, &body_hash, &receipt],
    )?;
    Ok(n == 1)
}

pub(super) fn claim(conn: &mut Conn, id: &str, owner: &str, lease_until: i64) -> Result<()> {
    conn.execute(
        "UPDATE batches SET status = 'processing', owner = $2, lease_until = $3 WHERE id = $1",
        &[&id, &owner, &lease_until],
    )?;
    Ok(())
}

pub(super) fn renew(conn: &mut Conn, id: &str, owner: &str, lease_until: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET lease_until = $3 WHERE id = $1 AND owner = $2 AND status = 'processing'",
        &[&id, &owner, &lease_until],
    )?;
    Ok(n == 1)
}

pub(super) fn progress(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    p: &BatchProgress<'_>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET lease_until = $3, lines_done = $4, prefix_hash = $5, receipt = $6
         WHERE id = $1 AND owner = $2 AND status = 'processing'",
        &[
            &id,
            &owner,
            &p.lease_until,
            &p.lines_done,
            &p.prefix_hash,
            &p.receipt,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn interrupt(conn: &mut Conn, id: &str, owner: &str, receipt: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE batches SET status = 'interrupted', lease_until = 0, receipt = $3
         WHERE id = $1 AND owner = $2 AND status = 'processing'",
        &[&id, &owner, &receipt],
    )?;
    Ok(n == 1)
}
