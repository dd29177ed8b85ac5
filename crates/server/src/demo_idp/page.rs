//! The demo provider's login page: the client's authorization request,
//! checked, and a list of synthetic residents to sign in as; in Chinese
//! (`lang="zh-CN"`), or in English with `lang=en` in the query, each page
//! linking to the other.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chengxin_domain::IdNumber;
use serde::Deserialize;

use super::{urlencode, CLIENT_ID};
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
    /// The page's language: `en` for English, otherwise Chinese.
    pub(crate) lang: Option<String>,
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

/// The page's words in one language.
struct Words {
    lang: &'static str,
    title: &'static str,
    heading: &'static str,
    warning: &'static str,
    choose: &'static str,
    no_name: &'static str,
    has_score: &'static str,
    no_score: &'static str,
    other_id: &'static str,
    sign_in: &'static str,
    /// The link to the page in the other language.
    switch: &'static str,
    switch_lang: &'static str,
}

const ZH: Words = Words {
    lang: "zh-CN",
    title: "演示登录",
    heading: "演示身份认证",
    warning: "仅用于演示：以下居民均为合成数据，任何人都可以任意身份登录。",
    choose: "选择居民登录",
    no_name: "（无姓名）",
    has_score: "有诚信分",
    no_score: "无诚信分",
    other_id: "其他身份证号",
    sign_in: "登录",
    switch: "English",
    switch_lang: "en",
};

const EN: Words = Words {
    lang: "en",
    title: "Demo sign-in",
    heading: "Demo identity provider",
    warning:
        "For demonstration only: these residents are synthetic, and anyone can sign in as anyone.",
    choose: "Choose a resident to sign in as",
    no_name: "(no name)",
    has_score: "has a score",
    no_score: "no score",
    other_id: "Another ID number",
    sign_in: "Sign in",
    switch: "中文",
    switch_lang: "zh-CN",
};

/// The query string of this request in language `lang`.
fn query_in(req: &AuthorizeRequest, lang: &str) -> String {
    let mut pairs = vec![
        ("response_type", req.response_type.as_str()),
        ("client_id", &req.client_id),
        ("redirect_uri", &req.redirect_uri),
        ("code_challenge", &req.code_challenge),
        ("code_challenge_method", &req.code_challenge_method),
    ];
    if let Some(s) = &req.state {
        pairs.push(("state", s));
    }
    if let Some(s) = &req.nonce {
        pairs.push(("nonce", s));
    }
    pairs.push(("lang", lang));
    let pairs: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    pairs.join("&")
}

fn render(req: &AuthorizeRequest, residents: &[chengxin_jobs::me::DemoResident]) -> String {
    let w = if req.lang.as_deref() == Some("en") {
        &EN
    } else {
        &ZH
    };
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
            name = esc(r.name.as_deref().unwrap_or(w.no_name)),
            elig = if r.eligible { w.has_score } else { w.no_score },
        ));
    }
    let switch = esc(&format!("?{}", query_in(req, w.switch_lang)));
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"></head>
<body>
<nav><a href="{switch}" lang="{switch_lang}" hreflang="{switch_lang}">{switch_text}</a></nav>
<h1>{heading}</h1>
<p><strong>{warning}</strong></p>
<h2>{choose}</h2>
<ul>{rows}</ul>
<form method="post"><label>{other_id} <input name="id_number" maxlength="18" autocomplete="off" required></label>
{fields}<button>{sign_in}</button></form>
</body></html>
"#,
        lang = w.lang,
        title = w.title,
        switch_lang = w.switch_lang,
        switch_text = w.switch,
        heading = w.heading,
        warning = w.warning,
        choose = w.choose,
        other_id = w.other_id,
        sign_in = w.sign_in,
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
