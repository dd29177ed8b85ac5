//! Residents' submissions and their evidence files.

use chengxin_domain::record::RecordStatus;
use jiff::civil::Date;

use crate::Result;

/// A record version as listings of submissions show it (a resident's
/// self-reports, a unit's queue to verify): with its decision's reason and
/// when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedRecord {
    pub id: i64,
    pub person_id: i64,
    pub unit: String,
    pub source_id: String,
    pub item: String,
    pub date: Date,
    pub status: RecordStatus,
    /// The reason given with the last state change, if any.
    pub reason: Option<String>,
    /// Canonical JSON.
    pub fields: String,
    /// RFC 3339.
    pub received_at: String,
}

/// Which submissions to list: the newest version of each case from `unit`,
/// narrowed by person, items and state, in id order after `after_id`.
#[derive(Debug, Clone, Copy)]
pub struct SubmissionFilter<'a> {
    pub unit: &'a str,
    pub person_id: Option<i64>,
    /// Empty: none.
    pub items: &'a [String],
    pub status: Option<RecordStatus>,
    pub after_id: i64,
    pub limit: usize,
}

/// An evidence file to store under the SHA-256 of its content.
#[derive(Debug, Clone, Copy)]
pub struct NewEvidence<'a> {
    pub sha256: [u8; 32],
    pub media_type: &'a str,
    pub content: &'a [u8],
}

/// An evidence file linked to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRef {
    pub record_id: i64,
    pub position: i32,
    pub sha256: Vec<u8>,
    pub media_type: String,
    pub size: i64,
}

/// Residents' submissions: the records they send and the evidence files
/// behind them (encrypted at rest, content-addressed).
pub trait SubmissionsRead {
    /// Submissions matching `filter` (see [`SubmissionFilter`]).
    fn submissions(&mut self, filter: &SubmissionFilter<'_>) -> Result<Vec<SubmittedRecord>>;
    /// One record version by id.
    fn submission(&mut self, record_id: i64) -> Result<Option<SubmittedRecord>>;
    /// The evidence linked to these records, by record then position.
    fn evidence_of(&mut self, record_ids: &[i64]) -> Result<Vec<EvidenceRef>>;
    /// An evidence file's content (decrypted, checked against its hash).
    fn evidence_content(&mut self, sha256: &[u8]) -> Result<Option<Vec<u8>>>;
}

/// Writes to submissions.
pub trait SubmissionsWrite {
    /// Stores evidence files; a file already stored (same hash) is kept as is.
    fn put_evidence(&mut self, files: &[NewEvidence<'_>]) -> Result<()>;
    /// Links stored files to a record, in order.
    fn link_evidence(&mut self, record_id: i64, sha256s: &[[u8; 32]]) -> Result<()>;
}
