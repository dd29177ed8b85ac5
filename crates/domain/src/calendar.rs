//! The working-day calendar deadlines are counted in: weekends and public
//! holidays are days off, make-up working days (调休) are worked. One file per
//! year, as the State Council General Office publishes its arrangement; 2025
//! and 2026 are shipped, later years are loaded by an admin. A year nobody
//! described counts Monday to Friday, and a deadline that relied on such a
//! year is marked provisional.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::dates::parse_date;

/// The shipped year files, oldest first.
pub const SHIPPED: &[&str] = &[
    include_str!("../data/calendar/2025.toml"),
    include_str!("../data/calendar/2026.toml"),
];

/// The most working days one deadline may count (about 40 years).
pub const MAX_WORKING_DAYS: u32 = 10_000;

/// Why a calendar file or a count was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The file is not TOML or JSON of the expected shape.
    #[error("日历文件格式错误 malformed calendar file: {0}")]
    Syntax(String),
    /// The file parsed but breaks the rules; every problem with its path.
    #[error("日历文件无效 invalid calendar file: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A count outside 1..=[`MAX_WORKING_DAYS`].
    #[error("工作日数须为 1 至 {MAX_WORKING_DAYS} the number of working days must be 1 to {MAX_WORKING_DAYS}, not {0}")]
    BadCount(i64),
    /// The count runs past the last representable date.
    #[error("日期超出范围 the date is out of range")]
    OutOfRange,
}

/// A year file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i16,
    source: String,
    #[serde(default)]
    holidays: Vec<HolidayFile>,
    #[serde(default)]
    working_days: Vec<WorkingDayFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name_zh: String,
    name_en: String,
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingDayFile {
    date: String,
    /// The `name_zh` of the holiday it makes up for.
    #[serde(rename = "for")]
    for_holiday: String,
}

/// A public holiday: a days-off period, weekends inside it included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub name_zh: String,
    pub name_en: String,
    pub from: Date,
    pub to: Date,
}

/// A weekend day worked to make up for a holiday (调休上班).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MakeUpDay {
    pub date: Date,
    /// The `name_zh` of the holiday it makes up for.
    #[serde(rename = "for")]
    pub for_holiday: String,
}

/// One validated year: holidays in date order, make-up days in date order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarYear {
    pub year: i16,
    /// The notice this arrangement comes from, with its number.
    pub source: String,
    pub holidays: Vec<Holiday>,
    pub working_days: Vec<MakeUpDay>,
    #[serde(skip)]
    off: BTreeSet<Date>,
    #[serde(skip)]
    on: BTreeSet<Date>,
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn checked_text(path: &str, text: &str, errors: &mut Vec<String>) -> String {
    let t = text.trim();
    if t.is_empty() {
        errors.push(format!("{path}: must not be empty"));
    } else if t.chars().count() > 200 {
        errors.push(format!("{path}: at most 200 characters"));
    } else if let Err(e) = crate::text::check(t) {
        errors.push(format!("{path}: {e}"));
    }
    t.to_owned()
}

fn checked_date(path: &str, text: &str, year: i16, errors: &mut Vec<String>) -> Option<Date> {
    match parse_date(text) {
        None => {
            errors.push(format!("{path}: `{text}` is not a date YYYY-MM-DD"));
            None
        }
        Some(d) if d.year() != year => {
            errors.push(format!("{path}: {d} is not in {year}"));
            None
        }
        Some(d) => Some(d),
    }
}

impl CalendarYear {
    /// Parses and validates a year file: JSON if it starts with `{`, TOML
    /// otherwise. Checked: the year is 1949–9998; the source is named; every
    /// date is a real `YYYY-MM-DD` date inside the year; each holiday has
    /// both names, unique ones, and `from` ≤ `to`; holidays do not overlap;
    /// make-up days fall on a Saturday or Sunday, outside every holiday,
    /// each once, and name a holiday of the file.
    pub fn parse(text: &str) -> Result<CalendarYear, CalendarError> {
        let file: YearFile = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| CalendarError::Syntax(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| CalendarError::Syntax(e.to_string()))?
        };
        Self::validate(file)
    }

    fn validate(file: YearFile) -> Result<CalendarYear, CalendarError> {
        let mut errors = Vec::new();
        let year = file.year;
        if !(1949..=9998).contains(&year) {
            return Err(CalendarError::Invalid(vec![format!(
                "year: {year} is not a year from 1949 to 9998"
            )]));
        }
        let source = checked_text("source", &file.source, &mut errors);
        let mut holidays = Vec::new();
        let mut off = BTreeMap::<Date, usize>::new();
        for (i, h) in file.holidays.iter().enumerate() {
            let p = format!("holidays[{i}]");
            let name_zh = checked_text(&format!("{p}.name_zh"), &h.name_zh, &mut errors);
            let name_en = checked_text(&format!("{p}.name_en"), &h.name_en, &mut errors);
            if holidays.iter().any(|o: &Holiday| o.name_zh == name_zh) {
                errors.push(format!("{p}.name_zh: `{name_zh}` is listed twice"));
            }
            let from = checked_date(&format!("{p}.from"), &h.from, year, &mut errors);
            let to = checked_date(&format!("{p}.to"), &h.to, year, &mut errors);
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if from > to {
                errors.push(format!("{p}: from {from} is after to {to}"));
                continue;
            }
            for d in from.series(jiff::ToSpan::days(1)).take_while(|d| *d <= to) {
                if let Some(j) = off.insert(d, i) {
                    errors.push(format!("{p}: {d} is also in holidays[{j}]"));
                    break;
                }
            }
            holidays.push(Holiday {
                name_zh,
                name_en,
                from,
                to,
            });
        }
        let mut working_days: Vec<MakeUpDay> = Vec::new();
        for (i, w) in file.working_days.iter().enumerate() {
            let p = format!("working_days[{i}]");
            let for_holiday = w.for_holiday.trim().to_owned();
            if !holidays.iter().any(|h| h.name_zh == for_holiday) {
                errors.push(format!(
                    "{p}.for: `{for_holiday}` is not the name_zh of a holiday in this file"
                ));
            }
            let Some(date) = checked_date(&format!("{p}.date"), &w.date, year, &mut errors) else {
                continue;
            };
            if !is_weekend(date) {
                errors.push(format!(
                    "{p}.date: {date} is a {:?}, not a Saturday or Sunday",
                    date.weekday()
                ));
            }
            if let Some(j) = off.get(&date) {
                errors.push(format!(
                    "{p}.date: {date} is also a day off in holidays[{j}]"
                ));
            }
            if working_days.iter().any(|o| o.date == date) {
                errors.push(format!("{p}.date: {date} is listed twice"));
            }
            working_days.push(MakeUpDay { date, for_holiday });
        }
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        holidays.sort_by_key(|h| h.from);
        working_days.sort_by_key(|w| w.date);
        Ok(CalendarYear {
            year,
            source,
            on: working_days.iter().map(|w| w.date).collect(),
            off: off.into_keys().collect(),
            holidays,
            working_days,
        })
    }

    /// Whether `date` (in this year) is a working day.
    fn is_working_day(&self, date: Date) -> bool {
        self.on.contains(&date) || !(is_weekend(date) || self.off.contains(&date))
    }

    /// The holiday `date` falls in, if any.
    pub fn holiday_on(&self, date: Date) -> Option<&Holiday> {
        self.holidays
            .iter()
            .find(|h| h.from <= date && date <= h.to)
    }
}

/// A deadline: the date, and whether a year without calendar data was
/// counted Monday to Friday to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub date: Date,
    pub provisional: bool,
}

/// The effective calendar: one arrangement per described year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i16, CalendarYear>,
}

impl Calendar {
    /// The years shipped in the binary (2025, 2026).
    pub fn shipped() -> Calendar {
        let mut c = Calendar::default();
        for text in SHIPPED {
            // The shipped files are checked by the tests below.
            let year = CalendarYear::parse(text).expect("a shipped calendar file is invalid");
            c = c.with_year(year);
        }
        c
    }

    /// This calendar with `year` described by `data`, replacing any
    /// arrangement it had for that year.
    pub fn with_year(mut self, data: CalendarYear) -> Calendar {
        self.years.insert(data.year, data);
        self
    }

    /// The arrangement of `year`, if described.
    pub fn year(&self, year: i16) -> Option<&CalendarYear> {
        self.years.get(&year)
    }

    /// The described years, in order.
    pub fn years(&self) -> impl Iterator<Item = &CalendarYear> {
        self.years.values()
    }

    /// Whether `date` is a working day (Monday to Friday in an undescribed year).
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.years.get(&date.year()) {
            Some(y) => y.is_working_day(date),
            None => !is_weekend(date),
        }
    }

    /// The date `n` working days after `start`: the count starts on the
    /// next day, so the result is the n-th working day after `start`.
    pub fn add_working_days(&self, start: Date, n: i64) -> Result<Deadline, CalendarError> {
        if !(1..=i64::from(MAX_WORKING_DAYS)).contains(&n) {
            return Err(CalendarError::BadCount(n));
        }
        let mut day = start;
        let mut left = n;
        let mut provisional = false;
        while left > 0 {
            day = day.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
            provisional |= !self.years.contains_key(&day.year());
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Ok(Deadline {
            date: day,
            provisional,
        })
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
