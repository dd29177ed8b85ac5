//! The audit log on PostgreSQL, kept like a Certificate Transparency log:
//! a unit of work adds its entries to `audit_pending` in its own
//! transaction (no lock: writers never wait for each other here), and a
//! sequencer seals pending entries into the hash chain, in the order it
//! finds them committed, within a bounded delay (the store's sealing
//! thread runs every [`SEAL_EVERY`]; `audit verify` and checkpoints seal
//! first). A committed change always has its entry, pending or sealed; the
//! chain stays gap-free; only the sequencer takes the head row's lock.

use chengxin_domain::audit::{chain, AuditEntry, AuditEvent};

use crate::{now_text, Result, StoreError};

use super::conn::Conn;

/// How often pending entries are sealed into the chain.
pub(super) const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Entries sealed per transaction.
const SEAL_BATCH: i64 = 5000;

/// Adds `events` to the log's pending entries, in the caller's transaction.
pub(super) fn stage(tx: &mut Conn, events: Vec<AuditEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let at = now_text();
    let n = events.len();
    let (mut actors, mut actions, mut subjects, mut persons, mut reqs, mut details) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for e in events {
        actors.push(e.actor);
        actions.push(e.action);
        subjects.push(e.subject);
        persons.push(e.person);
        reqs.push(e.request_id);
        details.push(e.detail.to_string());
    }
    tx.execute(
        "INSERT INTO audit_pending (at, actor, action, subject, person, request_id, detail)
         SELECT $1, a, ac, s, p, r, d
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
              WITH ORDINALITY AS x(a, ac, s, p, r, d, o)
         ORDER BY o",
        &[&at, &actors, &actions, &subjects, &persons, &reqs, &details],
    )?;
    Ok(())
}

/// Seals every pending entry committed so far into the chain; returns how
/// many. Sequencers in several processes take turns on the head row.
pub(super) fn seal(conn: &mut Conn) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        conn.batch_execute("BEGIN")?;
        let done = seal_batch(conn);
        match done {
            Ok(n) => {
                conn.batch_execute("COMMIT")?;
                sealed += n;
                if n < SEAL_BATCH.unsigned_abs() {
                    return Ok(sealed);
                }
            }
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(e);
            }
        }
    }
}

fn seal_batch(tx: &mut Conn) -> Result<u64> {
    let head = tx
        .query_opt(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    let (mut seq, mut hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let pending = tx.query(
        "SELECT id, at, actor, action, subject, person, request_id, detail FROM audit_pending
         ORDER BY id LIMIT $1",
        &[&SEAL_BATCH],
    )?;
    if pending.is_empty() {
        return Ok(0);
    }
    let n = pending.len();
    let mut ids = Vec::with_capacity(n);
    let (
        mut seqs,
        mut ats,
        mut actors,
        mut actions,
        mut subjects,
        mut persons,
        mut reqs,
        mut details,
        mut prevs,
        mut hashes,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in &pending {
        ids.push(r.try_get::<_, i64>(0)?);
        let detail: String = r.try_get(7)?;
        let event = AuditEvent {
            actor: r.try_get(2)?,
            action: r.try_get(3)?,
            subject: r.try_get(4)?,
            person: r.try_get(5)?,
            request_id: r.try_get(6)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        };
        let e = chain(seq, &hash, r.try_get(1)?, event);
        seq = e.seq;
        hash.clone_from(&e.hash);
        seqs.push(e.seq);
        ats.push(e.at);
        actors.push(e.event.actor);
        actions.push(e.event.action);
        subjects.push(e.event.subject);
        persons.push(e.event.person);
        reqs.push(e.event.request_id);
        details.push(e.event.detail.to_string());
        prevs.push(e.prev_hash);
        hashes.push(e.hash);
    }
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::text[], $9::text[], $10::text[])",
        &[&seqs, &ats, &actors, &actions, &subjects, &persons, &reqs, &details, &prevs, &hashes],
    )?;
    tx.execute("DELETE FROM audit_pending WHERE id = ANY($1)", &[&ids])?;
    tx.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[&seq, &hash],
    )?;
    Ok(n as u64)
}

pub(super) fn entries(conn: &mut Conn, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let rows = conn.query(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after_seq, &(limit as i64)],
    )?;
    rows.iter().map(entry_from_row).collect()
}

/// Up to `limit` sealed entries naming `person`, newest first.
pub(super) fn person_entries(
    conn: &mut Conn,
    person: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let rows = conn.query(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE person = $1 ORDER BY seq DESC LIMIT $2",
        &[&person, &(limit as i64)],
    )?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(r: &postgres::Row) -> Result<AuditEntry> {
    let detail: String = r.try_get(7)?;
    Ok(AuditEntry {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        prev_hash: r.try_get(8)?,
        hash: r.try_get(9)?,
        event: AuditEvent {
            actor: r.try_get(2)?,
            action: r.try_get(3)?,
            subject: r.try_get(4)?,
            person: r.try_get(5)?,
            request_id: r.try_get(6)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        },
    })
}

pub(super) fn head(conn: &mut Conn) -> Result<(i64, String)> {
    let row = conn
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}
