//! Parties and authorisations on SQLite. Write units of work run one at a
//! time on the writer, so a row read in one stays as read until it commits.

use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::{AuthorisationRow, NewAuthorisation, NewParty, PartyRow};
use crate::{Result, StoreError};

const PARTY_COLS: &str = "id, code, name, kind, purposes, disabled";
const AUTH_COLS: &str = "id, person_id, party_id, purpose, scope, valid_until, max_uses, uses, \
                         created_at, redeemed_at, revoked_at";

fn party_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartyRow> {
    let purposes: String = r.get(4)?;
    Ok(PartyRow {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        purposes: purposes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        disabled: r.get(5)?,
    })
}

fn auth_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AuthorisationRow, String)> {
    Ok((
        AuthorisationRow {
            id: r.get(0)?,
            person_id: r.get(1)?,
            party_id: r.get(2)?,
            purpose: r.get(3)?,
            scope: r.get(4)?,
            valid_until: jiff::civil::Date::constant(1970, 1, 1),
            max_uses: r.get(6)?,
            uses: r.get(7)?,
            created_at: r.get(8)?,
            redeemed_at: r.get(9)?,
            revoked_at: r.get(10)?,
        },
        r.get(5)?,
    ))
}

fn with_date((mut row, date): (AuthorisationRow, String)) -> Result<AuthorisationRow> {
    row.valid_until = date
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("authorisation {}: valid_until: {e}", row.id)))?;
    Ok(row)
}

pub(super) fn list(conn: &Connection) -> Result<Vec<PartyRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {PARTY_COLS} FROM parties ORDER BY code"))?;
    let rows = stmt
        .query_map([], party_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn by_code(conn: &Connection, code: &str) -> Result<Option<PartyRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PARTY_COLS} FROM parties WHERE code = ?1"))?
        .query_row([code], party_row)
        .optional()?)
}

pub(super) fn by_key(conn: &Connection, key_hash: &[u8]) -> Result<Option<(PartyRow, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PARTY_COLS}, key_hash FROM parties WHERE key_hash = ?1"
        ))?
        .query_row([key_hash], |r| Ok((party_row(r)?, r.get(6)?)))
        .optional()?)
}

pub(super) fn insert(conn: &Connection, p: &NewParty<'_>, key_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO parties (code, name, kind, purposes, key_hash, disabled, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) ON CONFLICT (code) DO NOTHING",
        params![
            p.code,
            p.name,
            p.kind,
            p.purposes.join(","),
            key_hash,
            p.created_at
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn set_key(conn: &Connection, code: &str, key_hash: &[u8]) -> Result<bool> {
    let n = conn.execute(
        "UPDATE parties SET key_hash = ?2 WHERE code = ?1",
        params![code, key_hash],
    )?;
    Ok(n == 1)
}

pub(super) fn disable(conn: &Connection, code: &str) -> Result<bool> {
    let n = conn.execute("UPDATE parties SET disabled = 1 WHERE code = ?1", [code])?;
    Ok(n == 1)
}

pub(super) fn of_person(conn: &Connection, person_id: i64) -> Result<Vec<AuthorisationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {AUTH_COLS} FROM authorisations WHERE person_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([person_id], auth_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_date).collect()
}

pub(super) fn by_id(conn: &Connection, id: i64) -> Result<Option<AuthorisationRow>> {
    conn.prepare_cached(&format!(
        "SELECT {AUTH_COLS} FROM authorisations WHERE id = ?1"
    ))?
    .query_row([id], auth_row)
    .optional()?
    .map(with_date)
    .transpose()
}

pub(super) fn by_code_hash(
    conn: &Connection,
    code_hash: &[u8],
) -> Result<Option<AuthorisationRow>> {
    conn.prepare_cached(&format!(
        "SELECT {AUTH_COLS} FROM authorisations WHERE code_hash = ?1"
    ))?
    .query_row([code_hash], auth_row)
    .optional()?
    .map(with_date)
    .transpose()
}

pub(super) fn insert_authorisation(conn: &Connection, a: &NewAuthorisation<'_>) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO authorisations
               (person_id, party_id, purpose, scope, valid_until, max_uses, code_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )?
        .query_row(
            params![
                a.person_id,
                a.party_id,
                a.purpose,
                a.scope,
                a.valid_until.to_string(),
                a.max_uses,
                a.code_hash,
                a.created_at
            ],
            |r| r.get(0),
        )?)
}

pub(super) fn redeem(conn: &Connection, id: i64, at: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE authorisations SET redeemed_at = ?2 WHERE id = ?1 AND redeemed_at IS NULL",
        params![id, at],
    )?;
    Ok(n == 1)
}

pub(super) fn revoke(conn: &Connection, id: i64, at: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE authorisations SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, at],
    )?;
    Ok(n == 1)
}

pub(super) fn count_use(conn: &Connection, id: i64, seen: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE authorisations SET uses = uses + 1 WHERE id = ?1 AND uses = ?2",
        params![id, seen],
    )?;
    Ok(n == 1)
}
