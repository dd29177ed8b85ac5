//! The portal as an OIDC relying party (DESIGN §4 "Sign-in": the web pages
//! use the authorization-code flow with PKCE against the configured
//! provider). `GET /portal/login` sends the browser to the provider with a
//! fresh `state`, `nonce` and S256 code challenge, remembered in a
//! short-lived cookie; `GET /portal/callback` checks `state`, exchanges the
//! code with the verifier at the provider's token endpoint, verifies the ID
//! token exactly as the API does (same verifier, same codes), checks
//! `nonce`, and keeps the token in an HttpOnly session cookie
//! ([`super::session`]). The provider's endpoints come from its discovery
//! document, fetched once.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::lang::{is_local, Lang};
use super::page::{Chrome, WebError};
use super::session;
use crate::auth::AuthResident;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The cookie holding a sign-in in progress.
const LOGIN_COOKIE: &str = "cx_login";
/// How long a sign-in may take at the provider.
const LOGIN_TTL_MINUTES: i64 = 10;

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
}

/// The relying party's cached view of the provider.
#[derive(Default)]
pub struct RelyingParty {
    endpoints: OnceCell<Endpoints>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty").finish_non_exhaustive()
    }
}

/// The issuer and client id the portal signs in with: the demo provider in
/// demo mode, else the first configured issuer.
fn provider(state: &AppState) -> Option<(String, String)> {
    if let Some(idp) = &state.demo {
        let t = idp.trusted();
        return Some((t.issuer, t.audience));
    }
    let c = state.oidc.as_deref()?.issuers().next()?;
    Some((c.issuer.clone(), c.audience.clone()))
}

impl RelyingParty {
    async fn endpoints(&self, issuer: &str) -> Result<&Endpoints, ApiError> {
        self.endpoints
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let res = self
                    .http
                    .get(&url)
                    .timeout(std::time::Duration::from_secs(10))
                    .send()
                    .await
                    .map_err(|e| unavailable(format!("cannot reach the identity provider: {e}")))?;
                res.error_for_status()
                    .map_err(|e| {
                        unavailable(format!("the identity provider's discovery failed: {e}"))
                    })?
                    .bytes()
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Endpoints>(&b).ok())
                    .ok_or_else(|| {
                        unavailable("the identity provider's discovery is not valid".into())
                    })
            })
            .await
    }
}

fn unavailable(detail: String) -> ApiError {
    ApiError::new(ErrorCode::ServiceUnavailable, detail)
}

/// A sign-in in progress, kept in [`LOGIN_COOKIE`].
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    nonce: String,
    next: String,
}

fn random() -> String {
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
    B64.encode(raw)
}

/// This site's own address as the browser sees it (scheme from
/// `X-Forwarded-Proto` behind a proxy, else http), for the callback URL.
pub fn base_url(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    if host.is_empty() || host.contains(['/', '\\', '@', ' ']) {
        return None;
    }
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// Whether cookies should be `Secure` (the site is served over https).
pub fn secure(headers: &HeaderMap) -> bool {
    base_url(headers).is_some_and(|b| b.starts_with("https:"))
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /portal/login`: off to the identity provider.
pub async fn login(
    State(state): State<AppState>,
    l: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::public(l, "/portal/login");
    let fail = |e: ApiError| WebError::api(e, &chrome);
    let (issuer, client_id) = provider(&state).ok_or_else(|| {
        fail(ApiError::new(
            ErrorCode::ServiceUnavailable,
            l.t(
                "本服务未配置居民登录。",
                "Resident sign-in is not configured on this server.",
            ),
        ))
    })?;
    let base = base_url(&headers).ok_or_else(|| {
        fail(ApiError::new(
            ErrorCode::BadRequest,
            "no usable Host header",
        ))
    })?;
    let endpoints = state.rp.endpoints(&issuer).await.map_err(fail)?;
    let pending = Pending {
        state: random(),
        verifier: random(),
        nonce: random(),
        next: q
            .next
            .filter(|n| is_local(n) && n.starts_with("/portal"))
            .unwrap_or_else(|| "/portal".into()),
    };
    let challenge = B64.encode(Sha256::digest(pending.verifier.as_bytes()));
    let target = format!(
        "{}?response_type=code&scope=openid&client_id={}&redirect_uri={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256&ui_locales={}",
        endpoints.authorization_endpoint,
        super::urlencode(&client_id),
        super::urlencode(&format!("{base}/portal/callback")),
        pending.state,
        pending.nonce,
        challenge,
        l.code(),
    );
    let value = B64.encode(serde_json::to_vec(&pending).map_err(|e| fail(ApiError::internal(e)))?);
    let cookie = Cookie::build((LOGIN_COOKIE, value))
        .path("/portal")
        .http_only(true)
        .secure(secure(&headers))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::minutes(LOGIN_TTL_MINUTES))
        .build();
    Ok((jar.add(cookie), Redirect::to(&target)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// `GET /portal/callback`: the provider sends the browser back with a code.
pub async fn callback(
    State(state): State<AppState>,
    l: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::public(l, "/portal/callback");
    let refuse = |zh: &str, en: &str| {
        WebError::api(
            ApiError::new(ErrorCode::Unauthenticated, format!("{zh} {en}")),
            &chrome,
        )
    };
    let pending: Pending = jar
        .get(LOGIN_COOKIE)
        .and_then(|c| B64.decode(c.value()).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            refuse(
                "登录已过期或未开始，请重新登录。",
                "The sign-in expired or was not started here; please sign in again.",
            )
        })?;
    if let Some(e) = q.error {
        return Err(refuse(
            "身份提供方拒绝了登录：",
            &format!("the identity provider refused the sign-in: {e}"),
        ));
    }
    if q.state.as_deref() != Some(pending.state.as_str()) {
        return Err(refuse(
            "登录请求不匹配（state）。",
            "The sign-in does not match the one started here (state).",
        ));
    }
    let code = q
        .code
        .ok_or_else(|| refuse("缺少授权码。", "The provider sent no code."))?;
    let (issuer, client_id) = provider(&state).ok_or_else(|| {
        refuse(
            "本服务未配置居民登录。",
            "Resident sign-in is not configured.",
        )
    })?;
    let base =
        base_url(&headers).ok_or_else(|| refuse("无效的 Host。", "No usable Host header."))?;
    let endpoints = state
        .rp
        .endpoints(&issuer)
        .await
        .map_err(|e| WebError::api(e, &chrome))?;
    let redirect_uri = format!("{base}/portal/callback");
    let res = state
        .rp
        .http
        .post(&endpoints.token_endpoint)
        .timeout(std::time::Duration::from_secs(10))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", pending.verifier.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .map_err(|e| {
            WebError::api(
                unavailable(format!("cannot reach the identity provider: {e}")),
                &chrome,
            )
        })?;
    if !res.status().is_success() {
        return Err(refuse(
            "身份提供方未换发令牌。",
            &format!("the identity provider refused the code ({})", res.status()),
        ));
    }
    let answer: TokenAnswer = res
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            refuse(
                "身份提供方的回答无效。",
                "The identity provider's answer is not valid.",
            )
        })?;
    AuthResident::from_token(&state, &answer.id_token)
        .await
        .map_err(|e| WebError::api(e, &chrome))?;
    if nonce_of(&answer.id_token).as_deref() != Some(pending.nonce.as_str()) {
        return Err(refuse(
            "令牌与登录请求不匹配（nonce）。",
            "The token does not belong to this sign-in (nonce).",
        ));
    }
    let jar = jar
        .remove(Cookie::build(LOGIN_COOKIE).path("/portal"))
        .add(session::resident_cookie(answer.id_token, secure(&headers)));
    Ok((jar, Redirect::to(&pending.next)).into_response())
}

/// The claims of a token whose signature was already verified.
fn claims_of(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

/// The `nonce` claim of a token whose signature was already verified.
fn nonce_of(token: &str) -> Option<String> {
    claims_of(token)?.get("nonce")?.as_str().map(str::to_owned)
}

/// `POST /portal/logout`: ends the session. A session still valid is
/// listed as signed out until its token expires (so a copy of the cookie
/// stops working too), then the cookie is removed.
pub async fn logout(
    State(state): State<AppState>,
    l: Lang,
    jar: CookieJar,
    crate::middleware::RequestId(request_id): crate::middleware::RequestId,
) -> Result<Response, WebError> {
    if let Some(token) = jar
        .get(session::RESIDENT_COOKIE)
        .map(|c| c.value().to_owned())
    {
        if let Ok(resident) = AuthResident::from_token(&state, &token).await {
            let now = jiff::Timestamp::now().as_second();
            // Verified tokens carry `exp`; a day is longer than any we accept.
            let expires_at = claims_of(&token)
                .and_then(|c| c.get("exp")?.as_i64())
                .unwrap_or(now + 86_400);
            state
                .blocking(move |ctx| {
                    chengxin_jobs::portal_sessions::sign_out(
                        ctx,
                        resident.acting(&request_id),
                        &token,
                        expires_at,
                        now,
                    )
                })
                .await
                .and_then(|r| r.map_err(ApiError::internal))
                .map_err(|e| WebError::api(e, &Chrome::public(l, "/portal")))?;
        }
    }
    Ok((jar.remove(session::clear_resident()), Redirect::to("/")).into_response())
}

/// The path and query of a request, for coming back after sign-in.
pub fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned())
}
