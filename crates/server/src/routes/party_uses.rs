//! The party's other uses of a redeemed authorisation: a signed certificate
//! and one 信易+ scenario's eligibility. Each is one counted, audited use
//! within the grant (`chengxin_jobs::party_uses`).

use axum::extract::{Path, State};
use axum::Json;
use chengxin_jobs::party_uses::{self, PartyUseError};
use chengxin_jobs::scenarios::ScenarioError;
use serde::Serialize;
use utoipa::ToSchema;

use super::certificates::cert_error;
use super::party::{auth_error, authorisation_id};
use crate::auth::AuthParty;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::PathParam;
use crate::middleware::RequestId;
use crate::state::AppState;

fn use_error(e: PartyUseError) -> ApiError {
    match e {
        PartyUseError::Auth(e) => auth_error(e),
        PartyUseError::Cert(e) => cert_error(e),
        PartyUseError::Scenario(e @ ScenarioError::NotFound(_)) => {
            ApiError::new(ErrorCode::ScenarioNotFound, e.to_string())
        }
        PartyUseError::Scenario(e @ ScenarioError::AlreadyRetired(_)) => {
            ApiError::new(ErrorCode::ScenarioNotFound, e.to_string())
        }
        PartyUseError::Scenario(ScenarioError::Job(e)) => ApiError::internal(e),
    }
}

/// A signed certificate.
#[derive(Serialize, ToSchema)]
pub struct CertificateBody {
    /// Compact JWS (EdDSA, header `kid`), verifiable offline against
    /// `/.well-known/jwks.json`; valid 30 days.
    #[schema(example = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJpc3MiOiIuLi4ifQ.c2ln")]
    pub jws: String,
}

/// A certificate of the resident's grade (under a `score` or `grade` grant)
/// or of the granted threshold's answer (`threshold:N`); one use.
#[utoipa::path(
    post,
    path = "/api/v1/party/authorisations/{id}/certificate",
    operation_id = "authorisation_certificate",
    tag = super::PARTIES_TAG,
    security(("party_key" = [])),
    params(("id" = i64, Path, description = "The `authorisation_id` the redemption gave.")),
    responses(
        (status = 200, description = "The certificate; the use is counted and in the resident's access log with the caller's name and purpose. `sub` is a pseudonym for this party, never the ID number.", body = CertificateBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`authorisation_expired`, `authorisation_revoked`, `authorisation_exhausted`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`authorisation_not_found`: no such authorisation redeemed by the caller.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_score_to_certify`: the resident has no score under the model in force (the use is still counted).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`certificate_signing_unavailable`: no signing key is configured.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn certificate(
    State(state): State<AppState>,
    AuthParty(party): AuthParty,
    RequestId(request_id): RequestId,
    PathParam(id): PathParam,
) -> Result<Json<CertificateBody>, ApiError> {
    let id = authorisation_id(&id)?;
    let now = jiff::Timestamp::now();
    let issued = state
        .blocking(move |ctx| party_uses::certificate(ctx, &party, id, Some(&request_id), now))
        .await?
        .map_err(use_error)?;
    Ok(Json(CertificateBody { jws: issued.jws }))
}

/// Whether the resident qualifies.
#[derive(Serialize, ToSchema)]
pub struct EligibleBody {
    pub eligible: bool,
}

/// Whether the resident of an authorisation qualifies for one 信易+
/// scenario today; one use. Within the grant only: a minimum grade needs a
/// `score` or `grade` grant, a minimum score N a `score` or `threshold:N`
/// grant.
#[utoipa::path(
    get,
    path = "/api/v1/party/authorisations/{id}/scenarios/{code}",
    operation_id = "authorisation_scenario",
    tag = super::PARTIES_TAG,
    security(("party_key" = [])),
    params(
        ("id" = i64, Path, description = "The `authorisation_id` the redemption gave."),
        ("code" = String, Path, description = "The scenario's code, as `GET /api/v1/scenarios` lists it."),
    ),
    responses(
        (status = 200, description = "The answer; the use is counted and in the resident's access log.", body = EligibleBody),
        (status = 400, description = "`bad_request`: the path cannot be decoded.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`authorisation_expired`, `authorisation_revoked`, `authorisation_exhausted`, `scope_exceeded` (the scenario's minimum says more than the grant).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`authorisation_not_found`, or `scenario_not_found` (none offered today with this code).", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn scenario(
    State(state): State<AppState>,
    AuthParty(party): AuthParty,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Json<EligibleBody>, ApiError> {
    let Path((id, code)) = path.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let id = authorisation_id(&id)?;
    let now = jiff::Timestamp::now();
    let eligible = state
        .blocking(move |ctx| party_uses::scenario(ctx, &party, id, &code, Some(&request_id), now))
        .await?
        .map_err(use_error)?;
    Ok(Json(EligibleBody { eligible }))
}
