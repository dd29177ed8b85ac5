//! Parties and authorisations on PostgreSQL. In a write unit of work an
//! authorisation is read `FOR UPDATE`: a concurrent unit of work reading the
//! same one waits until this one ends and then sees what it committed, so a
//! use counted here is seen there (READ COMMITTED re-reads locked rows).

use crate::uow::{AuthorisationRow, NewAuthorisation, NewParty, PartyRow};
use crate::{Result, StoreError};

use super::conn::Conn;

macro_rules! party_cols {
    () => {
        "id, code, name, kind, purposes, disabled"
    };
}

macro_rules! auth_cols {
    () => {
        "id, person_id, party_id, purpose, scope, valid_until, max_uses, uses, \
         created_at, redeemed_at, revoked_at"
    };
}

fn party_row(r: &postgres::Row) -> Result<PartyRow> {
    let purposes: String = r.try_get(4)?;
    Ok(PartyRow {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        name: r.try_get(2)?,
        kind: r.try_get(3)?,
        purposes: purposes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        disabled: r.try_get(5)?,
    })
}

fn auth_row(r: &postgres::Row) -> Result<AuthorisationRow> {
    let id: i64 = r.try_get(0)?;
    let date: String = r.try_get(5)?;
    Ok(AuthorisationRow {
        id,
        person_id: r.try_get(1)?,
        party_id: r.try_get(2)?,
        purpose: r.try_get(3)?,
        scope: r.try_get(4)?,
        valid_until: date
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("authorisation {id}: valid_until: {e}")))?,
        max_uses: r.try_get(6)?,
        uses: r.try_get(7)?,
        created_at: r.try_get(8)?,
        redeemed_at: r.try_get(9)?,
        revoked_at: r.try_get(10)?,
    })
}

pub(super) fn list(c: &mut Conn) -> Result<Vec<PartyRow>> {
    c.query(
        concat!(
            "SELECT ",
            party_cols!(),
            " FROM parties ORDER BY code COLLATE \"C\""
        ),
        &[],
    )?
    .iter()
    .map(party_row)
    .collect()
}

pub(super) fn by_code(c: &mut Conn, code: &str) -> Result<Option<PartyRow>> {
    c.query_opt(
        concat!("SELECT ", party_cols!(), " FROM parties WHERE code = $1"),
        &[&code],
    )?
    .as_ref()
    .map(party_row)
    .transpose()
}

pub(super) fn by_key(c: &mut Conn, key_hash: &[u8]) -> Result<Option<(PartyRow, Vec<u8>)>> {
    let Some(r) = c.query_opt(
        concat!(
            "SELECT ",
            party_cols!(),
            ", key_hash FROM parties WHERE key_hash = $1"
        ),
        &[&key_hash],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((party_row(&r)?, r.try_get(6)?)))
}

pub(super) fn insert(c: &mut Conn, p: &NewParty<'_>, key_hash: &[u8]) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO parties (code, name, kind, purposes, key_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
        &[
            &p.code,
            &p.name,
            &p.kind,
            &p.purposes.join(","),
            &key_hash,
            &p.created_at,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn set_key(c: &mut Conn, code: &str, key_hash: &[u8]) -> Result<bool> {
    let n = c.execute(
        "UPDATE parties SET key_hash = $2 WHERE code = $1",
        &[&code, &key_hash],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(c: &mut Conn, code: &str) -> Result<bool> {
    let n = c.execute(
        "UPDATE parties SET disabled = true WHERE code = $1",
        &[&code],
    )?;
    Ok(n == 1)
}

pub(super) fn of_person(c: &mut Conn, person_id: i64) -> Result<Vec<AuthorisationRow>> {
    c.query(
        concat!(
            "SELECT ",
            auth_cols!(),
            " FROM authorisations WHERE person_id = $1 ORDER BY id"
        ),
        &[&person_id],
    )?
    .iter()
    .map(auth_row)
    .collect()
}

pub(super) fn by_id(c: &mut Conn, id: i64, lock: bool) -> Result<Option<AuthorisationRow>> {
    let sql = if lock {
        concat!(
            "SELECT ",
            auth_cols!(),
            " FROM authorisations WHERE id = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            auth_cols!(),
            " FROM authorisations WHERE id = $1"
        )
    };
    c.query_opt(sql, &[&id])?.as_ref().map(auth_row).transpose()
}

pub(super) fn by_code_hash(
    c: &mut Conn,
    code_hash: &[u8],
    lock: bool,
) -> Result<Option<AuthorisationRow>> {
    let sql = if lock {
        concat!(
            "SELECT ",
            auth_cols!(),
            " FROM authorisations WHERE code_hash = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            auth_cols!(),
            " FROM authorisations WHERE code_hash = $1"
        )
    };
    c.query_opt(sql, &[&code_hash])?
        .as_ref()
        .map(auth_row)
        .transpose()
}

pub(super) fn lock_grants(c: &mut Conn, person_id: i64, party_id: i64) -> Result<()> {
    let key = format!("chengxin.grants:{person_id}:{party_id}");
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )?;
    Ok(())
}

pub(super) fn insert_authorisation(c: &mut Conn, a: &NewAuthorisation<'_>) -> Result<i64> {
    let r = c
        .query_opt(
            "INSERT INTO authorisations
               (person_id, party_id, purpose, scope, valid_until, max_uses, code_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &a.person_id,
                &a.party_id,
                &a.purpose,
                &a.scope,
                &a.valid_until.to_string(),
                &a.max_uses,
                &a.code_hash,
                &a.created_at,
            ],
        )?
        .ok_or_else(|| StoreError::Corrupt("INSERT … RETURNING gave no row".into()))?;
    Ok(r.try_get(0)?)
}

pub(super) fn redeem(c: &mut Conn, id: i64, at: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE authorisations SET redeemed_at = $2 WHERE id = $1 AND redeemed_at IS NULL",
        &[&id, &at],
    )?;
    Ok(n == 1)
}

pub(super) fn revoke(c: &mut Conn, id: i64, at: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE authorisations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[&id, &at],
    )?;
    Ok(n == 1)
}

pub(super) fn count_use(c: &mut Conn, id: i64, seen: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE authorisations SET uses = uses + 1 WHERE id = $1 AND uses = $2",
        &[&id, &seen],
    )?;
    Ok(n == 1)
}
