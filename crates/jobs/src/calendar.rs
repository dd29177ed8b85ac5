//! The effective working-day calendar: the years shipped in the binary,
//! overridden and extended by the years an admin loaded into the store (so
//! every process sees the same calendar). Deadlines in working days
//! (objections, repairs) are counted with [`effective`].

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::calendar::{Calendar, CalendarError, CalendarYear, Deadline};
use chengxin_store::uow::CalendarRead;
use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::uow::write;
use crate::{Context, JobError};

fn invalid(e: CalendarError) -> JobError {
    JobError::Invalid(e.to_string())
}

/// The calendar as `tx` sees it: shipped years, then loaded ones over them.
pub fn effective_in(tx: &mut dyn CalendarRead) -> Result<Calendar, JobError> {
    let mut cal = Calendar::shipped();
    for stored in tx.calendar_years()? {
        // Validated when loaded; a row that no longer parses was changed
        // behind the store's back.
        let year = CalendarYear::parse(&stored.content).map_err(|e| {
            JobError::Invalid(format!(
                "the stored calendar of {} is invalid: {e}",
                stored.year
            ))
        })?;
        cal = cal.with_year(year);
    }
    Ok(cal)
}

/// The calendar in force now.
pub fn effective(ctx: &Context) -> Result<Calendar, JobError> {
    effective_in(&mut *ctx.store.read()?)
}

/// The date `n` working days after `start` under the calendar in force.
pub fn add_working_days(ctx: &Context, start: Date, n: i64) -> Result<Deadline, JobError> {
    effective(ctx)?.add_working_days(start, n).map_err(invalid)
}

/// Where a year's arrangement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Shipped in the binary.
    Shipped,
    /// Loaded by an admin.
    Loaded,
    /// Nobody described the year: Monday to Friday count.
    None,
}

/// One year as `calendar show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct YearView {
    pub year: i16,
    pub origin: Origin,
    /// The arrangement, if the year is described.
    pub data: Option<CalendarYear>,
}

/// A year of the calendar in force, and where it comes from.
pub fn year(ctx: &Context, year: i16) -> Result<YearView, JobError> {
    let mut tx = ctx.store.read()?;
    let loaded = tx.calendar_years()?.iter().any(|y| y.year == year);
    let cal = effective_in(&mut *tx)?;
    let data = cal.year(year).cloned();
    let origin = match (&data, loaded) {
        (None, _) => Origin::None,
        (Some(_), true) => Origin::Loaded,
        (Some(_), false) => Origin::Shipped,
    };
    Ok(YearView { year, origin, data })
}

/// What loading a year did.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    pub year: i16,
    /// A year loaded before was replaced.
    pub replaced_loaded: bool,
    /// The year is one shipped in the binary, now overridden.
    pub overrides_shipped: bool,
    pub holidays: usize,
    pub working_days: usize,
}

/// Validates a year file and stores it, replacing the shipped or earlier
/// loaded arrangement of that year; audited as `calendar.loaded` with the
/// file's SHA-256.
pub fn load(ctx: &Context, text: &str, actor: &str) -> Result<Loaded, JobError> {
    let year = CalendarYear::parse(text).map_err(invalid)?;
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    let overrides_shipped = Calendar::shipped().year(year.year).is_some();
    let replaced_loaded = write(&*ctx.store, |tx| {
        let replaced = tx.put_calendar_year(year.year, text, actor)?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.to_owned(),
            action: "calendar.loaded".to_owned(),
            subject: Some(format!("calendar:{}", year.year)),
            person: None,
            request_id: None,
            detail: serde_json::json!({
                "year": year.year,
                "source": year.source,
                "sha256": sha,
                "holidays": year.holidays.len(),
                "working_days": year.working_days.len(),
                "replaced_loaded": replaced,
                "overrides_shipped": overrides_shipped,
            }),
        }]);
        Ok(replaced)
    })?;
    Ok(Loaded {
        year: year.year,
        replaced_loaded,
        overrides_shipped,
        holidays: year.holidays.len(),
        working_days: year.working_days.len(),
    })
}
