//! Credit-repair applications on PostgreSQL.

use chengxin_domain::repair::ApplicationStatus;

use crate::uow::{NewRepair, RepairFilter, RepairRow};
use crate::{now_text, Result, StoreError};

use super::conn::Conn;

macro_rules! cols {
    () => {
        "id, person_id, record_id, unit, source_id, statement, status, reason,
         submitted_at, decided_at, decided_by"
    };
}

fn row(r: &postgres::Row) -> Result<RepairRow> {
    let status: String = r.try_get(6)?;
    Ok(RepairRow {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        record_id: r.try_get(2)?,
        unit: r.try_get(3)?,
        source_id: r.try_get(4)?,
        statement: r.try_get(5)?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown repair application status `{status}`"))
        })?,
        reason: r.try_get(7)?,
        submitted_at: r.try_get(8)?,
        decided_at: r.try_get(9)?,
        decided_by: r.try_get(10)?,
    })
}

pub(super) fn get(c: &mut Conn, id: i64) -> Result<Option<RepairRow>> {
    c.query_opt(
        concat!(
            "SELECT ",
            cols!(),
            " FROM repair_applications WHERE id = $1"
        ),
        &[&id],
    )?
    .as_ref()
    .map(row)
    .transpose()
}

pub(super) fn list(c: &mut Conn, f: &RepairFilter) -> Result<Vec<RepairRow>> {
    let status = f.status.map(|s| s.as_str());
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    c.query(
        concat!(
            "SELECT ",
            cols!(),
            " FROM repair_applications
             WHERE ($1::bigint IS NULL OR person_id = $1) AND ($2::text IS NULL OR status = $2)
               AND id > $3
             ORDER BY id LIMIT $4"
        ),
        &[&f.person_id, &status, &f.after_id, &limit],
    )?
    .iter()
    .map(row)
    .collect()
}

pub(super) fn pending(c: &mut Conn, unit: &str, source_id: &str) -> Result<Option<i64>> {
    c.query_opt(
        "SELECT id FROM repair_applications
         WHERE unit = $1 AND source_id = $2 AND status = 'pending'",
        &[&unit, &source_id],
    )?
    .map(|r| r.try_get(0).map_err(StoreError::from))
    .transpose()
}

pub(super) fn insert(c: &mut Conn, r: &NewRepair<'_>) -> Result<i64> {
    // A second pending application on the case is a unique violation: the
    // unit of work runs again and then sees the first.
    let row = c.query(
        "INSERT INTO repair_applications
             (person_id, record_id, unit, source_id, statement, status, submitted_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
        &[
            &r.person_id,
            &r.record_id,
            &r.unit,
            &r.source_id,
            &r.statement,
            &now_text(),
        ],
    )?;
    row.first()
        .ok_or_else(|| StoreError::Corrupt("INSERT … RETURNING gave no row".into()))?
        .try_get(0)
        .map_err(StoreError::from)
}

pub(super) fn decide(
    c: &mut Conn,
    id: i64,
    status: ApplicationStatus,
    reason: Option<&str>,
    decided_by: &str,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE repair_applications
         SET status = $2, reason = $3, decided_at = $4, decided_by = $5 WHERE id = $1",
        &[&id, &status.as_str(), &reason, &now_text(), &decided_by],
    )?;
    Ok(n == 1)
}
