//! Credit repair (信用修复, 第二十四条; NDRC Order No. 36 of 2025) for a
//! signed-in resident: the records repair can reach with the date each
//! becomes repairable (`GET /api/v1/me/repairs/options`), an application
//! (`POST /api/v1/me/repairs`) and their applications with status and the
//! reviewer's reason (`GET /api/v1/me/repairs`). Another person's record is
//! 404, never 403.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::repair::{ApplicationStatus, Level, MAX_STATEMENT_CHARS};
use chengxin_jobs::repairs::{self, Application, ApplyError, RepairOption};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use super::me::RESIDENT_401;
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// How serious the record is, for repair.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepairLevelBody {
    /// A general penalty: repairable 3 months after its decision.
    General,
    /// A serious penalty or a listing: repairable 1 year after.
    Serious,
}

/// A record credit repair can reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepairOptionBody {
    pub record_id: i64,
    /// `P01` or `S01`.
    #[schema(example = "P01")]
    pub item: String,
    pub level: RepairLevelBody,
    /// The first day an application may be made.
    #[schema(format = Date, example = "2026-04-30")]
    pub repairable_from: String,
    /// A credit commitment must be signed first (none is active).
    pub needs_commitment: bool,
    /// An application made today would be accepted (the date has come, a
    /// commitment is active and no application on it is pending).
    pub eligible_now: bool,
}

impl From<RepairOption> for RepairOptionBody {
    fn from(o: RepairOption) -> Self {
        RepairOptionBody {
            record_id: o.record_id,
            item: o.item,
            level: match o.level {
                Level::General => RepairLevelBody::General,
                Level::Serious => RepairLevelBody::Serious,
            },
            repairable_from: o.repairable_from.to_string(),
            needs_commitment: o.needs_commitment,
            eligible_now: o.eligible_now,
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepairStatusBody {
    /// Awaiting a reviewer's decision.
    Pending,
    /// Approved: the record no longer counts.
    Approved,
    /// Rejected, with the reason.
    Rejected,
}

impl From<ApplicationStatus> for RepairStatusBody {
    fn from(s: ApplicationStatus) -> Self {
        match s {
            ApplicationStatus::Pending => RepairStatusBody::Pending,
            ApplicationStatus::Approved => RepairStatusBody::Approved,
            ApplicationStatus::Rejected => RepairStatusBody::Rejected,
        }
    }
}

/// A stored application.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedBody {
    pub id: i64,
    pub status: RepairStatusBody,
}

/// An application as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepairBody {
    pub id: i64,
    pub record_id: i64,
    #[schema(example = "P01")]
    pub item: String,
    /// The resident's statement.
    #[schema(example = "已缴清罚款并完成整改")]
    pub statement: String,
    pub status: RepairStatusBody,
    /// The reviewer's reason (always given with a rejection).
    pub reason: Option<String>,
    /// When it was made (RFC 3339).
    pub submitted_at: String,
    /// When it was decided (RFC 3339).
    pub decided_at: Option<String>,
    /// Reviewers only: the applicant's ID number, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Reviewers only: the applicant's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<Application> for RepairBody {
    fn from(a: Application) -> Self {
        RepairBody {
            id: a.id,
            record_id: a.record_id,
            item: a.item,
            statement: a.statement,
            status: a.status.into(),
            reason: a.reason,
            submitted_at: a.submitted_at,
            decided_at: a.decided_at,
            id_number: a.id_number,
            name: a.name,
        }
    }
}

/// An application: `{"record_id": 42, "statement": "…"}` and nothing else.
pub struct ApplyInput;

impl utoipa::PartialSchema for ApplyInput {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The record to repair (an id from `GET /api/v1/me/repairs/options`) and the resident's statement of what they corrected.",
            ))
            .property(
                "record_id",
                schema::leaf(json!({"type": "integer", "format": "int64", "example": 42})),
            )
            .property(
                "statement",
                schema::leaf(json!({
                    "type": "string",
                    "maxLength": MAX_STATEMENT_CHARS,
                    "pattern": schema::non_blank_without_nul(Some(MAX_STATEMENT_CHARS)),
                    "description": "Not blank, no U+0000.",
                    "example": "已缴清罚款并完成整改",
                })),
            )
            .required("record_id")
            .required("statement")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for ApplyInput {}

/// The records credit repair can reach, with the date each becomes repairable.
#[utoipa::path(
    get,
    path = "/api/v1/me/repairs/options",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "P01 general and serious penalties and S01 listings that still count, oldest first (a minor penalty is never published and needs no repair). The read is in the audit log.", body = [RepairOptionBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn options(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<RepairOptionBody>>, ApiError> {
    let list = super::read_own(&state, move |ctx| {
        repairs::options(ctx, resident.acting(&request_id))
    })
    .await?;
    Ok(Json(list.into_iter().map(RepairOptionBody::from).collect()))
}

/// Applies for credit repair of one of the resident's records.
#[utoipa::path(
    post,
    path = "/api/v1/me/repairs",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    request_body(content = ApplyInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored, pending a reviewer's decision; the application is in the audit log.", body = AppliedBody),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 404, description = "`record_not_found`: no record of the caller's with this id (another person's record is not revealed).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`repair_already_pending`: an application for this record is already pending.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`repair_too_early`: the minimum publicity period has not passed (3 months for a general penalty, 1 year for a serious one or a listing); `repair_needs_commitment`: no credit commitment of the caller's is active; `record_not_repairable`: not a P01 general or serious penalty or an S01 listing that still counts; `malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `out_of_range`, `unknown_field`: the body is not `{\"record_id\", \"statement\"}`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn apply(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<AppliedBody>), ApiError> {
    let (record_id, statement) = parse_apply(&body)?;
    let applied = state
        .blocking(move |ctx| {
            repairs::apply(ctx, resident.acting(&request_id), record_id, &statement)
        })
        .await?
        .map_err(apply_problem)?;
    Ok((
        StatusCode::CREATED,
        Json(AppliedBody {
            id: applied.id,
            status: applied.status.into(),
        }),
    ))
}

/// The resident's applications with status and the reviewer's reason.
#[utoipa::path(
    get,
    path = "/api/v1/me/repairs",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first. The read is in the audit log.", body = [RepairBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<RepairBody>>, ApiError> {
    let list = super::read_own(&state, move |ctx| {
        repairs::list_mine(ctx, resident.acting(&request_id))
    })
    .await?;
    Ok(Json(list.into_iter().map(RepairBody::from).collect()))
}

/// Reads `{"record_id": 42, "statement": "…"}` strictly.
fn parse_apply(body: &[u8]) -> Result<(i64, String), ApiError> {
    let obj = super::strict_object(body, &["record_id", "statement"])?;
    let missing = |k: &str| ApiError::new(ErrorCode::MissingField, format!("`{k}` is required"));
    let record_id = match obj.get("record_id") {
        None | Some(serde_json::Value::Null) => return Err(missing("record_id")),
        Some(v) => v.as_i64().ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidField, "`record_id` must be an integer")
        })?,
    };
    let statement = match obj.get("statement") {
        None | Some(serde_json::Value::Null) => return Err(missing("statement")),
        Some(serde_json::Value::String(s)) if s.trim().chars().count() > MAX_STATEMENT_CHARS => {
            return Err(ApiError::new(
                ErrorCode::OutOfRange,
                format!("`statement` is longer than {MAX_STATEMENT_CHARS} characters"),
            ))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`statement` must be a string",
            ))
        }
    };
    Ok((record_id, statement))
}

/// Maps a refused application to its problem.
pub(crate) fn apply_problem(e: ApplyError) -> ApiError {
    match e {
        ApplyError::NotFound(id) => ApiError::new(
            ErrorCode::RecordNotFound,
            format!("you have no record {id} (没有该信息记录)"),
        ),
        e @ ApplyError::NotRepairable(_) => ApiError::new(
            ErrorCode::RecordNotRepairable,
            format!("{e} (该信息不适用信用修复)"),
        ),
        ApplyError::TooEarly { from, .. } => ApiError::new(
            ErrorCode::RepairTooEarly,
            format!("the record may be repaired from {from} (该信息自{from}起方可申请信用修复)"),
        ),
        ApplyError::NeedsCommitment => ApiError::new(
            ErrorCode::RepairNeedsCommitment,
            "credit repair needs an active credit commitment: sign one first (申请信用修复须先作出信用承诺)",
        ),
        e @ ApplyError::AlreadyPending { .. } => ApiError::new(
            ErrorCode::RepairAlreadyPending,
            format!("{e} (该信息已有待审核的信用修复申请)"),
        ),
        ApplyError::InvalidStatement(m) => ApiError::new(ErrorCode::InvalidField, m),
        ApplyError::Job(e) => ApiError::job(e),
    }
}
