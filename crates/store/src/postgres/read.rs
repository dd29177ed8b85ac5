//! Reading people with their counting records: one at a time, a set of
//! them, or all of them streamed in id order.

use chengxin_domain::record::RecordStatus;
use postgres::Row;

use crate::{RawPerson, RawRecord, Result, ScoreState, StoreError, StoredRecord};

use super::conn::{Conn, Tx};
use super::sqltypes::PgDate;

/// Rows fetched from the scan's portal per round trip.
const FETCH: i32 = 8_192;

/// People with their stored score and counting records, one row per record
/// (or one row with null record columns for a person without any). The
/// column order is what [`Grouper`] reads.
macro_rules! person_rows {
    ($where:literal) => {
        concat!(
            "SELECT p.id, p.rev, p.birth_date, s.eligible, s.score, s.grade,
                    r.id, r.item, r.record_date, r.status, r.fields
             FROM persons p
             LEFT JOIN scores s ON s.person_id = p.id AND s.model_version = $1
             LEFT JOIN records r ON r.person_id = p.id AND r.status IN ('active','disputed') ",
            $where,
            " ORDER BY p.id, r.id"
        )
    };
}

const SCAN_ALL: &str = person_rows!("");
const SCAN_DIRTY: &str = person_rows!("WHERE p.dirty");
const SOME: &str = person_rows!("WHERE p.id = ANY($2)");

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

/// Folds person rows, which arrive in person order, into people.
struct Grouper {
    people: Vec<RawPerson>,
}

impl Grouper {
    /// Whether `row` starts a person not yet seen.
    fn is_new(&self, row: &Row) -> Result<bool> {
        let id: i64 = row.try_get(0)?;
        Ok(self.people.last().is_none_or(|p| p.id != id))
    }

    fn push(&mut self, row: &Row) -> Result<()> {
        if self.is_new(row)? {
            self.people.push(RawPerson {
                id: row.try_get(0)?,
                rev: row.try_get(1)?,
                birth_date: row.try_get::<_, PgDate>(2)?.0,
                records: Vec::new(),
                stored: state(row, 3)?,
            });
        }
        if let Some(id) = row.try_get::<_, Option<i64>>(6)? {
            let record = RawRecord {
                id,
                item: row.try_get(7)?,
                date: row.try_get::<_, PgDate>(8)?.0,
                status: status(row.try_get(9)?)?,
                fields: row.try_get(10)?,
            };
            if let Some(p) = self.people.last_mut() {
                p.records.push(record);
            }
        }
        Ok(())
    }
}

/// The given people, in id order; unknown ids are left out.
pub(super) fn load_people(
    tx: &mut Tx<'_>,
    ids: &[i64],
    model_version: &str,
) -> Result<Vec<RawPerson>> {
    let rows = tx.query(SOME, &[&model_version, &ids])?;
    group(&rows)
}

/// One person, outside a transaction.
pub(super) fn load_person(
    conn: &mut Conn,
    id: i64,
    model_version: &str,
) -> Result<Option<RawPerson>> {
    let rows = conn.query(SOME, &[&model_version, &[id].as_slice()])?;
    Ok(group(&rows)?.pop())
}

fn group(rows: &[Row]) -> Result<Vec<RawPerson>> {
    let mut g = Grouper { people: Vec::new() };
    for row in rows {
        g.push(row)?;
    }
    Ok(g.people)
}

/// Streams people in id order, `batch` at a time, from one snapshot.
///
/// Rows come through a portal a bounded number at a time, so memory does not
/// grow with the population. The connection is the scan's own and no lock is
/// held that writers need, so `sink` may write through the store meanwhile.
pub(super) fn scan(
    conn: &mut Conn,
    dirty_only: bool,
    model_version: &str,
    batch: usize,
    sink: &mut dyn FnMut(Vec<RawPerson>) -> Result<()>,
) -> Result<()> {
    let batch = batch.max(1);
    let mut tx = conn.snapshot()?;
    let tx = tx.inner();
    let sql = if dirty_only { SCAN_DIRTY } else { SCAN_ALL };
    let portal = tx.bind(sql, &[&model_version])?;
    let mut g = Grouper {
        people: Vec::with_capacity(batch),
    };
    loop {
        let rows = tx.query_portal(&portal, FETCH)?;
        for row in &rows {
            if g.people.len() >= batch && g.is_new(row)? {
                sink(std::mem::replace(&mut g.people, Vec::with_capacity(batch)))?;
            }
            g.push(row)?;
        }
        if rows.len() < FETCH as usize {
            break;
        }
    }
    if !g.people.is_empty() {
        sink(g.people)?;
    }
    Ok(())
}

/// Every version of every record of a person.
pub(super) fn person_records(conn: &mut Conn, person_id: i64) -> Result<Vec<StoredRecord>> {
    let rows = conn.query(
        "SELECT id, unit, source_id, version, item, record_date, status, fields FROM records
         WHERE person_id = $1 ORDER BY id",
        &[&person_id],
    )?;
    rows.iter()
        .map(|r| {
            let fields: &str = r.try_get(7)?;
            Ok(StoredRecord {
                id: r.try_get(0)?,
                unit: r.try_get(1)?,
                source_id: r.try_get(2)?,
                version: r.try_get(3)?,
                item: r.try_get(4)?,
                date: r.try_get::<_, PgDate>(5)?.0,
                status: status(r.try_get(6)?)?,
                fields: serde_json::from_str(fields).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
