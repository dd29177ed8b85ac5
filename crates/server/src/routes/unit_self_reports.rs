//! A cooperating unit verifying residents' self-reports of the items it is
//! responsible for: its queue (`GET /api/v1/unit/self-reports?status=`), an
//! evidence file, and the decision, which goes through the jobs' record
//! decisions (state, rescoring and audit in one transaction). Another unit's
//! report, or an unknown id, is 404; a second decision is 409.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::IntoResponse;
use axum::Json;
use chengxin_domain::self_report::{Decision, ReportStatus, MAX_REASON_CHARS};
use chengxin_jobs::self_reports::{self, DecideError, Verifier};
use serde::Serialize;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::me_self_reports::{ReportBody, ReportStatusBody};
use crate::auth::AuthUnit;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The most reports one listing returns; page on with `after`.
const PAGE: usize = 500;

/// Which reports to list.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents the query `parse_query` reads
pub enum StatusParam {
    Pending,
    Verified,
    Rejected,
}

/// A decision: `{"decision": "verified"|"rejected", "reason": "…"}`.
pub struct DecisionInput;

impl utoipa::PartialSchema for DecisionInput {
    fn schema() -> RefOr<Schema> {
        super::decision::decision_schema(
            "A decision on a pending self-report; a rejection needs a reason (shown to the resident).",
            "verified",
            "证明材料与申报金额不符",
            MAX_REASON_CHARS,
        )
    }
}

impl ToSchema for DecisionInput {}

/// The outcome of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedBody {
    pub id: i64,
    pub status: ReportStatusBody,
}

/// Self-reports of the caller's items in a status.
#[utoipa::path(
    get,
    path = "/api/v1/unit/self-reports",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(
        ("status" = Option<StatusParam>, Query, description = "`pending` (default), `verified` or `rejected`."),
        ("after" = Option<i64>, Query, description = "Only reports with a larger id (paging: at most 500 per answer)."),
    ),
    responses(
        (status = 200, description = "Oldest first, with the reporter's masked ID number and name; each reporter's data read is in the audit log.", body = [ReportBody]),
        (status = 400, description = "`bad_request`: an unknown query parameter or value.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ReportBody>>, ApiError> {
    queue_for(state, Decider::Unit(unit), request_id, query).await
}

/// Who decides, owned (a handler hands it to a blocking task).
pub(crate) enum Decider {
    Unit(chengxin_jobs::units::Unit),
    /// A reviewer, as the audit log names them.
    Staff(String),
}

impl Decider {
    fn verifier<'a>(&'a self, request_id: &'a str) -> Verifier<'a> {
        match self {
            Decider::Unit(unit) => Verifier::Unit {
                unit,
                request_id: Some(request_id),
            },
            Decider::Staff(actor) => Verifier::Staff {
                actor,
                request_id: Some(request_id),
            },
        }
    }
}

/// The queue `who` may see, as `query` narrows it.
pub(crate) async fn queue_for(
    state: AppState,
    who: Decider,
    request_id: String,
    query: Option<String>,
) -> Result<Json<Vec<ReportBody>>, ApiError> {
    let (status, after) = super::decision::queue_query(
        query.as_deref().unwrap_or_default(),
        ReportStatus::Pending,
        ReportStatus::parse,
        "pending, verified or rejected",
        "a report id",
    )?;
    let reports = state
        .blocking(move |ctx| {
            self_reports::queue(ctx, who.verifier(&request_id), status, after, PAGE)
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(reports.into_iter().map(ReportBody::from).collect()))
}

/// Verifies or rejects a pending self-report; verified, it counts at once.
#[utoipa::path(
    post,
    path = "/api/v1/unit/self-reports/{id}/decision",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    request_body(content = DecisionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided; a verified report already counts in the resident's score.", body = DecidedBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`self_report_not_found`: no such report among the caller's items.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`self_report_already_decided`: it was verified or rejected before.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no `decision`, or a rejection without `reason`), `invalid_enum` (`decision` not `verified` or `rejected`), `invalid_field`, `out_of_range` (reason over 500 characters), `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<DecidedBody>, ApiError> {
    decide_for(state, Decider::Unit(unit), request_id, id, body).await
}

/// `who` decides report `id` as `body` says.
pub(crate) async fn decide_for(
    state: AppState,
    who: Decider,
    request_id: String,
    id: String,
    body: bytes::Bytes,
) -> Result<Json<DecidedBody>, ApiError> {
    let (decision, reason) = super::decision::decision_body(
        &body,
        &[
            ("verified", Decision::Verified),
            ("rejected", Decision::Rejected),
        ],
        Decision::Rejected,
        MAX_REASON_CHARS,
    )?;
    let id = report_id(&id)?;
    let decided = state
        .blocking(move |ctx| {
            self_reports::decide(
                ctx,
                who.verifier(&request_id),
                id,
                decision,
                reason.as_deref(),
            )
        })
        .await?
        .map_err(|e| match e {
            e @ DecideError::NotFound(_) => {
                ApiError::new(ErrorCode::SelfReportNotFound, e.to_string())
            }
            e @ DecideError::AlreadyDecided { .. } => {
                ApiError::new(ErrorCode::SelfReportAlreadyDecided, e.to_string())
            }
            DecideError::InvalidReason(m) => ApiError::new(ErrorCode::InvalidField, m),
            DecideError::Job(e) => ApiError::job(e),
        })?;
    Ok(Json(DecidedBody {
        id: decided.id,
        status: decided.status.into(),
    }))
}

/// One evidence file of a report among the caller's items.
#[utoipa::path(
    get,
    path = "/api/v1/unit/self-reports/{id}/evidence/{sha256}",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(
        ("id" = i64, Path, description = "The report's id."),
        ("sha256" = String, Path, description = "The file's hex SHA-256, as listed."),
    ),
    responses(
        (status = 200, description = "The file, with its type as judged from its content; the read is in the audit log.",
         content_type = "application/octet-stream"),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`self_report_not_found` or `evidence_not_found`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn evidence(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<impl IntoResponse, ApiError> {
    evidence_for(state, Decider::Unit(unit), request_id, path).await
}

/// One evidence file of a report `who` may see.
pub(crate) async fn evidence_for(
    state: AppState,
    who: Decider,
    request_id: String,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Path((id, sha256)) =
        path.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let id = report_id(&id)?;
    let file = state
        .blocking(move |ctx| {
            self_reports::evidence_file(ctx, who.verifier(&request_id), id, &sha256)
        })
        .await?
        .map_err(ApiError::internal)?;
    let Some((media_type, content)) = file else {
        return Err(ApiError::new(
            ErrorCode::EvidenceNotFound,
            "no such evidence file of a report the caller may see",
        ));
    };
    Ok((
        [
            (CONTENT_TYPE, media_type),
            (CONTENT_DISPOSITION, "attachment".to_owned()),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        content,
    ))
}

/// A report id from the path; anything else names no report.
fn report_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| {
        ApiError::new(
            ErrorCode::SelfReportNotFound,
            format!("no self-report `{text}`"),
        )
    })
}
