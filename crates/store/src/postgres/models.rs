//! Score models: staging, activation and listing.

use postgres::Row;

use crate::{ModelStatus, Result, StoreError, StoredModel};

use super::conn::{Conn, Tx};
use super::sqltypes::PgDate;

fn model(r: &Row) -> Result<StoredModel> {
    let status: &str = r.try_get(4)?;
    Ok(StoredModel {
        version: r.try_get(0)?,
        hash: r.try_get(1)?,
        content: r.try_get(2)?,
        effective_from: r.try_get::<_, PgDate>(3)?.0,
        status: ModelStatus::parse(status).unwrap_or(ModelStatus::Staged),
    })
}

/// Stores `m` as staged, discarding a staged model of the same version and
/// its partial scores. An active or retired version is a conflict.
pub(super) fn stage(tx: &mut Tx<'_>, m: &StoredModel) -> Result<()> {
    let existing = tx.query_opt(
        "SELECT status FROM models WHERE version = $1",
        &[&m.version],
    )?;
    if let Some(row) = existing {
        let status: &str = row.try_get(0)?;
        if status != ModelStatus::Staged.as_str() {
            return Err(StoreError::Conflict(format!(
                "model {} is already {status}",
                m.version
            )));
        }
    }
    tx.execute("DELETE FROM scores WHERE model_version = $1", &[&m.version])?;
    tx.execute(
        "DELETE FROM score_history WHERE model_version = $1",
        &[&m.version],
    )?;
    tx.execute("DELETE FROM models WHERE version = $1", &[&m.version])?;
    tx.execute(
        "INSERT INTO models (version, hash, content, effective_from, status)
         VALUES ($1, $2, $3, $4::text::date, 'staged')",
        &[
            &m.version,
            &m.hash,
            &m.content,
            &m.effective_from.to_string(),
        ],
    )?;
    Ok(())
}

/// Puts a staged model in force and retires the previous one.
pub(super) fn activate(tx: &mut Tx<'_>, version: &str) -> Result<()> {
    let n = tx.execute(
        "UPDATE models SET status = 'active', activated_at = now() WHERE version = $1 AND status = 'staged'",
        &[&version],
    )?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("staged model {version}")));
    }
    tx.execute(
        "UPDATE models SET status = 'retired' WHERE status = 'active' AND version <> $1",
        &[&version],
    )?;
    Ok(())
}

pub(super) fn active(conn: &mut Conn) -> Result<Option<StoredModel>> {
    conn.query_opt(
        "SELECT version, hash, content, effective_from, status FROM models WHERE status = 'active'",
        &[],
    )?
    .as_ref()
    .map(model)
    .transpose()
}

/// The model in force first, then any staged one, as this transaction sees them.
pub(super) fn in_play(tx: &mut Tx<'_>) -> Result<Vec<StoredModel>> {
    tx.query(
        "SELECT version, hash, content, effective_from, status FROM models
         WHERE status IN ('active', 'staged') ORDER BY status = 'staged', version",
        &[],
    )?
    .iter()
    .map(model)
    .collect()
}

pub(super) fn all(conn: &mut Conn) -> Result<Vec<StoredModel>> {
    conn.query("SELECT version, hash, content, effective_from, status FROM models ORDER BY created_at, version", &[])?
        .iter()
        .map(model)
        .collect()
}
