//! The working-day calendar years admins load.

use crate::Result;

/// A working-day calendar year an admin loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCalendarYear {
    pub year: i16,
    /// The year file as loaded (validated before it was stored).
    pub content: String,
    /// The audit actor who loaded it.
    pub loaded_by: String,
    /// RFC 3339.
    pub loaded_at: String,
}

/// Loaded working-day calendar years.
pub trait CalendarRead {
    /// Every loaded year, in order.
    fn calendar_years(&mut self) -> Result<Vec<StoredCalendarYear>>;
}

/// Writes to the calendar.
pub trait CalendarWrite {
    /// Stores a year's file, replacing one loaded before; `true` if it did.
    fn put_calendar_year(&mut self, year: i16, content: &str, loaded_by: &str) -> Result<bool>;
}
