//! Credit-repair applications (信用修复): stored as residents file them and
//! reviewers decide them. Which record may be repaired, and when, is the
//! domain's rule; the store only keeps the applications.

use chengxin_domain::repair::ApplicationStatus;

use crate::Result;

/// An application to store.
#[derive(Debug, Clone, Copy)]
pub struct NewRepair<'a> {
    pub person_id: i64,
    /// The record version applied for (the newest of its case then).
    pub record_id: i64,
    /// The record's case: an application binds to it, not to one version.
    pub unit: &'a str,
    pub source_id: &'a str,
    pub statement: &'a str,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairRow {
    pub id: i64,
    pub person_id: i64,
    pub record_id: i64,
    pub unit: String,
    pub source_id: String,
    pub statement: String,
    pub status: ApplicationStatus,
    /// The reviewer's reason (always given with a rejection).
    pub reason: Option<String>,
    /// RFC 3339.
    pub submitted_at: String,
    /// RFC 3339, once decided.
    pub decided_at: Option<String>,
    /// The audit actor who decided (`staff:NAME`).
    pub decided_by: Option<String>,
}

/// Which applications to list.
#[derive(Debug, Clone, Copy)]
pub struct RepairFilter {
    /// Only this person's.
    pub person_id: Option<i64>,
    /// Only in this status.
    pub status: Option<ApplicationStatus>,
    /// Only with a larger id (paging).
    pub after_id: i64,
    pub limit: usize,
}

/// Reading applications.
pub trait RepairsRead {
    /// One application.
    fn repair(&mut self, id: i64) -> Result<Option<RepairRow>>;
    /// Applications matching `filter`, in id order.
    fn repairs(&mut self, filter: &RepairFilter) -> Result<Vec<RepairRow>>;
    /// The pending application on the case `(unit, source_id)`, if any.
    fn pending_repair(&mut self, unit: &str, source_id: &str) -> Result<Option<i64>>;
}

/// Writing applications. At most one application per case is pending: a
/// second one (two racing requests) fails the unit of work as a conflict
/// to run again.
pub trait RepairsWrite {
    /// Stores a pending application; returns its id.
    fn insert_repair(&mut self, repair: &NewRepair<'_>) -> Result<i64>;
    /// Records a decision on an application: its new status, the reason and
    /// who decided. `false` if there is no such application.
    fn decide_repair(
        &mut self,
        id: i64,
        status: ApplicationStatus,
        reason: Option<&str>,
        decided_by: &str,
    ) -> Result<bool>;
}
