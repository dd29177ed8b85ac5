//! The dashboard's aggregates on PostgreSQL, and the region back-fill's
//! reads and writes. Each aggregate is one grouped statement over an index
//! or one pass over a model's scores.

use chengxin_domain::IdNumber;

use super::conn::Conn;
use super::sqltypes::PgDate;
use crate::crypto::DataKeys;
use crate::uow::{ReceivedWindow, ScoreBucket, UnitDay};
use crate::Result;

pub(super) fn score_buckets(
    conn: &mut Conn,
    model_version: &str,
    width: u32,
) -> Result<Vec<ScoreBucket>> {
    // Byte order with NULL first, as SQLite sorts.
    let rows = conn.query(
        "SELECT grade, score / $2 AS b, count(*) FROM scores WHERE model_version = $1
         GROUP BY grade, b ORDER BY grade COLLATE \"C\" NULLS FIRST, b NULLS FIRST",
        &[
            &model_version,
            &i32::try_from(width.max(1)).unwrap_or(i32::MAX),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(ScoreBucket {
                grade: r.try_get(0)?,
                bucket: r.try_get::<_, Option<i32>>(1)?.map(i64::from),
                count: r.try_get::<_, i64>(2)?.unsigned_abs(),
            })
        })
        .collect()
}

pub(super) fn region_counts(conn: &mut Conn) -> Result<Vec<(Option<String>, u64)>> {
    let rows = conn.query(
        "SELECT region, count(*) FROM persons
         GROUP BY region ORDER BY region COLLATE \"C\" NULLS FIRST",
        &[],
    )?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)?.unsigned_abs())))
        .collect()
}

pub(super) fn received_per_unit_day(conn: &mut Conn, w: ReceivedWindow) -> Result<Vec<UnitDay>> {
    let rows = conn.query(
        "SELECT unit, ((received_at AT TIME ZONE 'UTC') + $3::int * interval '1 second')::date AS d,
                count(*)
         FROM records
         WHERE received_at >= 'epoch'::timestamptz + $1::bigint * interval '1 second'
           AND received_at < 'epoch'::timestamptz + $2::bigint * interval '1 second'
         GROUP BY unit, d ORDER BY unit COLLATE \"C\", d",
        &[
            &w.since.as_second(),
            &w.until.as_second(),
            &w.utc_offset_seconds,
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(UnitDay {
                unit: r.try_get(0)?,
                day: r.try_get::<_, PgDate>(1)?.0,
                count: r.try_get::<_, i64>(2)?.unsigned_abs(),
            })
        })
        .collect()
}

pub(super) fn people_without_region(
    conn: &mut Conn,
    keys: &DataKeys,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, IdNumber)>> {
    let rows = conn.query(
        "SELECT id, id_cipher, id_index FROM persons
         WHERE region IS NULL AND id > $1 ORDER BY id LIMIT $2",
        &[&after, &i64::try_from(limit).unwrap_or(i64::MAX)],
    )?;
    rows.iter()
        .map(|r| {
            let (number, _) = crate::decrypt_identity(keys, r.try_get(2)?, r.try_get(1)?, None)?;
            Ok((r.try_get(0)?, number))
        })
        .collect()
}

pub(super) fn set_regions(conn: &mut Conn, regions: &[(i64, &str)]) -> Result<()> {
    let ids: Vec<i64> = regions.iter().map(|r| r.0).collect();
    let codes: Vec<&str> = regions.iter().map(|r| r.1).collect();
    conn.execute(
        "UPDATE persons p SET region = u.r
         FROM unnest($1::bigint[], $2::text[]) AS u(i, r) WHERE p.id = u.i",
        &[&ids, &codes],
    )?;
    Ok(())
}
