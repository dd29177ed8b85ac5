//! Residents' objections (异议) and their evidence links.

use chengxin_domain::objection::ObjectionStatus;
use jiff::civil::Date;

use crate::Result;

/// An objection as stored: where it stands and each step's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionRow {
    pub id: i64,
    pub person_id: i64,
    /// The record version objected to; `None`: the score.
    pub record_id: Option<i64>,
    /// The record's unit, which it is routed to.
    pub unit: Option<String>,
    pub reason: String,
    pub status: ObjectionStatus,
    pub submitted_on: Date,
    /// RFC 3339.
    pub submitted_at: String,
    pub accept_by: Date,
    pub accept_by_provisional: bool,
    pub accepted_on: Option<Date>,
    pub accepted_by: Option<String>,
    pub reply_by: Option<Date>,
    pub reply_by_provisional: bool,
    pub replied_on: Option<Date>,
    /// The unit's reply.
    pub reply: Option<String>,
    pub decided_on: Option<Date>,
    pub decided_by: Option<String>,
    /// The explanation given to the resident (or the note of a correction).
    pub answer: Option<String>,
    /// When a daily run first found it overdue.
    pub overdue_on: Option<Date>,
}

/// An objection to store (status `submitted`).
#[derive(Debug, Clone, Copy)]
pub struct NewObjection<'a> {
    pub person_id: i64,
    pub record_id: Option<i64>,
    pub unit: Option<&'a str>,
    pub reason: &'a str,
    pub status: ObjectionStatus,
    pub submitted_on: Date,
    pub accept_by: Date,
    pub accept_by_provisional: bool,
}

/// Which objections to list, in id order after `after_id`.
#[derive(Debug, Clone, Copy)]
pub struct ObjectionFilter<'a> {
    pub person_id: Option<i64>,
    /// Only those routed to this unit.
    pub unit: Option<&'a str>,
    /// Only those in one of these states (empty: any).
    pub statuses: &'a [ObjectionStatus],
    pub after_id: i64,
    pub limit: usize,
}

/// An evidence file linked to an objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionEvidenceRef {
    pub objection_id: i64,
    pub position: i32,
    pub sha256: Vec<u8>,
    pub media_type: String,
    pub size: i64,
}

/// Objections.
pub trait ObjectionsRead {
    /// Objections matching `filter`.
    fn objections(&mut self, filter: &ObjectionFilter<'_>) -> Result<Vec<ObjectionRow>>;
    /// One objection (locked for the rest of a write unit of work).
    fn objection(&mut self, id: i64) -> Result<Option<ObjectionRow>>;
    /// The evidence of these objections, by objection then position.
    fn objection_evidence(&mut self, ids: &[i64]) -> Result<Vec<ObjectionEvidenceRef>>;
}

/// Writes to objections.
pub trait ObjectionsWrite {
    /// Stores a new objection; returns its id.
    fn insert_objection(&mut self, o: &NewObjection<'_>) -> Result<i64>;
    /// Stores an objection's state and steps (every column but its identity,
    /// reason and submission).
    fn update_objection(&mut self, o: &ObjectionRow) -> Result<()>;
    /// Links stored evidence files to an objection, in order.
    fn link_objection_evidence(&mut self, id: i64, sha256s: &[[u8; 32]]) -> Result<()>;
}
