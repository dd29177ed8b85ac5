//! 信易+ scenarios on PostgreSQL.

use jiff::civil::Date;

use crate::uow::ScenarioRow;
use crate::{Result, StoreError};

use super::conn::Conn;

macro_rules! cols {
    () => {
        "code, provider, sector, description_zh, description_en, benefit_kind,
         benefit_amount, min_grade, min_score, valid_from, valid_until, created_by, created_at,
         retired_at"
    };
}

fn date(r: &postgres::Row, i: usize) -> Result<Date> {
    let s: String = r.try_get(i)?;
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("scenario date `{s}`")))
}

fn row(r: &postgres::Row) -> Result<ScenarioRow> {
    Ok(ScenarioRow {
        code: r.try_get(0)?,
        provider: r.try_get(1)?,
        sector: r.try_get(2)?,
        description_zh: r.try_get(3)?,
        description_en: r.try_get(4)?,
        benefit_kind: r.try_get(5)?,
        benefit_amount: r.try_get(6)?,
        min_grade: r.try_get(7)?,
        min_score: r.try_get(8)?,
        valid_from: date(r, 9)?,
        valid_until: date(r, 10)?,
        created_by: r.try_get(11)?,
        created_at: r.try_get(12)?,
        retired_at: r.try_get(13)?,
    })
}

pub(super) fn list(c: &mut Conn) -> Result<Vec<ScenarioRow>> {
    c.query(
        concat!(
            "SELECT ",
            cols!(),
            " FROM scenarios ORDER BY code COLLATE \"C\""
        ),
        &[],
    )?
    .iter()
    .map(row)
    .collect()
}

pub(super) fn by_code(c: &mut Conn, code: &str) -> Result<Option<ScenarioRow>> {
    c.query_opt(
        concat!("SELECT ", cols!(), " FROM scenarios WHERE code = $1"),
        &[&code],
    )?
    .as_ref()
    .map(row)
    .transpose()
}

pub(super) fn insert(c: &mut Conn, s: &ScenarioRow) -> Result<bool> {
    let (from, until) = (s.valid_from.to_string(), s.valid_until.to_string());
    let n = c.execute(
        concat!(
            "INSERT INTO scenarios (",
            cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (code) DO NOTHING"
        ),
        &[
            &s.code,
            &s.provider,
            &s.sector,
            &s.description_zh,
            &s.description_en,
            &s.benefit_kind,
            &s.benefit_amount,
            &s.min_grade,
            &s.min_score,
            &from,
            &until,
            &s.created_by,
            &s.created_at,
            &s.retired_at,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn retire(c: &mut Conn, code: &str, at: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE scenarios SET retired_at = $2 WHERE code = $1 AND retired_at IS NULL",
        &[&code, &at],
    )?;
    Ok(n == 1)
}
