//! Reviewers deciding credit-repair applications (信用修复):
//! `GET /api/v1/staff/repairs?status=` and
//! `POST /api/v1/staff/repairs/{id}/decision`. Approval repairs the record
//! and rescores the resident in the same transaction as the decision and
//! its audit entries (naming the reviewer); a rejection's reason is shown to
//! the resident. Other roles get 403 `role_forbidden`.

use axum::extract::{RawQuery, State};
use axum::Json;
use chengxin_domain::repair::{ApplicationStatus, RepairDecision};
use chengxin_domain::self_report::MAX_REASON_CHARS;
use chengxin_domain::staff::Right;
use chengxin_jobs::repairs::{self, DecideError, Reviewer};
use serde::Serialize;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::me_repairs::{RepairBody, RepairStatusBody};
use super::staff::STAFF_401;
use crate::auth::AuthStaff;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The most applications one listing returns; page on with `after`.
const PAGE: usize = 500;

/// Which applications to list.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents the query `parse_query` reads
pub enum RepairStatusParam {
    Pending,
    Approved,
    Rejected,
}

/// A decision: `{"decision": "approved"|"rejected", "reason": "…"}`.
pub struct RepairDecisionInput;

impl utoipa::PartialSchema for RepairDecisionInput {
    fn schema() -> RefOr<Schema> {
        super::decision::decision_schema(
            "A decision on a pending credit-repair application; a rejection needs a reason (shown to the resident).",
            "approved",
            "整改材料不全，请补充缴款凭证",
            MAX_REASON_CHARS,
        )
    }
}

impl ToSchema for RepairDecisionInput {}

/// The outcome of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepairDecidedBody {
    pub id: i64,
    pub status: RepairStatusBody,
}

/// Credit-repair applications in a status (reviewer).
#[utoipa::path(
    get,
    path = "/api/v1/staff/repairs",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(
        ("status" = Option<RepairStatusParam>, Query, description = "`pending` (default), `approved` or `rejected`."),
        ("after" = Option<i64>, Query, description = "Only applications with a larger id (paging: at most 500 per answer)."),
    ),
    responses(
        (status = 200, description = "Oldest first, with the applicant's masked ID number and name; each applicant's data read is in the audit log.", body = [RepairBody]),
        (status = 400, description = "`bad_request`: an unknown query parameter or value.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only a reviewer decides repairs.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<RepairBody>>, ApiError> {
    let actor = me.require(Right::DecideRepairs)?.actor();
    let (status, after) = super::decision::queue_query(
        query.as_deref().unwrap_or_default(),
        ApplicationStatus::Pending,
        ApplicationStatus::parse,
        "pending, approved or rejected",
        "an application id",
    )?;
    let list = state
        .blocking(move |ctx| {
            let r = Reviewer {
                actor: &actor,
                request_id: Some(&request_id),
            };
            repairs::queue(ctx, r, status, after, PAGE)
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(list.into_iter().map(RepairBody::from).collect()))
}

/// Approves or rejects a pending application (reviewer); approved, the
/// record stops counting and the resident is rescored before the answer.
#[utoipa::path(
    post,
    path = "/api/v1/staff/repairs/{id}/decision",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(("id" = i64, Path, description = "The application's id.")),
    request_body(content = RepairDecisionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided; the decision, the reviewer and (approved) the record's repair and the new score are in the audit log.", body = RepairDecidedBody),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only a reviewer decides repairs.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`repair_not_found`: no application with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`repair_already_decided`: it was approved or rejected before; `repair_record_changed`: its record no longer counts (withdrawn since), so it can only be rejected.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no `decision`, or a rejection without `reason`), `invalid_enum` (`decision` not `approved` or `rejected`), `invalid_field`, `out_of_range` (reason over 500 characters), `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<RepairDecidedBody>, ApiError> {
    let actor = me.require(Right::DecideRepairs)?.actor();
    let id = id.parse::<i64>().map_err(|_| {
        ApiError::new(
            ErrorCode::RepairNotFound,
            format!("no repair application `{id}`"),
        )
    })?;
    let (decision, reason) = super::decision::decision_body(
        &body,
        &[
            ("approved", RepairDecision::Approved),
            ("rejected", RepairDecision::Rejected),
        ],
        RepairDecision::Rejected,
        MAX_REASON_CHARS,
    )?;
    let decided = state
        .blocking(move |ctx| {
            let r = Reviewer {
                actor: &actor,
                request_id: Some(&request_id),
            };
            repairs::decide(ctx, r, id, decision, reason.as_deref())
        })
        .await?
        .map_err(|e| match e {
            e @ DecideError::NotFound(_) => ApiError::new(ErrorCode::RepairNotFound, e.to_string()),
            e @ DecideError::AlreadyDecided { .. } => {
                ApiError::new(ErrorCode::RepairAlreadyDecided, e.to_string())
            }
            e @ DecideError::RecordChanged(_) => {
                ApiError::new(ErrorCode::RepairRecordChanged, e.to_string())
            }
            DecideError::InvalidReason(m) => ApiError::new(ErrorCode::InvalidField, m),
            DecideError::Job(e) => ApiError::job(e),
        })?;
    Ok(Json(RepairDecidedBody {
        id: decided.id,
        status: decided.status.into(),
    }))
}
