//! Who is calling: cooperating units by API key (`unit`) and residents by
//! an OIDC ID token (`resident`), both sent as `Authorization: Bearer …`.

mod party;
mod resident;
mod staff;
mod unit;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

pub use party::AuthParty;
pub use resident::AuthResident;
pub use staff::AuthStaff;
pub use unit::{bearer_key_of, AuthUnit};

use crate::error::{ApiError, ErrorCode};

/// The credential of `Authorization: Bearer CREDENTIAL`; `what` names it in
/// the 401 details, `max_len` bounds it before anything else looks at it.
pub(crate) fn bearer(parts: &Parts, what: &str, max_len: usize) -> Result<String, ApiError> {
    bearer_of(&parts.headers, what, max_len)
}

/// [`bearer`] from the headers alone.
pub(crate) fn bearer_of(
    headers: &axum::http::HeaderMap,
    what: &str,
    max_len: usize,
) -> Result<String, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(unauthenticated(&format!(
            "send {what} as `Authorization: Bearer …`"
        )));
    };
    let value = value
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is not ASCII"))?;
    let (scheme, key) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated("the Authorization scheme must be `Bearer`"));
    }
    let key = key.trim();
    if key.is_empty() || key.len() > max_len {
        return Err(unauthenticated(&format!("{what} is empty or too long")));
    }
    Ok(key.to_owned())
}

pub(crate) fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, detail)
}
