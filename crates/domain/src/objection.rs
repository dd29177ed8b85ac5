//! Objections (异议, 第二十五、二十六条): a resident objects to a record or
//! to their score; the agency accepts within 2 working days, routes a
//! record's objection to its unit, which replies within 10 working days of
//! acceptance, and a reviewer decides: `corrected` or `explained`.
//!
//! The state machine and the deadline rules live here, pure; the working
//! days come from [`crate::calendar::Calendar`].

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, Deadline};

/// Working days the agency has to accept an objection, from submission.
pub const ACCEPT_WITHIN: i64 = 2;
/// Working days the unit (or, for a score objection, the agency) has to
/// reply, from acceptance.
pub const REPLY_WITHIN: i64 = 10;
/// The longest reason, explanation or reply, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Where an objection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    /// Filed; the agency has not accepted it yet.
    Submitted,
    /// Accepted and with the agency's reviewer: a score objection at once,
    /// a record's objection once its unit replied.
    Accepted,
    /// Accepted and routed to the record's unit for its reply.
    AwaitingUnit,
    /// Decided: the record was corrected or withdrawn.
    Corrected,
    /// Decided: the record stands, with the explanation given.
    Explained,
}

/// A reviewer's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Corrected,
    Explained,
}

/// Something that happens to an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionEvent {
    /// The agency accepts it; `routed`: it is about a record, so its unit replies.
    Accept { routed: bool },
    /// The unit it was routed to replies.
    UnitReply,
    /// A reviewer decides.
    Decide(Outcome),
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an objection that is {} cannot take {event:?}", .from.as_str())]
pub struct TransitionError {
    pub from: ObjectionStatus,
    pub event: ObjectionEvent,
}

impl ObjectionStatus {
    /// Every state.
    pub const ALL: [ObjectionStatus; 5] = [
        ObjectionStatus::Submitted,
        ObjectionStatus::Accepted,
        ObjectionStatus::AwaitingUnit,
        ObjectionStatus::Corrected,
        ObjectionStatus::Explained,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionStatus::Submitted => "submitted",
            ObjectionStatus::Accepted => "accepted",
            ObjectionStatus::AwaitingUnit => "awaiting_unit",
            ObjectionStatus::Corrected => "corrected",
            ObjectionStatus::Explained => "explained",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ObjectionStatus> {
        ObjectionStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the objection is still open (not decided).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            ObjectionStatus::Corrected | ObjectionStatus::Explained
        )
    }

    /// The state after `event`, or why it is not allowed. A decision needs
    /// the objection accepted (a reviewer may decide while the unit has not
    /// replied: its correction is itself the answer); a decision is final.
    pub fn apply(self, event: ObjectionEvent) -> Result<ObjectionStatus, TransitionError> {
        use ObjectionEvent as E;
        use ObjectionStatus as S;
        Ok(match (self, event) {
            (S::Submitted, E::Accept { routed: true }) => S::AwaitingUnit,
            (S::Submitted, E::Accept { routed: false }) => S::Accepted,
            (S::AwaitingUnit, E::UnitReply) => S::Accepted,
            (S::Accepted | S::AwaitingUnit, E::Decide(Outcome::Corrected)) => S::Corrected,
            (S::Accepted | S::AwaitingUnit, E::Decide(Outcome::Explained)) => S::Explained,
            (from, event) => return Err(TransitionError { from, event }),
        })
    }
}

impl Outcome {
    /// The name in requests and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Corrected => "corrected",
            Outcome::Explained => "explained",
        }
    }
}

/// The date by which the agency must accept an objection submitted on `submitted_on`.
pub fn accept_by(cal: &Calendar, submitted_on: Date) -> Result<Deadline, CalendarError> {
    cal.add_working_days(submitted_on, ACCEPT_WITHIN)
}

/// The date by which the reply is due for an objection accepted on `accepted_on`.
pub fn reply_by(cal: &Calendar, accepted_on: Date) -> Result<Deadline, CalendarError> {
    cal.add_working_days(accepted_on, REPLY_WITHIN)
}

/// An objection's dates, as the deadline rules read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub status: ObjectionStatus,
    /// Whether it was routed to a unit (it is about a record).
    pub routed: bool,
    pub accept_by: Date,
    pub accepted_on: Option<Date>,
    pub reply_by: Option<Date>,
    pub replied_on: Option<Date>,
}

/// Which deadline was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Not accepted by `accept_by`.
    Accept,
    /// No reply by `reply_by`: the unit's, or for a score objection (no
    /// unit) the agency's decision.
    Reply,
}

/// The deadline an open objection has missed as of `today` (a deadline
/// day itself is still in time), if any. Decided objections are never
/// overdue; one whose unit replied waits for no more deadline.
pub fn overdue(t: &Timeline, today: Date) -> Option<Missed> {
    use ObjectionStatus as S;
    match t.status {
        S::Submitted if today > t.accept_by => Some(Missed::Accept),
        S::AwaitingUnit => t.reply_by.filter(|&d| today > d).map(|_| Missed::Reply),
        S::Accepted if !t.routed && t.replied_on.is_none() => {
            t.reply_by.filter(|&d| today > d).map(|_| Missed::Reply)
        }
        _ => None,
    }
}

/// Whether a step was (or is being) done late as of `today`: acceptance
/// after `accept_by`, the unit's reply after `reply_by`, or an open case
/// [`overdue`] now.
pub fn ever_late(t: &Timeline, today: Date) -> bool {
    let accepted_late = t.accepted_on.is_some_and(|d| d > t.accept_by);
    let replied_late = match (t.replied_on, t.reply_by) {
        (Some(r), Some(by)) => r > by,
        _ => false,
    };
    accepted_late || replied_late || overdue(t, today).is_some()
}

/// Checks a reason, explanation or reply: trimmed, not blank, at most
/// [`MAX_TEXT_CHARS`], no U+0000. The error is a field code and a message.
pub fn check_text(field: &str, text: &str) -> Result<String, (&'static str, String)> {
    let t = text.trim();
    if t.is_empty() {
        return Err(("missing_field", format!("`{field}` must not be blank")));
    }
    if t.contains('\0') {
        return Err((
            "invalid_field",
            format!("`{field}` must not contain U+0000"),
        ));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err((
            "out_of_range",
            format!("`{field}` is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
#[path = "objection_tests.rs"]
mod tests;
