//! Storing computed scores set-wise, and reading scores and their history.

use std::collections::HashMap;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use crate::{Change, HistoryEntry, ModelStamp, Result, ScoreRow, ScoreState, StoredScore};

use super::conn::{Conn, Tx};
use super::read::state;
use super::sqltypes::{PgDate, PgTimestamp};

/// Stores `rows` in `tx` with the semantics of saving them one by one: a row
/// is saved only if the person's revision still equals the row's; history is
/// written when the state differs from the stored one; the person's mark is
/// cleared. Returns how many changed.
pub(super) fn save_scores_tx(
    tx: &mut Tx<'_>,
    rows: &[ScoreRow],
    stamp: &ModelStamp,
    change: &Change<'_>,
) -> Result<u64> {
    let mut audit = crate::audit::ScoreAudit::new(change, stamp);
    let mut changed = 0;
    for round in rounds(rows) {
        changed += save_round(tx, &round, stamp, change, &mut audit)?;
    }
    super::audit::append_tx(tx, audit.finish(rows.len()))?;
    Ok(changed)
}

/// Splits rows so that no person occurs twice in one round, keeping order:
/// a person's second row must see the first one's result, as it would if
/// the rows were saved one at a time. Almost always a single round.
fn rounds(rows: &[ScoreRow]) -> Vec<Vec<&ScoreRow>> {
    let mut seen: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
    let mut rounds: Vec<Vec<&ScoreRow>> = Vec::new();
    for row in rows {
        let n = seen.entry(row.person_id).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::with_capacity(if *n == 0 { rows.len() } else { 0 }));
        }
        rounds[*n].push(row);
        *n += 1;
    }
    rounds
}

/// The stored revision, mark and score of a person, as `save_round` needs them.
struct Current {
    rev: i64,
    dirty: bool,
    stored: Option<ScoreState>,
    index: Vec<u8>,
}

fn save_round(
    tx: &mut Tx<'_>,
    rows: &[&ScoreRow],
    stamp: &ModelStamp,
    change: &Change<'_>,
    audit: &mut crate::audit::ScoreAudit<'_>,
) -> Result<u64> {
    let cause = change.cause;
    let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    // Writers hold the store's write lock, so these stay true until commit.
    let current: HashMap<i64, Current> = tx
        .query(
            "SELECT p.id, p.rev, p.dirty, s.eligible, s.score, s.grade, p.id_index FROM persons p
             LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = $2
             WHERE p.id = ANY($1)",
            &[&ids, &stamp.version],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                Current {
                    rev: r.try_get(1)?,
                    dirty: r.try_get(2)?,
                    stored: state(r, 3)?,
                    index: r.try_get(6)?,
                },
            ))
        })
        .collect::<Result<_>>()?;

    tx.execute("DELETE FROM score_in", &[])?;
    let mut saved = 0u64;
    let mut changed = 0u64;
    let mut clean = Vec::new();
    {
        let copy = tx
            .inner()
            .copy_in("COPY score_in (person_id, eligible, score, grade, reasons, changed) FROM STDIN (FORMAT binary)")?;
        let mut w = BinaryCopyInWriter::new(
            copy,
            &[
                Type::INT8,
                Type::BOOL,
                Type::INT4,
                Type::TEXT,
                Type::TEXT,
                Type::BOOL,
            ],
        );
        for row in rows {
            // A record arrived after this score was computed: leave the person marked.
            let Some(cur) = current.get(&row.person_id).filter(|c| c.rev == row.rev) else {
                continue;
            };
            let s = &row.state;
            let differs = cur.stored.as_ref() != Some(s);
            w.write(&[
                &row.person_id,
                &s.eligible,
                &s.score,
                &s.grade,
                &row.reasons,
                &differs,
            ])?;
            saved += 1;
            changed += u64::from(differs);
            if differs {
                audit.changed(row, cur.stored.as_ref(), &cur.index);
            }
            if cur.dirty {
                clean.push(row.person_id);
            }
        }
        w.finish()?;
    }
    if saved == 0 {
        return Ok(0);
    }
    let as_of = stamp.as_of.to_string();
    if changed > 0 {
        tx.execute(
            "INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause)
             SELECT person_id, $1, $2, $3::text::date, eligible, score, grade, $4 FROM score_in WHERE changed",
            &[&stamp.version, &stamp.hash, &as_of, &cause.as_str()],
        )?;
    }
    tx.execute(
        "INSERT INTO scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, computed_at)
         SELECT person_id, $1, $2, $3::text::date, eligible, score, grade, reasons, now() FROM score_in
         ON CONFLICT (person_id, model_version) DO UPDATE SET model_hash = excluded.model_hash,
           as_of = excluded.as_of, eligible = excluded.eligible, score = excluded.score,
           grade = excluded.grade, reasons = excluded.reasons, computed_at = excluded.computed_at",
        &[&stamp.version, &stamp.hash, &as_of],
    )?;
    if !clean.is_empty() {
        tx.execute(
            "UPDATE persons SET dirty = false WHERE id = ANY($1)",
            &[&clean],
        )?;
    }
    Ok(changed)
}

pub(super) fn score(
    conn: &mut Conn,
    person_id: i64,
    model_version: &str,
) -> Result<Option<StoredScore>> {
    let row = conn.query_opt(
        "SELECT model_hash, as_of, eligible, score, grade, reasons FROM scores
         WHERE person_id = $1 AND model_version = $2",
        &[&person_id, &model_version],
    )?;
    row.map(|r| {
        Ok(StoredScore {
            person_id,
            model_version: model_version.to_owned(),
            model_hash: r.try_get(0)?,
            as_of: r.try_get::<_, PgDate>(1)?.0,
            state: ScoreState {
                eligible: r.try_get(2)?,
                score: r.try_get(3)?,
                grade: r.try_get(4)?,
            },
            reasons: r.try_get(5)?,
        })
    })
    .transpose()
}

pub(super) fn score_history(conn: &mut Conn, person_id: i64) -> Result<Vec<HistoryEntry>> {
    let rows = conn.query(
        "SELECT h.model_version, h.model_hash, h.as_of, h.eligible, h.score, h.grade, h.cause, h.changed_at
         FROM score_history h JOIN models m ON m.version = h.model_version AND m.status <> 'staged'
         WHERE h.person_id = $1 ORDER BY h.id",
        &[&person_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                model_version: r.try_get(0)?,
                model_hash: r.try_get(1)?,
                as_of: r.try_get::<_, PgDate>(2)?.0,
                state: ScoreState {
                    eligible: r.try_get(3)?,
                    score: r.try_get(4)?,
                    grade: r.try_get(5)?,
                },
                cause: r.try_get(6)?,
                changed_at: r.try_get::<_, PgTimestamp>(7)?.0,
            })
        })
        .collect()
}

pub(super) fn grade_counts(
    conn: &mut Conn,
    model_version: &str,
) -> Result<Vec<(Option<String>, u64)>> {
    // Byte order with NULL first, as SQLite sorts.
    let rows = conn.query(
        "SELECT grade, count(*) FROM scores WHERE model_version = $1
         GROUP BY grade ORDER BY grade COLLATE \"C\" NULLS FIRST",
        &[&model_version],
    )?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)?.unsigned_abs())))
        .collect()
}

pub(super) fn counts(conn: &mut Conn) -> Result<(u64, u64)> {
    let rows = conn.query(
        "SELECT count(*), count(*) FILTER (WHERE dirty) FROM persons",
        &[],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| crate::StoreError::Corrupt("count returned no row".into()))?;
    Ok((
        row.try_get::<_, i64>(0)?.unsigned_abs(),
        row.try_get::<_, i64>(1)?.unsigned_abs(),
    ))
}
