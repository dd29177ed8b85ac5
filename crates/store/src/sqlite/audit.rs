//! The audit log on SQLite: entries appended inside the caller's transaction.

use chengxin_domain::audit::{chain, AuditEntry, AuditEvent};
use rusqlite::{params, Connection};

use crate::{now_text, Result};

/// Appends events after the stored head, in the caller's transaction (the
/// single writer serialises appenders).
pub(super) fn append(tx: &Connection, events: Vec<AuditEvent>) -> Result<()> {
    let at = now_text();
    append_at(tx, events.into_iter().map(|e| (at.clone(), e)).collect())
}

/// Appends events, each with the time it happened, after the stored head.
pub(super) fn append_at(tx: &Connection, events: Vec<(String, AuditEvent)>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut seq, mut hash): (i64, String) =
        tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (at, event) in events {
        let e = chain(seq, &hash, at, event);
        insert.execute(params![
            e.seq,
            e.at,
            e.event.actor,
            e.event.action,
            e.event.subject,
            e.event.person,
            e.event.request_id,
            e.event.detail.to_string(),
            e.prev_hash,
            e.hash
        ])?;
        seq = e.seq;
        hash = e.hash;
    }
    tx.execute(
        "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
        params![seq, hash],
    )?;
    Ok(())
}

/// Reads entries after `after_seq`.
pub(super) fn entries(conn: &Connection, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![after_seq, limit as i64], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Up to `limit` sealed entries naming `person`, newest first.
pub(super) fn person_entries(
    conn: &Connection,
    person: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE person = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![person, limit as i64], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    let detail: String = r.get(7)?;
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
        event: AuditEvent {
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            person: r.get(5)?,
            request_id: r.get(6)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        },
    })
}

/// The stored head: (size, hash of the last entry).
pub(super) fn head(conn: &Connection) -> Result<(i64, String)> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
