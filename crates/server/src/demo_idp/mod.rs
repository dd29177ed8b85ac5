//! The demo identity provider, served only by `serve --demo` (never
//! otherwise): an in-memory Ed25519 key, OIDC discovery, its JWKS, a login
//! page listing synthetic residents, the authorization-code flow with PKCE
//! S256, and for API users `POST /demo-idp/token` with grant
//! `urn:chengxin:demo` and an `id_number`. Anyone can sign in as anyone
//! here: that is why it exists only on demo data, and why the server warns
//! while it runs. Its token endpoint's errors are problems (`bad_request`)
//! that also carry OAuth 2.0's `error` and `error_description` members
//! (RFC 6749 §5.2), which OIDC clients read.

mod page;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chengxin_domain::IdNumber;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode, Problem, PROBLEM_JSON};
use crate::middleware::RequestId;
use crate::oidc::{KeySource, OidcConfig, DEFAULT_ID_CLAIM};
use crate::state::AppState;

/// Where the demo provider's routes live.
pub const PREFIX: &str = "/demo-idp";
/// The client id (audience) of its tokens.
pub const CLIENT_ID: &str = "chengxin-demo";
/// The grant for API users: a token for a listed resident, no login.
pub const DEMO_GRANT: &str = "urn:chengxin:demo";
/// How long its ID tokens are valid.
const TOKEN_TTL: i64 = 3600;
/// How long an authorization code may wait to be exchanged.
const CODE_TTL: Duration = Duration::from_secs(300);

/// A code issued by `authorize`, waiting for `token`.
struct Pending {
    id_number: IdNumber,
    name: Option<String>,
    challenge: String,
    redirect_uri: String,
    nonce: Option<String>,
    issued: Instant,
}

/// The demo provider: its key and the codes it has issued.
pub struct DemoIdp {
    issuer: String,
    kid: String,
    key: EncodingKey,
    public: [u8; 32],
    codes: Mutex<HashMap<String, Pending>>,
}

impl DemoIdp {
    /// A provider with a fresh key, whose issuer is `base` (e.g.
    /// `http://127.0.0.1:8080`) followed by [`PREFIX`].
    pub fn new(base: &str) -> DemoIdp {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let sk = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let der = sk
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        let public = sk.verifying_key().to_bytes();
        DemoIdp {
            issuer: format!("{}{PREFIX}", base.trim_end_matches('/')),
            kid: format!("demo-{}", &hex_of(&Sha256::digest(public))[..12]),
            key: EncodingKey::from_ed_der(der.as_bytes()),
            public,
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// Its issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Its key set.
    pub fn jwks(&self) -> serde_json::Value {
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": B64.encode(self.public),
                         "kid": self.kid, "alg": "EdDSA", "use": "sig"}]})
    }

    /// The configuration under which the server's verifier trusts it.
    pub fn trusted(&self) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            audience: CLIENT_ID.to_owned(),
            jwks: KeySource::Static(self.jwks()),
            id_claim: DEFAULT_ID_CLAIM.to_owned(),
        }
    }

    /// A signed ID token for a resident.
    pub fn id_token(&self, id: &IdNumber, name: Option<&str>, nonce: Option<&str>) -> String {
        let now = jiff::Timestamp::now().as_second();
        let mut claims = json!({
            "iss": self.issuer, "aud": CLIENT_ID,
            "sub": format!("demo-{}", &hex_of(&Sha256::digest(id.as_str()))[..24]),
            "iat": now, "nbf": now, "exp": now + TOKEN_TTL,
            DEFAULT_ID_CLAIM: id.as_str(),
        });
        if let Some(n) = name {
            claims["name"] = n.into();
        }
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, &claims, &self.key).expect("signing with an Ed25519 key")
    }

    fn take_code(&self, code: &str) -> Option<Pending> {
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, p| p.issued.elapsed() < CODE_TTL);
        codes.remove(code)
    }

    fn put_code(&self, p: Pending) -> String {
        let mut raw = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
        let code = B64.encode(raw);
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, p| p.issued.elapsed() < CODE_TTL);
        codes.insert(code.clone(), p);
        code
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo provider's routes (only merged when the state has one).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{PREFIX}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(&format!("{PREFIX}/jwks.json"), get(jwks))
        .route(
            &format!("{PREFIX}/authorize"),
            get(page::authorize_page).post(authorize),
        )
        .route(&format!("{PREFIX}/token"), post(token))
}

/// Logs the warning that the demo provider is on, now and every 10 minutes
/// until the returned task is aborted.
pub fn warn_while_running(issuer: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            tracing::warn!(
                %issuer,
                "DEMO MODE: the built-in demo identity provider is on; anyone can sign in as any resident. Never run --demo on real data."
            );
        }
    })
}

fn idp(state: &AppState) -> &DemoIdp {
    state
        .demo
        .as_deref()
        .expect("demo routes are only merged when the demo provider exists")
}

async fn discovery(State(state): State<AppState>) -> Json<serde_json::Value> {
    let iss = idp(&state).issuer();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", DEMO_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["iss", "aud", "sub", "exp", "nbf", "iat", "nonce", DEFAULT_ID_CLAIM, "name"],
    }))
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(idp(&state).jwks())
}

/// The login form's submission: the chosen resident and the client's request.
#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeForm {
    pub(crate) id_number: String,
    #[serde(flatten)]
    pub(crate) req: page::AuthorizeRequest,
}

/// Issues a code for the chosen resident and sends the browser back.
async fn authorize(State(state): State<AppState>, Form(f): Form<AuthorizeForm>) -> Response {
    if let Err(e) = f.req.check() {
        return ApiError::new(ErrorCode::BadRequest, e).into_response();
    }
    let Ok(id) = IdNumber::parse(f.id_number.trim()) else {
        return ApiError::new(
            ErrorCode::BadRequest,
            "不是有效的身份证号 not a valid ID number",
        )
        .into_response();
    };
    let name = page::name_of(&state, id).await;
    let code = idp(&state).put_code(Pending {
        id_number: id,
        name,
        challenge: f.req.code_challenge.clone(),
        redirect_uri: f.req.redirect_uri.clone(),
        nonce: f.req.nonce.clone(),
        issued: Instant::now(),
    });
    let mut target = f.req.redirect_uri.clone();
    target.push(if target.contains('?') { '&' } else { '?' });
    target.push_str(&format!("code={}", urlencode(&code)));
    if let Some(s) = &f.req.state {
        target.push_str(&format!("&state={}", urlencode(s)));
    }
    Redirect::to(&target).into_response()
}

/// `POST /demo-idp/token` (form-encoded).
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    id_number: Option<String>,
}

async fn token(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    Form(f): Form<TokenForm>,
) -> Response {
    let idp = idp(&state);
    let oauth_error = |error: &str, description: &str| oauth_error(&rid, error, description);
    let (id, name, nonce) = match f.grant_type.as_str() {
        "authorization_code" => {
            let (Some(code), Some(verifier)) = (&f.code, &f.code_verifier) else {
                return oauth_error("invalid_request", "`code` and `code_verifier` are required");
            };
            let Some(p) = idp.take_code(code) else {
                return oauth_error("invalid_grant", "unknown, used or expired code");
            };
            if f.redirect_uri.as_deref() != Some(p.redirect_uri.as_str()) {
                return oauth_error(
                    "invalid_grant",
                    "`redirect_uri` differs from the authorization request",
                );
            }
            if !(43..=128).contains(&verifier.len())
                || B64.encode(Sha256::digest(verifier.as_bytes())) != p.challenge
            {
                return oauth_error(
                    "invalid_grant",
                    "`code_verifier` does not match the code challenge (PKCE S256)",
                );
            }
            (p.id_number, p.name, p.nonce)
        }
        DEMO_GRANT => {
            let Some(id) = f
                .id_number
                .as_deref()
                .and_then(|s| IdNumber::parse(s.trim()).ok())
            else {
                return oauth_error("invalid_request", "`id_number` must be a valid ID number");
            };
            let name = page::name_of(&state, id).await;
            (id, name, None)
        }
        _ => {
            return oauth_error(
                "unsupported_grant_type",
                "use authorization_code or urn:chengxin:demo",
            )
        }
    };
    let token = idp.id_token(&id, name.as_deref(), nonce.as_deref());
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"id_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL})),
    )
        .into_response()
}

/// A `bad_request` problem with OAuth's `error` members.
fn oauth_error(request_id: &str, error: &str, description: &str) -> Response {
    let mut body =
        serde_json::to_value(Problem::new(ErrorCode::BadRequest, description, request_id))
            .unwrap_or_default();
    body["error"] = error.into();
    body["error_description"] = description.into();
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, PROBLEM_JSON),
        ],
        body.to_string(),
    )
        .into_response()
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
