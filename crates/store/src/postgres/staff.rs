//! Staff accounts and sessions on PostgreSQL.

use chengxin_domain::staff::Role;

use crate::uow::{StaffRow, StaffSessionRow};
use crate::{Result, StoreError};

use super::conn::Conn;

macro_rules! cols {
    () => {
        "s.id, s.name, s.role, s.password_hash, s.disabled, s.created_at"
    };
}

fn staff_row(r: &postgres::Row) -> Result<StaffRow> {
    let role: String = r.try_get(2)?;
    Ok(StaffRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown staff role `{role}`")))?,
        password_hash: r.try_get(3)?,
        disabled: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

pub(super) fn list(c: &mut Conn) -> Result<Vec<StaffRow>> {
    c.query(
        concat!(
            "SELECT ",
            cols!(),
            " FROM staff s ORDER BY s.name COLLATE \"C\""
        ),
        &[],
    )?
    .iter()
    .map(staff_row)
    .collect()
}

pub(super) fn by_name(c: &mut Conn, name: &str) -> Result<Option<StaffRow>> {
    c.query_opt(
        concat!("SELECT ", cols!(), " FROM staff s WHERE s.name = $1"),
        &[&name],
    )?
    .as_ref()
    .map(staff_row)
    .transpose()
}

pub(super) fn session(c: &mut Conn, token_hash: &[u8]) -> Result<Option<StaffSessionRow>> {
    let Some(r) = c.query_opt(
        concat!(
            "SELECT ",
            cols!(),
            ", t.created_at, t.expires_at, t.revoked
             FROM staff_sessions t JOIN staff s ON s.id = t.staff_id
             WHERE t.token_hash = $1"
        ),
        &[&token_hash],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(StaffSessionRow {
        staff: staff_row(&r)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked: r.try_get(8)?,
    }))
}

pub(super) fn insert(
    c: &mut Conn,
    name: &str,
    role: Role,
    password_hash: &str,
    created_at: i64,
) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO staff (name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        &[&name, &role.as_str(), &password_hash, &created_at],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(c: &mut Conn, name: &str) -> Result<bool> {
    let n = c.execute("UPDATE staff SET disabled = true WHERE name = $1", &[&name])?;
    Ok(n == 1)
}

pub(super) fn insert_session(
    c: &mut Conn,
    token_hash: &[u8],
    staff_id: i64,
    created_at: i64,
    expires_at: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        &[&token_hash, &staff_id, &created_at, &expires_at],
    )?;
    Ok(())
}

pub(super) fn revoke(c: &mut Conn, token_hash: &[u8]) -> Result<bool> {
    let n = c.execute(
        "UPDATE staff_sessions SET revoked = true WHERE token_hash = $1",
        &[&token_hash],
    )?;
    Ok(n == 1)
}

pub(super) fn revoke_all(c: &mut Conn, staff_id: i64) -> Result<u64> {
    c.execute(
        "UPDATE staff_sessions SET revoked = true WHERE staff_id = $1 AND NOT revoked",
        &[&staff_id],
    )
}

/// Whether a resident's portal session (ID token hash) was signed out.
pub(super) fn resident_signed_out(c: &mut Conn, token_hash: &[u8]) -> Result<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM resident_sign_outs WHERE token_hash = $1",
        &[&token_hash],
    )?
    .is_some())
}

/// Lists a signed-out portal session; forgets those expired before `now`.
pub(super) fn sign_out_resident(
    c: &mut Conn,
    token_hash: &[u8],
    expires_at: i64,
    now: i64,
) -> Result<()> {
    c.execute(
        "DELETE FROM resident_sign_outs WHERE expires_at < $1",
        &[&now],
    )?;
    c.execute(
        "INSERT INTO resident_sign_outs (token_hash, expires_at) VALUES ($1, $2)
         ON CONFLICT (token_hash) DO NOTHING",
        &[&token_hash, &expires_at],
    )?;
    Ok(())
}
