//! Reading PostgreSQL `date` and `timestamptz` values as jiff types.
//!
//! The `postgres` crate is built without its jiff feature, so values are read
//! from the binary wire format here (no text round trip on the hot scan path).
//! Values are written as ISO text and cast (`$1::text::date`) in the SQL.

use std::error::Error;

use jiff::civil::Date;
use jiff::Timestamp;
use postgres::types::{FromSql, Type};

type BoxError = Box<dyn Error + Sync + Send>;

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
/// Microseconds from the Unix epoch to PostgreSQL's epoch.
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400 * 1_000_000;

/// A `date` column.
pub(super) struct PgDate(pub Date);

impl<'a> FromSql<'a> for PgDate {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<PgDate, BoxError> {
        let days = i32::from_be_bytes(raw.try_into().map_err(|_| "date is not 4 bytes")?);
        date_from_unix_days(i64::from(days) + PG_EPOCH_DAYS).map(PgDate)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
}

/// A `timestamptz` column, as RFC 3339 text in UTC (the form SQLite stores).
pub(super) struct PgTimestamp(pub String);

impl<'a> FromSql<'a> for PgTimestamp {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<PgTimestamp, BoxError> {
        let micros = i64::from_be_bytes(raw.try_into().map_err(|_| "timestamp is not 8 bytes")?);
        let micros = micros
            .checked_add(PG_EPOCH_MICROS)
            .ok_or("timestamp out of range")?;
        Ok(PgTimestamp(
            Timestamp::from_microsecond(micros)?.to_string(),
        ))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// The civil date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn date_from_unix_days(days: i64) -> Result<Date, BoxError> {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = i16::try_from(year).map_err(|_| "date out of range")?;
    // month is 1..=12 and day 1..=31 by construction.
    Ok(Date::new(year, month as i8, day as i8)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::ToSpan;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        assert_eq!(date_from_unix_days(0).unwrap(), date(1970, 1, 1));
        assert_eq!(
            date_from_unix_days(PG_EPOCH_DAYS).unwrap(),
            date(2000, 1, 1)
        );
        assert_eq!(
            date_from_unix_days(PG_EPOCH_DAYS + 59).unwrap(),
            date(2000, 2, 29)
        );
        assert_eq!(date_from_unix_days(-1).unwrap(), date(1969, 12, 31));
    }

    #[test]
    fn reads_wire_values() {
        let d = PgDate::from_sql(&Type::DATE, &9_648i32.to_be_bytes()).unwrap();
        assert_eq!(d.0, date(2026, 6, 1));
        let t = PgTimestamp::from_sql(&Type::TIMESTAMPTZ, &1_500_000i64.to_be_bytes()).unwrap();
        assert_eq!(t.0, "2000-01-01T00:00:01.5Z");
    }

    proptest! {
        #[test]
        fn matches_jiff(days in -700_000i64..2_900_000) {
            let expected = date(1970, 1, 1).checked_add(days.days()).unwrap();
            prop_assert_eq!(date_from_unix_days(days).unwrap(), expected);
        }
    }
}
