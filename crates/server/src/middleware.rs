//! The layers around every route: request id, tracing without secrets,
//! compression, panic catching, and turning any error response that is not
//! yet a problem (a layer's rejection, an unknown route, a wrong method) into
//! one, so callers only ever see `application/problem+json` errors.

use std::any::Any;
use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, PROXY_AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::{ApiError, ErrorCode, PendingProblem, Problem, PROBLEM_JSON};

/// The request id header: our own id of every request, on every response.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a client chose for its request (sent as `X-Request-Id`), kept apart
/// from ours and echoed back under this name. Never taken from the client
/// under this name.
pub const X_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

/// Longest client-supplied request id kept; longer or odder ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// Wraps a router in the service-wide layers (outermost first below).
pub fn apply(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(from_fn(split_request_id))
            .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
            .layer(SetSensitiveRequestHeadersLayer::new([
                AUTHORIZATION,
                PROXY_AUTHORIZATION,
            ]))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(span_for)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(CompressionLayer::new())
            .layer(from_fn(problems))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

/// The id of the current request (always present behind [`apply`]).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(RequestId(request_id_of(&parts.headers)))
    }
}

fn request_id_of(headers: &HeaderMap) -> String {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The id the client chose for this request, if it sent a well-formed one.
#[derive(Debug, Clone)]
pub struct ClientRequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientRequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientRequestId(
            parts
                .headers
                .get(X_CLIENT_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// Every request gets an id of ours (the next layer makes it). A client
/// may name its request too, but its id is kept apart from ours (audit
/// entries must not carry an id someone else chose as if it were ours),
/// and only when it could not forge log lines; it is echoed back as
/// `x-client-request-id`.
async fn split_request_id(mut req: Request, next: Next) -> Response {
    let headers = req.headers_mut();
    headers.remove(X_CLIENT_REQUEST_ID);
    let client = headers.remove(X_REQUEST_ID).filter(|v| {
        v.to_str().is_ok_and(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
    });
    if let Some(v) = &client {
        headers.insert(X_CLIENT_REQUEST_ID, v.clone());
    }
    let mut res = next.run(req).await;
    if let Some(v) = client {
        res.headers_mut().insert(X_CLIENT_REQUEST_ID, v);
    }
    res
}

/// The request's span: method, path and id, never headers or the query
/// (which could carry keys or personal data).
fn span_for(req: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id_of(req.headers()),
        client_request_id = req
            .headers()
            .get(X_CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format_args!("handler panicked: {message}")).into_response()
}

/// Renders pending problems with the request id, and replaces any other
/// error response (plain-text rejections, empty 405s, timeouts) by a problem.
async fn problems(req: Request, next: Next) -> Response {
    let request_id = request_id_of(req.headers());
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    let res = next.run(req).await;
    let (mut parts, body) = res.into_parts();
    if let Some(p) = parts.extensions.remove::<PendingProblem>() {
        return Problem::new(p.code, p.detail, request_id).into_response_with(parts.headers);
    }
    let status = parts.status;
    let is_problem = parts
        .headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The web pages render their own error pages (`crate::web::page`).
    let is_page = parts
        .headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_page {
        return Response::from_parts(parts, body);
    }
    let code = ErrorCode::for_status(status);
    if code == ErrorCode::Internal {
        tracing::error!(%status, "an error response without a problem body was replaced");
    }
    let detail = detail_for(code, &method, &path, &parts.headers);
    Problem::new(code, detail, request_id).into_response_with(parts.headers)
}

fn detail_for(code: ErrorCode, method: &Method, path: &str, headers: &HeaderMap) -> String {
    match code {
        ErrorCode::NotFound => format!("there is no endpoint {method} {path}"),
        ErrorCode::MethodNotAllowed => {
            let allow = headers
                .get(ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("{method} is not allowed on {path}; allowed: {allow}")
        }
        ErrorCode::RequestTimeout => "the request was not completed in time".to_owned(),
        ErrorCode::PayloadTooLarge => {
            "the request body exceeds the size limit of this endpoint".to_owned()
        }
        ErrorCode::Internal => {
            "an unexpected error occurred; quote the request_id when reporting it".to_owned()
        }
        other => other.title().to_owned(),
    }
}

/// Answers requests for unknown routes.
pub async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::new(
        ErrorCode::NotFound,
        format!("there is no endpoint {method} {path}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn call(
        router: Router,
        req: axum::http::Request<Body>,
    ) -> (StatusCode, HeaderMap, serde_json::Value) {
        let res = apply(router).oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, headers, json)
    }

    fn get_req(path: &str) -> axum::http::Request<Body> {
        axum::http::Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn a_panic_becomes_a_500_problem_without_its_message() {
        let router = Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("secret 33060219900101123X");
                }
                "unreachable"
            }),
        );
        let (status, headers, body) = call(router, get_req("/boom")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(headers[CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("secret"));
        assert_eq!(body["request_id"], headers[X_REQUEST_ID].to_str().unwrap());
    }

    #[tokio::test]
    async fn a_timeout_becomes_a_408_problem() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                std::time::Duration::from_millis(20),
            ));
        let (status, _, body) = call(router, get_req("/slow")).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["code"], "request_timeout");
        assert_eq!(body["status"], 408);
    }

    #[tokio::test]
    async fn a_plain_text_rejection_is_replaced_by_a_problem() {
        let router = Router::new().route(
            "/plain",
            get(|| async { (StatusCode::BAD_REQUEST, "plain text") }),
        );
        let (status, headers, body) = call(router, get_req("/plain")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(headers[CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(body["code"], "bad_request");
    }

    #[tokio::test]
    async fn a_client_request_id_is_kept_apart_and_only_when_well_formed() {
        let router = Router::new().route(
            "/ok",
            get(
                |RequestId(ours): RequestId, ClientRequestId(theirs): ClientRequestId| async move {
                    format!("{ours} {theirs:?}")
                },
            ),
        );
        let req = axum::http::Request::get("/ok")
            .header(X_REQUEST_ID, "abc-123")
            .header(X_CLIENT_REQUEST_ID, "spoofed")
            .body(Body::empty())
            .unwrap();
        let res = apply(router.clone()).oneshot(req).await.unwrap();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        // Ours is generated; the client's is echoed under its own name.
        assert_eq!(headers[X_REQUEST_ID].len(), 36);
        assert_eq!(headers[X_CLIENT_REQUEST_ID], "abc-123");
        let ours = headers[X_REQUEST_ID].to_str().unwrap();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            format!("{ours} Some(\"abc-123\")")
        );
        let req = axum::http::Request::get("/ok")
            .header(X_REQUEST_ID, "a b\tc")
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = call(router, req).await;
        assert_ne!(headers[X_REQUEST_ID], "a b\tc");
        assert_eq!(headers[X_REQUEST_ID].len(), 36);
        assert!(headers.get(X_CLIENT_REQUEST_ID).is_none());
    }
}
