//! 信易+ scenarios on SQLite.

use jiff::civil::Date;
use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::ScenarioRow;
use crate::Result;

const COLS: &str = "code, provider, sector, description_zh, description_en, benefit_kind,
    benefit_amount, min_grade, min_score, valid_from, valid_until, created_by, created_at,
    retired_at";

fn date(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Date> {
    let s: String = r.get(i)?;
    s.parse().map_err(|e: jiff::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScenarioRow> {
    Ok(ScenarioRow {
        code: r.get(0)?,
        provider: r.get(1)?,
        sector: r.get(2)?,
        description_zh: r.get(3)?,
        description_en: r.get(4)?,
        benefit_kind: r.get(5)?,
        benefit_amount: r.get(6)?,
        min_grade: r.get(7)?,
        min_score: r.get(8)?,
        valid_from: date(r, 9)?,
        valid_until: date(r, 10)?,
        created_by: r.get(11)?,
        created_at: r.get(12)?,
        retired_at: r.get(13)?,
    })
}

pub(super) fn list(conn: &Connection) -> Result<Vec<ScenarioRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM scenarios ORDER BY code"))?;
    let rows = stmt
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn by_code(conn: &Connection, code: &str) -> Result<Option<ScenarioRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLS} FROM scenarios WHERE code = ?1"))?
        .query_row([code], row)
        .optional()?)
}

pub(super) fn insert(conn: &Connection, s: &ScenarioRow) -> Result<bool> {
    let n = conn.execute(
        &format!(
            "INSERT INTO scenarios ({COLS}) VALUES
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (code) DO NOTHING"
        ),
        params![
            s.code,
            s.provider,
            s.sector,
            s.description_zh,
            s.description_en,
            s.benefit_kind,
            s.benefit_amount,
            s.min_grade,
            s.min_score,
            s.valid_from.to_string(),
            s.valid_until.to_string(),
            s.created_by,
            s.created_at,
            s.retired_at,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn retire(conn: &Connection, code: &str, at: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE scenarios SET retired_at = ?2 WHERE code = ?1 AND retired_at IS NULL",
        params![code, at],
    )?;
    Ok(n == 1)
}
