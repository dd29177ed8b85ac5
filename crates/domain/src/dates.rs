//! Civil-date arithmetic as the regulation counts it: 29 February falls back to 28 February.

use jiff::civil::Date;
use jiff::ToSpan;

/// `date` plus `months` calendar months; a day past the month's end falls back to its last day.
pub fn add_months(date: Date, months: i32) -> Date {
    // jiff clamps the day to the end of the month, which is exactly the rule we need.
    date.checked_add(months.months()).unwrap_or(date)
}

/// `date` plus `years` calendar years (29 February falls back to 28 February).
pub fn add_years(date: Date, years: i32) -> Date {
    add_months(date, years * 12)
}

/// Whether `date` lies in the window "(D − N years, D]": after the same calendar
/// day N years before `as_of`, up to and including `as_of`.
pub fn within_years(date: Date, as_of: Date, years: i32) -> bool {
    date <= as_of && date > add_years(as_of, -years)
}

/// Whether `date` lies in "(D − N months, D]".
pub fn within_months(date: Date, as_of: Date, months: i32) -> bool {
    date <= as_of && date > add_months(as_of, -months)
}

/// Parses an ISO `YYYY-MM-DD` date strictly (no times, no other formats).
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i16> {
        b[r].iter().try_fold(0i16, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i16::from(d - b'0'))
        })
    };
    Date::new(num(0..4)?, num(5..7)? as i8, num(8..10)? as i8).ok()
}

/// Age in whole years on `on` of someone born on `birth`; a 29 February
/// birthday counts from 28 February in common years.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = i32::from(on.year()) - i32::from(birth.year());
    if add_years(birth, age) > on {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn leap_day_falls_back() {
        assert_eq!(add_years(date(2024, 2, 29), 1), date(2025, 2, 28));
        assert_eq!(add_years(date(2028, 2, 29), -2), date(2026, 2, 28));
        assert_eq!(add_months(date(2026, 1, 31), 1), date(2026, 2, 28));
    }

    #[test]
    fn windows_are_half_open_at_the_start() {
        let d = date(2026, 6, 1);
        assert!(within_years(date(2026, 6, 1), d, 2));
        assert!(within_years(date(2024, 6, 2), d, 2));
        assert!(!within_years(date(2024, 6, 1), d, 2));
        assert!(!within_years(date(2026, 6, 2), d, 2));
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(date(2008, 6, 1), date(2026, 6, 1)), 18);
        assert_eq!(age_on(date(2008, 6, 2), date(2026, 6, 1)), 17);
        // Born 29 Feb 2008: 18 on 28 Feb 2026.
        assert_eq!(age_on(date(2008, 2, 29), date(2026, 2, 28)), 18);
        assert_eq!(age_on(date(2008, 2, 29), date(2026, 2, 27)), 17);
    }

    #[test]
    fn strict_dates() {
        assert_eq!(parse_date("2026-03-01"), Some(date(2026, 3, 1)));
        for bad in ["2026-3-1", "20260301", "2026-02-30", "2026-03-01T00:00", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
