//! Staff accounts and sessions on SQLite.

use chengxin_domain::staff::Role;
use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::{StaffRow, StaffSessionRow};
use crate::Result;

const COLS: &str = "s.id, s.name, s.role, s.password_hash, s.disabled, s.created_at";

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    let role: String = r.get(2)?;
    Ok(StaffRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(2, "role".into(), rusqlite::types::Type::Text)
        })?,
        password_hash: r.get(3)?,
        disabled: r.get(4)?,
        created_at: r.get(5)?,
    })
}

pub(super) fn list(conn: &Connection) -> Result<Vec<StaffRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM staff s ORDER BY s.name"))?;
    let rows = stmt
        .query_map([], staff_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn by_name(conn: &Connection, name: &str) -> Result<Option<StaffRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLS} FROM staff s WHERE s.name = ?1"))?
        .query_row([name], staff_row)
        .optional()?)
}

pub(super) fn session(conn: &Connection, token_hash: &[u8]) -> Result<Option<StaffSessionRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS}, t.created_at, t.expires_at, t.revoked
             FROM staff_sessions t JOIN staff s ON s.id = t.staff_id
             WHERE t.token_hash = ?1"
        ))?
        .query_row([token_hash], |r| {
            Ok(StaffSessionRow {
                staff: staff_row(r)?,
                created_at: r.get(6)?,
                expires_at: r.get(7)?,
                revoked: r.get(8)?,
            })
        })
        .optional()?)
}

pub(super) fn insert(
    conn: &Connection,
    name: &str,
    role: Role,
    password_hash: &str,
    created_at: i64,
) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO staff (name, role, password_hash, disabled, created_at)
         VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (name) DO NOTHING",
        params![name, role.as_str(), password_hash, created_at],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(conn: &Connection, name: &str) -> Result<bool> {
    let n = conn.execute("UPDATE staff SET disabled = 1 WHERE name = ?1", [name])?;
    Ok(n == 1)
}

pub(super) fn insert_session(
    conn: &Connection,
    token_hash: &[u8],
    staff_id: i64,
    created_at: i64,
    expires_at: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at, revoked)
         VALUES (?1, ?2, ?3, ?4, 0)",
        params![token_hash, staff_id, created_at, expires_at],
    )?;
    Ok(())
}

pub(super) fn revoke(conn: &Connection, token_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "UPDATE staff_sessions SET revoked = 1 WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(n == 1)
}

pub(super) fn revoke_all(conn: &Connection, staff_id: i64) -> Result<u64> {
    let n = conn.execute(
        "UPDATE staff_sessions SET revoked = 1 WHERE staff_id = ?1 AND revoked = 0",
        [staff_id],
    )?;
    Ok(n as u64)
}

/// Whether a resident's portal session (ID token hash) was signed out.
pub(super) fn resident_signed_out(conn: &Connection, token_hash: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM resident_sign_outs WHERE token_hash = ?1")?
        .exists([token_hash])?)
}

/// Lists a signed-out portal session; forgets those expired before `now`.
pub(super) fn sign_out_resident(
    conn: &Connection,
    token_hash: &[u8],
    expires_at: i64,
    now: i64,
) -> Result<()> {
    conn.prepare_cached("DELETE FROM resident_sign_outs WHERE expires_at < ?1")?
        .execute([now])?;
    conn.prepare_cached(
        "INSERT INTO resident_sign_outs (token_hash, expires_at) VALUES (?1, ?2)
         ON CONFLICT (token_hash) DO NOTHING",
    )?
    .execute(rusqlite::params![token_hash, expires_at])?;
    Ok(())
}
