//! The packed form of a person's counting records kept in
//! `persons.counting`, so that a scan reads one row per person instead of
//! one per record (sending rows, not bytes, is what costs on a full scan).
//!
//! Records are joined by RS (U+001E), fields within a record by US (U+001F):
//! `id US item US record_date US status US fields`, oldest record first.
//! Canonical JSON and catalogue codes never contain either separator.

use chengxin_domain::dates::parse_date;
use chengxin_domain::record::RecordStatus;
use jiff::civil::Date;

use crate::{RawRecord, Result, StoreError};

const RECORD: char = '\u{1e}';
const UNIT: char = '\u{1f}';

/// Rebuilds `persons.counting` of the people in `$1` from `records` and
/// moves their revision on, returning `(id, rev)`; must agree with [`pack`].
/// Dates print as ISO: every session sets DateStyle. Which states count is
/// the domain's rule, spliced in once.
pub(super) fn repack_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "UPDATE persons p SET rev = p.rev + 1, counting = COALESCE((
                 SELECT string_agg(concat_ws(E'\\x1f', r.id, r.item, r.record_date, r.status, r.fields),
                                   E'\\x1e' ORDER BY r.id)
                 FROM records r WHERE r.person_id = p.id AND r.status IN {}), '')
             WHERE p.id = ANY($1) RETURNING p.id, p.rev",
            crate::counting_sql()
        )
    })
}

/// [`repack_sql`] that also marks the people (`$1`) for rescoring under
/// each model in `$2`, at their new revision, in the same statement.
pub(super) fn repack_and_mark_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "WITH p AS ({})
             INSERT INTO rescore (model_version, person_id, rev)
             SELECT m, p.id, p.rev FROM p CROSS JOIN unnest($2::text[]) AS m
             ORDER BY 1, 2
             ON CONFLICT (model_version, person_id) DO UPDATE SET rev = excluded.rev",
            repack_sql()
        )
    })
}

/// Whether `text` can be packed.
pub(super) fn packable(text: &str) -> bool {
    !text.contains([RECORD, UNIT])
}

/// One record to pack.
#[cfg(test)]
pub(super) struct Packable<'a> {
    pub id: i64,
    pub item: &'a str,
    pub date: Date,
    pub status: RecordStatus,
    pub fields: &'a str,
}

/// Packs records, given oldest first (as `repack_sql` does in SQL).
#[cfg(test)]
pub(super) fn pack<'a>(records: impl IntoIterator<Item = Packable<'a>>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for r in records {
        if !out.is_empty() {
            out.push(RECORD);
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{}{UNIT}{}{UNIT}{}{UNIT}{}{UNIT}{}",
            r.id,
            r.item,
            r.date,
            r.status.as_str(),
            r.fields
        );
    }
    out
}

/// The records packed in `packed`, a column of person `person_id`.
pub(super) fn unpack(person_id: i64, packed: &str) -> Result<Vec<RawRecord>> {
    if packed.is_empty() {
        return Ok(Vec::new());
    }
    let corrupt = || StoreError::Corrupt(format!("packed records of person {person_id}"));
    packed
        .split(RECORD)
        .map(|record| {
            let mut parts = record.splitn(5, UNIT);
            let mut next = || parts.next().ok_or_else(corrupt);
            let (id, item, date, status, fields) = (next()?, next()?, next()?, next()?, next()?);
            Ok(RawRecord {
                id: id.parse().map_err(|_| corrupt())?,
                item: item.to_owned(),
                date: iso_date(date).ok_or_else(corrupt)?,
                status: RecordStatus::parse(status).ok_or_else(corrupt)?,
                fields: fields.to_owned(),
            })
        })
        .collect()
}

/// An ISO `YYYY-MM-DD` date without the general parser: a scan reads
/// millions.
fn iso_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return parse_date(text);
    }
    let num = |digits: &[u8]| {
        digits.iter().try_fold(0i16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i16::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn round_trips() {
        let fields = r#"{"authority":"绍兴市税务局","note":"a\tb\\c"}"#;
        let packed = pack([
            Packable {
                id: 7,
                item: "P01",
                date: date(2026, 3, 1),
                status: RecordStatus::Active,
                fields,
            },
            Packable {
                id: 9,
                item: "O03",
                date: date(999, 12, 31),
                status: RecordStatus::Disputed,
                fields: "{}",
            },
        ]);
        let back = unpack(1, &packed).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            (back[0].id, back[0].item.as_str(), back[0].date),
            (7, "P01", date(2026, 3, 1))
        );
        assert_eq!(
            (back[0].status, back[0].fields.as_str()),
            (RecordStatus::Active, fields)
        );
        assert_eq!(
            (back[1].id, back[1].date, back[1].status),
            (9, date(999, 12, 31), RecordStatus::Disputed)
        );
        assert!(unpack(1, "").unwrap().is_empty());
    }

    #[test]
    fn damage_is_reported() {
        assert!(unpack(3, "7\u{1f}P01\u{1f}2026-03-01").is_err());
        assert!(unpack(3, "x\u{1f}P01\u{1f}2026-03-01\u{1f}active\u{1f}{}").is_err());
        assert!(unpack(3, "7\u{1f}P01\u{1f}2026-02-30\u{1f}active\u{1f}{}").is_err());
        assert!(unpack(3, "7\u{1f}P01\u{1f}2026-03-01\u{1f}lost\u{1f}{}").is_err());
    }

    #[test]
    fn separators_are_not_packable() {
        assert!(packable(r#"{"a":"b"}"#));
        assert!(!packable("a\u{1e}b"));
        assert!(!packable("a\u{1f}b"));
    }
}
