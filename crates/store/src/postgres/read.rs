//! Reading people with their counting records: one at a time, a set of
//! them, or all of them streamed in id order.

use chengxin_domain::record::RecordStatus;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Row;

use crate::{RawPerson, Result, ScoreState, StoreError};

use super::conn::Conn;
use super::packed;
use super::sqltypes::PgDate;

/// People with their stored score and packed counting records, one row per
/// person in id order. The column order is what [`person`] reads.
macro_rules! person_rows {
    ($from:literal, $where:literal) => {
        concat!(
            "SELECT p.id, p.rev, p.birth_date, p.counting, s.eligible, s.score, s.grade FROM ",
            $from,
            " LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = $1 ",
            $where,
            " ORDER BY p.id"
        )
    };
}

const SCAN_ALL: &str = person_rows!("persons p", "");
const SCAN_DIRTY: &str = person_rows!(
    "rescore d JOIN persons p ON p.id = d.person_id",
    "WHERE d.model_version = $1"
);
const SOME: &str = person_rows!("persons p", "WHERE p.id = ANY($2)");

pub(super) fn status(text: &str) -> Result<RecordStatus> {
    RecordStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown record status `{text}`")))
}

/// The stored score columns at `i..i + 3`, if the person has a score.
pub(super) fn state(row: &Row, i: usize) -> Result<Option<ScoreState>> {
    let eligible: Option<bool> = row.try_get(i)?;
    Ok(match eligible {
        None => None,
        Some(eligible) => Some(ScoreState {
            eligible,
            score: row.try_get(i + 1)?,
            grade: row.try_get(i + 2)?,
        }),
    })
}

/// A person from a `person_rows!` row.
fn person(row: &Row) -> Result<RawPerson> {
    let id: i64 = row.try_get(0)?;
    Ok(RawPerson {
        id,
        rev: row.try_get(1)?,
        birth_date: row.try_get::<_, PgDate>(2)?.0,
        records: packed::unpack(id, row.try_get(3)?)?,
        stored: state(row, 4)?,
    })
}

/// The given people, in id order; unknown ids are left out.
pub(super) fn load_people(
    conn: &mut Conn,
    ids: &[i64],
    model_version: &str,
) -> Result<Vec<RawPerson>> {
    conn.query(SOME, &[&model_version, &ids])?
        .iter()
        .map(person)
        .collect()
}

/// Streams people in id order, `batch` at a time, from one snapshot.
///
/// Rows are read as the server sends them; the socket's buffers bound what
/// is in flight, so memory does not grow with the population. The
/// connection is the scan's own and no lock is held that writers need, so
/// `sink` may write through the store meanwhile.
pub(super) fn scan(
    conn: &mut Conn,
    dirty_only: bool,
    model_version: &str,
    batch: usize,
    sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
) -> Result<()> {
    let batch = batch.max(1);
    let mut tx = conn.snapshot()?;
    let sql = if dirty_only { SCAN_DIRTY } else { SCAN_ALL };
    let mut out = Vec::with_capacity(batch);
    let mut rows = tx.query_raw(sql, [model_version])?;
    while let Some(row) = rows.next()? {
        out.push(person(&row)?);
        if out.len() >= batch {
            sink(std::mem::replace(&mut out, Vec::with_capacity(batch)))?;
        }
    }
    if !out.is_empty() {
        sink(out)?;
    }
    Ok(())
}
