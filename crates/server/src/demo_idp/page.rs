//! The demo provider's login page: the client's authorization request,
//! checked, and a list of synthetic residents to sign in as, in Chinese
//! first with English.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chengxin_domain::IdNumber;
use serde::Deserialize;

use super::CLIENT_ID;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// How many residents the page lists.
const LISTED: usize = 12;

/// An OIDC authorization request (authorization-code flow with PKCE S256).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AuthorizeRequest {
    pub(crate) response_type: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) code_challenge_method: String,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
}

impl AuthorizeRequest {
    /// Refuses what this provider does not do.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.response_type != "code" {
            return Err("response_type must be `code`");
        }
        if self.client_id != CLIENT_ID {
            return Err("unknown client_id (the demo client is `chengxin-demo`)");
        }
        if !(self.redirect_uri.starts_with("http://") || self.redirect_uri.starts_with("https://"))
        {
            return Err("redirect_uri must be an absolute http(s) URL");
        }
        if self.code_challenge_method != "S256" || self.code_challenge.len() != 43 {
            return Err(
                "PKCE is required: code_challenge_method=S256 and a 43-character code_challenge",
            );
        }
        Ok(())
    }
}

/// The stored name of a resident, if the platform has one.
pub(crate) async fn name_of(state: &AppState, id: IdNumber) -> Option<String> {
    state
        .blocking(move |ctx| chengxin_jobs::me::stored_name(ctx, &id))
        .await
        .ok()?
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "demo provider: cannot read a resident's name");
            None
        })
}

/// `GET /demo-idp/authorize`: the login page.
pub(crate) async fn authorize_page(
    State(state): State<AppState>,
    q: Result<Query<AuthorizeRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(req)) = q else {
        return ApiError::new(
            ErrorCode::BadRequest,
            "缺少授权请求参数 missing authorization request parameters (response_type, client_id, redirect_uri, code_challenge, code_challenge_method)",
        )
        .into_response();
    };
    if let Err(e) = req.check() {
        return ApiError::new(ErrorCode::BadRequest, e).into_response();
    }
    let listed = state
        .blocking(|ctx| chengxin_jobs::me::demo_residents(ctx, LISTED))
        .await;
    let residents = match listed {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "demo provider: cannot list residents");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    Html(render(&req, &residents)).into_response()
}

fn render(req: &AuthorizeRequest, residents: &[chengxin_jobs::me::DemoResident]) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            esc(value)
        )
    };
    let mut fields = String::new();
    for (n, v) in [
        ("response_type", req.response_type.as_str()),
        ("client_id", &req.client_id),
        ("redirect_uri", &req.redirect_uri),
        ("code_challenge", &req.code_challenge),
        ("code_challenge_method", &req.code_challenge_method),
    ] {
        fields.push_str(&hidden(n, v));
    }
    if let Some(s) = &req.state {
        fields.push_str(&hidden("state", s));
    }
    if let Some(s) = &req.nonce {
        fields.push_str(&hidden("nonce", s));
    }
    let mut rows = String::new();
    for r in residents {
        rows.push_str(&format!(
            r#"<li><form method="post"><button name="id_number" value="{id}">{name} · {id}</button> {elig}{fields}</form></li>"#,
            id = esc(r.id_number.as_str()),
            name = esc(r.name.as_deref().unwrap_or("（无姓名 no name）")),
            elig = if r.eligible { "有诚信分 has a score" } else { "无诚信分 no score" },
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>演示登录 Demo sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>演示身份认证 Demo identity provider</h1>
<p><strong>仅用于演示：以下居民均为合成数据，任何人都可以任意身份登录。</strong><br>
For demonstration only: these residents are synthetic, and anyone can sign in as anyone.</p>
<h2>选择居民登录 Choose a resident to sign in as</h2>
<ul>{rows}</ul>
<form method="post"><label>其他身份证号 Another ID number <input name="id_number" maxlength="18" required></label>
{fields}<button>登录 Sign in</button></form>
</body></html>
"#
    )
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
