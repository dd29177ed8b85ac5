//! Civil days as plain integers: the generator does millions of date sums, so it
//! counts days since 1970-01-01 instead of going through `jiff` for each one.

use jiff::civil::Date;
use rand::Rng;

/// A civil date as the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(pub(crate) i32);

impl Day {
    /// The day for a proleptic Gregorian year, month (1–12) and day (1–31).
    pub(crate) fn from_ymd(year: i32, month: u32, day: u32) -> Day {
        // Howard Hinnant's `days_from_civil`: years start on 1 March so that
        // the leap day is the last day of the year.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    /// The year, month and day of this day.
    pub(crate) fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }

    pub(crate) fn from_date(date: Date) -> Day {
        Day::from_ymd(
            i32::from(date.year()),
            date.month() as u32,
            date.day() as u32,
        )
    }

    #[cfg(test)]
    pub(crate) fn to_date(self) -> Date {
        let (y, m, d) = self.ymd();
        jiff::civil::date(y as i16, m as i8, d as i8)
    }

    /// This day plus `days` (negative goes back).
    pub(crate) fn plus(self, days: i32) -> Day {
        Day(self.0 + days)
    }

    /// Days from `earlier` to `self`.
    pub(crate) fn since(self, earlier: Day) -> i32 {
        self.0 - earlier.0
    }

    /// Calendar months later (or earlier); a day past the month's end falls
    /// back to its last day, as `chengxin_domain::dates::add_months` does.
    pub(crate) fn add_months(self, months: i32) -> Day {
        let (y, m, d) = self.ymd();
        let total = y * 12 + (m as i32 - 1) + months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        Day::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))
    }

    /// Calendar years later (or earlier); 29 February falls back to 28 February.
    pub(crate) fn add_years(self, years: i32) -> Day {
        self.add_months(years * 12)
    }

    /// Appends `YYYY-MM-DD`.
    pub(crate) fn write(self, out: &mut Vec<u8>) {
        let (y, m, d) = self.ymd();
        let y = y.clamp(0, 9999) as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (d / 10) as u8,
            b'0' + (d % 10) as u8,
        ]);
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An inclusive range of days `[first, last]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) first: Day,
    pub(crate) last: Day,
}

impl Span {
    /// "(as_of − N years, as_of]", the regulation's window.
    pub(crate) fn last_years(as_of: Day, years: i32) -> Span {
        Span {
            first: as_of.add_years(-years).plus(1),
            last: as_of,
        }
    }

    /// The part of the span on or after `day`, if any is left.
    pub(crate) fn not_before(self, day: Day) -> Option<Span> {
        let first = self.first.max(day);
        (first <= self.last).then_some(Span { first, ..self })
    }

    /// The part of the span on or before `day`, if any is left.
    pub(crate) fn not_after(self, day: Day) -> Option<Span> {
        let last = self.last.min(day);
        (self.first <= last).then_some(Span { last, ..self })
    }

    /// A uniformly drawn day of the span.
    pub(crate) fn pick(self, rng: &mut impl Rng) -> Day {
        Day(rng.gen_range(self.first.0..=self.last.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chengxin_domain::dates;
    use jiff::civil::date;

    #[test]
    fn agrees_with_jiff_over_two_centuries() {
        let mut d = date(1899, 12, 1);
        let mut day = Day::from_date(d);
        while d < date(2101, 2, 1) {
            assert_eq!(day.to_date(), d);
            assert_eq!(Day::from_date(d), day);
            let mut text = Vec::new();
            day.write(&mut text);
            assert_eq!(String::from_utf8(text).unwrap(), d.to_string());
            d = d.tomorrow().unwrap();
            day = day.plus(1);
        }
    }

    #[test]
    fn month_and_year_sums_match_the_domain_rules() {
        let starts = [
            date(2024, 2, 29),
            date(2026, 1, 31),
            date(2025, 12, 31),
            date(2000, 3, 31),
        ];
        for start in starts {
            for n in -30..=30 {
                let ours = Day::from_date(start).add_months(n).to_date();
                assert_eq!(ours, dates::add_months(start, n), "{start} + {n} months");
                let ours = Day::from_date(start).add_years(n).to_date();
                assert_eq!(ours, dates::add_years(start, n), "{start} + {n} years");
            }
        }
    }

    #[test]
    fn windows_are_half_open_at_the_start() {
        let as_of = Day::from_date(date(2026, 6, 1));
        let w = Span::last_years(as_of, 2);
        assert_eq!(w.first.to_date(), date(2024, 6, 2));
        assert_eq!(w.last, as_of);
        assert_eq!(w.not_before(as_of.plus(1)), None);
        assert_eq!(w.not_after(as_of.plus(-800)), None);
    }
}
