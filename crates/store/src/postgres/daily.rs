//! The daily run's due people and claim rows on PostgreSQL.

use jiff::civil::Date;

use super::conn::Conn;
use super::sqltypes::PgDate;
use crate::uow::{DailyCounts, DailyRun};
use crate::Result;

pub(super) fn due(
    conn: &mut Conn,
    model_version: &str,
    on: Date,
    after: i64,
    limit: usize,
) -> Result<Vec<i64>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.query(
        "SELECT person_id FROM scores
         WHERE model_version = $1 AND next_change IS NOT NULL AND next_change <= $2::text::date
           AND person_id > $3
         ORDER BY person_id LIMIT $4",
        &[&model_version, &on.to_string(), &after, &limit],
    )?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

pub(super) fn last(conn: &mut Conn) -> Result<Option<DailyRun>> {
    let Some(r) = conn.query_opt(
        "SELECT run_date, owner,
                to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                touched, rescored, changed
         FROM daily_runs ORDER BY run_date DESC LIMIT 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    let touched: Option<i64> = r.try_get(4)?;
    let counts = match touched {
        Some(touched) => Some(DailyCounts {
            touched,
            rescored: r.try_get::<_, Option<i64>>(5)?.unwrap_or(0),
            changed: r.try_get::<_, Option<i64>>(6)?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(Some(DailyRun {
        date: r.try_get::<_, PgDate>(0)?.0,
        owner: r.try_get(1)?,
        claimed_at: r.try_get(2)?,
        finished_at: r.try_get(3)?,
        counts,
    }))
}

pub(super) fn claim(conn: &mut Conn, date: Date, owner: &str) -> Result<bool> {
    // Of two concurrent claims, the second waits for the first to commit and
    // then inserts nothing.
    let n = conn.execute(
        "INSERT INTO daily_runs (run_date, owner) VALUES ($1::text::date, $2)
         ON CONFLICT (run_date) DO NOTHING",
        &[&date.to_string(), &owner],
    )?;
    Ok(n == 1)
}

pub(super) fn finish(conn: &mut Conn, date: Date, c: DailyCounts) -> Result<()> {
    conn.execute(
        "UPDATE daily_runs SET finished_at = now(), touched = $2, rescored = $3, changed = $4
         WHERE run_date = $1::text::date",
        &[&date.to_string(), &c.touched, &c.rescored, &c.changed],
    )?;
    Ok(())
}
