//! Units and batches on PostgreSQL.

use crate::{BatchClaim, BatchRow, Change, Result, StoreError, UnitRow};

use super::audit::append_tx;
use super::conn::{Conn, Tx};
use super::sqltypes::PgTimestamp;

pub(super) fn add(
    tx: &mut Tx<'_>,
    u: &UnitRow,
    key_hash: &[u8],
    change: &Change<'_>,
) -> Result<()> {
    let n = tx.execute(
        "INSERT INTO units (code, name, items, key_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
        &[&u.code, &u.name, &u.items.join(","), &key_hash],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "unit {} already exists",
            u.code
        )));
    }
    let detail = serde_json::json!({"name": u.name, "items": u.items});
    append_tx(
        tx,
        vec![crate::audit::unit_event(
            change,
            "unit.created",
            &u.code,
            detail,
        )],
    )
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

pub(super) fn set_key(
    tx: &mut Tx<'_>,
    code: &str,
    key_hash: &[u8],
    change: &Change<'_>,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE units SET key_hash = $2, updated_at = now() WHERE code = $1",
        &[&code, &key_hash],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("unit {code}")));
    }
    append_tx(
        tx,
        vec![crate::audit::unit_event(
            change,
            "unit.key_rotated",
            code,
            serde_json::json!({}),
        )],
    )
}

pub(super) fn disable(tx: &mut Tx<'_>, code: &str, change: &Change<'_>) -> Result<()> {
    let n = tx.execute(
        "UPDATE units SET disabled = true, updated_at = now() WHERE code = $1",
        &[&code],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("unit {code}")));
    }
    append_tx(
        tx,
        vec![crate::audit::unit_event(
            change,
            "unit.disabled",
            code,
            serde_json::json!({}),
        )],
    )
}

fn batch_row(r: &postgres::Row) -> Result<BatchRow> {
    Ok(BatchRow {
        id: r.try_get(0)?,
        unit: r.try_get(1)?,
        idempotency_key: r.try_get(2)?,
        body_hash: r.try_get(3)?,
        status: r.try_get(4)?,
        receipt: r.try_get(5)?,
        created_at: r.try_get::<_, PgTimestamp>(6)?.0,
    })
}

pub(super) fn claim(
    tx: &mut Tx<'_>,
    unit: &str,
    key: Option<&str>,
    new_id: &str,
    lease_until: i64,
) -> Result<BatchClaim> {
    let now = jiff::Timestamp::now().as_second();
    if let Some(key) = key {
        let existing = tx.query_opt(
            "SELECT id, unit, idempotency_key, body_hash, status, receipt, created_at, lease_until
             FROM batches WHERE unit = $1 AND idempotency_key = $2",
            &[&unit, &key],
        )?;
        if let Some(r) = existing {
            let row = batch_row(&r)?;
            let lease: i64 = r.try_get(7)?;
            if row.status == "processing" && lease < now {
                tx.execute(
                    "UPDATE batches SET lease_until = $2 WHERE id = $1",
                    &[&row.id, &lease_until],
                )?;
                return Ok(BatchClaim::Owned { id: row.id });
            }
            return Ok(BatchClaim::Existing(row));
        }
    }
    tx.execute(
        "INSERT INTO batches (id, unit, idempotency_key, status, lease_until) VALUES ($1, $2, $3, 'processing', $4)",
        &[&new_id, &unit, &key, &lease_until],
    )?;
    Ok(BatchClaim::Owned {
        id: new_id.to_owned(),
    })
}

pub(super) fn renew(tx: &mut Tx<'_>, id: &str, lease_until: i64) -> Result<()> {
    tx.execute(
        "UPDATE batches SET lease_until = $2 WHERE id = $1",
        &[&id, &lease_until],
    )?;
    Ok(())
}

pub(super) fn finish(
    tx: &mut Tx<'_>,
    id: &str,
    body_hash: &[u8],
    receipt: &str,
    change: &Change<'_>,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE batches SET status = 'completed', body_hash = $2, receipt = $3 WHERE id = $1",
        &[&id, &body_hash, &receipt],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("batch {id}")));
    }
    append_tx(
        tx,
        vec![crate::audit::batch_completed(
            change, id, body_hash, receipt,
        )],
    )
}

pub(super) fn get(c: &mut Conn, id: &str) -> Result<Option<BatchRow>> {
    c.query_opt(
        "SELECT id, unit, idempotency_key, body_hash, status, receipt, created_at FROM batches WHERE id = $1",
        &[&id],
    )?
    .as_ref()
    .map(batch_row)
    .transpose()
}
