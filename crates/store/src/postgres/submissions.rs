//! Residents' submissions on PostgreSQL: listings of records with their
//! decision's reason, and evidence files. The content of a file is kept in
//! the database (`evidence_files.content`, `bytea`, encrypted with the data
//! key) under the SHA-256 of its plaintext, so it commits or rolls back with
//! the report that brought it and every server sees it; `record_evidence`
//! links it.

use postgres::Row;

use crate::crypto::DataKeys;
use crate::uow::{EvidenceRef, NewEvidence, SubmissionFilter, SubmittedRecord};
use crate::Result;

use super::conn::Conn;
use super::read::status;
use super::sqltypes::{PgDate, PgTimestamp};

macro_rules! listing {
    ($by:literal) => {
        concat!(
            "SELECT r.id, r.person_id, r.unit, r.source_id, r.item, r.record_date, r.status,
                    r.status_reason, r.fields, r.received_at
             FROM records r
             WHERE ",
            $by,
            " AND ($3::text IS NULL OR r.status = $3) AND r.id > $4 AND r.item = ANY($5)
               AND NOT EXISTS (SELECT 1 FROM records n WHERE n.unit = r.unit
                               AND n.source_id = r.source_id AND n.version > r.version)
             ORDER BY r.id LIMIT $6"
        )
    };
}

/// A person's own listing starts from their records.
const BY_PERSON: &str = listing!("r.person_id = $2 AND r.unit = $1");
/// A unit's queue starts from the source's cases (`$2` unused).
const BY_UNIT: &str = listing!("r.unit = $1 AND $2::int8 IS NULL");

fn row(r: &Row) -> Result<SubmittedRecord> {
    Ok(SubmittedRecord {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        unit: r.try_get(2)?,
        source_id: r.try_get(3)?,
        item: r.try_get(4)?,
        date: r.try_get::<_, PgDate>(5)?.0,
        status: status(r.try_get(6)?)?,
        reason: r.try_get(7)?,
        fields: r.try_get(8)?,
        received_at: r.try_get::<_, PgTimestamp>(9)?.0,
    })
}

pub(super) fn list(conn: &mut Conn, f: &SubmissionFilter<'_>) -> Result<Vec<SubmittedRecord>> {
    let sql = if f.person_id.is_some() {
        BY_PERSON
    } else {
        BY_UNIT
    };
    let state = f.status.map(|s| s.as_str());
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    conn.query(
        sql,
        &[&f.unit, &f.person_id, &state, &f.after_id, &f.items, &limit],
    )?
    .iter()
    .map(row)
    .collect()
}

pub(super) fn one(conn: &mut Conn, record_id: i64) -> Result<Option<SubmittedRecord>> {
    conn.query_opt(
        "SELECT id, person_id, unit, source_id, item, record_date, status, status_reason,
                fields, received_at
         FROM records WHERE id = $1",
        &[&record_id],
    )?
    .as_ref()
    .map(row)
    .transpose()
}

pub(super) fn evidence_of(conn: &mut Conn, record_ids: &[i64]) -> Result<Vec<EvidenceRef>> {
    conn.query(
        "SELECT e.record_id, e.position, e.sha256, f.media_type, f.size
         FROM record_evidence e JOIN evidence_files f ON f.sha256 = e.sha256
         WHERE e.record_id = ANY($1) ORDER BY e.record_id, e.position",
        &[&record_ids],
    )?
    .iter()
    .map(|r| {
        Ok(EvidenceRef {
            record_id: r.try_get(0)?,
            position: r.try_get(1)?,
            sha256: r.try_get(2)?,
            media_type: r.try_get(3)?,
            size: r.try_get(4)?,
        })
    })
    .collect()
}

pub(super) fn content(conn: &mut Conn, keys: &DataKeys, sha256: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some(r) = conn.query_opt(
        "SELECT content FROM evidence_files WHERE sha256 = $1",
        &[&sha256],
    )?
    else {
        return Ok(None);
    };
    let stored: &[u8] = r.try_get(0)?;
    crate::evidence::open(keys, sha256, stored).map(Some)
}

pub(super) fn put(conn: &mut Conn, keys: &DataKeys, files: &[NewEvidence<'_>]) -> Result<()> {
    for f in files {
        // Known content is not encrypted again only to be thrown away.
        if conn
            .query_opt(
                "SELECT 1 FROM evidence_files WHERE sha256 = $1",
                &[&&f.sha256[..]],
            )?
            .is_some()
        {
            continue;
        }
        let size = i64::try_from(f.content.len()).unwrap_or(i64::MAX);
        let sealed = crate::evidence::seal(keys, f.content);
        conn.execute(
            "INSERT INTO evidence_files (sha256, media_type, size, content) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING",
            &[&&f.sha256[..], &f.media_type, &size, &sealed],
        )?;
    }
    Ok(())
}

pub(super) fn link(conn: &mut Conn, record_id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
    let positions: Vec<i32> = (1..).take(sha256s.len()).collect();
    let hashes: Vec<&[u8]> = sha256s.iter().map(|s| &s[..]).collect();
    conn.execute(
        "INSERT INTO record_evidence (record_id, position, sha256)
         SELECT $1, p, h FROM unnest($2::int4[], $3::bytea[]) AS x(p, h)",
        &[&record_id, &positions, &hashes],
    )?;
    Ok(())
}
