//! The versioned catalogue and templates on PostgreSQL. Writers that read
//! the numbers in force hold a shared advisory lock until they commit;
//! publishing takes it exclusively, so a record is never stored against a
//! catalogue that a publication committed meanwhile.

use crate::uow::{DataKind, DataVersionRow, RecordFieldsRow};
use crate::{Result, StoreError};

use super::conn::Conn;
use super::sqltypes::PgDate;

/// Advisory lock key ordering publications after the writers that read the
/// versions in force ("cxcatalg" in ASCII).
const DATA_LOCK: i64 = 0x6378_6361_7461_6c67;

macro_rules! cols {
    () => {
        "number, label, hash, content, effective_from, published_at, published_by"
    };
}

fn kind_of(s: &str) -> Result<DataKind> {
    match s {
        "catalogue" => Ok(DataKind::Catalogue),
        "templates" => Ok(DataKind::Templates),
        other => Err(StoreError::Corrupt(format!("data version kind `{other}`"))),
    }
}

fn row(kind: DataKind, r: &postgres::Row) -> Result<DataVersionRow> {
    Ok(DataVersionRow {
        kind,
        number: r.try_get(0)?,
        label: r.try_get(1)?,
        hash: r.try_get(2)?,
        content: r.try_get(3)?,
        effective_from: r.try_get::<_, PgDate>(4)?.0,
        published_at: r.try_get(5)?,
        published_by: r.try_get(6)?,
    })
}

pub(super) fn versions(c: &mut Conn, kind: DataKind) -> Result<Vec<DataVersionRow>> {
    c.query(
        concat!(
            "SELECT ",
            cols!(),
            " FROM data_versions WHERE kind = $1 ORDER BY number"
        ),
        &[&kind.as_str()],
    )?
    .iter()
    .map(|r| row(kind, r))
    .collect()
}

pub(super) fn in_force(c: &mut Conn, kind: DataKind) -> Result<Option<DataVersionRow>> {
    c.query_opt(
        concat!(
            "SELECT ",
            cols!(),
            " FROM data_versions WHERE kind = $1 ORDER BY number DESC LIMIT 1"
        ),
        &[&kind.as_str()],
    )?
    .as_ref()
    .map(|r| row(kind, r))
    .transpose()
}

pub(super) fn numbers(c: &mut Conn) -> Result<(i64, i64)> {
    // Two statements, so that the read takes its snapshot after the lock is
    // granted, sent in one round trip. Outside a transaction they run in one
    // implicit transaction, which holds the lock until the read is done.
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "SELECT pg_advisory_xact_lock_shared({DATA_LOCK});
             SELECT kind, max(number) FROM data_versions GROUP BY kind"
        )
    });
    let mut out = (0, 0);
    for r in c.simple_last(sql)? {
        let kind = r.try_get(0)?.unwrap_or_default();
        let n: i64 = r
            .try_get(1)?
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("data version number of `{kind}`")))?;
        match kind_of(kind)? {
            DataKind::Catalogue => out.0 = n,
            DataKind::Templates => out.1 = n,
        }
    }
    Ok(out)
}

pub(super) fn fields_after(
    c: &mut Conn,
    after_id: i64,
    limit: usize,
) -> Result<Vec<RecordFieldsRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    c.query(
        "SELECT id, item, fields, catalogue_version FROM records WHERE id > $1 ORDER BY id LIMIT $2",
        &[&after_id, &limit],
    )?
    .iter()
    .map(|r| {
        Ok(RecordFieldsRow {
            id: r.try_get(0)?,
            item: r.try_get(1)?,
            fields: r.try_get(2)?,
            catalogue_version: r.try_get(3)?,
        })
    })
    .collect()
}

pub(super) fn lock(c: &mut Conn) -> Result<()> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&DATA_LOCK])?;
    Ok(())
}

pub(super) fn insert(c: &mut Conn, v: &DataVersionRow) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO data_versions (kind, number, label, hash, content, effective_from, published_at, published_by)
         VALUES ($1, $2, $3, $4, $5, $6::text::date, $7, $8) ON CONFLICT DO NOTHING",
        &[
            &v.kind.as_str(),
            &v.number,
            &v.label,
            &v.hash,
            &v.content,
            &v.effective_from.to_string(),
            &v.published_at,
            &v.published_by,
        ],
    )?;
    Ok(n == 1)
}
