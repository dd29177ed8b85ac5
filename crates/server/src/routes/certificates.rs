//! Score certificates: our key set (`GET /.well-known/jwks.json`, public)
//! and the verifier for ours and partner cities' certificates
//! (`POST /api/v1/certificates/verify`, public).
//!
//! An invalid certificate is a 200 answer with `valid: false` and a stable
//! `reason` (the same codes `chengxin cert verify` prints, from the same
//! verifier); only a body that is not `{"jws": string}` is a 4xx problem.

use axum::extract::State;
use axum::Json;
use chengxin_jobs::certificates::{self, CertError, Jwks, Verdict};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Tag of the certificate endpoints.
pub const CERTIFICATES_TAG: &str = "certificates";

/// A certificate to verify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The certificate: a compact JWS.
    #[schema(
        example = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYxMTMwLThmM2ExYzJlIn0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAifQ.c2lnbmF0dXJl"
    )]
    pub jws: String,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// This city's certificate key set: the current signing key and retired
/// ones until every certificate they signed has expired.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = CERTIFICATES_TAG,
    responses(
        (status = 200, description = "The key set (RFC 7517; OKP/Ed25519 keys with `kid`, `alg` EdDSA, `use` sig). Empty before the first `chengxin keys rotate`.", body = Jwks),
    )
)]
pub async fn jwks(State(state): State<AppState>) -> Result<Json<Jwks>, ApiError> {
    let keys = state
        .blocking(|ctx| certificates::published_keys(ctx, now()))
        .await?
        .map_err(cert_error)?;
    Ok(Json(keys))
}

/// Verifies a score certificate of this city or of a registered partner
/// city (`iss` selects the city, its key set the key by `kid`); a partner's
/// grade is translated into ours (`local_grade`) through its grade map.
#[utoipa::path(
    post,
    path = "/api/v1/certificates/verify",
    tag = CERTIFICATES_TAG,
    request_body(content = VerifyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The verdict. An invalid certificate is `valid: false` with `reason`: `malformed`, `alg_not_allowed` (e.g. `none`), `unknown_issuer`, `unknown_key`, `bad_signature`, `expired`, `not_yet_valid`, `claims_invalid`, `grade_unmapped`.", body = Verdict),
        (status = 400, description = "`unreadable_input`: the body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`malformed_json`, `invalid_utf8`, `missing_field`, `invalid_field`, `unknown_field`: the body is not `{\"jws\": string}`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Verdict>, ApiError> {
    let obj = super::strict_object(&body, &["jws"])?;
    let jws = match obj.get("jws") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::new(ErrorCode::MissingField, "`jws` is required"))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "`jws` must be a string",
            ))
        }
    };
    let verdict = state
        .blocking(move |ctx| certificates::verify(ctx, jws.trim(), now()))
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(verdict))
}

/// The problem for a certificate use case's failure (for the party
/// operation that issues certificates as well).
pub fn cert_error(e: CertError) -> ApiError {
    match e {
        CertError::NoScore => ApiError::new(
            ErrorCode::NoScoreToCertify,
            "没有可证明的诚信分 the person has no score under the model in force to certify",
        ),
        CertError::NoKeysDir | CertError::NoSigningKey | CertError::KeyFile(_) => {
            tracing::error!(error = %e, "certificate signing unavailable");
            ApiError::new(
                ErrorCode::CertificateSigningUnavailable,
                "证书签发暂不可用 certificates cannot be signed now",
            )
        }
        CertError::Invalid(msg) => ApiError::new(ErrorCode::InvalidField, msg),
        CertError::Job(e) => ApiError::job(e),
    }
}
