//! A cooperating unit's objections: those routed to it
//! (`GET /api/v1/unit/objections`) and its reply
//! (`POST /api/v1/unit/objections/{id}/reply {"text"}`). A correction itself
//! is a normal record push or withdrawal. Another unit's objection is 404.

use axum::extract::{RawQuery, State};
use axum::Json;
use chengxin_jobs::objections;
use utoipa::ToSchema;

use super::me_objections::{problem, ObjectionBody};
use super::staff_objections::{objection_id, parse_query};
use crate::auth::AuthUnit;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::state::AppState;

/// A unit's reply.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the body `parse_reply` reads
pub struct ReplyRequest {
    /// Not blank, at most 2000 characters; seen by the agency's reviewer.
    #[schema(schema_with = reply_text)]
    pub text: String,
}

/// The reply's text as the server checks it: not blank, no U+0000, at most
/// 2000 characters.
fn reply_text() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some(
            "Not blank, at most 2000 characters; seen by the agency's reviewer.",
        ))
        .max_length(Some(2000))
        .pattern(Some(crate::openapi::schema::non_blank_without_nul(Some(
            2000,
        ))))
        .examples(["经复核，该处罚决定已于2026年3月撤销，已撤回该信息"])
        .build()
}

/// The objections routed to the caller.
#[utoipa::path(
    get,
    path = "/api/v1/unit/objections",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(
        ("overdue" = Option<bool>, Query, description = "`true`: only late ones."),
        ("after" = Option<i64>, Query, description = "Only objections with a larger id (paging: at most 500 per answer)."),
    ),
    responses(
        (status = 200, description = "Oldest first, with the resident's masked ID number and name; each resident's data read is in the audit log.", body = [ObjectionBody]),
        (status = 400, description = "`bad_request`: an unknown query parameter or value.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ObjectionBody>>, ApiError> {
    let filter = parse_query(query.as_deref().unwrap_or_default(), false)?;
    let list = state
        .blocking(move |ctx| {
            objections::unit_queue(
                ctx,
                &unit,
                Some(&request_id),
                filter,
                chengxin_jobs::today(),
            )
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(list.into_iter().map(ObjectionBody::from).collect()))
}

fn parse_reply(body: &[u8]) -> Result<String, ApiError> {
    let obj = super::strict_object(body, &["text"])?;
    match obj.get("text") {
        None | Some(serde_json::Value::Null) => {
            Err(ApiError::new(ErrorCode::MissingField, "`text` is required"))
        }
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidField,
            "`text` must be a string",
        )),
    }
}

/// The unit's reply to an objection routed to it; it goes back to the
/// agency's reviewer (`accepted`).
#[utoipa::path(
    post,
    path = "/api/v1/unit/objections/{id}/reply",
    tag = super::UNITS_TAG,
    security(("unit_key" = [])),
    params(("id" = i64, Path, description = "The objection's id.")),
    request_body(content = ReplyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Replied; the reply is in the audit log.", body = ObjectionBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded; `unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`objection_not_found`: no such objection routed to the caller.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`objection_wrong_state`: it is not `awaiting_unit` (not accepted yet, replied before, or decided).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field` (no or a blank `text`), `invalid_field`, `out_of_range` (over 2000 characters), `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reply(
    State(state): State<AppState>,
    AuthUnit(unit): AuthUnit,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody,
) -> Result<Json<ObjectionBody>, ApiError> {
    let id = objection_id(&id)?;
    let text = parse_reply(&body)?;
    let o = state
        .blocking(move |ctx| {
            objections::reply(
                ctx,
                &unit,
                Some(&request_id),
                id,
                &text,
                chengxin_jobs::today(),
            )
        })
        .await?
        .map_err(problem)?;
    Ok(Json(o.into()))
}
