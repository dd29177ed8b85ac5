//! A resident's authorisations of parties (第十六、十七条): granting one
//! (answered with a one-time code to hand over), listing them with their
//! uses, and revoking one, effective on the party's very next request.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chengxin_domain::authorisation::Scope;
use chengxin_domain::party::Purpose;
use chengxin_jobs::authorisations::{self, GrantRequest, OwnAuthorisation};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::ToSchema;

use super::me::RESIDENT_401;
use super::party::{auth_error, authorisation_id};
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::openapi::schema;
use crate::state::AppState;

/// A grant: party, purpose, scope, validity and perhaps a use count.
pub struct GrantInput;

impl utoipa::PartialSchema for GrantInput {
    fn schema() -> RefOr<Schema> {
        let purposes: Vec<&str> = Purpose::ALL.iter().map(|p| p.code()).collect();
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "What to grant. `valid_until` is the last day (from today to 366 days ahead); \
                 `max_uses` (1–10000) limits the answers the party may ask for.",
            ))
            .property(
                "party",
                schema::leaf(json!({"type": "string", "maxLength": 32, "description": "The party's code.", "example": "SX-BANK"})),
            )
            .property(
                "purpose",
                schema::leaf(json!({"type": "string", "enum": purposes, "description": "One of the purposes the party declared.", "example": "loan_discount"})),
            )
            .property(
                "scope",
                schema::leaf(json!({
                    "type": "string",
                    "pattern": "^(score|grade|threshold:(0|[1-9][0-9]{0,2}|1000))$",
                    "description": "`score` (score and grade), `grade`, or `threshold:N` (only whether the score is at least N).",
                    "example": "threshold:600"
                })),
            )
            .property(
                "valid_until",
                schema::leaf(json!({"type": "string", "format": "date", "example": "2026-12-31"})),
            )
            .property(
                "max_uses",
                schema::leaf(json!({"type": ["integer", "null"], "minimum": 1, "maximum": 10000, "example": 3})),
            )
            .required("party")
            .required("purpose")
            .required("scope")
            .required("valid_until")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for GrantInput {}

/// A new authorisation and its one-time code.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantedBody {
    pub id: i64,
    /// The one-time code to hand to the party: 8 characters, redeemable
    /// once within 10 minutes. Shown only now.
    #[schema(example = "K7MP3QXD")]
    pub code: String,
}

/// One of the resident's authorisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorisationBody {
    pub id: i64,
    /// The party's code.
    #[schema(example = "SX-BANK")]
    pub party: String,
    #[schema(example = "绍兴银行")]
    pub party_name: String,
    #[schema(example = "loan_discount")]
    pub purpose: String,
    #[schema(example = "grade")]
    pub scope: String,
    #[schema(format = Date, example = "2026-12-31")]
    pub valid_until: String,
    pub max_uses: Option<i64>,
    /// Answers given so far.
    pub uses: i64,
    /// `pending` (code not yet redeemed), `active`, `expired`, `revoked`, `exhausted`.
    #[schema(example = "active")]
    pub status: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub redeemed_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<OwnAuthorisation> for AuthorisationBody {
    fn from(a: OwnAuthorisation) -> Self {
        AuthorisationBody {
            id: a.id,
            party: a.party,
            party_name: a.party_name,
            purpose: a.purpose,
            scope: a.scope,
            valid_until: a.valid_until.to_string(),
            max_uses: a.max_uses,
            uses: a.uses,
            status: a.status.to_owned(),
            created_at: a.created_at,
            redeemed_at: a.redeemed_at,
            revoked_at: a.revoked_at,
        }
    }
}

/// Grants a party an authorisation; answers with a one-time code.
#[utoipa::path(
    post,
    path = "/api/v1/me/authorisations",
    operation_id = "grant_authorisation",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    request_body(content = GrantInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Granted: hand `code` to the party, which redeems it once within 10 minutes.", body = GrantedBody),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`threshold_grant_exists`: the party already holds a live threshold grant from the resident.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown_party`, `purpose_not_declared`, `invalid_scope`, `invalid_date`, `invalid_validity`; `missing_field`, `invalid_field`, `unknown_field`, `malformed_json`, `invalid_utf8`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_grants`: 5 grants to this party in 24 hours; the refusal is in the resident's access log.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub async fn grant(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<GrantedBody>), ApiError> {
    let req = parse_grant(&body)?;
    let now = jiff::Timestamp::now();
    let granted = state
        .blocking(move |ctx| authorisations::grant(ctx, resident.acting(&request_id), &req, now))
        .await?
        .map_err(auth_error)?;
    Ok((
        StatusCode::CREATED,
        Json(GrantedBody {
            id: granted.id,
            code: granted.code,
        }),
    ))
}

/// The resident's authorisations with their uses and status.
#[utoipa::path(
    get,
    path = "/api/v1/me/authorisations",
    operation_id = "list_authorisations",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Oldest first. The read is in the audit log.", body = [AuthorisationBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<AuthorisationBody>>, ApiError> {
    let now = jiff::Timestamp::now();
    let list = super::read_own(&state, move |ctx| {
        authorisations::list(ctx, resident.acting(&request_id), now)
    })
    .await?;
    Ok(Json(
        list.into_iter().map(AuthorisationBody::from).collect(),
    ))
}

/// Revokes an authorisation: the party's next request is refused.
#[utoipa::path(
    delete,
    path = "/api/v1/me/authorisations/{id}",
    operation_id = "revoke_authorisation",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    params(("id" = i64, Path, description = "The authorisation's id.")),
    responses(
        (status = 204, description = "Revoked (revoking again changes nothing)."),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`authorisation_not_found`: none of the resident's.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
) -> Result<StatusCode, ApiError> {
    let id = authorisation_id(&id)?;
    let now = jiff::Timestamp::now();
    state
        .blocking(move |ctx| authorisations::revoke(ctx, resident.acting(&request_id), id, now))
        .await?
        .map_err(auth_error)?;
    Ok(StatusCode::NO_CONTENT)
}

fn string_field(obj: &serde_json::Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::new(
            ErrorCode::MissingField,
            format!("`{name}` is required"),
        )),
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("`{name}` must be a string"),
        )),
    }
}

fn parse_grant(body: &[u8]) -> Result<GrantRequest, ApiError> {
    let obj = super::strict_object(
        body,
        &["party", "purpose", "scope", "valid_until", "max_uses"],
    )?;
    let party = string_field(&obj, "party")?;
    let purpose = string_field(&obj, "purpose")?;
    let scope = Scope::parse(&string_field(&obj, "scope")?)
        .map_err(|e| ApiError::new(ErrorCode::InvalidScope, e.to_string()))?;
    let valid_until = string_field(&obj, "valid_until")?;
    let valid_until = chengxin_domain::dates::parse_date(&valid_until).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidDate,
            "`valid_until` must be an existing YYYY-MM-DD date",
        )
    })?;
    let max_uses = match obj.get("max_uses") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidField, "`max_uses` must be a whole number")
        })?),
    };
    Ok(GrantRequest {
        party,
        purpose,
        scope,
        valid_until,
        max_uses,
    })
}
