//! The agency's reviewers on objections (right `decide_objections`; other
//! roles get 403 `role_forbidden`): the list (`?status=&overdue=true`),
//! acceptance (routing to the record's unit) and the decision.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::IntoResponse;
use axum::Json;
use chengxin_domain::objection::{ObjectionStatus, Outcome, MAX_TEXT_CHARS};
use chengxin_domain::staff::Right;
use chengxin_jobs::objections::{self, Decision, QueueFilter, Staff};
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use super::me_objections::{problem, ObjectionBody};
use super::staff::STAFF_401;
use crate::auth::AuthStaff;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// The most objections one listing returns; page on with `after`.
const PAGE: usize = 500;

/// An objection's status, as a query value.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documents the query `parse_query` reads
pub enum ObjectionStatusParam {
    Submitted,
    Accepted,
    AwaitingUnit,
    Corrected,
    Explained,
}

/// A decision: `{"outcome": "corrected"|"explained", "explanation", "withdraw"?}`.
pub struct ObjectionDecisionInput;

impl utoipa::PartialSchema for ObjectionDecisionInput {
    fn schema() -> RefOr<Schema> {
        let explanation = || {
            schema::leaf(json!({
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "pattern": schema::non_blank_without_nul(Some(MAX_TEXT_CHARS)),
                "description": "Required, not blank; shown to the resident as `answer`.",
                "example": "经核实，该处罚决定合法有效，信息无误",
            }))
        };
        let corrected = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "outcome",
                schema::leaf(json!({"type": "string", "enum": ["corrected"]})),
            )
            .property("explanation", explanation())
            .property(
                "withdraw",
                schema::leaf(json!({
                    "type": "boolean",
                    "default": false,
                    "description": "The agency withdraws the record itself (the unit neither corrected nor withdrew it). Without it, `corrected` needs the unit's correction or withdrawal first.",
                })),
            )
            .required("outcome")
            .required("explanation")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let explained = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "outcome",
                schema::leaf(json!({"type": "string", "enum": ["explained"]})),
            )
            .property("explanation", explanation())
            .required("outcome")
            .required("explanation")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .description(Some(
                "A reviewer's decision on an accepted objection: the person is rescored in the same transaction.",
            ))
            .item(Schema::Object(corrected.build()))
            .item(Schema::Object(explained.build()))
            .into()
    }
}

impl ToSchema for ObjectionDecisionInput {}

/// 403 `role_forbidden` unless the caller's role decides objections.
fn reviewer(me: &AuthStaff) -> Result<(), ApiError> {
    me.require(Right::DecideObjections).map(|_| ())
}

/// An objection id from the path; anything else names no objection.
pub(crate) fn objection_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| {
        ApiError::new(
            ErrorCode::ObjectionNotFound,
            format!("no objection `{text}`"),
        )
    })
}

/// `status`, `overdue` and `after` from a query string.
pub(crate) fn parse_query(query: &str, with_status: bool) -> Result<QueueFilter, ApiError> {
    let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
    let mut f = QueueFilter {
        status: None,
        overdue: false,
        after: 0,
        limit: PAGE,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "status" if with_status => {
                f.status = match v {
                    "" => None,
                    v => Some(ObjectionStatus::parse(v).ok_or_else(|| {
                        bad(format!("`status` must be submitted, accepted, awaiting_unit, corrected or explained, not `{v}`"))
                    })?),
                };
            }
            "overdue" => {
                f.overdue = match v {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(format!("`overdue` must be true or false, not `{v}`"))),
                };
            }
            "after" => {
                f.after = v
                    .parse()
                    .map_err(|_| bad(format!("`after` must be an objection id, not `{v}`")))?;
            }
            other => return Err(bad(format!("unknown query parameter `{other}`"))),
        }
    }
    Ok(f)
}

/// Every objection, in a status, or the late ones.
#[utoipa::path(
    get,
    path = "/api/v1/staff/objections",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(
        ("status" = Option<ObjectionStatusParam>, Query, description = "Only objections in this status."),
        ("overdue" = Option<bool>, Query, description = "`true`: only late ones — past the acceptance or reply deadline today, a step done after its deadline, or marked overdue by the daily run."),
        ("after" = Option<i64>, Query, description = "Only objections with a larger id (paging: at most 500 per answer)."),
    ),
    responses(
        (status = 200, description = "Oldest first, with the resident's masked ID number and name; each resident's data read is in the audit log.", body = [ObjectionBody]),
        (status = 400, description = "`bad_request`: an unknown query parameter or value.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only reviewers decide objections.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ObjectionBody>>, ApiError> {
    reviewer(&me)?;
    let filter = parse_query(query.as_deref().unwrap_or_default(), true)?;
    let list = state
        .blocking(move |ctx| {
            let staff = Staff {
                member: &me.member,
                request_id: Some(&request_id),
            };
            objections::queue(ctx, staff, filter, chengxin_jobs::today())
        })
        .await?
        .map_err(problem)?;
    Ok(Json(list.into_iter().map(ObjectionBody::from).collect()))
}

/// Accepts a submitted objection: one about a record goes to the record's
/// unit (`awaiting_unit`), one about the score stays with the reviewer
/// (`accepted`); `reply_by` is 10 working days later.
#[utoipa::path(
    post,
    path = "/api/v1/staff/objections/{id}/accept",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(("id" = i64, Path, description = "The objection's id.")),
    responses(
        (status = 200, description = "Accepted; the acceptance is in the audit log with the staff member's name.", body = ObjectionBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only reviewers decide objections.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`objection_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`objection_wrong_state`: it is not `submitted`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
) -> Result<Json<ObjectionBody>, ApiError> {
    reviewer(&me)?;
    let id = objection_id(&id)?;
    let o = state
        .blocking(move |ctx| {
            let staff = Staff {
                member: &me.member,
                request_id: Some(&request_id),
            };
            objections::accept(ctx, staff, id, chengxin_jobs::today())
        })
        .await?
        .map_err(problem)?;
    Ok(Json(o.into()))
}

fn parse_decision(body: &[u8]) -> Result<Decision, ApiError> {
    let obj = super::strict_object(body, &["outcome", "explanation", "withdraw"])?;
    let outcome = match obj.get("outcome") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`outcome` is required",
            ))
        }
        Some(serde_json::Value::String(s)) if s == "corrected" => Outcome::Corrected,
        Some(serde_json::Value::String(s)) if s == "explained" => Outcome::Explained,
        Some(serde_json::Value::String(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidEnum,
                "`outcome` must be `corrected` or `explained`",
            ))
        }
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`outcome` must be a string",
            ))
        }
    };
    let explanation = match obj.get("explanation") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "`explanation` is required (shown to the resident)",
            ))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`explanation` must be a string",
            ))
        }
    };
    let withdraw = match obj.get("withdraw") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`withdraw` must be true or false",
            ))
        }
    };
    Ok(Decision {
        outcome,
        explanation,
        withdraw,
    })
}

/// Decides an accepted objection; the person is rescored in the same
/// transaction (history cause `objection`).
#[utoipa::path(
    post,
    path = "/api/v1/staff/objections/{id}/decision",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(("id" = i64, Path, description = "The objection's id.")),
    request_body(content = ObjectionDecisionInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided; the decision is in the audit log with the staff member's name, and the resident's score already reflects it.", body = ObjectionBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only reviewers decide objections.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`objection_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`objection_wrong_state`: not yet accepted, or already decided; `objection_not_corrected`: `corrected` without the unit's correction or withdrawal and without `withdraw`; `record_not_disputable`: the record cannot be withdrawn (repaired).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no `outcome`, no or a blank `explanation`), `invalid_enum`, `invalid_field` (`withdraw` with `explained` or on a score objection), `out_of_range` (over 2000 characters), `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<ObjectionBody>, ApiError> {
    reviewer(&me)?;
    let id = objection_id(&id)?;
    let decision = parse_decision(&body)?;
    let o = state
        .blocking(move |ctx| {
            let staff = Staff {
                member: &me.member,
                request_id: Some(&request_id),
            };
            objections::decide(ctx, staff, id, &decision, chengxin_jobs::today())
        })
        .await?
        .map_err(problem)?;
    Ok(Json(o.into()))
}

/// One evidence file of an objection.
#[utoipa::path(
    get,
    path = "/api/v1/staff/objections/{id}/evidence/{sha256}",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    params(
        ("id" = i64, Path, description = "The objection's id."),
        ("sha256" = String, Path, description = "The file's hex SHA-256, as listed."),
    ),
    responses(
        (status = 200, description = "The file, with its type as judged from its content; the read is in the audit log.",
         content_type = "application/octet-stream"),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: only reviewers decide objections.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`objection_not_found` or `evidence_not_found`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn evidence(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<impl IntoResponse, ApiError> {
    reviewer(&me)?;
    let Path((id, sha256)) =
        path.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let id = objection_id(&id)?;
    let file = state
        .blocking(move |ctx| {
            let staff = Staff {
                member: &me.member,
                request_id: Some(&request_id),
            };
            objections::evidence_file(ctx, staff, id, &sha256)
        })
        .await?
        .map_err(problem)?;
    let Some((media_type, content)) = file else {
        return Err(ApiError::new(
            ErrorCode::EvidenceNotFound,
            "no such evidence file of this objection",
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
