//! Cross-site request forgery defence for the pages' forms: besides the
//! session cookies' `SameSite`, every request that may change something
//! (not GET, HEAD or OPTIONS) must carry an `Origin` — or, failing that, a
//! `Referer` — naming this very site, else 403 `cross_site_request`.
//! Browsers always send `Origin` on a cross-site form post, so a page on
//! another site cannot submit ours; no hidden token needs threading through
//! every form.

use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::rp::base_url;
use crate::error::{ApiError, ErrorCode};

/// The check, as a middleware over the pages' routes.
pub async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let site = base_url(headers);
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .map(origin_of);
    if site.is_some() && origin.as_deref() == site.as_deref() {
        return next.run(req).await;
    }
    let l = Lang::from_headers(headers);
    WebError::api(
        ApiError::new(
            ErrorCode::CrossSiteRequest,
            l.t(
                "此表单只能从本站页面提交。",
                "This form can only be submitted from this site's own pages.",
            ),
        ),
        &Chrome::public(l, req.uri().path()),
    )
    .into_response()
}

/// `scheme://host[:port]` of a URL (an `Origin` is already just that).
fn origin_of(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            format!("{}://{}", &url[..i], &rest[..end])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            origin_of("http://127.0.0.1:8080/portal?x=1"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin_of("https://evil.example/a"), "https://evil.example");
        assert_eq!(origin_of("null"), "null");
    }
}
