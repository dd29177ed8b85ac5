//! The audit log on PostgreSQL, kept like a Certificate Transparency log:
//! a unit of work adds its entries to `audit_pending` in its own
//! transaction (no lock: writers never wait for each other here), and a
//! sequencer seals pending entries into the hash chain, in the order it
//! finds them committed, within a bounded delay (the store's sealing
//! thread runs every [`SEAL_EVERY`]; `audit verify` and checkpoints seal
//! first). A committed change always has its entry, pending or sealed; the
//! chain stays gap-free; only the sequencer takes the head row's lock.

use chengxin_domain::audit::{Appender, AuditEntry, AuditEvent};
use ed25519_dalek::SigningKey;

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

/// Up to this many entries are staged with the `COMMIT` in one round trip.
const STAGED_WITH_COMMIT: usize = 32;

/// Stages `events` (as [`stage`]) and commits the caller's transaction,
/// in one round trip when they are few: an `INSERT` of escaped literals
/// (see [`super::conn::literal`]) followed by `COMMIT`, in one simple query.
/// Returns when the commit is durable, as a `COMMIT` alone would.
pub(super) fn stage_and_commit(tx: &mut Conn, events: Vec<AuditEvent>) -> Result<()> {
    if events.is_empty() || events.len() > STAGED_WITH_COMMIT {
        stage(tx, events)?;
        return tx.batch_execute("COMMIT");
    }
    let Some(sql) = insert_literals(&now_text(), &events) else {
        // Text PostgreSQL cannot hold: the bound statement reports it.
        stage(tx, events)?;
        return tx.batch_execute("COMMIT");
    };
    tx.batch_execute(&sql)
}

/// `INSERT INTO audit_pending … VALUES …; COMMIT` for `events`, in order
/// (their ids follow it); `None` if a text cannot be a literal.
fn insert_literals(at: &str, events: &[AuditEvent]) -> Option<String> {
    use super::conn::literal;
    let opt = |v: &Option<String>| match v {
        Some(v) => literal(v),
        None => Some("NULL".to_owned()),
    };
    let at = literal(at)?;
    let mut sql = String::from(
        "INSERT INTO audit_pending (at, actor, action, subject, person, request_id, detail) VALUES ",
    );
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let row = [
            at.clone(),
            literal(&e.actor)?,
            literal(&e.action)?,
            opt(&e.subject)?,
            opt(&e.person)?,
            opt(&e.request_id)?,
            literal(&e.detail.to_string())?,
        ];
        sql.push('(');
        sql.push_str(&row.join(", "));
        sql.push(')');
    }
    sql.push_str("; COMMIT");
    Some(sql)
}

/// Seals every pending entry committed so far into the chain; returns how
/// many. Sequencers in several processes take turns on the head row.
pub(super) fn seal(conn: &mut Conn, key: &SigningKey) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        conn.batch_execute("BEGIN")?;
        let done = seal_batch(conn, key);
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

fn seal_batch(tx: &mut Conn, key: &SigningKey) -> Result<u64> {
    let head = tx
        .query_opt(
            "SELECT seq, hash, checkpoint_seq FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    let mut appender = Appender::new(head.try_get(0)?, head.try_get(1)?, head.try_get(2)?, key);
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
    let mut chained = Vec::with_capacity(n + 1);
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
        appender.push(r.try_get(1)?, event, &mut chained);
    }
    let m = chained.len();
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
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
    );
    for e in chained {
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
        "UPDATE audit_head SET seq = $1, hash = $2, checkpoint_seq = $3 WHERE id = 1",
        &[&appender.seq, &appender.hash, &appender.last_checkpoint],
    )?;
    Ok(n as u64)
}

/// The last signed checkpoint written into the log.
pub(super) fn last_checkpoint(conn: &mut Conn) -> Result<Option<AuditEntry>> {
    let row = conn
        .query_opt("SELECT checkpoint_seq FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    let seq: i64 = row.try_get(0)?;
    if seq == 0 {
        return Ok(None);
    }
    Ok(entries(conn, seq - 1, 1)?.into_iter().next())
}

pub(super) fn entries(conn: &mut Conn, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let rows = conn.query(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after_seq, &(limit as i64)],
    )?;
    rows.iter().map(entry_from_row).collect()
}

/// Up to `limit` sealed entries naming `person` by other actors than
/// `except_actor`, newest first.
pub(super) fn person_entries(
    conn: &mut Conn,
    person: &str,
    except_actor: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let rows = conn.query(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE person = $1 AND actor <> $2 ORDER BY seq DESC LIMIT $3",
        &[&person, &except_actor, &(limit as i64)],
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

/// Asks the sequencer for a signed checkpoint if entries were appended since
/// the last one.
pub(super) fn request_checkpoint_if_unsigned(conn: &mut Conn) -> Result<()> {
    let row = conn
        .query_opt(
            "SELECT seq, checkpoint_seq FROM audit_head WHERE id = 1",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    let (seq, last): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if seq > last {
        conn.batch_execute("BEGIN")?;
        let staged = stage(conn, vec![chengxin_domain::audit::checkpoint_request()]);
        conn.batch_execute(if staged.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        staged?;
    }
    Ok(())
}

/// What the database says about its keys (see `binding`).
pub(super) fn key_state(conn: &mut Conn) -> Result<crate::binding::KeyState> {
    let bound = conn
        .query_opt(
            "SELECT data_key_id, data_key_check, audit_public_key FROM key_binding WHERE id = 1",
            &[],
        )?
        .map(|r| -> Result<crate::binding::Binding> {
            Ok(crate::binding::Binding {
                data_key_id: r.try_get(0)?,
                data_key_check: r.try_get(1)?,
                audit_public_key: r.try_get(2)?,
            })
        })
        .transpose()?;
    let used: bool = conn
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM persons) OR EXISTS (SELECT 1 FROM units)
                    OR EXISTS (SELECT 1 FROM audit_log) OR EXISTS (SELECT 1 FROM audit_pending)",
            &[],
        )?
        .map_or(Ok(false), |r| r.try_get(0))?;
    let sample = conn
        .query_opt(
            "SELECT id_index, id_cipher FROM persons ORDER BY id LIMIT 1",
            &[],
        )?
        .map(|r| -> Result<(Vec<u8>, Vec<u8>)> { Ok((r.try_get(0)?, r.try_get(1)?)) })
        .transpose()?;
    let rotation = conn
        .query_opt(
            "SELECT next_key_id, next_key_check, next_key_file FROM key_rotation WHERE id = 1",
            &[],
        )?
        .map(|r| -> Result<crate::binding::NextKey> {
            Ok(crate::binding::NextKey {
                key_id: r.try_get(0)?,
                key_check: r.try_get(1)?,
                key_file: r.try_get(2)?,
            })
        })
        .transpose()?;
    let retired = conn
        .query(
            "SELECT key_id, successor_id, successor_file FROM retired_keys",
            &[],
        )?
        .into_iter()
        .map(|r| -> Result<crate::binding::RetiredKey> {
            Ok(crate::binding::RetiredKey {
                key_id: r.try_get(0)?,
                successor_id: r.try_get(1)?,
                successor_file: r.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::binding::KeyState {
        bound,
        empty: !used,
        sample,
        rotation,
        retired,
    })
}

/// Records the keys of a database that has none yet; `sign` (a database
/// with a log from before checkpoints were signed) also asks for a signed
/// checkpoint of that log. Two first openers race on the row's key: the
/// loser's keys are checked again when it opens next.
pub(super) fn bind(conn: &mut Conn, b: &crate::binding::Binding, sign: bool) -> Result<()> {
    conn.batch_execute("BEGIN")?;
    let done = (|| -> Result<()> {
        let n = conn.execute(
            "INSERT INTO key_binding (id, data_key_id, data_key_check, audit_public_key)
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
            &[&b.data_key_id, &b.data_key_check, &b.audit_public_key],
        )?;
        if n == 0 {
            // Another process opened the new database at the same moment.
            let now = key_state(conn)?.bound;
            if now.as_ref() != Some(b) {
                return Err(StoreError::Key(
                    "another process recorded other keys for this new database at the same time"
                        .into(),
                ));
            }
            return Ok(());
        }
        if sign {
            stage(conn, vec![chengxin_domain::audit::checkpoint_request()])?;
        }
        Ok(())
    })();
    conn.batch_execute(if done.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    done
}

/// Record version ids after `after`, in order.
pub(super) fn record_ids(conn: &mut Conn, after: i64, limit: usize) -> Result<Vec<i64>> {
    conn.query(
        "SELECT id FROM records WHERE id > $1 ORDER BY id LIMIT $2",
        &[&after, &(limit as i64)],
    )?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// Score-history rows per person, persons after `after`, in order.
pub(super) fn history_counts(conn: &mut Conn, after: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
    conn.query(
        "SELECT person_id, count(*) FROM score_history WHERE person_id > $1
         GROUP BY person_id ORDER BY person_id LIMIT $2",
        &[&after, &(limit as i64)],
    )?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

/// Entries committed but not yet sealed, in order.
pub(super) fn pending(conn: &mut Conn) -> Result<Vec<AuditEvent>> {
    conn.query(
        "SELECT actor, action, subject, person, request_id, detail FROM audit_pending ORDER BY id",
        &[],
    )?
    .iter()
    .map(|r| {
        let detail: String = r.try_get(5)?;
        Ok(AuditEvent {
            actor: r.try_get(0)?,
            action: r.try_get(1)?,
            subject: r.try_get(2)?,
            person: r.try_get(3)?,
            request_id: r.try_get(4)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        })
    })
    .collect()
}
