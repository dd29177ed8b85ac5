//! Scores and their history on SQLite.

use rusqlite::{params, Connection, OptionalExtension};

use super::{date_col, state_cols};
use crate::{
    now_text, Cause, HistoryEntry, ModelStamp, Result, ScoreChange, ScoreRow, ScoreState,
    StoreError, StoredScore,
};

pub(super) fn save(
    conn: &Connection,
    rows: &[ScoreRow],
    stamp: &ModelStamp,
    cause: Cause,
) -> Result<Vec<ScoreChange>> {
    let now = now_text();
    let as_of = stamp.as_of.to_string();
    let mut current = conn.prepare_cached(
        "SELECT p.rev, p.id_index, s.eligible, s.score, s.grade, s.rev FROM persons p
         LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = ?2 WHERE p.id = ?1",
    )?;
    let mut history = conn.prepare_cached(
        "INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO scores (person_id, model_version, model_hash, as_of, eligible, score, grade, reasons, computed_at, rev, next_change)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (person_id, model_version) DO UPDATE SET model_hash = excluded.model_hash,
           as_of = excluded.as_of, eligible = excluded.eligible, score = excluded.score,
           grade = excluded.grade, reasons = excluded.reasons, computed_at = excluded.computed_at,
           rev = excluded.rev, next_change = excluded.next_change",
    )?;
    let mut unmark = conn.prepare_cached(
        "DELETE FROM rescore WHERE model_version = ?1 AND person_id = ?2 AND rev <= ?3",
    )?;
    let mut changes = Vec::new();
    for row in rows {
        let cur = current
            .query_row(params![row.person_id, stamp.version], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    state_cols(r, 2)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .optional()?;
        // Computed from records that have changed since, or older than what
        // is stored: leave the person as they are (and marked).
        let Some((_, index, old, _)) = cur.filter(|(rev, _, _, stored_rev)| {
            *rev == row.rev && stored_rev.is_none_or(|s| s <= row.rev)
        }) else {
            continue;
        };
        let s = &row.state;
        if old.as_ref() != Some(s) {
            history.execute(params![
                row.person_id,
                stamp.version,
                stamp.hash,
                as_of,
                s.eligible,
                s.score,
                s.grade,
                cause.as_str(),
                now
            ])?;
            changes.push(ScoreChange {
                person_id: row.person_id,
                index,
                old,
                new: s.clone(),
            });
        }
        upsert.execute(params![
            row.person_id,
            stamp.version,
            stamp.hash,
            as_of,
            s.eligible,
            s.score,
            s.grade,
            row.reasons,
            now,
            row.rev,
            row.next_change.map(|d| d.to_string())
        ])?;
        unmark.execute(params![stamp.version, row.person_id, row.rev])?;
    }
    Ok(changes)
}

pub(super) fn score(
    conn: &Connection,
    person_id: i64,
    model_version: &str,
) -> Result<Option<StoredScore>> {
    Ok(conn
        .prepare_cached(
            "SELECT model_hash, as_of, eligible, score, grade, reasons FROM scores
             WHERE person_id = ?1 AND model_version = ?2",
        )?
        .query_row(params![person_id, model_version], |r| {
            Ok(StoredScore {
                person_id,
                model_version: model_version.to_owned(),
                model_hash: r.get(0)?,
                as_of: date_col(r, 1)?,
                state: ScoreState {
                    eligible: r.get(2)?,
                    score: r.get(3)?,
                    grade: r.get(4)?,
                },
                reasons: r.get(5)?,
            })
        })
        .optional()?)
}

pub(super) fn history(conn: &Connection, person_id: i64) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.model_version, h.model_hash, h.as_of, h.eligible, h.score, h.grade, h.cause, h.changed_at
         FROM score_history h JOIN models m ON m.version = h.model_version AND m.status IN {}
         WHERE h.person_id = ?1 ORDER BY h.id",
        crate::model_states_sql(chengxin_domain::publication::ModelStatus::published)
    ))?;
    let rows = stmt
        .query_map([person_id], |r| {
            Ok((
                HistoryEntry {
                    model_version: r.get(0)?,
                    model_hash: r.get(1)?,
                    as_of: date_col(r, 2)?,
                    state: ScoreState {
                        eligible: r.get(3)?,
                        score: r.get(4)?,
                        grade: r.get(5)?,
                    },
                    cause: Cause::Recompute,
                    changed_at: r.get(7)?,
                },
                r.get::<_, String>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut h, cause)| {
            h.cause = Cause::parse(&cause)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown score cause `{cause}`")))?;
            Ok(h)
        })
        .collect()
}

pub(super) fn grade_counts(
    conn: &Connection,
    model_version: &str,
) -> Result<Vec<(Option<String>, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT grade, count(*) FROM scores WHERE model_version = ?1 GROUP BY grade ORDER BY grade",
    )?;
    let rows = stmt
        .query_map([model_version], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
