//! Authentication of agency staff: `Authorization: Bearer TOKEN` (a session
//! from `POST /api/v1/staff/sessions`) resolved to an enabled staff member
//! with an open, unexpired session, or a 401 that does not say which check
//! failed; and [`AuthStaff::require`] for a role's right (403 `role_forbidden`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chengxin_domain::staff::Right;
use chengxin_jobs::staff::{self, StaffMember};

use super::{bearer, unauthenticated};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The staff member who made the request, and their session token.
#[derive(Debug, Clone)]
pub struct AuthStaff {
    pub member: StaffMember,
    /// The session's token (to end it on sign-out).
    pub token: String,
}

/// Longest token accepted before looking it up.
const MAX_TOKEN_LEN: usize = 128;

impl AuthStaff {
    /// The member, if their role holds `right`; else 403 `role_forbidden`.
    pub fn require(&self, right: Right) -> Result<&StaffMember, ApiError> {
        if self.member.may(right) {
            Ok(&self.member)
        } else {
            Err(ApiError::new(
                ErrorCode::RoleForbidden,
                format!(
                    "the role `{}` does not have the right `{right}` (该角色无此权限)",
                    self.member.role
                ),
            ))
        }
    }
}

impl FromRequestParts<AppState> for AuthStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts, "the staff session token", MAX_TOKEN_LEN)?;
        AuthStaff::from_token(state, token).await
    }
}

impl AuthStaff {
    /// The staff member whose open session `token` is; the console's
    /// session cookie holds such a token.
    pub async fn from_token(state: &AppState, token: String) -> Result<AuthStaff, ApiError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(unauthenticated("the staff session token is too long"));
        }
        let t = token.clone();
        let found = state
            .blocking(move |ctx| staff::authenticate(ctx, &t, staff::now()))
            .await?
            .map_err(ApiError::internal)?;
        match found {
            Some(member) => Ok(AuthStaff { member, token }),
            None => Err(unauthenticated(
                "the staff session token is not valid: it is unknown, expired or signed out, or the account is disabled",
            )),
        }
    }
}
