//! The journal of read audit entries on SQLite: a database file of its own
//! beside the main one (`DB-reads`), so a read's entry is made durable
//! without waiting for the main database's single writer, which an import
//! chunk can hold for a quarter of a second. Entries of concurrent reads
//! share one commit; a sealer moves them into the main hash chain within a
//! bounded delay, and `audit verify`, checkpoints and closing the store seal
//! first.
//!
//! Moving is crash-safe without a transaction spanning both files: the main
//! database records the last journal id it chained (`audit_journal`) in the
//! same transaction as the entries, and the journal's ids only grow
//! (AUTOINCREMENT), so entries chained before a crash are skipped, never
//! chained twice, when the journal is next read.

use std::path::{Path, PathBuf};

use chengxin_domain::audit::AuditEvent;
use ed25519_dalek::SigningKey;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{now_text, Result};

/// How often the journal is sealed into the chain.
pub(super) const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The journal beside `db`.
pub(super) fn journal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-reads");
    PathBuf::from(name)
}

/// Opens (creating) the journal. Commits are synchronous: an answered read's
/// entry survives a power cut.
pub(super) fn open(path: &Path) -> Result<Connection> {
    super::create_private(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS pending (
             id         INTEGER PRIMARY KEY AUTOINCREMENT,
             at         TEXT NOT NULL,
             actor      TEXT NOT NULL,
             action     TEXT NOT NULL,
             subject    TEXT,
             person     TEXT,
             request_id TEXT,
             detail     TEXT NOT NULL
         );",
    )?;
    Ok(conn)
}

/// Writes `events` to the journal in one transaction.
pub(super) fn write(journal: &Connection, events: Vec<AuditEvent>) -> Result<()> {
    let at = now_text();
    journal.execute_batch("BEGIN IMMEDIATE")?;
    let written = (|| -> Result<()> {
        let mut insert = journal.prepare_cached(
            "INSERT INTO pending (at, actor, action, subject, person, request_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for e in events {
            insert.execute(params![
                at,
                e.actor,
                e.action,
                e.subject,
                e.person,
                e.request_id,
                e.detail.to_string()
            ])?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => Ok(journal.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = journal.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Moves journal entries into the chain: chained and recorded in one main
/// transaction, then removed from the journal. Returns how many.
pub(super) fn seal(main: &Connection, journal: &Connection, key: &SigningKey) -> Result<u64> {
    let mut stmt = journal.prepare_cached(
        "SELECT id, at, actor, action, subject, person, request_id, detail FROM pending ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let detail: String = r.get(7)?;
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                AuditEvent {
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    person: r.get(5)?,
                    request_id: r.get(6)?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    let Some(last) = rows.last().map(|r| r.0) else {
        return Ok(0);
    };
    main.execute_batch("BEGIN IMMEDIATE")?;
    let chained = (|| -> Result<u64> {
        let done: i64 = main
            .query_row("SELECT last_id FROM audit_journal WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        let fresh: Vec<(String, AuditEvent)> = rows
            .into_iter()
            .filter(|(id, _, _)| *id > done)
            .map(|(_, at, e)| (at, e))
            .collect();
        let n = fresh.len() as u64;
        super::audit::append_at(main, key, fresh)?;
        main.execute(
            "INSERT INTO audit_journal (id, last_id) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
            [last],
        )?;
        Ok(n)
    })();
    let n = match chained {
        Ok(n) => {
            main.execute_batch("COMMIT")?;
            n
        }
        Err(e) => {
            let _ = main.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    journal.execute("DELETE FROM pending WHERE id <= ?1", [last])?;
    Ok(n)
}
