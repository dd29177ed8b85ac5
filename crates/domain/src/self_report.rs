//! Self-reports (自主申报, 第十二条): which items a resident may report, what
//! evidence is accepted (its type read from the content, never from a name or
//! a declared type), how many files of what size, and how a report's record
//! state reads to the resident and to the verifier.

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::record::{RecordEvent, RecordStatus};

/// The largest evidence file, in bytes (10 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;
/// The most evidence files one report may carry.
pub const MAX_EVIDENCE_FILES: usize = 5;
/// The longest reason a verifier may give, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// An accepted evidence type, recognised by its leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Pdf,
    Jpeg,
    Png,
}

impl EvidenceKind {
    /// The type of `content` from its signature (magic bytes), if accepted.
    /// An HTML page named `x.pdf` is not a PDF: the name plays no part.
    pub fn sniff(content: &[u8]) -> Option<EvidenceKind> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if content.starts_with(b"%PDF-") {
            Some(EvidenceKind::Pdf)
        } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(EvidenceKind::Jpeg)
        } else if content.starts_with(PNG) {
            Some(EvidenceKind::Png)
        } else {
            None
        }
    }

    /// The media type stored and served.
    pub fn media_type(self) -> &'static str {
        match self {
            EvidenceKind::Pdf => "application/pdf",
            EvidenceKind::Jpeg => "image/jpeg",
            EvidenceKind::Png => "image/png",
        }
    }

    /// Parses a stored media type.
    pub fn from_media_type(s: &str) -> Option<EvidenceKind> {
        [EvidenceKind::Pdf, EvidenceKind::Jpeg, EvidenceKind::Png]
            .into_iter()
            .find(|k| k.media_type() == s)
    }
}

/// Why evidence was refused; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("a self-report needs at least one evidence file (PDF, JPEG or PNG)")]
    Missing,
    #[error("at most {MAX_EVIDENCE_FILES} evidence files may be sent; {0} were")]
    TooMany(usize),
    #[error("evidence file {index} is {size} bytes; the limit is {MAX_EVIDENCE_BYTES}")]
    TooLarge { index: usize, size: usize },
    #[error("evidence file {index} is not a PDF, JPEG or PNG (judged from its content)")]
    WrongType { index: usize },
}

impl EvidenceError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::Missing => "evidence_required",
            EvidenceError::TooMany(_) => "too_many_evidence_files",
            EvidenceError::TooLarge { .. } => "evidence_too_large",
            EvidenceError::WrongType { .. } => "evidence_type_not_allowed",
        }
    }
}

/// Checks a report's evidence files (index from 1 in messages): 1 to
/// [`MAX_EVIDENCE_FILES`] files, each at most [`MAX_EVIDENCE_BYTES`], each
/// a PDF, JPEG or PNG by content. Returns each file's type.
pub fn check_evidence<'a>(
    files: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Result<Vec<EvidenceKind>, EvidenceError> {
    let n = files.len();
    if n == 0 {
        return Err(EvidenceError::Missing);
    }
    if n > MAX_EVIDENCE_FILES {
        return Err(EvidenceError::TooMany(n));
    }
    files
        .enumerate()
        .map(|(i, f)| {
            if f.len() > MAX_EVIDENCE_BYTES {
                return Err(EvidenceError::TooLarge {
                    index: i + 1,
                    size: f.len(),
                });
            }
            EvidenceKind::sniff(f).ok_or(EvidenceError::WrongType { index: i + 1 })
        })
        .collect()
}

/// Whether residents may self-report `item`: the catalogue says so per item
/// (O01–O03 in the default catalogue; never O04, which only the blood
/// centre reports). `None` when the item is unknown.
pub fn self_reportable(catalogue: &Catalogue, item: &str) -> Option<bool> {
    catalogue.item(item).map(|i| i.self_reportable)
}

/// Where a self-report stands, as the resident sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Awaiting verification: does not count.
    Pending,
    /// Verified by the responsible unit or the agency: counts (what became
    /// of the record afterwards — a dispute, a repair — is its record state).
    Verified,
    /// Rejected with a reason: never counted.
    Rejected,
}

impl ReportStatus {
    /// The report status of a self-reported record in `state`.
    pub fn of(state: RecordStatus) -> ReportStatus {
        match state {
            RecordStatus::Pending => ReportStatus::Pending,
            RecordStatus::Rejected => ReportStatus::Rejected,
            _ => ReportStatus::Verified,
        }
    }

    /// The lowercase name shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Verified => "verified",
            ReportStatus::Rejected => "rejected",
        }
    }

    /// Parses the name used in queries (`?status=pending`).
    pub fn parse(s: &str) -> Option<ReportStatus> {
        [
            ReportStatus::Pending,
            ReportStatus::Verified,
            ReportStatus::Rejected,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A verifier's decision on a pending report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Verified,
    Rejected,
}

impl Decision {
    /// The record event the decision applies.
    pub fn event(self) -> RecordEvent {
        match self {
            Decision::Verified => RecordEvent::Verify,
            Decision::Rejected => RecordEvent::Reject,
        }
    }

    /// Checks the reason that goes with the decision: a rejection must say
    /// why (1 to [`MAX_REASON_CHARS`] characters); a verification may.
    pub fn check_reason(self, reason: Option<&str>) -> Result<Option<String>, &'static str> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        match reason {
            Some(r) if r.chars().count() > MAX_REASON_CHARS || r.contains('\0') => {
                Err("the reason must be 1 to 500 characters")
            }
            None if self == Decision::Rejected => Err("a rejection needs a `reason`"),
            r => Ok(r.map(str::to_owned)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content_not_names() {
        assert_eq!(EvidenceKind::sniff(b"%PDF-1.7\n"), Some(EvidenceKind::Pdf));
        assert_eq!(
            EvidenceKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(EvidenceKind::Jpeg)
        );
        assert_eq!(
            EvidenceKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(EvidenceKind::Png)
        );
        for bad in [
            &b"<!DOCTYPE html><html>%PDF-"[..],
            b"",
            b"%PD",
            b"GIF89a",
            b"\x89PNG\r\n",
        ] {
            assert_eq!(EvidenceKind::sniff(bad), None, "{bad:?}");
        }
        for k in [EvidenceKind::Pdf, EvidenceKind::Jpeg, EvidenceKind::Png] {
            assert_eq!(EvidenceKind::from_media_type(k.media_type()), Some(k));
        }
    }

    #[test]
    fn evidence_limits() {
        let pdf = b"%PDF-1.4 x".to_vec();
        let check = |files: &[Vec<u8>]| check_evidence(files.iter().map(Vec::as_slice));
        assert_eq!(check(&[]), Err(EvidenceError::Missing));
        assert_eq!(check(&vec![pdf.clone(); 5]).unwrap().len(), 5);
        assert_eq!(check(&vec![pdf.clone(); 6]), Err(EvidenceError::TooMany(6)));
        let mut big = pdf.clone();
        big.resize(MAX_EVIDENCE_BYTES, b' ');
        assert!(check(std::slice::from_ref(&big)).is_ok());
        big.push(b' ');
        assert_eq!(
            check(&[pdf.clone(), big]),
            Err(EvidenceError::TooLarge {
                index: 2,
                size: MAX_EVIDENCE_BYTES + 1
            })
        );
        let html = b"<html><body>not a pdf</body></html>".to_vec();
        let err = check(&[pdf, html]).unwrap_err();
        assert_eq!(err, EvidenceError::WrongType { index: 2 });
        assert_eq!(err.code(), "evidence_type_not_allowed");
    }

    #[test]
    fn items_and_states() {
        let c = Catalogue::builtin();
        for (item, ok) in [
            ("O01", Some(true)),
            ("O02", Some(true)),
            ("O03", Some(true)),
            ("O04", Some(false)),
            ("P01", Some(false)),
            ("X99", None),
        ] {
            assert_eq!(self_reportable(&c, item), ok, "{item}");
        }
        assert_eq!(
            ReportStatus::of(RecordStatus::Pending),
            ReportStatus::Pending
        );
        assert_eq!(
            ReportStatus::of(RecordStatus::Active),
            ReportStatus::Verified
        );
        assert_eq!(
            ReportStatus::of(RecordStatus::Rejected),
            ReportStatus::Rejected
        );
        assert_eq!(
            ReportStatus::parse("verified"),
            Some(ReportStatus::Verified)
        );
        assert_eq!(ReportStatus::parse("active"), None);
        assert_eq!(
            RecordStatus::Pending.apply(Decision::Verified.event()),
            Ok(RecordStatus::Active)
        );
        assert!(Decision::Rejected.check_reason(None).is_err());
        assert!(Decision::Rejected.check_reason(Some("  ")).is_err());
        assert_eq!(Decision::Verified.check_reason(None), Ok(None));
        assert_eq!(
            Decision::Rejected.check_reason(Some(" 证明不清 ")),
            Ok(Some("证明不清".into()))
        );
        assert!(Decision::Rejected
            .check_reason(Some(&"x".repeat(501)))
            .is_err());
    }
}
