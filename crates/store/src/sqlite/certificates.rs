//! Certificate signing keys (public halves) and partner cities on SQLite.

use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::{PartnerRow, SigningKeyRow};
use crate::Result;

const PARTNER_COLS: &str = "code, name, issuer, jwks, grade_map, created_at, updated_at";

fn partner_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRow> {
    Ok(PartnerRow {
        code: r.get(0)?,
        name: r.get(1)?,
        issuer: r.get(2)?,
        jwks: r.get(3)?,
        grade_map: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub(super) fn signing_keys(conn: &Connection) -> Result<Vec<SigningKeyRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, public_key, created_at, retired_at FROM cert_signing_keys
         ORDER BY created_at, kid",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SigningKeyRow {
                kid: r.get(0)?,
                public_key: r.get(1)?,
                created_at: r.get(2)?,
                retired_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn partners(conn: &Connection) -> Result<Vec<PartnerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTNER_COLS} FROM partner_cities ORDER BY code"
    ))?;
    let rows = stmt
        .query_map([], partner_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn partner_by_issuer(conn: &Connection, issuer: &str) -> Result<Option<PartnerRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PARTNER_COLS} FROM partner_cities WHERE issuer = ?1"
        ))?
        .query_row([issuer], partner_row)
        .optional()?)
}

pub(super) fn insert_signing_key(conn: &Connection, k: &SigningKeyRow) -> Result<()> {
    conn.execute(
        "INSERT INTO cert_signing_keys (kid, public_key, created_at, retired_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![k.kid, k.public_key, k.created_at, k.retired_at],
    )?;
    Ok(())
}

pub(super) fn retire_except(conn: &Connection, kid: &str, at: i64) -> Result<u64> {
    let n = conn.execute(
        "UPDATE cert_signing_keys SET retired_at = ?2 WHERE retired_at IS NULL AND kid <> ?1",
        params![kid, at],
    )?;
    Ok(n as u64)
}

pub(super) fn put_partner(conn: &Connection, p: &PartnerRow) -> Result<bool> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM partner_cities WHERE code = ?1)")?
        .query_row([&p.code], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO partner_cities (code, name, issuer, jwks, grade_map, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, issuer = excluded.issuer,
           jwks = excluded.jwks, grade_map = excluded.grade_map, updated_at = excluded.updated_at",
        params![
            p.code,
            p.name,
            p.issuer,
            p.jwks,
            p.grade_map,
            p.created_at,
            p.updated_at
        ],
    )?;
    Ok(!exists)
}
