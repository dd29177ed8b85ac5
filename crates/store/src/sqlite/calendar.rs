//! Loaded working-day calendar years on SQLite.

use rusqlite::{params, Connection, OptionalExtension};

use crate::uow::StoredCalendarYear;
use crate::{now_text, Result};

pub(super) fn years(conn: &Connection) -> Result<Vec<StoredCalendarYear>> {
    let mut stmt = conn.prepare_cached(
        "SELECT year, content, loaded_by, loaded_at FROM calendar_years ORDER BY year",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(StoredCalendarYear {
                year: r.get(0)?,
                content: r.get(1)?,
                loaded_by: r.get(2)?,
                loaded_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn put(conn: &Connection, year: i16, content: &str, loaded_by: &str) -> Result<bool> {
    let existed = conn
        .prepare_cached("SELECT 1 FROM calendar_years WHERE year = ?1")?
        .query_row([year], |_| Ok(()))
        .optional()?
        .is_some();
    conn.execute(
        "INSERT INTO calendar_years (year, content, loaded_by, loaded_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (year) DO UPDATE SET content = excluded.content,
             loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at",
        params![year, content, loaded_by, now_text()],
    )?;
    Ok(existed)
}
