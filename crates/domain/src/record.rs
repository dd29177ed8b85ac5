//! Records (one fact from one source) and their lifecycle states.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalogue::Fields;

/// Where a record stands. Nothing is deleted by a state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Pushed by a unit, or a verified self-report: it counts.
    Active,
    /// Under objection (异议中): still counts, visibly flagged.
    Disputed,
    /// Replaced by a newer version from the same unit.
    Corrected,
    /// Withdrawn by its unit.
    Withdrawn,
    /// Credit repair (信用修复) approved: no longer counts.
    Repaired,
    /// Self-reported, awaiting verification.
    Pending,
    /// Self-report rejected on verification.
    Rejected,
}

/// Something that happens to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEvent {
    Correct,
    Withdraw,
    Repair,
    Dispute,
    ResolveDispute,
    Verify,
    Reject,
}

/// A transition that the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from:?} record cannot be {event:?}")]
pub struct TransitionError {
    pub from: RecordStatus,
    pub event: RecordEvent,
}

impl RecordStatus {
    /// Whether a record in this state counts towards the score.
    pub fn counts(self) -> bool {
        matches!(self, RecordStatus::Active | RecordStatus::Disputed)
    }

    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Disputed => "disputed",
            RecordStatus::Corrected => "corrected",
            RecordStatus::Withdrawn => "withdrawn",
            RecordStatus::Repaired => "repaired",
            RecordStatus::Pending => "pending",
            RecordStatus::Rejected => "rejected",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<RecordStatus> {
        Some(match s {
            "active" => RecordStatus::Active,
            "disputed" => RecordStatus::Disputed,
            "corrected" => RecordStatus::Corrected,
            "withdrawn" => RecordStatus::Withdrawn,
            "repaired" => RecordStatus::Repaired,
            "pending" => RecordStatus::Pending,
            "rejected" => RecordStatus::Rejected,
            _ => return None,
        })
    }

    /// The state after `event`, or why it is not allowed.
    pub fn apply(self, event: RecordEvent) -> Result<RecordStatus, TransitionError> {
        use RecordEvent as E;
        use RecordStatus as S;
        let next = match (self, event) {
            (S::Active | S::Disputed | S::Pending, E::Correct) => S::Corrected,
            (S::Active | S::Disputed | S::Pending, E::Withdraw) => S::Withdrawn,
            (S::Active | S::Disputed, E::Repair) => S::Repaired,
            (S::Active, E::Dispute) => S::Disputed,
            (S::Disputed, E::ResolveDispute) => S::Active,
            (S::Pending, E::Verify) => S::Active,
            (S::Pending, E::Reject) => S::Rejected,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(next)
    }
}

/// A record as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The store's id for the record version, cited in explanations.
    pub id: i64,
    /// Index of the record's item in the catalogue.
    pub item: usize,
    /// The record's date: its item's first date field.
    pub date: Date,
    pub status: RecordStatus,
    pub fields: Fields,
}

/// Everything the engine needs about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInput {
    pub birth_date: Date,
    pub records: Vec<Record>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        use RecordEvent as E;
        use RecordStatus as S;
        assert_eq!(S::Active.apply(E::Dispute), Ok(S::Disputed));
        assert_eq!(S::Disputed.apply(E::ResolveDispute), Ok(S::Active));
        assert_eq!(S::Pending.apply(E::Verify), Ok(S::Active));
        assert!(S::Withdrawn.apply(E::Repair).is_err());
        assert!(S::Repaired.apply(E::Dispute).is_err());
        assert!(S::Disputed.counts() && S::Active.counts());
        for s in [
            S::Corrected,
            S::Withdrawn,
            S::Repaired,
            S::Pending,
            S::Rejected,
        ] {
            assert!(!s.counts());
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }
}
