//! Score models on SQLite.

use chengxin_domain::publication::ModelStatus;
use rusqlite::{params, Connection, OptionalExtension};

use super::date_col;
use crate::{now_text, Result, StoreError, StoredModel};

const COLS: &str = "version, hash, content, effective_from, status";

fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredModel> {
    let status: String = r.get(4)?;
    Ok(StoredModel {
        version: r.get(0)?,
        hash: r.get(1)?,
        content: r.get(2)?,
        effective_from: date_col(r, 3)?,
        status: ModelStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(4, "status".into(), rusqlite::types::Type::Text)
        })?,
    })
}

pub(super) fn active(conn: &Connection) -> Result<Option<StoredModel>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM models WHERE status = 'active'"
        ))?
        .query_row([], model_row)
        .optional()?)
}

pub(super) fn all(conn: &Connection) -> Result<Vec<StoredModel>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM models ORDER BY created_at, version"
    ))?;
    let rows = stmt
        .query_map([], model_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn status(conn: &Connection, version: &str) -> Result<Option<ModelStatus>> {
    let s: Option<String> = conn
        .prepare_cached("SELECT status FROM models WHERE version = ?1")?
        .query_row([version], |r| r.get(0))
        .optional()?;
    s.map(|s| {
        ModelStatus::parse(&s)
            .ok_or_else(|| StoreError::Corrupt(format!("model {version} has status `{s}`")))
    })
    .transpose()
}

pub(super) fn in_play(conn: &Connection) -> Result<Vec<StoredModel>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM models WHERE status IN {} ORDER BY version",
        crate::model_states_sql(ModelStatus::in_play)
    ))?;
    let rows = stmt
        .query_map([], model_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn put_staged(conn: &Connection, m: &StoredModel) -> Result<()> {
    for sql in [
        "DELETE FROM scores WHERE model_version = ?1",
        "DELETE FROM score_history WHERE model_version = ?1",
        "DELETE FROM rescore WHERE model_version = ?1",
        "DELETE FROM models WHERE version = ?1",
    ] {
        conn.execute(sql, [&m.version])?;
    }
    conn.execute(
        "INSERT INTO models (version, hash, content, effective_from, status, created_at)
         VALUES (?1, ?2, ?3, ?4, 'staged', ?5)",
        params![
            m.version,
            m.hash,
            m.content,
            m.effective_from.to_string(),
            now_text()
        ],
    )?;
    Ok(())
}

pub(super) fn set_status(conn: &Connection, version: &str, status: ModelStatus) -> Result<()> {
    let activated = (status == ModelStatus::Active).then(now_text);
    conn.execute(
        "UPDATE models SET status = ?2, activated_at = coalesce(?3, activated_at) WHERE version = ?1",
        params![version, status.as_str(), activated],
    )?;
    Ok(())
}

pub(super) fn clear_marks(conn: &Connection, version: &str) -> Result<()> {
    conn.execute("DELETE FROM rescore WHERE model_version = ?1", [version])?;
    Ok(())
}
