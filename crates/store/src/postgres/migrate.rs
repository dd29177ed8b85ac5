//! Applies the embedded PostgreSQL migrations at start-up.

use crate::migrate::POSTGRES;
use crate::Result;

use super::conn::Conn;

/// Advisory lock key ("chengxin" in ASCII) that serialises migrations, so
/// several processes opening a fresh database at once do not race.
const MIGRATION_LOCK: i64 = 0x6368_656e_6778_696e;

/// Applies every migration not yet recorded in `schema_migrations`, in one
/// transaction under an advisory lock.
pub(super) fn migrate(conn: &mut Conn) -> Result<()> {
    conn.batch_execute("BEGIN")?;
    conn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // No DDL at all once the schema is current, so a service role without
    // the right to create (README, "PostgreSQL roles") can start.
    let exists = conn
        .query_opt(
            "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL",
            &[],
        )?
        .is_some();
    if !exists {
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )?;
    }
    for m in POSTGRES {
        let done = conn
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&m.version],
            )?
            .is_some();
        if !done {
            conn.batch_execute(m.sql)?;
            conn.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&m.version],
            )?;
        }
    }
    conn.batch_execute("COMMIT")
}
