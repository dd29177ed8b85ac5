//! Self-reports (自主申报, 第十二条): a signed-in resident reports an honour,
//! a donation or volunteer service with evidence files, and lists their
//! reports. The body is `multipart/form-data`, at most [`BODY_LIMIT`]; an
//! evidence file over the limit, or one too many, is refused as soon as it
//! arrives, and each file's type is judged from its content by the domain.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chengxin_domain::self_report::ReportStatus;
use chengxin_jobs::self_reports::{self, Report, ReportError};
use serde::Serialize;
use utoipa::ToSchema;

use super::evidence_form;
use super::me::RESIDENT_401;
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::media_type;
use crate::middleware::RequestId;
use crate::state::AppState;

/// The largest self-report body: five files of 10 MiB and 1 MiB for the
/// rest (the item, the fields, the parts' headers).
pub const BODY_LIMIT: usize = evidence_form::BODY_LIMIT;

/// The form of `POST /me/self-reports`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the parts as they stream
pub struct SelfReportForm {
    /// `O01` (honour), `O02` (donation) or `O03` (volunteer service).
    #[schema(example = "O02")]
    item: String,
    /// The item's fields as a JSON object, checked against the catalogue
    /// exactly as a unit's record is (same codes).
    #[schema(
        example = r#"{"amount_cny":"5000","donated_on":"2026-01-05","recipient":"绍兴市慈善总会"}"#
    )]
    fields: String,
    /// 1 to 5 files, each a PDF, JPEG or PNG (judged from the content) of at most 10 MiB.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 5)]
    evidence: Vec<Vec<u8>>,
}

/// A report's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatusBody {
    /// Awaiting verification; does not count.
    Pending,
    /// Verified; counts.
    Verified,
    /// Rejected, with a reason; never counts.
    Rejected,
}

impl From<ReportStatus> for ReportStatusBody {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Pending => ReportStatusBody::Pending,
            ReportStatus::Verified => ReportStatusBody::Verified,
            ReportStatus::Rejected => ReportStatusBody::Rejected,
        }
    }
}

/// A stored report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedBody {
    pub id: i64,
    pub status: ReportStatusBody,
}

/// An evidence file, by its content's address.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceBody {
    /// Hex SHA-256 of the content.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    #[schema(example = "application/pdf")]
    pub media_type: String,
    pub size: i64,
}

/// A self-report as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportBody {
    pub id: i64,
    #[schema(example = "O02")]
    pub item: String,
    /// The validated fields (decimals as strings).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// The item's date (`awarded_on`, `donated_on`, `served_on`).
    #[schema(format = Date)]
    pub date: String,
    pub status: ReportStatusBody,
    /// The reason given with the decision (always with a rejection).
    pub reason: Option<String>,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    pub evidence: Vec<EvidenceBody>,
    /// Verifiers only: the reporter's ID number, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Verifiers only: the reporter's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<Report> for ReportBody {
    fn from(r: Report) -> Self {
        ReportBody {
            id: r.id,
            item: r.item,
            fields: r.fields,
            date: r.date.to_string(),
            status: r.status.into(),
            reason: r.reason,
            submitted_at: r.submitted_at,
            evidence: r
                .evidence
                .into_iter()
                .map(|e| EvidenceBody {
                    sha256: e.sha256,
                    media_type: e.media_type,
                    size: e.size,
                })
                .collect(),
            id_number: r.id_number,
            name: r.name,
        }
    }
}

/// Submits a self-report; it is pending (does not count) until verified.
#[utoipa::path(
    post,
    path = "/api/v1/me/self-reports",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    request_body(content = SelfReportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored, pending verification by the unit responsible for the item.", body = SubmittedBody),
        (status = 400, description = "`malformed_multipart`: the form cannot be parsed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 413, description = "`evidence_too_large`: a file is over 10 MiB; `payload_too_large`: the body is over 51 MiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `multipart/form-data`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`item_not_self_reportable` (e.g. O04); `evidence_required`, `too_many_evidence_files`, `evidence_type_not_allowed` (not a PDF, JPEG or PNG by content); `missing_field`, `unknown_field` (a part or a field not defined); and the record codes for `fields`: `malformed_json`, `invalid_field`, `unknown_item`, `invalid_date`, `invalid_enum`, `out_of_range`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<SubmittedBody>), ApiError> {
    if media_type(&headers).as_deref() != Some("multipart/form-data") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "a self-report is sent as `Content-Type: multipart/form-data`",
        ));
    }
    let form =
        multipart.map_err(|e| ApiError::new(ErrorCode::MalformedMultipart, e.body_text()))?;
    let form = evidence_form::read(
        form,
        |n| n == "item" || n == "fields",
        "`item`, `fields` and `evidence`",
        false,
    )
    .await?;
    let missing = |what| ApiError::new(ErrorCode::MissingField, format!("`{what}` is required"));
    let item = form.text("item").ok_or_else(|| missing("item"))?.to_owned();
    let fields = form
        .raw("fields")
        .ok_or_else(|| missing("fields"))?
        .to_owned();
    let evidence = form.evidence;
    let stored = state
        .blocking(move |ctx| {
            let me = resident.acting(&request_id);
            self_reports::submit(ctx, me, &item, &fields, &evidence)
        })
        .await?
        .map_err(problem)?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedBody {
            id: stored.id,
            status: stored.status.into(),
        }),
    ))
}

/// The resident's self-reports with status and reason.
#[utoipa::path(
    get,
    path = "/api/v1/me/self-reports",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first. The read is in the audit log.", body = [ReportBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<ReportBody>>, ApiError> {
    let reports = super::read_own(&state, move |ctx| {
        let me = resident.acting(&request_id);
        self_reports::list_mine(ctx, me)
    })
    .await?;
    Ok(Json(reports.into_iter().map(ReportBody::from).collect()))
}

/// Maps a refusal of a report to its problem.
pub(crate) fn problem(e: ReportError) -> ApiError {
    match e {
        ReportError::Invalid(row) => ApiError::from_row_code(row.code, row.message),
        e @ ReportError::NotSelfReportable(_) => {
            ApiError::new(ErrorCode::ItemNotSelfReportable, e.to_string())
        }
        ReportError::Evidence(e) => ApiError::from_row_code(e.code(), e.to_string()),
        ReportError::Job(e) => ApiError::job(e),
    }
}
