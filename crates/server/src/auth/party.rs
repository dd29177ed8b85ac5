//! Authentication of authorised parties: `Authorization: Bearer KEY`
//! resolved to an enabled party, or a 401 problem that does not say which
//! check failed (as for units).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chengxin_jobs::parties::{self, Party};

use super::{bearer, unauthenticated};
use crate::error::ApiError;
use crate::state::AppState;

/// The party that made the request.
#[derive(Debug, Clone)]
pub struct AuthParty(pub Party);

/// Longest key accepted before looking it up.
const MAX_KEY_LEN: usize = 256;

impl FromRequestParts<AppState> for AuthParty {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts, "the party's API key", MAX_KEY_LEN)?;
        let found = state
            .blocking(move |ctx| parties::authenticate(ctx, &key))
            .await?
            .map_err(ApiError::internal)?;
        match found {
            Some(party) if !party.disabled => Ok(AuthParty(party)),
            _ => Err(unauthenticated(
                "the API key is not valid: it is unknown, was rotated away, or its party is disabled",
            )),
        }
    }
}
