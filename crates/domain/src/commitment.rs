//! Credit commitment templates (信用承诺, 第八条) and the breach / fulfilment rules.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::dates::add_months;

/// Which records a template monitors: an item, optionally narrowed by field values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Monitor {
    pub item: String,
    /// Field name → accepted values; every listed field must match.
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Vec<String>>,
}

/// A commitment template such as T01 遵纪守法.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    pub code: String,
    pub title_zh: String,
    pub title_en: String,
    pub text_zh: String,
    pub text_en: String,
    pub term_months: i32,
    pub monitors: Vec<Monitor>,
}

/// The set of templates a catalogue offers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Templates {
    pub templates: Vec<Template>,
}

impl Templates {
    /// The template with this code.
    pub fn get(&self, code: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.code == code)
    }
}

impl Template {
    /// The term `[signed_on, end)`; returns `end`.
    pub fn term_end(&self, signed_on: Date) -> Date {
        add_months(signed_on, self.term_months)
    }
}

/// What became of a signed commitment as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentOutcome {
    /// The term covers the date and nothing breached it so far.
    Running,
    /// A monitored record fell inside the term; `on` is the first such record's date.
    Breached { on: Date, record: i64 },
    /// The term ended (on `ended_on`) with no breach.
    Fulfilled { ended_on: Date },
}

/// Decides a commitment's outcome as of `as_of` from the dates and ids of the
/// monitored records (already filtered to those that count and match).
pub fn outcome(
    signed_on: Date,
    term_end: Date,
    as_of: Date,
    monitored: impl IntoIterator<Item = (Date, i64)>,
) -> CommitmentOutcome {
    let first_breach = monitored
        .into_iter()
        .filter(|(d, _)| *d >= signed_on && *d < term_end && *d <= as_of)
        .min();
    match first_breach {
        Some((on, record)) => CommitmentOutcome::Breached { on, record },
        None if term_end <= as_of => CommitmentOutcome::Fulfilled { ended_on: term_end },
        None => CommitmentOutcome::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn breach_inside_the_term_only() {
        let s = date(2025, 1, 10);
        let end = add_months(s, 12);
        assert_eq!(end, date(2026, 1, 10));
        let d = date(2026, 6, 1);
        assert_eq!(
            outcome(s, end, d, [(date(2026, 1, 10), 1)]),
            CommitmentOutcome::Fulfilled { ended_on: end }
        );
        assert_eq!(
            outcome(s, end, d, [(date(2026, 1, 9), 7), (date(2025, 3, 1), 8)]),
            CommitmentOutcome::Breached {
                on: date(2025, 3, 1),
                record: 8
            }
        );
        assert_eq!(
            outcome(s, end, date(2025, 6, 1), [(date(2025, 7, 1), 1)]),
            CommitmentOutcome::Running
        );
        assert_eq!(
            outcome(s, end, d, [(date(2025, 1, 9), 1)]),
            CommitmentOutcome::Fulfilled { ended_on: end }
        );
    }
}
