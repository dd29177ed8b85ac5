//! Storing computed scores set-wise, and reading scores and their history.

use std::collections::HashMap;

use jiff::civil::Date;
use postgres::types::ToSql;
use postgres::Row;

use crate::{
    Cause, HistoryEntry, ModelStamp, Result, ScoreChange, ScoreRow, ScoreState, StoreError,
    StoredScore,
};

use super::conn::Conn;
use super::copy::CopyRows;
use super::read::state;
use super::sqltypes::{PgDate, PgTimestamp};

/// Stores `rows` with the semantics of saving them one by one: a row is
/// saved only if the person's revision still equals the row's and no score
/// from a later revision is stored; history is written when the state
/// differs from the stored one; the person's mark under the model is cleared
/// up to the row's revision. Writers that race are ordered by the stored
/// revision (a guard on every write), never by a lock on the whole save.
pub(super) fn save(
    conn: &mut Conn,
    rows: &[ScoreRow],
    stamp: &ModelStamp,
    cause: Cause,
) -> Result<Vec<ScoreChange>> {
    let mut changes = Vec::new();
    for round in rounds(rows) {
        save_round(conn, &round, stamp, cause, &mut changes)?;
    }
    Ok(changes)
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
    stored: Option<Stored>,
    index: Vec<u8>,
}

/// A stored score, as far as a save could change it.
struct Stored {
    state: ScoreState,
    model_hash: String,
    as_of: Date,
    reasons: String,
    rev: i64,
    next_change: Option<Date>,
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
        conn: &mut Conn,
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
        conn.query(sql, &params)
    }
}

fn current(conn: &mut Conn, rows: &[&ScoreRow], version: &str) -> Result<HashMap<i64, Current>> {
    if rows.len() <= super::records::SMALL {
        return current_few(conn, rows, version);
    }
    let keys = Keys::of(rows);
    let mut current = HashMap::with_capacity(rows.len());
    for r in keys.query(
        conn,
        "SELECT id, rev, id_index FROM persons WHERE id = ANY($1)",
        "SELECT id, rev, id_index FROM persons WHERE id BETWEEN $1 AND $2",
        &[],
    )? {
        let cur = Current {
            rev: r.try_get(1)?,
            stored: None,
            index: r.try_get(2)?,
        };
        current.insert(r.try_get::<_, i64>(0)?, cur);
    }
    for r in keys.query(
        conn,
        "SELECT person_id, eligible, score, grade, model_hash, as_of, reasons, rev, next_change
         FROM scores WHERE person_id = ANY($1) AND model_version = $2",
        "SELECT person_id, eligible, score, grade, model_hash, as_of, reasons, rev, next_change
         FROM scores WHERE person_id BETWEEN $1 AND $2 AND model_version = $3",
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
                    rev: r.try_get(7)?,
                    next_change: r.try_get::<_, Option<PgDate>>(8)?.map(|d| d.0),
                })
            })
            .transpose()?;
    }
    Ok(current)
}

/// [`current`] for a few people (a push's): one statement, probing both
/// primary keys per person.
fn current_few(
    conn: &mut Conn,
    rows: &[&ScoreRow],
    version: &str,
) -> Result<HashMap<i64, Current>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    let mut current = HashMap::with_capacity(rows.len());
    for r in conn.query(
        "SELECT p.id, p.rev, p.id_index, s.eligible, s.score, s.grade, s.model_hash, s.as_of,
                s.reasons, s.rev, s.next_change
         FROM persons p LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = $2
         WHERE p.id = ANY($1)",
        &[&ids, &version],
    )? {
        let stored = state(&r, 3)?
            .map(|state| -> Result<Stored> {
                Ok(Stored {
                    state,
                    model_hash: r.try_get(6)?,
                    as_of: r.try_get::<_, PgDate>(7)?.0,
                    reasons: r.try_get(8)?,
                    rev: r.try_get(9)?,
                    next_change: r.try_get::<_, Option<PgDate>>(10)?.map(|d| d.0),
                })
            })
            .transpose()?;
        let cur = Current {
            rev: r.try_get(1)?,
            stored,
            index: r.try_get(2)?,
        };
        current.insert(r.try_get::<_, i64>(0)?, cur);
    }
    Ok(current)
}

/// Rewrites stored scores, probing the primary key per row (a plan that
/// cannot go wrong whatever the statistics say).
fn update(conn: &mut Conn, stamp: &ModelStamp, rows: &[&ScoreRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    Columns::of(rows).write(
        conn,
        stamp,
        "UPDATE scores s SET model_hash = $2, as_of = $3::text::date, eligible = u.eligible,
             score = u.score, grade = u.grade, reasons = u.reasons, computed_at = now(), rev = u.rev,
             next_change = u.next_change::date
         FROM unnest($4::int8[], $5::bool[], $6::int4[], $7::text[], $8::text[], $9::int8[],
                     $10::text[])
              AS u(person_id, eligible, score, grade, reasons, rev, next_change)
         WHERE s.person_id = u.person_id AND s.model_version = $1 AND s.rev <= u.rev",
    )
}

/// Score rows as column arrays, the parameters `$4…$10` of a set-wise write
/// whose `$1…$3` are the stamp's version, hash and date.
struct Columns<'a> {
    ids: Vec<i64>,
    eligible: Vec<bool>,
    score: Vec<Option<i32>>,
    grade: Vec<Option<&'a str>>,
    reasons: Vec<&'a str>,
    revs: Vec<i64>,
    next: Vec<Option<String>>,
}

impl<'a> Columns<'a> {
    fn of(rows: &[&'a ScoreRow]) -> Columns<'a> {
        Columns {
            ids: rows.iter().map(|r| r.person_id).collect(),
            eligible: rows.iter().map(|r| r.state.eligible).collect(),
            score: rows.iter().map(|r| r.state.score).collect(),
            grade: rows.iter().map(|r| r.state.grade.as_deref()).collect(),
            reasons: rows.iter().map(|r| r.reasons.as_str()).collect(),
            revs: rows.iter().map(|r| r.rev).collect(),
            next: rows
                .iter()
                .map(|r| r.next_change.map(|d| d.to_string()))
                .collect(),
        }
    }

    fn write(&self, conn: &mut Conn, stamp: &ModelStamp, sql: &'static str) -> Result<()> {
        conn.execute(
            sql,
            &[
                &stamp.version,
                &stamp.hash,
                &stamp.as_of.to_string(),
                &self.ids,
                &self.eligible,
                &self.score,
                &self.grade,
                &self.reasons,
                &self.revs,
                &self.next,
            ],
        )?;
        Ok(())
    }
}

/// Saves rows of distinct people. New scores and history rows are copied in;
/// scores that exist are updated only where something visible changes.
fn save_round(
    conn: &mut Conn,
    rows: &[&ScoreRow],
    stamp: &ModelStamp,
    cause: Cause,
    changes: &mut Vec<ScoreChange>,
) -> Result<()> {
    let current = current(conn, rows, &stamp.version)?;
    let mut history = CopyRows::new();
    let mut inserts = CopyRows::new();
    let mut updates: Vec<&ScoreRow> = Vec::new();
    let mut new_rows: Vec<&ScoreRow> = Vec::new();
    let changes_before = changes.len();
    let (mut saved, mut saved_rev): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for &row in rows {
        // Computed from records that changed since, or older than what is
        // stored: leave the person as they are (and marked).
        let Some(cur) = current
            .get(&row.person_id)
            .filter(|c| c.rev == row.rev && c.stored.as_ref().is_none_or(|s| s.rev <= row.rev))
        else {
            continue;
        };
        let s = &row.state;
        let old = cur.stored.as_ref();
        if old.map(|o| &o.state) != Some(s) {
            changes.push(ScoreChange {
                person_id: row.person_id,
                index: cur.index.clone(),
                old: old.map(|o| o.state.clone()),
                new: s.clone(),
            });
            history
                .plain(row.person_id)
                .text(&stamp.version)
                .text(&stamp.hash)
                .plain(stamp.as_of)
                .plain(s.eligible)
                .opt_plain(s.score)
                .opt_text(s.grade.as_deref())
                .text(cause.as_str())
                .end_row();
        }
        match old {
            None => {
                new_rows.push(row);
                inserts
                    .plain(row.person_id)
                    .text(&stamp.version)
                    .text(&stamp.hash)
                    .plain(stamp.as_of)
                    .plain(s.eligible)
                    .opt_plain(s.score)
                    .opt_text(s.grade.as_deref())
                    .text(&row.reasons)
                    .plain(row.rev)
                    .opt_plain(row.next_change)
                    .end_row();
            }
            Some(o) => {
                let same = o.state == *s
                    && o.model_hash == stamp.hash
                    && o.as_of == stamp.as_of
                    && o.reasons == row.reasons
                    && o.rev == row.rev
                    && o.next_change == row.next_change;
                // Rewriting an identical row would only move `computed_at`.
                if !same {
                    updates.push(row);
                }
            }
        }
        saved.push(row.person_id);
        saved_rev.push(row.rev);
    }
    if rows.len() <= super::records::SMALL {
        return write_few(
            conn,
            stamp,
            cause,
            Few {
                history: &changes[changes_before..],
                new_rows: &new_rows,
                updates: &updates,
                saved: &saved,
                saved_rev: &saved_rev,
            },
        );
    }
    if changes.len() - changes_before <= super::records::SMALL {
        insert_history(conn, &changes[changes_before..], stamp, cause)?;
    } else {
        history.send(
            conn,
            "score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause)",
        )?;
    }
    // A score another writer inserted meanwhile makes this fail with a
    // unique violation: the save is then run again.
    if new_rows.len() <= super::records::SMALL {
        insert_scores(conn, &new_rows, stamp)?;
    } else {
        inserts.send(
            conn,
            "scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, rev, next_change)",
        )?;
    }
    update(conn, stamp, &updates)?;
    if !saved.is_empty() {
        conn.execute(
            "DELETE FROM rescore d USING unnest($2::int8[], $3::int8[]) AS u(id, rev)
             WHERE d.model_version = $1 AND d.person_id = u.id AND d.rev <= u.rev",
            &[&stamp.version, &saved, &saved_rev],
        )?;
    }
    Ok(())
}

/// What a save of a few rows (a push's) writes.
struct Few<'a> {
    history: &'a [ScoreChange],
    new_rows: &'a [&'a ScoreRow],
    updates: &'a [&'a ScoreRow],
    saved: &'a [i64],
    saved_rev: &'a [i64],
}

/// [`insert_history`], [`insert_scores`], [`update`] and the clearing of
/// the marks of a few rows, as one statement (one round trip instead of up
/// to four). The parts touch different rows (new scores are of people with
/// none stored, updates of people with one), so they need not see each
/// other's effects; empty parts change nothing.
fn write_few(conn: &mut Conn, stamp: &ModelStamp, cause: Cause, few: Few<'_>) -> Result<()> {
    if few.history.is_empty()
        && few.new_rows.is_empty()
        && few.updates.is_empty()
        && few.saved.is_empty()
    {
        return Ok(());
    }
    let h_ids: Vec<i64> = few.history.iter().map(|c| c.person_id).collect();
    let h_eligible: Vec<bool> = few.history.iter().map(|c| c.new.eligible).collect();
    let h_score: Vec<Option<i32>> = few.history.iter().map(|c| c.new.score).collect();
    let h_grade: Vec<Option<&str>> = few.history.iter().map(|c| c.new.grade.as_deref()).collect();
    let ins = Columns::of(few.new_rows);
    let upd = Columns::of(few.updates);
    conn.execute(
        "WITH h AS (
             INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause)
             SELECT p, $1, $2, $3::text::date, e, s, g, $4
             FROM unnest($5::int8[], $6::bool[], $7::int4[], $8::text[]) WITH ORDINALITY AS x(p, e, s, g, o)
             ORDER BY o
         ), i AS (
             INSERT INTO scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, rev, next_change)
             SELECT p, $1, $2, $3::text::date, e, s, g, r, v, n::date
             FROM unnest($9::int8[], $10::bool[], $11::int4[], $12::text[], $13::text[], $14::int8[],
                         $15::text[])
                  AS x(p, e, s, g, r, v, n)
         ), u AS (
             UPDATE scores s SET model_hash = $2, as_of = $3::text::date, eligible = u.eligible,
                 score = u.score, grade = u.grade, reasons = u.reasons, computed_at = now(), rev = u.rev,
                 next_change = u.next_change::date
             FROM unnest($16::int8[], $17::bool[], $18::int4[], $19::text[], $20::text[], $21::int8[],
                         $22::text[])
                  AS u(person_id, eligible, score, grade, reasons, rev, next_change)
             WHERE s.person_id = u.person_id AND s.model_version = $1 AND s.rev <= u.rev
         ), d AS (
             DELETE FROM rescore d USING unnest($23::int8[], $24::int8[]) AS u(id, rev)
             WHERE d.model_version = $1 AND d.person_id = u.id AND d.rev <= u.rev
         )
         SELECT 1",
        &[
            &stamp.version,
            &stamp.hash,
            &stamp.as_of.to_string(),
            &cause.as_str(),
            &h_ids,
            &h_eligible,
            &h_score,
            &h_grade,
            &ins.ids,
            &ins.eligible,
            &ins.score,
            &ins.grade,
            &ins.reasons,
            &ins.revs,
            &ins.next,
            &upd.ids,
            &upd.eligible,
            &upd.score,
            &upd.grade,
            &upd.reasons,
            &upd.revs,
            &upd.next,
            &few.saved,
            &few.saved_rev,
        ],
    )?;
    Ok(())
}

/// History rows for a few changes, in one statement.
fn insert_history(
    conn: &mut Conn,
    changes: &[ScoreChange],
    stamp: &ModelStamp,
    cause: Cause,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changes.iter().map(|c| c.person_id).collect();
    let eligible: Vec<bool> = changes.iter().map(|c| c.new.eligible).collect();
    let score: Vec<Option<i32>> = changes.iter().map(|c| c.new.score).collect();
    let grade: Vec<Option<&str>> = changes.iter().map(|c| c.new.grade.as_deref()).collect();
    conn.execute(
        "INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause)
         SELECT p, $1, $2, $3::text::date, e, s, g, $4
         FROM unnest($5::int8[], $6::bool[], $7::int4[], $8::text[]) WITH ORDINALITY AS x(p, e, s, g, o)
         ORDER BY o",
        &[
            &stamp.version,
            &stamp.hash,
            &stamp.as_of.to_string(),
            &cause.as_str(),
            &ids,
            &eligible,
            &score,
            &grade,
        ],
    )?;
    Ok(())
}

/// New scores for a few people, in one statement.
fn insert_scores(conn: &mut Conn, rows: &[&ScoreRow], stamp: &ModelStamp) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    Columns::of(rows).write(
        conn,
        stamp,
        "INSERT INTO scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, rev, next_change)
         SELECT p, $1, $2, $3::text::date, e, s, g, r, v, n::date
         FROM unnest($4::int8[], $5::bool[], $6::int4[], $7::text[], $8::text[], $9::int8[],
                     $10::text[])
              AS x(p, e, s, g, r, v, n)",
    )
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

/// A person's history under published models; which states are published
/// is the domain's rule.
fn history_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT h.model_version, h.model_hash, h.as_of, h.eligible, h.score, h.grade, h.cause, h.changed_at
             FROM score_history h JOIN models m ON m.version = h.model_version AND m.status IN {}
             WHERE h.person_id = $1 ORDER BY h.id",
            crate::model_states_sql(chengxin_domain::publication::ModelStatus::published)
        )
    })
}

pub(super) fn score_history(conn: &mut Conn, person_id: i64) -> Result<Vec<HistoryEntry>> {
    let rows = conn.query(history_sql(), &[&person_id])?;
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
                cause: {
                    let c: &str = r.try_get(6)?;
                    Cause::parse(c)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown score cause `{c}`")))?
                },
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
