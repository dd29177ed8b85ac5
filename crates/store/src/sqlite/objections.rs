//! Objections on SQLite: stored and read, no rule decided here.

use chengxin_domain::dates::parse_date;
use chengxin_domain::objection::ObjectionStatus;
use jiff::civil::Date;
use rusqlite::{params, Connection, OptionalExtension};

use super::date_col;
use crate::uow::{NewObjection, ObjectionEvidenceRef, ObjectionFilter, ObjectionRow};
use crate::{now_text, Result, StoreError};

const COLS: &str = "id, person_id, record_id, unit, reason, status, submitted_on, submitted_at,
    accept_by, accept_by_provisional, accepted_on, accepted_by, reply_by, reply_by_provisional,
    replied_on, reply, decided_on, decided_by, answer, overdue_on";

fn opt_date(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Date>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| {
        parse_date(&t).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(i, "date".into(), rusqlite::types::Type::Text)
        })
    })
    .transpose()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectionRow> {
    let status: String = r.get(5)?;
    Ok(ObjectionRow {
        id: r.get(0)?,
        person_id: r.get(1)?,
        record_id: r.get(2)?,
        unit: r.get(3)?,
        reason: r.get(4)?,
        status: ObjectionStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(5, "status".into(), rusqlite::types::Type::Text)
        })?,
        submitted_on: date_col(r, 6)?,
        submitted_at: r.get(7)?,
        accept_by: date_col(r, 8)?,
        accept_by_provisional: r.get(9)?,
        accepted_on: opt_date(r, 10)?,
        accepted_by: r.get(11)?,
        reply_by: opt_date(r, 12)?,
        reply_by_provisional: r.get(13)?,
        replied_on: opt_date(r, 14)?,
        reply: r.get(15)?,
        decided_on: opt_date(r, 16)?,
        decided_by: r.get(17)?,
        answer: r.get(18)?,
        overdue_on: opt_date(r, 19)?,
    })
}

fn text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

pub(super) fn list(conn: &Connection, f: &ObjectionFilter<'_>) -> Result<Vec<ObjectionRow>> {
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let statuses = serde_json::to_string(&statuses)
        .map_err(|e| StoreError::Corrupt(format!("status list: {e}")))?;
    let sql = format!(
        "SELECT {COLS} FROM objections
         WHERE (?1 IS NULL OR person_id = ?1) AND (?2 IS NULL OR unit = ?2)
           AND (?3 = '[]' OR status IN (SELECT value FROM json_each(?3)))
           AND id > ?4
         ORDER BY id LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(
            params![
                f.person_id,
                f.unit,
                statuses,
                f.after_id,
                i64::try_from(f.limit).unwrap_or(i64::MAX)
            ],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn one(conn: &Connection, id: i64) -> Result<Option<ObjectionRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLS} FROM objections WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

pub(super) fn evidence(conn: &Connection, ids: &[i64]) -> Result<Vec<ObjectionEvidenceRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.objection_id, e.position, e.sha256, f.media_type, f.size
         FROM objection_evidence e JOIN evidence_files f ON f.sha256 = e.sha256
         WHERE e.objection_id = ?1 ORDER BY e.position",
    )?;
    let mut out = Vec::new();
    for id in ids {
        let rows = stmt.query_map([id], |r| {
            Ok(ObjectionEvidenceRef {
                objection_id: r.get(0)?,
                position: r.get(1)?,
                sha256: r.get(2)?,
                media_type: r.get(3)?,
                size: r.get(4)?,
            })
        })?;
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}

pub(super) fn insert(conn: &Connection, o: &NewObjection<'_>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO objections (person_id, record_id, unit, reason, status, submitted_on,
             submitted_at, accept_by, accept_by_provisional)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        o.person_id,
        o.record_id,
        o.unit,
        o.reason,
        o.status.as_str(),
        o.submitted_on.to_string(),
        now_text(),
        o.accept_by.to_string(),
        o.accept_by_provisional,
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn update(conn: &Connection, o: &ObjectionRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE objections SET unit = ?2, status = ?3, accept_by = ?4, accept_by_provisional = ?5,
             accepted_on = ?6, accepted_by = ?7, reply_by = ?8, reply_by_provisional = ?9,
             replied_on = ?10, reply = ?11, decided_on = ?12, decided_by = ?13, answer = ?14,
             overdue_on = ?15
         WHERE id = ?1",
    )?
    .execute(params![
        o.id,
        o.unit,
        o.status.as_str(),
        o.accept_by.to_string(),
        o.accept_by_provisional,
        text(o.accepted_on),
        o.accepted_by,
        text(o.reply_by),
        o.reply_by_provisional,
        text(o.replied_on),
        o.reply,
        text(o.decided_on),
        o.decided_by,
        o.answer,
        text(o.overdue_on),
    ])?;
    Ok(())
}

pub(super) fn link(conn: &Connection, id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO objection_evidence (objection_id, position, sha256) VALUES (?1, ?2, ?3)",
    )?;
    for (i, sha) in sha256s.iter().enumerate() {
        stmt.execute(params![id, i as i64 + 1, &sha[..]])?;
    }
    Ok(())
}
