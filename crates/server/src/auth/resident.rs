//! Authentication of residents: `Authorization: Bearer ID_TOKEN`, an OIDC ID
//! token from a trusted identity provider (see [`crate::oidc`]). Each way a
//! token can fail is a 401 with its own code; no header is `unauthenticated`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chengxin_domain::IdNumber;

use super::{bearer, unauthenticated};
use crate::error::ApiError;
use crate::oidc::MAX_TOKEN_LEN;
use crate::state::AppState;

/// The signed-in resident. Handlers under `/api/v1/me…` take this and act
/// only on `id_number`'s own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResident {
    /// The resident's ID number, from the verified token.
    pub id_number: IdNumber,
    /// The token's `name` claim, if any (the stored name takes precedence
    /// where one is shown).
    pub name: Option<String>,
    /// The audit actor for what they do: `resident:<hex blind index>`.
    pub actor: String,
    /// The issuer that vouched for them.
    pub issuer: String,
}

impl AuthResident {
    /// The resident as the use cases take them, acting in request `request_id`.
    pub fn acting<'a>(&'a self, request_id: &'a str) -> chengxin_jobs::resident::Resident<'a> {
        chengxin_jobs::resident::Resident {
            id_number: &self.id_number,
            name: self.name.as_deref(),
            request_id: Some(request_id),
        }
    }
}

impl FromRequestParts<AppState> for AuthResident {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts, "the resident's ID token", MAX_TOKEN_LEN)?;
        AuthResident::from_token(state, &token).await
    }
}

impl AuthResident {
    /// The resident `token` (an ID token) names, verified as any API
    /// request's is; the web portal's session cookie holds such a token.
    pub async fn from_token(state: &AppState, token: &str) -> Result<AuthResident, ApiError> {
        let Some(verifier) = state.oidc.as_deref() else {
            return Err(unauthenticated(
                "resident sign-in is not configured on this server (--oidc-issuer)",
            ));
        };
        let claims = verifier.verify(token).await?;
        let actor = chengxin_jobs::me::resident_actor(&state.ctx, &claims.id_number);
        Ok(AuthResident {
            id_number: claims.id_number,
            name: claims.name,
            actor,
            issuer: claims.issuer,
        })
    }
}
