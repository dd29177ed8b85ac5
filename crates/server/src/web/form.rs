//! [`PageForm`]: a form body for a page's POST handler. A body that cannot
//! be read gets an HTML error page with the API's problem code (as every
//! other page error does), not axum's plain-text rejection.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::Form;
use serde::de::DeserializeOwned;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The form's fields, deserialised from an `application/x-www-form-urlencoded`
/// body. Put it last among a handler's arguments (it reads the body), after
/// the `Portal` or `Console` extractor (so sign-in is checked first).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PageForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let l = Lang::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_default();
        let chrome = Chrome::public(l, parts.uri.path());
        match Form::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(Form(v)) => Ok(PageForm(v)),
            Err(e) => Err(WebError::api(form_error(e), &chrome)),
        }
    }
}

/// What was wrong with a form body, as the API names it.
fn form_error(e: FormRejection) -> ApiError {
    let detail = e.body_text();
    let code = match &e {
        FormRejection::InvalidFormContentType(_) => ErrorCode::UnsupportedMediaType,
        FormRejection::FailedToDeserializeForm(_)
        | FormRejection::FailedToDeserializeFormBody(_) => {
            if detail.contains("missing field") {
                ErrorCode::MissingField
            } else {
                ErrorCode::InvalidField
            }
        }
        _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        _ => ErrorCode::UnreadableInput,
    };
    ApiError::new(code, detail)
}
