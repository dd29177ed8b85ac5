//! Loaded working-day calendar years on PostgreSQL.

use crate::uow::StoredCalendarYear;
use crate::Result;

use super::conn::Conn;

pub(super) fn years(conn: &mut Conn) -> Result<Vec<StoredCalendarYear>> {
    conn.query(
        "SELECT year, content, loaded_by,
                to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
         FROM calendar_years ORDER BY year",
        &[],
    )?
    .iter()
    .map(|r| {
        let year: i32 = r.try_get(0)?;
        Ok(StoredCalendarYear {
            year: i16::try_from(year)
                .map_err(|_| crate::StoreError::Corrupt(format!("calendar year {year}")))?,
            content: r.try_get(1)?,
            loaded_by: r.try_get(2)?,
            loaded_at: r.try_get(3)?,
        })
    })
    .collect()
}

pub(super) fn put(conn: &mut Conn, year: i16, content: &str, loaded_by: &str) -> Result<bool> {
    let year = i32::from(year);
    // The row lock of an existing year orders two concurrent loads.
    let existed = conn
        .query_opt(
            "SELECT 1 FROM calendar_years WHERE year = $1 FOR UPDATE",
            &[&year],
        )?
        .is_some();
    conn.execute(
        "INSERT INTO calendar_years (year, content, loaded_by) VALUES ($1, $2, $3)
         ON CONFLICT (year) DO UPDATE SET content = excluded.content,
             loaded_by = excluded.loaded_by, loaded_at = now()",
        &[&year, &content, &loaded_by],
    )?;
    Ok(existed)
}
