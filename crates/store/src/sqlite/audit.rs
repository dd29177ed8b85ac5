//! The audit log on SQLite: entries appended inside the caller's transaction.

use chengxin_domain::audit::{Appender, AuditEntry, AuditEvent};
use ed25519_dalek::SigningKey;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{now_text, Result, StoreError};

/// Appends events after the stored head, in the caller's transaction (the
/// single writer serialises appenders).
pub(super) fn append(tx: &Connection, key: &SigningKey, events: Vec<AuditEvent>) -> Result<()> {
    let at = now_text();
    append_at(
        tx,
        key,
        events.into_iter().map(|e| (at.clone(), e)).collect(),
    )
}

/// Appends events, each with the time it happened, after the stored head,
/// with a signed checkpoint wherever one is due.
pub(super) fn append_at(
    tx: &Connection,
    key: &SigningKey,
    events: Vec<(String, AuditEvent)>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (seq, hash, last_cp): (i64, String, i64) = tx.query_row(
        "SELECT seq, hash, checkpoint_seq FROM audit_head WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut appender = Appender::new(seq, hash, last_cp, key);
    let mut entries = Vec::with_capacity(events.len() + 1);
    for (at, event) in events {
        appender.push(at, event, &mut entries);
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for e in entries {
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
    }
    tx.execute(
        "UPDATE audit_head SET seq = ?1, hash = ?2, checkpoint_seq = ?3 WHERE id = 1",
        params![appender.seq, appender.hash, appender.last_checkpoint],
    )?;
    Ok(())
}

/// The last signed checkpoint written into the log.
pub(super) fn last_checkpoint(conn: &Connection) -> Result<Option<AuditEntry>> {
    let seq: i64 = conn
        .prepare_cached("SELECT checkpoint_seq FROM audit_head WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    if seq == 0 {
        return Ok(None);
    }
    Ok(entries(conn, seq - 1, 1)?.into_iter().next())
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

/// Up to `limit` sealed entries naming `person` by other actors than
/// `except_actor`, newest first.
pub(super) fn person_entries(
    conn: &Connection,
    person: &str,
    except_actor: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE person = ?1 AND actor <> ?2 ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![person, except_actor, limit as i64], entry_from_row)?
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

/// Writes a signed checkpoint if entries were appended since the last one,
/// in a transaction of its own (the timed checkpoints of a long-running
/// process).
pub(super) fn checkpoint_if_unsigned(conn: &Connection, key: &SigningKey) -> Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = (|| -> Result<bool> {
        let (seq, last): (i64, i64) = conn.query_row(
            "SELECT seq, checkpoint_seq FROM audit_head WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if seq <= last {
            return Ok(false);
        }
        append(
            conn,
            key,
            vec![chengxin_domain::audit::checkpoint_request()],
        )?;
        Ok(true)
    })();
    match done {
        Ok(wrote) => {
            conn.execute_batch("COMMIT")?;
            Ok(wrote)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Record version ids after `after`, in order.
pub(super) fn record_ids(conn: &Connection, after: i64, limit: usize) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM records WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = stmt
        .query_map(params![after, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(rows)
}

/// Score-history rows per person, persons after `after`, in order.
pub(super) fn history_counts(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, count(*) FROM score_history WHERE person_id > ?1
         GROUP BY person_id ORDER BY person_id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
