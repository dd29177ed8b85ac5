//! Certificate signing keys (public halves) and partner cities on PostgreSQL.

use crate::uow::{PartnerRow, SigningKeyRow};
use crate::Result;

use super::conn::Conn;

macro_rules! partner_cols {
    () => {
        "code, name, issuer, jwks, grade_map, created_at, updated_at"
    };
}

fn partner_row(r: &postgres::Row) -> Result<PartnerRow> {
    Ok(PartnerRow {
        code: r.try_get(0)?,
        name: r.try_get(1)?,
        issuer: r.try_get(2)?,
        jwks: r.try_get(3)?,
        grade_map: r.try_get(4)?,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

pub(super) fn signing_keys(c: &mut Conn) -> Result<Vec<SigningKeyRow>> {
    c.query(
        "SELECT kid, public_key, created_at, retired_at FROM cert_signing_keys
         ORDER BY created_at, kid COLLATE \"C\"",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(SigningKeyRow {
            kid: r.try_get(0)?,
            public_key: r.try_get(1)?,
            created_at: r.try_get(2)?,
            retired_at: r.try_get(3)?,
        })
    })
    .collect()
}

pub(super) fn partners(c: &mut Conn) -> Result<Vec<PartnerRow>> {
    c.query(
        concat!(
            "SELECT ",
            partner_cols!(),
            " FROM partner_cities ORDER BY code COLLATE \"C\""
        ),
        &[],
    )?
    .iter()
    .map(partner_row)
    .collect()
}

pub(super) fn partner_by_issuer(c: &mut Conn, issuer: &str) -> Result<Option<PartnerRow>> {
    c.query_opt(
        concat!(
            "SELECT ",
            partner_cols!(),
            " FROM partner_cities WHERE issuer = $1"
        ),
        &[&issuer],
    )?
    .as_ref()
    .map(partner_row)
    .transpose()
}

pub(super) fn insert_signing_key(c: &mut Conn, k: &SigningKeyRow) -> Result<()> {
    c.execute(
        "INSERT INTO cert_signing_keys (kid, public_key, created_at, retired_at)
         VALUES ($1, $2, $3, $4)",
        &[&k.kid, &k.public_key, &k.created_at, &k.retired_at],
    )?;
    Ok(())
}

pub(super) fn retire_except(c: &mut Conn, kid: &str, at: i64) -> Result<u64> {
    c.execute(
        "UPDATE cert_signing_keys SET retired_at = $2 WHERE retired_at IS NULL AND kid <> $1",
        &[&kid, &at],
    )
}

pub(super) fn put_partner(c: &mut Conn, p: &PartnerRow) -> Result<bool> {
    let exists = c
        .query_opt("SELECT 1 FROM partner_cities WHERE code = $1", &[&p.code])?
        .is_some();
    c.execute(
        "INSERT INTO partner_cities (code, name, issuer, jwks, grade_map, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, issuer = excluded.issuer,
           jwks = excluded.jwks, grade_map = excluded.grade_map, updated_at = excluded.updated_at",
        &[
            &p.code,
            &p.name,
            &p.issuer,
            &p.jwks,
            &p.grade_map,
            &p.created_at,
            &p.updated_at,
        ],
    )?;
    Ok(!exists)
}
