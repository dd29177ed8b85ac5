//! Residents' submissions on SQLite: listings of records with their
//! decision's reason, and evidence files. A file's content lives on disk in
//! the directory beside the database (`DB-evidence/ab/abcd…`, named by the
//! SHA-256 of the plaintext, encrypted with the data key, owner-only); the
//! `evidence_files` table indexes it and `record_evidence` links it.
//!
//! A file is written and synced before the row that names it commits, so a
//! committed row never names a missing file; a unit of work that rolls back
//! may leave a file no row names, which is harmless (the same content would
//! be the same file) and never read.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use super::{date_col, status_col};
use crate::crypto::DataKeys;
use crate::uow::{EvidenceRef, NewEvidence, SubmissionFilter, SubmittedRecord};
use crate::{now_text, Result, StoreError};

/// The evidence directory of the database at `db`.
pub(super) fn evidence_dir(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-evidence");
    PathBuf::from(name)
}

fn file_path(dir: &Path, sha256: &[u8]) -> PathBuf {
    let name = hex::encode(sha256);
    dir.join(&name[..2]).join(name)
}

const COLS: &str = "r.id, r.person_id, r.unit, r.source_id, r.item, r.record_date, r.status,
                    r.status_reason, r.fields, r.received_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubmittedRecord> {
    Ok(SubmittedRecord {
        id: r.get(0)?,
        person_id: r.get(1)?,
        unit: r.get(2)?,
        source_id: r.get(3)?,
        item: r.get(4)?,
        date: date_col(r, 5)?,
        status: status_col(r, 6)?,
        reason: r.get(7)?,
        fields: r.get(8)?,
        received_at: r.get(9)?,
    })
}

pub(super) fn list(conn: &Connection, f: &SubmissionFilter<'_>) -> Result<Vec<SubmittedRecord>> {
    // A person's own listing starts from their records; a unit's queue from
    // the source's cases.
    let by = if f.person_id.is_some() {
        "r.person_id = ?2 AND r.unit = ?1"
    } else {
        "r.unit = ?1"
    };
    let sql = format!(
        "SELECT {COLS} FROM records r
         WHERE {by} AND (?3 IS NULL OR r.status = ?3) AND r.id > ?4
           AND r.item IN (SELECT value FROM json_each(?5))
           AND NOT EXISTS (SELECT 1 FROM records n WHERE n.unit = r.unit
                           AND n.source_id = r.source_id AND n.version > r.version)
         ORDER BY r.id LIMIT ?6"
    );
    let items = serde_json::to_string(f.items)
        .map_err(|e| StoreError::Corrupt(format!("item list: {e}")))?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(
            params![
                f.unit,
                f.person_id,
                f.status.map(|s| s.as_str()),
                f.after_id,
                items,
                i64::try_from(f.limit).unwrap_or(i64::MAX)
            ],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn one(conn: &Connection, record_id: i64) -> Result<Option<SubmittedRecord>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLS} FROM records r WHERE r.id = ?1"))?
        .query_row([record_id], row)
        .optional()?)
}

pub(super) fn evidence_of(conn: &Connection, record_ids: &[i64]) -> Result<Vec<EvidenceRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.record_id, e.position, e.sha256, f.media_type, f.size
         FROM record_evidence e JOIN evidence_files f ON f.sha256 = e.sha256
         WHERE e.record_id = ?1 ORDER BY e.position",
    )?;
    let mut out = Vec::new();
    for id in record_ids {
        let rows = stmt.query_map([id], |r| {
            Ok(EvidenceRef {
                record_id: r.get(0)?,
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

pub(super) fn content(
    conn: &Connection,
    keys: &DataKeys,
    dir: &Path,
    sha256: &[u8],
) -> Result<Option<Vec<u8>>> {
    let known: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM evidence_files WHERE sha256 = ?1")?
        .query_row([sha256], |r| r.get(0))
        .optional()?;
    if known.is_none() {
        return Ok(None);
    }
    let path = file_path(dir, sha256);
    let stored = std::fs::read(&path)
        .map_err(|e| StoreError::Corrupt(format!("evidence file {}: {e}", path.display())))?;
    crate::evidence::open(keys, sha256, &stored).map(Some)
}

pub(super) fn put(
    conn: &Connection,
    keys: &DataKeys,
    dir: &Path,
    files: &[NewEvidence<'_>],
) -> Result<()> {
    let now = now_text();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO evidence_files (sha256, media_type, size, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sha256) DO NOTHING",
    )?;
    for f in files {
        let path = file_path(dir, &f.sha256);
        if !path.exists() {
            write_private(&path, &crate::evidence::seal(keys, f.content))?;
        }
        let size = i64::try_from(f.content.len()).unwrap_or(i64::MAX);
        stmt.execute(params![&f.sha256[..], f.media_type, size, now])?;
    }
    Ok(())
}

pub(super) fn link(conn: &Connection, record_id: i64, sha256s: &[[u8; 32]]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO record_evidence (record_id, position, sha256) VALUES (?1, ?2, ?3)",
    )?;
    for (i, sha) in sha256s.iter().enumerate() {
        stmt.execute(params![record_id, i as i64 + 1, &sha[..]])?;
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all (a temporary file renamed
/// into place), synced, readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| StoreError::Corrupt(format!("evidence {}: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| StoreError::Corrupt("evidence path has no directory".into()))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    let tmp = dir.join(format!(".tmp-{:016x}", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    // The rename is durable once the directory is.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}
