//! Request extractors whose rejections are problems, never axum's plain text:
//! a JSON body (content type and size checked, content left to the use case)
//! and a single path parameter.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use crate::error::{ApiError, ErrorCode};

/// The raw bytes of an `application/json` body, within the route's size limit.
#[derive(Debug)]
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match media_type(req.headers()) {
            Some(m) if m == "application/json" => {}
            other => {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    format!(
                        "the body must be sent as `Content-Type: application/json`, not `{}`",
                        other.unwrap_or_default()
                    ),
                ))
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body exceeds the size limit of this endpoint",
                )
            } else {
                ApiError::new(ErrorCode::UnreadableInput, e.body_text())
            }
        })?;
        Ok(JsonBody(bytes))
    }
}

/// The lowercase media type of the body (`text/csv`), without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// The single path parameter of a route, e.g. `{id}`.
#[derive(Debug)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| PathParam(p))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}
