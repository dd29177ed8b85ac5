//! The daily run's due people and claim rows on SQLite.

use jiff::civil::Date;
use rusqlite::{params, Connection, OptionalExtension};

use super::date_col;
use crate::uow::{DailyCounts, DailyRun};
use crate::{now_text, Result};

pub(super) fn due(
    conn: &Connection,
    model_version: &str,
    on: Date,
    after: i64,
    limit: usize,
) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id FROM scores INDEXED BY scores_next_change
         WHERE model_version = ?1 AND next_change IS NOT NULL AND next_change <= ?2
           AND person_id > ?3
         ORDER BY person_id LIMIT ?4",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids = stmt
        .query_map(params![model_version, on.to_string(), after, limit], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

pub(super) fn last(conn: &Connection) -> Result<Option<DailyRun>> {
    Ok(conn
        .prepare_cached(
            "SELECT run_date, owner, claimed_at, finished_at, touched, rescored, changed
             FROM daily_runs ORDER BY run_date DESC LIMIT 1",
        )?
        .query_row([], |r| {
            let touched: Option<i64> = r.get(4)?;
            Ok(DailyRun {
                date: date_col(r, 0)?,
                owner: r.get(1)?,
                claimed_at: r.get(2)?,
                finished_at: r.get(3)?,
                counts: touched
                    .map(|touched| -> rusqlite::Result<DailyCounts> {
                        Ok(DailyCounts {
                            touched,
                            rescored: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                            changed: r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                        })
                    })
                    .transpose()?,
            })
        })
        .optional()?)
}

pub(super) fn claim(conn: &Connection, date: Date, owner: &str) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO daily_runs (run_date, owner, claimed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (run_date) DO NOTHING",
        params![date.to_string(), owner, now_text()],
    )?;
    Ok(n == 1)
}

pub(super) fn finish(conn: &Connection, date: Date, c: DailyCounts) -> Result<()> {
    conn.execute(
        "UPDATE daily_runs SET finished_at = ?2, touched = ?3, rescored = ?4, changed = ?5
         WHERE run_date = ?1",
        params![
            date.to_string(),
            now_text(),
            c.touched,
            c.rescored,
            c.changed
        ],
    )?;
    Ok(())
}
