//! Agency reviewers verifying residents' self-reports (any reportable item,
//! unlike a unit, which sees only its own): the queue, an evidence file and
//! the decision. The same handlers' bodies as the units' side
//! (`unit_self_reports`), with the reviewer as the decider; other roles get
//! 403 `role_forbidden`.

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use chengxin_domain::staff::Right;

use super::me_self_reports::ReportBody;
use super::unit_self_reports::{
    decide_for, evidence_for, queue_for, DecidedBody, Decider, DecisionInput, StatusParam,
};
use crate::auth::AuthStaff;
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::state::AppState;

/// Self-reports in a status, every reportable item.
#[utoipa::path(
    get,
    path = "/api/v1/staff/self-reports",
    operation_id = "staff_self_reports",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(
        ("status" = Option<StatusParam>, Query, description = "`pending` (default), `verified` or `rejected`."),
        ("after" = Option<i64>, Query, description = "Only reports with a larger id (paging: at most 500 per answer)."),
    ),
    responses(
        (status = 200, description = "Oldest first, with the reporter's masked ID number and name; each reporter's data read is in the audit log with the reviewer.", body = [ReportBody]),
        (status = 400, description = "`bad_request`: an unknown query parameter or value.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`role_forbidden`: only reviewers decide self-reports.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ReportBody>>, ApiError> {
    let actor = me.require(Right::DecideSelfReports)?.actor();
    queue_for(state, Decider::Staff(actor), request_id, query).await
}

/// Verifies or rejects a pending self-report; verified, it counts at once.
#[utoipa::path(
    post,
    path = "/api/v1/staff/self-reports/{id}/decision",
    operation_id = "staff_self_report_decision",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    request_body(content = DecisionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided (audited with the reviewer); a verified report already counts in the resident's score.", body = DecidedBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`role_forbidden`: only reviewers decide self-reports.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`self_report_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`self_report_already_decided`: it was verified or rejected before.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no `decision`, or a rejection without `reason`), `invalid_enum`, `invalid_field`, `out_of_range` (reason over 500 characters), `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<DecidedBody>, ApiError> {
    let actor = me.require(Right::DecideSelfReports)?.actor();
    decide_for(state, Decider::Staff(actor), request_id, id, body).await
}

/// One evidence file of a self-report.
#[utoipa::path(
    get,
    path = "/api/v1/staff/self-reports/{id}/evidence/{sha256}",
    operation_id = "staff_self_report_evidence",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(
        ("id" = i64, Path, description = "The report's id."),
        ("sha256" = String, Path, description = "The file's hex SHA-256, as listed."),
    ),
    responses(
        (status = 200, description = "The file, with its type as judged from its content; the read is in the audit log.",
         content_type = "application/octet-stream"),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`role_forbidden`: only reviewers decide self-reports.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`self_report_not_found` or `evidence_not_found`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn evidence(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = me.require(Right::DecideSelfReports)?.actor();
    evidence_for(state, Decider::Staff(actor), request_id, path).await
}
