//! The dashboard's aggregates on SQLite, and the region back-fill's reads
//! and writes. Each aggregate is one grouped statement over an index or one
//! pass over a model's scores.

use chengxin_domain::IdNumber;
use rusqlite::{params, Connection};

use super::date_col;
use crate::crypto::DataKeys;
use crate::uow::{ReceivedWindow, ScoreBucket, UnitDay};
use crate::Result;

/// `received_at` is stored as jiff writes an instant (`…T08:00:00.5Z`);
/// bounds written without fraction or `Z` compare as text correctly: a
/// bound is a prefix, so less than every time in or after its second.
fn bound(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

pub(super) fn score_buckets(
    conn: &Connection,
    model_version: &str,
    width: u32,
) -> Result<Vec<ScoreBucket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT grade, score / ?2 AS b, count(*) FROM scores WHERE model_version = ?1
         GROUP BY grade, b ORDER BY grade, b",
    )?;
    let rows = stmt
        .query_map(params![model_version, i64::from(width.max(1))], |r| {
            Ok(ScoreBucket {
                grade: r.get(0)?,
                bucket: r.get(1)?,
                count: r.get::<_, i64>(2)?.unsigned_abs(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn region_counts(conn: &Connection) -> Result<Vec<(Option<String>, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT region, count(*) FROM persons INDEXED BY persons_region
         GROUP BY region ORDER BY region",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs())))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn received_per_unit_day(conn: &Connection, w: ReceivedWindow) -> Result<Vec<UnitDay>> {
    let mut stmt = conn.prepare_cached(
        "SELECT unit, date(received_at, ?3) AS d, count(*) FROM records INDEXED BY records_received
         WHERE received_at >= ?1 AND received_at < ?2
         GROUP BY unit, d ORDER BY unit, d",
    )?;
    let shift = format!("{:+} seconds", w.utc_offset_seconds);
    let rows = stmt
        .query_map(params![bound(w.since), bound(w.until), shift], |r| {
            Ok(UnitDay {
                unit: r.get(0)?,
                day: date_col(r, 1)?,
                count: r.get::<_, i64>(2)?.unsigned_abs(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn people_without_region(
    conn: &Connection,
    keys: &DataKeys,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, IdNumber)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, id_cipher, id_index FROM persons INDEXED BY persons_region
         WHERE region IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(
            params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, cipher, index)| {
            let (number, _) = crate::decrypt_identity(keys, &index, &cipher, None)?;
            Ok((id, number))
        })
        .collect()
}

pub(super) fn set_regions(conn: &Connection, regions: &[(i64, &str)]) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE persons SET region = ?2 WHERE id = ?1")?;
    for (id, region) in regions {
        stmt.execute(params![id, region])?;
    }
    Ok(())
}
