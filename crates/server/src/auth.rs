//! Authentication of cooperating units: `Authorization: Bearer KEY` resolved
//! to an enabled unit, or a 401 problem that does not say which check failed.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chengxin_jobs::units::{self, Unit};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The unit that made the request.
#[derive(Debug, Clone)]
pub struct AuthUnit(pub Unit);

/// Longest key accepted before looking it up.
const MAX_KEY_LEN: usize = 256;

impl FromRequestParts<AppState> for AuthUnit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer_key(parts)?;
        let found = state
            .blocking(move |ctx| units::authenticate(ctx, &key))
            .await?
            .map_err(ApiError::internal)?;
        match found {
            Some(unit) if !unit.disabled => Ok(AuthUnit(unit)),
            _ => Err(unauthenticated(
                "the API key is not valid: it is unknown, was rotated away, or its unit is disabled",
            )),
        }
    }
}

fn bearer_key(parts: &Parts) -> Result<String, ApiError> {
    bearer_key_of(&parts.headers)
}

/// The Bearer key of a request, as [`AuthUnit`] reads it (a batch keeps it
/// to re-check before each chunk).
pub fn bearer_key_of(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(unauthenticated(
            "send the unit's API key as `Authorization: Bearer KEY`",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is not ASCII"))?;
    let (scheme, key) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated("the Authorization scheme must be `Bearer`"));
    }
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(unauthenticated("the Bearer key is empty or too long"));
    }
    Ok(key.to_owned())
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, detail)
}
