//! The audit log on PostgreSQL. A unit of work chains its entries at commit,
//! after everything else it does: the log's head row is the only point where
//! writers wait for each other, and only for the few statements between
//! taking it and committing. Entries stay gap-free and in commit order.

use chengxin_domain::audit::{chain, AuditEntry, AuditEvent};

use crate::{now_text, Result, StoreError};

use super::conn::Conn;

/// Chains `events` after the head, which stays locked until commit.
pub(super) fn append(tx: &mut Conn, events: Vec<AuditEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let head = tx
        .query_opt(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    let (mut seq, mut hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let at = now_text();
    let n = events.len();
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
    for event in events {
        let e = chain(seq, &hash, at.clone(), event);
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
        "WITH added AS (
             INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                  $7::text[], $8::text[], $9::text[], $10::text[]))
         UPDATE audit_head SET seq = $11, hash = $12 WHERE id = 1",
        &[
            &seqs, &ats, &actors, &actions, &subjects, &persons, &reqs, &details, &prevs, &hashes,
            &seq, &hash,
        ],
    )?;
    Ok(())
}

pub(super) fn entries(conn: &mut Conn, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let rows = conn.query(
        "SELECT seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after_seq, &(limit as i64)],
    )?;
    rows.iter()
        .map(|r| {
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
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                },
            })
        })
        .collect()
}

pub(super) fn head(conn: &mut Conn) -> Result<(i64, String)> {
    let row = conn
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| StoreError::Corrupt("audit head missing".into()))?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}
