//! Units and batches on SQLite.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::audit::append_tx;
use crate::{now_text, BatchClaim, BatchRow, Change, Result, StoreError, UnitRow};

pub(super) fn add(
    tx: &Transaction<'_>,
    u: &UnitRow,
    key_hash: &[u8],
    change: &Change<'_>,
) -> Result<()> {
    let now = now_text();
    let n = tx.execute(
        "INSERT INTO units (code, name, items, key_hash, disabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5) ON CONFLICT (code) DO NOTHING",
        params![u.code, u.name, u.items.join(","), key_hash, now],
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
    let u = conn
        .prepare_cached("SELECT code, name, items, disabled FROM units WHERE key_hash = ?1")?
        .query_row([key_hash], unit_row)
        .optional()?;
    Ok(u)
}

pub(super) fn set_key(
    tx: &Transaction<'_>,
    code: &str,
    key_hash: &[u8],
    change: &Change<'_>,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE units SET key_hash = ?2, updated_at = ?3 WHERE code = ?1",
        params![code, key_hash, now_text()],
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

pub(super) fn disable(tx: &Transaction<'_>, code: &str, change: &Change<'_>) -> Result<()> {
    let n = tx.execute(
        "UPDATE units SET disabled = 1, updated_at = ?2 WHERE code = ?1",
        params![code, now_text()],
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

fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchRow> {
    Ok(BatchRow {
        id: r.get(0)?,
        unit: r.get(1)?,
        idempotency_key: r.get(2)?,
        body_hash: r.get(3)?,
        status: r.get(4)?,
        receipt: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const BATCH_COLS: &str = "id, unit, idempotency_key, body_hash, status, receipt, created_at";

pub(super) fn claim(
    tx: &Transaction<'_>,
    unit: &str,
    key: Option<&str>,
    new_id: &str,
    lease_until: i64,
) -> Result<BatchClaim> {
    let now = jiff::Timestamp::now().as_second();
    if let Some(key) = key {
        let existing = tx
            .query_row(
                &format!("SELECT {BATCH_COLS}, lease_until FROM batches WHERE unit = ?1 AND idempotency_key = ?2"),
                params![unit, key],
                |r| Ok((batch_row(r)?, r.get::<_, i64>(7)?)),
            )
            .optional()?;
        if let Some((row, lease)) = existing {
            if row.status == "processing" && lease < now {
                // Its request died (crash, kill): take it over under the same id.
                tx.execute(
                    "UPDATE batches SET lease_until = ?2 WHERE id = ?1",
                    params![row.id, lease_until],
                )?;
                return Ok(BatchClaim::Owned { id: row.id });
            }
            return Ok(BatchClaim::Existing(row));
        }
    }
    tx.execute(
        "INSERT INTO batches (id, unit, idempotency_key, status, lease_until, created_at)
         VALUES (?1, ?2, ?3, 'processing', ?4, ?5)",
        params![new_id, unit, key, lease_until, now_text()],
    )?;
    Ok(BatchClaim::Owned {
        id: new_id.to_owned(),
    })
}

pub(super) fn renew(tx: &Transaction<'_>, id: &str, lease_until: i64) -> Result<()> {
    tx.execute(
        "UPDATE batches SET lease_until = ?2 WHERE id = ?1",
        params![id, lease_until],
    )?;
    Ok(())
}

pub(super) fn finish(
    tx: &Transaction<'_>,
    id: &str,
    body_hash: &[u8],
    receipt: &str,
    change: &Change<'_>,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE batches SET status = 'completed', body_hash = ?2, receipt = ?3 WHERE id = ?1",
        params![id, body_hash, receipt],
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

pub(super) fn get(conn: &Connection, id: &str) -> Result<Option<BatchRow>> {
    let b = conn
        .prepare_cached(&format!("SELECT {BATCH_COLS} FROM batches WHERE id = ?1"))?
        .query_row([id], batch_row)
        .optional()?;
    Ok(b)
}
