//! Objections on PostgreSQL: stored and read, no rule decided here. Dates
//! are written as ISO text cast to `date`.

use chengxin_domain::objection::ObjectionStatus;
use jiff::civil::Date;
use postgres::Row;

use super::conn::Conn;
use super::sqltypes::{PgDate, PgTimestamp};
use crate::uow::{NewObjection, ObjectionEvidenceRef, ObjectionFilter, ObjectionRow};
use crate::{Result, StoreError};

macro_rules! cols {
    () => {
        "id, person_id, record_id, unit, reason, status, submitted_on, submitted_at,
         accept_by, accept_by_provisional, accepted_on, accepted_by, reply_by,
         reply_by_provisional, replied_on, reply, decided_on, decided_by, answer, overdue_on"
    };
}

fn opt_date(r: &Row, i: usize) -> Result<Option<Date>> {
    Ok(r.try_get::<_, Option<PgDate>>(i)?.map(|d| d.0))
}

fn row(r: &Row) -> Result<ObjectionRow> {
    let status: String = r.try_get(5)?;
    Ok(ObjectionRow {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        record_id: r.try_get(2)?,
        unit: r.try_get(3)?,
        reason: r.try_get(4)?,
        status: ObjectionStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown objection status `{status}`")))?,
        submitted_on: r.try_get::<_, PgDate>(6)?.0,
        submitted_at: r.try_get::<_, PgTimestamp>(7)?.0,
        accept_by: r.try_get::<_, PgDate>(8)?.0,
        accept_by_provisional: r.try_get(9)?,
        accepted_on: opt_date(r, 10)?,
        accepted_by: r.try_get(11)?,
        reply_by: opt_date(r, 12)?,
        reply_by_provisional: r.try_get(13)?,
        replied_on: opt_date(r, 14)?,
        reply: r.try_get(15)?,
        decided_on: opt_date(r, 16)?,
        decided_by: r.try_get(17)?,
        answer: r.try_get(18)?,
        overdue_on: opt_date(r, 19)?,
    })
}

fn text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

pub(super) fn list(conn: &mut Conn, f: &ObjectionFilter<'_>) -> Result<Vec<ObjectionRow>> {
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    conn.query(
        concat!(
            "SELECT ",
            cols!(),
            " FROM objections
             WHERE ($1::bigint IS NULL OR person_id = $1) AND ($2::text IS NULL OR unit = $2)
               AND (cardinality($3::text[]) = 0 OR status = ANY($3))
               AND id > $4
             ORDER BY id LIMIT $5"
        ),
        &[&f.person_id, &f.unit, &statuses, &f.after_id, &limit],
    )?
    .iter()
    .map(row)
    .collect()
}

pub(super) fn one(conn: &mut Conn, id: i64, lock: bool) -> Result<Option<ObjectionRow>> {
    let sql = if lock {
        concat!(
            "SELECT ",
            cols!(),
            " FROM objections WHERE id = $1 FOR UPDATE"
        )
    } else {
        concat!("SELECT ", cols!(), " FROM objections WHERE id = $1")
    };
    conn.query_opt(sql, &[&id])?.as_ref().map(row).transpose()
}

pub(super) fn evidence(conn: &mut Conn, ids: &[i64]) -> Result<Vec<ObjectionEvidenceRef>> {
    conn.query(
        "SELECT e.objection_id, e.position, e.sha256, f.media_type, f.size
         FROM objection_evidence e JOIN evidence_files f ON f.sha256 = e.sha256
         WHERE e.objection_id = ANY($1) ORDER BY e.objection_id, e.position",
        &[&ids],
    )?
    .iter()
    .map(|r| {
        Ok(ObjectionEvidenceRef {
            objection_id: r.try_get(0)?,
            position: r.try_get(1)?,
            sha256: r.try_get(2)?,
            media_type: r.try_get(3)?,
            size: r.try_get(4)?,
        })
    })
    .collect()
}

pub(super) fn insert(conn: &mut Conn, o: &NewObjection<'_>) -> Result<i64> {
    let r = conn
        .query_opt(
            "INSERT INTO objections (person_id, record_id, unit, reason, status, submitted_on,
                 accept_by, accept_by_provisional)
             VALUES ($1, $2, $3, $4, $5, $6::text::date, $7::text::date, $8)
             RETURNING id",
            &[
                &o.person_id,
                &o.record_id,
                &o.unit,
                &o.reason,
                &o.status.as_str(),
                &o.submitted_on.to_string(),
                &o.accept_by.to_string(),
                &o.accept_by_provisional,
            ],
        )?
        .ok_or_else(|| StoreError::Corrupt("INSERT … RETURNING gave no row".into()))?;
    Ok(r.try_get(0)?)
}

pub(super) fn update(conn: &mut Conn, o: &ObjectionRow) -> Result<()> {
    conn.execute(
        "UPDATE objections SET unit = $2, status = $3, accept_by = $4::text::date,
             accept_by_provisional = $5, accepted_on = $6::text::date, accepted_by = $7,
             reply_by = $8::text::date, reply_by_provisional = $9, replied_on = $10::text::date,
             reply = $11, decided_on = $12::text::date, decided_by = $13, answer = $14,
             overdue_on = $15::text::date
         WHERE id = $1",
        &[
            &o.id,
            &o.unit,
            &o.status.as_str(),
            &o.accept_by.to_string(),
            &o.accept_by_provisional,
            &text(o.accepted_on),
            &o.accepted_by,
            &text(o.reply_by),
            &o.reply_by_provisional,
            &text(o.replied_on),
            &o.reply,
            &text(o.decided_on),
            &o.decided_by,
            &o.answer,
            &text(o.overdue_on),
        ],
    )?;
    Ok(())
}

pub(super) fn link(conn: &mut Conn, id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
    for (i, sha) in sha256s.iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        conn.execute(
            "INSERT INTO objection_evidence (objection_id, position, sha256) VALUES ($1, $2, $3)",
            &[&id, &position, &&sha[..]],
        )?;
    }
    Ok(())
}
