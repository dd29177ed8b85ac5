//! Storing computed scores set-wise, and reading scores and their history.

use std::collections::HashMap;

use jiff::civil::Date;
use postgres::types::ToSql;
use postgres::Row;

use crate::{Change, HistoryEntry, ModelStamp, Result, ScoreRow, ScoreState, StoredScore};

use super::conn::{Conn, Tx};
use super::copy::CopyRows;
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

/// What `save_round` needs to know about a person before saving.
struct Current {
    rev: i64,
    dirty: bool,
    stored: Option<Stored>,
    index: Vec<u8>,
}

/// A stored score, as far as a save could change it.
struct Stored {
    state: ScoreState,
    model_hash: String,
    as_of: Date,
    reasons: String,
}

/// Which people a save reads: their ids, or the range they fill when dense
/// (a full rescoring saves consecutive people). A range is read with range
/// scans instead of thousands of index probes. Each table is read on its own
/// so that no plan can go wrong on a join (a fresh table has no statistics).
enum Keys {
    Ids(Vec<i64>),
    Range(i64, i64),
}

impl Keys {
    fn of(rows: &[&ScoreRow]) -> Keys {
        let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
        let (lo, hi) = match (ids.iter().min(), ids.iter().max()) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => return Keys::Ids(ids),
        };
        match i64::try_from(ids.len()) {
            Ok(n) if hi - lo < 2 * n => Keys::Range(lo, hi),
            _ => Keys::Ids(ids),
        }
    }

    /// Runs `by_id` (`… = ANY($1)`) or `by_range` (`… BETWEEN $1 AND $2`),
    /// with `extra` as the next parameter.
    fn query(
        &self,
        tx: &mut Tx<'_>,
        by_id: &'static str,
        by_range: &'static str,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(2 + extra.len());
        let sql = match self {
            Keys::Ids(ids) => {
                params.push(ids);
                by_id
            }
            Keys::Range(lo, hi) => {
                params.extend([lo as &(dyn ToSql + Sync), hi]);
                by_range
            }
        };
        params.extend_from_slice(extra);
        tx.query(sql, &params)
    }
}

fn current(tx: &mut Tx<'_>, rows: &[&ScoreRow], version: &str) -> Result<HashMap<i64, Current>> {
    let keys = Keys::of(rows);
    let mut current = HashMap::with_capacity(rows.len());
    for r in keys.query(
        tx,
        "SELECT id, rev, id_index FROM persons WHERE id = ANY($1)",
        "SELECT id, rev, id_index FROM persons WHERE id BETWEEN $1 AND $2",
        &[],
    )? {
        let cur = Current {
            rev: r.try_get(1)?,
            dirty: false,
            stored: None,
            index: r.try_get(2)?,
        };
        current.insert(r.try_get::<_, i64>(0)?, cur);
    }
    for r in keys.query(
        tx,
        "SELECT person_id FROM dirty_persons WHERE person_id = ANY($1)",
        "SELECT person_id FROM dirty_persons WHERE person_id BETWEEN $1 AND $2",
        &[],
    )? {
        if let Some(cur) = current.get_mut(&r.try_get::<_, i64>(0)?) {
            cur.dirty = true;
        }
    }
    for r in keys.query(
        tx,
        "SELECT person_id, eligible, score, grade, model_hash, as_of, reasons FROM scores
         WHERE person_id = ANY($1) AND model_version = $2",
        "SELECT person_id, eligible, score, grade, model_hash, as_of, reasons FROM scores
         WHERE person_id BETWEEN $1 AND $2 AND model_version = $3",
        &[&version],
    )? {
        let Some(cur) = current.get_mut(&r.try_get::<_, i64>(0)?) else {
            continue;
        };
        cur.stored = state(&r, 1)?
            .map(|state| -> Result<Stored> {
                Ok(Stored {
                    state,
                    model_hash: r.try_get(4)?,
                    as_of: r.try_get::<_, PgDate>(5)?.0,
                    reasons: r.try_get(6)?,
                })
            })
            .transpose()?;
    }
    Ok(current)
}

/// Rewrites stored scores, probing the primary key per row (a plan that
/// cannot go wrong whatever the statistics say).
fn update(tx: &mut Tx<'_>, stamp: &ModelStamp, rows: &[&ScoreRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    let eligible: Vec<bool> = rows.iter().map(|r| r.state.eligible).collect();
    let score: Vec<Option<i32>> = rows.iter().map(|r| r.state.score).collect();
    let grade: Vec<Option<&str>> = rows.iter().map(|r| r.state.grade.as_deref()).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| r.reasons.as_str()).collect();
    tx.execute(
        "UPDATE scores s SET model_hash = $2, as_of = $3::text::date, eligible = u.eligible,
             score = u.score, grade = u.grade, reasons = u.reasons, computed_at = now()
         FROM unnest($4::int8[], $5::bool[], $6::int4[], $7::text[], $8::text[])
              AS u(person_id, eligible, score, grade, reasons)
         WHERE s.person_id = u.person_id AND s.model_version = $1",
        &[
            &stamp.version,
            &stamp.hash,
            &stamp.as_of.to_string(),
            &ids,
            &eligible,
            &score,
            &grade,
            &reasons,
        ],
    )?;
    Ok(())
}

/// Saves rows of distinct people. New scores and history rows are copied in;
/// scores that exist are updated only where something visible changes.
fn save_round(
    tx: &mut Tx<'_>,
    rows: &[&ScoreRow],
    stamp: &ModelStamp,
    change: &Change<'_>,
    audit: &mut crate::audit::ScoreAudit<'_>,
) -> Result<u64> {
    // Writers hold the store's write lock, so this stays true until commit.
    let current = current(tx, rows, &stamp.version)?;
    let cause = change.cause.as_str();
    let mut history = CopyRows::new();
    let mut inserts = CopyRows::new();
    let mut updates: Vec<&ScoreRow> = Vec::new();
    let mut clean: Vec<i64> = Vec::new();
    let mut changed = 0u64;
    for &row in rows {
        // A record arrived after this score was computed: leave the person marked.
        let Some(cur) = current.get(&row.person_id).filter(|c| c.rev == row.rev) else {
            continue;
        };
        let s = &row.state;
        let old = cur.stored.as_ref();
        if old.map(|o| &o.state) != Some(s) {
            changed += 1;
            audit.changed(row, old.map(|o| &o.state), &cur.index);
            history
                .plain(row.person_id)
                .text(&stamp.version)
                .text(&stamp.hash)
                .plain(stamp.as_of)
                .plain(s.eligible)
                .opt_plain(s.score)
                .opt_text(s.grade.as_deref())
                .text(cause)
                .end_row();
        }
        match old {
            None => {
                inserts
                    .plain(row.person_id)
                    .text(&stamp.version)
                    .text(&stamp.hash)
                    .plain(stamp.as_of)
                    .plain(s.eligible)
                    .opt_plain(s.score)
                    .opt_text(s.grade.as_deref())
                    .text(&row.reasons)
                    .end_row();
            }
            Some(o) => {
                let same = o.state == *s
                    && o.model_hash == stamp.hash
                    && o.as_of == stamp.as_of
                    && o.reasons == row.reasons;
                // Rewriting an identical row would only move `computed_at`.
                if !same {
                    updates.push(row);
                }
            }
        }
        if cur.dirty {
            clean.push(row.person_id);
        }
    }
    history.send(
        tx,
        "score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause)",
    )?;
    inserts.send(
        tx,
        "scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons)",
    )?;
    update(tx, stamp, &updates)?;
    if !clean.is_empty() {
        tx.execute(
            "DELETE FROM dirty_persons WHERE person_id = ANY($1)",
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
        "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM dirty_persons)",
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
