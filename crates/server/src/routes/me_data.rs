//! The resident's own data (第十六、十七条), only ever the caller's:
//! `GET /api/v1/me/score` (with what-if), `/me/history`, `/me/records`,
//! `/me/notifications`, `/me/access-log` and `/me/export`. Each answer is
//! read in one snapshot and recorded as an audit entry by the resident,
//! durable before the response is sent.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;
use chengxin_jobs::own::{self, Access, Notification, OwnRecord, ScoreChange};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::state::AppState;

use super::me::RESIDENT_401 as TOKEN_ERRORS;

/// The caller's score as `chengxin score --json` shows it, plus `what_if`.
#[utoipa::path(
    get,
    path = "/api/v1/me/score",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "The score under the model in force, as of today (Asia/Shanghai): `eligible`, `reasons`, `score`, `grade` (with `grade_zh`, `grade_en`), `model_version`, `model_hash`, `as_of`, `contributions` (each indicator's points, best and the records behind them), `factors` (the top four that held the score back, in Chinese and English), `id_number_masked`, `stored`, and `what_if`: `[{record_id, action: repair|fulfil, score_after, grade_after, repairable_from?, needs_commitment?, fulfilled_on?}]` computed by the engine.", body = Object),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn score(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<impl IntoResponse, ApiError> {
    let own = super::read_own_audited(&state, move |ctx| {
        own::score_audited(
            ctx,
            &resident.id_number,
            chengxin_jobs::today(),
            Some(&request_id),
        )
    })
    .await?;
    Ok(json_body(own.into_body()))
}

/// JSON text already written, sent as [`Json`] sends a value.
fn json_body(body: Vec<u8>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
}

/// Every change of the caller's score, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/history",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Each stored change under a published model: `at`, `score`, `grade`, `model_version`, `cause`.", body = [ScoreChange]),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<ScoreChange>>, ApiError> {
    let h = super::read_own(&state, move |ctx| {
        own::history(ctx, &resident.id_number, Some(&request_id))
    })
    .await?;
    Ok(Json(h))
}

/// Every version of every record held about the caller, with its state.
#[utoipa::path(
    get,
    path = "/api/v1/me/records",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first; `state` is `active`, `disputed`, `repaired`, `withdrawn`, `corrected`, `pending` or `rejected`; `counts` says whether today's score rests on it.", body = [OwnRecord]),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn records(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<OwnRecord>>, ApiError> {
    let r = super::read_own(&state, move |ctx| {
        own::records(
            ctx,
            &resident.id_number,
            chengxin_jobs::today(),
            Some(&request_id),
        )
    })
    .await?;
    Ok(Json(r))
}

/// Each change of the caller's score, told with its cause.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Newest first, in Chinese and English, with the score before and after.", body = [Notification]),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn notifications(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<Notification>>, ApiError> {
    let n = super::read_own(&state, move |ctx| {
        own::notifications(ctx, &resident.id_number, Some(&request_id))
    })
    .await?;
    Ok(Json(n))
}

/// How many access-log entries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// The newest this many (1–1000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Every read or change of the caller's data by anyone else.
#[utoipa::path(
    get,
    path = "/api/v1/me/access-log",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    params(AccessQuery),
    responses(
        (status = 200, description = "Newest first, from the audit log: `at`, `actor_kind`, `actor` (by name), `action`, `purpose`, `seq`.", body = [Access]),
        (status = 400, description = "`bad_request`: `limit` is not a number from 1 to 1000.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn access_log(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    query: Result<Query<AccessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Access>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let limit = match q.limit {
        None => 200,
        Some(n @ 1..=1000) => n as usize,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "`limit` must be from 1 to 1000",
            ))
        }
    };
    let a = super::read_own(&state, move |ctx| {
        own::access_log(ctx, &resident.id_number, limit, Some(&request_id))
    })
    .await?;
    Ok(Json(a))
}

/// Everything held about the caller, in one JSON document (PIPL Art. 45).
#[utoipa::path(
    get,
    path = "/api/v1/me/export",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "`exported_at`, `held`, `id_number`, `name`, `score`, `what_if`, `records` (every version), `history`, `notifications`, `access_log`.", body = Object),
        (status = 401, description = TOKEN_ERRORS, body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<serde_json::Value>, ApiError> {
    let doc = super::read_own(&state, move |ctx| {
        own::export(
            ctx,
            &resident.id_number,
            chengxin_jobs::today(),
            Some(&request_id),
        )
    })
    .await?;
    Ok(Json(doc))
}
