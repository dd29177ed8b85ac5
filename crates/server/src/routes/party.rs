//! The party API (第十六条): an authorised party redeems a resident's
//! one-time code, then asks for answers within the authorisation's scope.
//! Every use is counted, answered and audited in one unit of work; no
//! operation takes an ID number.

use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chengxin_domain::authorisation::{GrantError, Refusal, Scope};
use chengxin_jobs::authorisations::{self, AuthError};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use crate::auth::AuthParty;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// The problem each refusal of the authorisation use cases gets.
pub(crate) fn auth_error(e: AuthError) -> ApiError {
    let code = match &e {
        AuthError::UnknownParty(_) => ErrorCode::UnknownParty,
        AuthError::PurposeNotDeclared(_) => ErrorCode::PurposeNotDeclared,
        AuthError::Grant(g) => match g {
            GrantError::ThresholdHeld => ErrorCode::ThresholdGrantExists,
            GrantError::TooManyGrants => ErrorCode::TooManyGrants,
            GrantError::PurposeNotDeclared(_) => ErrorCode::PurposeNotDeclared,
            GrantError::ValidUntilPast(_)
            | GrantError::ValidUntilTooFar(_)
            | GrantError::MaxUses(_) => ErrorCode::InvalidValidity,
        },
        AuthError::Refused(r) => match r {
            Refusal::Expired => ErrorCode::AuthorisationExpired,
            Refusal::Revoked => ErrorCode::AuthorisationRevoked,
            Refusal::Exhausted => ErrorCode::AuthorisationExhausted,
            Refusal::ScopeExceeded => ErrorCode::ScopeExceeded,
            Refusal::NotFound => ErrorCode::AuthorisationNotFound,
            Refusal::AlreadyRedeemed => ErrorCode::CodeAlreadyRedeemed,
        },
        AuthError::Job(e) => return ApiError::internal(e),
    };
    let err = ApiError::new(code, e.to_string());
    if code == ErrorCode::TooManyGrants {
        err.retry_after(3600)
    } else {
        err
    }
}

/// An authorisation id from the path; anything else is not found.
pub(crate) fn authorisation_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| {
        ApiError::new(
            ErrorCode::AuthorisationNotFound,
            format!(
                "no authorisation `{}`",
                text.chars().take(40).collect::<String>()
            ),
        )
    })
}

/// A redemption: `{"code": "…"}`.
pub struct RedeemInput;

impl utoipa::PartialSchema for RedeemInput {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The one-time code the resident handed over (8 characters of `23456789ABCDEFGHJKMNPQRSTUVWXYZ`; \
                 lower case, spaces and hyphens are accepted).",
            ))
            .property(
                "code",
                schema::leaf(json!({"type": "string", "maxLength": 32, "example": "K7MP-3QXD"})),
            )
            .required("code")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for RedeemInput {}

/// What a party learns on redeeming a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemedBody {
    /// The id to ask for answers under.
    pub authorisation_id: i64,
    /// `score`, `grade` or `threshold:N`.
    #[schema(example = "threshold:600")]
    pub scope: String,
    #[schema(example = "loan_discount")]
    pub purpose: String,
    /// The last day it may be used.
    #[schema(format = Date, example = "2026-12-31")]
    pub valid_until: String,
}

/// An answer within the scope: `scope`, `as_of`, `model_version` and
/// `score` + `grade` (scope `score`), `grade` (scope `grade`) or
/// `threshold` + `met` (scope `threshold:N`). A threshold answer has the
/// same keys and byte length whether it is met or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultBody {
    /// The scope answered.
    #[schema(example = "threshold:600")]
    pub scope: String,
    /// The day the score is computed for.
    #[schema(format = Date, example = "2026-11-30")]
    pub as_of: String,
    #[schema(example = "2026.1")]
    pub model_version: String,
    /// Scope `score`: the score (`null`: the resident has none).
    #[schema(minimum = 0, maximum = 1000)]
    pub score: Option<i32>,
    /// Scopes `score` and `grade`: the grade (`null`: none).
    #[schema(example = "A")]
    pub grade: Option<String>,
    /// Scope `threshold:N`: N.
    #[schema(minimum = 0, maximum = 1000)]
    pub threshold: Option<i32>,
    /// Scope `threshold:N`: whether the score is at least N.
    pub met: Option<bool>,
}

/// Redeems a resident's one-time code, once.
#[utoipa::path(
    post,
    path = "/api/v1/party/authorisations/redeem",
    operation_id = "redeem_authorisation",
    tag = super::PARTIES_TAG,
    security(("party_key" = [])),
    request_body(content = RedeemInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Redeemed: the caller may now ask for answers under `authorisation_id`. The redemption is in the resident's access log.", body = RedeemedBody),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`authorisation_expired` (not redeemed within 10 minutes, or past `valid_until`), `authorisation_revoked`, `authorisation_exhausted`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`authorisation_not_found`: no such code for the caller (unknown, ill-formed, or granted to another party).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`code_already_redeemed`: the code was redeemed before.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_field`, `invalid_field`, `unknown_field`, `malformed_json`, `invalid_utf8`: the body is not `{\"code\": \"…\"}`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn redeem(
    State(state): State<AppState>,
    AuthParty(party): AuthParty,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<Json<RedeemedBody>, ApiError> {
    let obj = super::strict_object(&body, &["code"])?;
    let code = match obj.get("code") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::new(ErrorCode::MissingField, "`code` is required"))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`code` must be a string",
            ))
        }
    };
    let now = jiff::Timestamp::now();
    let r = state
        .blocking(move |ctx| authorisations::redeem(ctx, &party, &code, Some(&request_id), now))
        .await?
        .map_err(auth_error)?;
    Ok(Json(RedeemedBody {
        authorisation_id: r.authorisation_id,
        scope: r.scope,
        purpose: r.purpose,
        valid_until: r.valid_until.to_string(),
    }))
}

/// The answer of a redeemed authorisation, within its scope; one use.
#[utoipa::path(
    get,
    path = "/api/v1/party/authorisations/{id}/result",
    operation_id = "authorisation_result",
    tag = super::PARTIES_TAG,
    security(("party_key" = [])),
    params(
        ("id" = i64, Path, description = "The `authorisation_id` the redemption gave."),
        ("scope" = Option<String>, Query, description = "The answer wanted: `score`, `grade` or `threshold:N`, within the granted scope (a `score` grant covers every answer); the granted scope if absent."),
    ),
    responses(
        (status = 200, description = "The answer as of today under the model in force; the use is counted and in the resident's access log with the caller's name and purpose.", body = ResultBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded, or an unknown query parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`authorisation_expired`, `authorisation_revoked` (from the very next request after the resident revoked it), `authorisation_exhausted` (`max_uses` spent), `scope_exceeded` (the answer asked for is beyond the grant).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`authorisation_not_found`: no such authorisation redeemed by the caller (another party's is not found either).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_scope`: `scope` is not `score`, `grade` or `threshold:N`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn result(
    State(state): State<AppState>,
    AuthParty(party): AuthParty,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = authorisation_id(&id)?;
    let wanted = wanted_scope(query.as_deref().unwrap_or_default())?;
    let now = jiff::Timestamp::now();
    let answer = state
        .blocking(move |ctx| {
            authorisations::result(ctx, &party, id, wanted, Some(&request_id), now)
        })
        .await?
        .map_err(auth_error)?;
    Ok(([(CONTENT_TYPE, "application/json")], answer.body()).into_response())
}

fn wanted_scope(query: &str) -> Result<Option<Scope>, ApiError> {
    let mut wanted = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "scope" => {
                let v = v.replace("%3A", ":").replace("%3a", ":");
                let s = Scope::parse(&v)
                    .map_err(|e| ApiError::new(ErrorCode::InvalidScope, e.to_string()))?;
                wanted = Some(s);
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!(
                        "unknown query parameter `{}`",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        }
    }
    Ok(wanted)
}
