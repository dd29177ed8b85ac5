//! Score models on PostgreSQL. Writers that read the models in play hold a
//! shared advisory lock until they commit; staging and state changes take it
//! exclusively. So a model's state changes only between units of work that
//! depend on it: each record change is marked or scored under exactly the
//! models that will be in play when it commits.

use chengxin_domain::publication::ModelStatus;
use postgres::Row;

use crate::{Result, StoreError, StoredModel};

use super::conn::Conn;
use super::sqltypes::PgDate;

/// Advisory lock key ordering model changes after the writers that read
/// them ("cxmodels" in ASCII).
const MODELS_LOCK: i64 = 0x6378_6d6f_6465_6c73;

fn model(r: &Row) -> Result<StoredModel> {
    let status: &str = r.try_get(4)?;
    Ok(StoredModel {
        version: r.try_get(0)?,
        hash: r.try_get(1)?,
        content: r.try_get(2)?,
        effective_from: r.try_get::<_, PgDate>(3)?.0,
        status: ModelStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("model status `{status}`")))?,
    })
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

pub(super) fn all(conn: &mut Conn) -> Result<Vec<StoredModel>> {
    conn.query(
        "SELECT version, hash, content, effective_from, status FROM models ORDER BY created_at, version",
        &[],
    )?
    .iter()
    .map(model)
    .collect()
}

pub(super) fn status(conn: &mut Conn, version: &str) -> Result<Option<ModelStatus>> {
    let Some(r) = conn.query_opt("SELECT status FROM models WHERE version = $1", &[&version])?
    else {
        return Ok(None);
    };
    let s: &str = r.try_get(0)?;
    ModelStatus::parse(s)
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("model {version} has status `{s}`")))
}

/// The model in force first, then any staged one, under the shared lock.
pub(super) fn in_play(conn: &mut Conn) -> Result<Vec<StoredModel>> {
    // Two statements: the read must take its snapshot after the lock is
    // granted, or it could miss a model staged while it waited. Both go in
    // one round trip (the simple protocol: no parameters, text values).
    let field = |r: &postgres::SimpleQueryRow, i: usize| -> Result<String> {
        r.try_get(i)?
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Corrupt(format!("model column {i} is null")))
    };
    conn.simple_last(in_play_sql())?
        .iter()
        .map(|r| {
            let status = field(r, 4)?;
            let from = field(r, 3)?;
            Ok(StoredModel {
                version: field(r, 0)?,
                hash: field(r, 1)?,
                content: field(r, 2)?,
                effective_from: chengxin_domain::dates::parse_date(&from)
                    .ok_or_else(|| StoreError::Corrupt(format!("model date `{from}`")))?,
                status: ModelStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("model status `{status}`")))?,
            })
        })
        .collect()
}

/// Takes the shared lock, then reads the models in play, by version; which
/// states are in play is the domain's rule.
fn in_play_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT pg_advisory_xact_lock_shared({MODELS_LOCK});
             SELECT version, hash, content, effective_from, status FROM models
             WHERE status IN {} ORDER BY version",
            crate::model_states_sql(ModelStatus::in_play)
        )
    })
}

fn lock_exclusive(conn: &mut Conn) -> Result<()> {
    conn.execute("SELECT pg_advisory_xact_lock($1)", &[&MODELS_LOCK])?;
    Ok(())
}

pub(super) fn put_staged(conn: &mut Conn, m: &StoredModel) -> Result<()> {
    lock_exclusive(conn)?;
    conn.execute("DELETE FROM scores WHERE model_version = $1", &[&m.version])?;
    conn.execute(
        "DELETE FROM score_history WHERE model_version = $1",
        &[&m.version],
    )?;
    conn.execute(
        "DELETE FROM rescore WHERE model_version = $1",
        &[&m.version],
    )?;
    conn.execute("DELETE FROM models WHERE version = $1", &[&m.version])?;
    conn.execute(
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

pub(super) fn set_status(conn: &mut Conn, version: &str, status: ModelStatus) -> Result<()> {
    lock_exclusive(conn)?;
    conn.execute(
        "UPDATE models SET status = $2,
             activated_at = CASE WHEN $2 = 'active' THEN now() ELSE activated_at END
         WHERE version = $1",
        &[&version, &status.as_str()],
    )?;
    Ok(())
}

pub(super) fn clear_marks(conn: &mut Conn, version: &str) -> Result<()> {
    conn.execute("DELETE FROM rescore WHERE model_version = $1", &[&version])?;
    Ok(())
}
