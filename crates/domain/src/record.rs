//! Records (one fact from one source) and their lifecycle states.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalogue::Fields;
use crate::IdNumber;

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
    /// Every state, in declaration order.
    pub const ALL: [RecordStatus; 7] = [
        RecordStatus::Active,
        RecordStatus::Disputed,
        RecordStatus::Corrected,
        RecordStatus::Withdrawn,
        RecordStatus::Repaired,
        RecordStatus::Pending,
        RecordStatus::Rejected,
    ];

    /// Whether a record in this state counts towards the score. The only
    /// place this rule is written: stores filter on [`RecordStatus::counting`].
    pub fn counts(self) -> bool {
        matches!(self, RecordStatus::Active | RecordStatus::Disputed)
    }

    /// The states that count.
    pub fn counting() -> impl Iterator<Item = RecordStatus> {
        RecordStatus::ALL.into_iter().filter(|s| s.counts())
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
            (S::Active | S::Disputed | S::Pending | S::Repaired, E::Correct) => S::Corrected,
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

/// What storing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new `(unit, source_id)`.
    Accepted,
    /// Same `(unit, source_id)` and same content: nothing stored.
    Duplicate,
    /// Same `(unit, source_id)`, different content: a new version replaced the old.
    Corrected,
    /// Older (by the unit's own `source_version`) than the version stored:
    /// nothing stored, the newer version stays.
    Stale,
}

impl Outcome {
    /// The name shown in receipts and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Corrected => "corrected",
            Outcome::Stale => "stale",
        }
    }
}

/// What becomes of an arriving version of a record case `(unit, source_id)`,
/// given the newest stored version (its state, and whether its content is
/// the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The case is new: store the version in `status`.
    New { status: RecordStatus },
    /// Identical to the newest version: store nothing (idempotent retry).
    Duplicate,
    /// The unit's own version of it is older than the stored one's (a replay
    /// of an earlier version after a correction): store nothing.
    Stale,
    /// A correction: the newest version moves to `head` (unchanged when it
    /// no longer counts for another reason) and the new one is stored in `status`.
    Correction {
        head: RecordStatus,
        status: RecordStatus,
    },
}

/// The newest stored version of a case, as [`arrive`] judges against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredHead {
    pub status: RecordStatus,
    /// Whether the arriving version has the same content.
    pub same_content: bool,
    /// The unit's own version number of the stored version, if it sent one.
    pub source_version: Option<i64>,
}

/// Decides how a version in state `incoming` (`Active` from a unit,
/// `Pending` from a resident), carrying the unit's own `source_version`
/// (if any), joins its case.
///
/// When both the stored and the arriving version carry a unit version and
/// the arriving one is lower, it is `Stale`: a replay of old input never
/// goes back over a correction (checked before content, so replaying v1
/// after v2 and a later v3 equal to v1 is still stale). Without unit
/// versions the arrival order decides, as before.
///
/// Decisions bind to the case, not to one version: a correction of a
/// repaired record stays repaired, and one of a disputed record stays
/// disputed (and counts) until the objection is decided. A case its unit
/// withdrew, or a rejected self-report, starts again with the new version.
pub fn arrive(
    head: Option<StoredHead>,
    incoming: RecordStatus,
    source_version: Option<i64>,
) -> Arrival {
    use RecordStatus as S;
    let Some(head) = head else {
        return Arrival::New { status: incoming };
    };
    if let (Some(stored), Some(new)) = (head.source_version, source_version) {
        if new < stored {
            return Arrival::Stale;
        }
    }
    if head.same_content {
        return Arrival::Duplicate;
    }
    let status = match head.status {
        S::Repaired => S::Repaired,
        S::Disputed if incoming.counts() => S::Disputed,
        _ => incoming,
    };
    Arrival::Correction {
        head: head
            .status
            .apply(RecordEvent::Correct)
            .unwrap_or(head.status),
        status,
    }
}

/// The catalogue item whose newest record (by its date) names a person:
/// household registration (户籍). Another item's name only names a person
/// the platform did not know yet.
pub const NAMING_ITEM: &str = "B03";

/// A validated record to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub unit: String,
    pub source_id: String,
    pub item: String,
    pub id_number: IdNumber,
    pub name: Option<String>,
    /// Canonical JSON of the validated fields.
    pub fields: String,
    pub record_date: Date,
    /// `Active` for units' records, `Pending` for self-reports.
    pub status: RecordStatus,
    /// The unit's own version number of the record (`source_version`), if
    /// it sends one: a lower one than stored is [`Outcome::Stale`].
    pub source_version: Option<i64>,
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
    fn arrivals_bind_decisions_to_the_case() {
        use RecordStatus as S;
        let arrive = |status, same_content, incoming| {
            arrive(
                Some(StoredHead {
                    status,
                    same_content,
                    source_version: None,
                }),
                incoming,
                None,
            )
        };
        assert_eq!(
            super::arrive(None, S::Active, Some(3)),
            Arrival::New { status: S::Active }
        );
        assert_eq!(arrive(S::Active, true, S::Active), Arrival::Duplicate);
        assert_eq!(arrive(S::Withdrawn, true, S::Active), Arrival::Duplicate);
        let correction = |head, status| Arrival::Correction { head, status };
        assert_eq!(
            arrive(S::Active, false, S::Active),
            correction(S::Corrected, S::Active)
        );
        assert_eq!(
            arrive(S::Repaired, false, S::Active),
            correction(S::Corrected, S::Repaired)
        );
        assert_eq!(
            arrive(S::Disputed, false, S::Active),
            correction(S::Corrected, S::Disputed)
        );
        assert_eq!(
            arrive(S::Withdrawn, false, S::Active),
            correction(S::Withdrawn, S::Active)
        );
        assert_eq!(
            arrive(S::Rejected, false, S::Pending),
            correction(S::Rejected, S::Pending)
        );
        assert_eq!(
            arrive(S::Active, false, S::Pending),
            correction(S::Corrected, S::Pending)
        );
        assert_eq!(
            RecordStatus::counting().collect::<Vec<_>>(),
            [S::Active, S::Disputed]
        );
    }

    #[test]
    fn an_older_unit_version_is_stale_whatever_its_content() {
        use RecordStatus as S;
        let head = |same_content, source_version| StoredHead {
            status: S::Active,
            same_content,
            source_version,
        };
        assert_eq!(
            arrive(Some(head(false, Some(2))), S::Active, Some(1)),
            Arrival::Stale
        );
        assert_eq!(
            arrive(Some(head(true, Some(2))), S::Active, Some(1)),
            Arrival::Stale
        );
        assert_eq!(
            arrive(Some(head(true, Some(2))), S::Active, Some(2)),
            Arrival::Duplicate
        );
        let corrected = Arrival::Correction {
            head: S::Corrected,
            status: S::Active,
        };
        assert_eq!(
            arrive(Some(head(false, Some(2))), S::Active, Some(3)),
            corrected
        );
        // Equal numbers with other content: the later arrival wins, as without numbers.
        assert_eq!(
            arrive(Some(head(false, Some(2))), S::Active, Some(2)),
            corrected
        );
        // Only when both sides carry a number is there anything to compare.
        assert_eq!(
            arrive(Some(head(false, None)), S::Active, Some(1)),
            corrected
        );
        assert_eq!(
            arrive(Some(head(false, Some(2))), S::Active, None),
            corrected
        );
    }

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
