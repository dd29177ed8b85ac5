//! Authentication of cooperating units: `Authorization: Bearer KEY` resolved
//! to an enabled unit, or a 401 problem that does not say which check failed.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chengxin_jobs::units::{self, Unit};

use super::{bearer, unauthenticated};
use crate::error::ApiError;
use crate::state::AppState;

/// The unit that made the request.
#[derive(Debug, Clone)]
pub struct AuthUnit(pub Unit);

/// Longest key accepted before looking it up.
const MAX_KEY_LEN: usize = 256;

impl FromRequestParts<AppState> for AuthUnit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts, "the unit's API key", MAX_KEY_LEN)?;
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
