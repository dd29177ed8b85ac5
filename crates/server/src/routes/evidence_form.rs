//! The `multipart/form-data` forms that carry evidence files (self-reports,
//! objections), read once for the API and the portal's pages: text parts
//! (each at most [`MAX_TEXT_PART`], UTF-8, at most once) and `evidence`
//! files (at most [`MAX_EVIDENCE_FILES`] of [`MAX_EVIDENCE_BYTES`] each),
//! every limit enforced as the parts stream. The files' types are judged
//! from their content later, by the domain.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::Multipart;
use axum::http::StatusCode;
use chengxin_domain::self_report::{MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES};

use crate::error::{ApiError, ErrorCode};

/// The largest body of a form with evidence: five files of 10 MiB and
/// 1 MiB for the rest (the texts, the parts' headers).
pub const BODY_LIMIT: usize = MAX_EVIDENCE_FILES * MAX_EVIDENCE_BYTES + 1024 * 1024;
/// The largest text part.
pub const MAX_TEXT_PART: usize = 64 * 1024;

/// A form's text parts in the order sent, and its evidence files.
#[derive(Debug, Default)]
pub struct EvidenceForm {
    pub texts: Vec<(String, String)>,
    /// Each file's bytes. A file input left empty in a browser sends a part
    /// with no file name and no content: such parts are left out when
    /// `skip_empty_files` is set (pages), kept (and refused by content)
    /// for the API.
    pub evidence: Vec<Vec<u8>>,
}

impl EvidenceForm {
    /// The text part `name`, trimmed.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    /// The text part `name` as sent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads `form`: a text part is accepted when `is_text(name)`, files under
/// `evidence`; any other part is `unknown_field`, naming `expected`.
pub async fn read(
    mut form: Multipart,
    is_text: impl Fn(&str) -> bool,
    expected: &str,
    skip_empty_files: bool,
) -> Result<EvidenceForm, ApiError> {
    let mut out = EvidenceForm::default();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "evidence" {
            let unnamed = field.file_name().is_none_or(str::is_empty);
            if out.evidence.len() == MAX_EVIDENCE_FILES {
                return Err(ApiError::new(
                    ErrorCode::TooManyEvidenceFiles,
                    format!("at most {MAX_EVIDENCE_FILES} evidence files may be sent"),
                ));
            }
            let n = out.evidence.len() + 1;
            let bytes = read_part(field, MAX_EVIDENCE_BYTES, || {
                ApiError::new(
                    ErrorCode::EvidenceTooLarge,
                    format!("evidence file {n} is over {MAX_EVIDENCE_BYTES} bytes (10 MiB)"),
                )
            })
            .await?;
            if !(skip_empty_files && unnamed && bytes.is_empty()) {
                out.evidence.push(bytes);
            }
        } else if name.is_empty() {
            return Err(ApiError::new(
                ErrorCode::MalformedMultipart,
                "a part has no name",
            ));
        } else if is_text(&name) {
            if out.texts.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidField,
                    format!("the form has more than one `{name}` part"),
                ));
            }
            let bytes = read_part(field, MAX_TEXT_PART, || {
                ApiError::new(
                    ErrorCode::OutOfRange,
                    format!("`{name}` is longer than {MAX_TEXT_PART} bytes"),
                )
            })
            .await?;
            let text = String::from_utf8(bytes).map_err(|_| {
                ApiError::new(ErrorCode::InvalidUtf8, format!("`{name}` is not UTF-8"))
            })?;
            out.texts.push((name, text));
        } else {
            return Err(ApiError::new(
                ErrorCode::UnknownField,
                format!("unknown part `{name}`: send {expected}"),
            ));
        }
    }
    Ok(out)
}

/// A part's bytes; `too_long` as soon as more than `max` have arrived.
async fn read_part(
    mut field: Field<'_>,
    max: usize,
    too_long: impl Fn() -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if out.len() + chunk.len() > max {
            return Err(too_long());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a form with evidence may be at most {BODY_LIMIT} bytes"),
        )
    } else {
        ApiError::new(ErrorCode::MalformedMultipart, e.body_text())
    }
}
