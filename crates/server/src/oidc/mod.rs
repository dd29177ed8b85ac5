//! Verifying residents' OIDC ID tokens (DESIGN §4 "Sign-in", 第十七条).
//!
//! A token is accepted only when: it is a compact JWS; its `alg` is EdDSA,
//! ES256 or RS256 (never `none`, never an HMAC); its `kid` names a key in the
//! issuer's key set whose type fits that `alg`; the signature verifies
//! (`jsonwebtoken`, RustCrypto backend — no signature code of ours); `exp`
//! and `nbf` hold with 60 s leeway; `iss` and `aud` are the configured ones;
//! and the ID-number claim is a valid GB 11643 number. Each failure has its
//! own code ([`TokenError`]).

pub mod keys;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chengxin_domain::IdNumber;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

pub use keys::{KeySet, KeySetError, KeySource};

use crate::error::{ApiError, ErrorCode};

/// The claim carrying the ID number unless configured otherwise.
pub const DEFAULT_ID_CLAIM: &str = "id_number";
/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;
/// The shortest time between two fetches of a key set on unknown `kid`s.
pub const MIN_REFETCH: Duration = Duration::from_secs(30);
/// Longest token looked at.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One trusted identity provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The exact `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` our tokens must name (our client id).
    pub audience: String,
    /// Its key set.
    pub jwks: KeySource,
    /// The claim holding the 18-character ID number.
    pub id_claim: String,
}

/// Why a token was refused; each is a 401 with its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired or is not valid yet: {0}")]
    Expired(&'static str),
    #[error("the token's signature does not verify: {0}")]
    BadSignature(String),
    #[error("the token is not for this service (`aud`)")]
    WrongAudience,
    #[error("the token is not from the configured identity provider (`iss`)")]
    WrongIssuer,
    #[error("the token names a key (`kid`) the identity provider does not publish: {0}")]
    UnknownKey(String),
    #[error("the token is malformed: {0}")]
    Malformed(String),
}

impl TokenError {
    /// The error code it is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Expired(_) => ErrorCode::TokenExpired,
            TokenError::BadSignature(_) => ErrorCode::TokenBadSignature,
            TokenError::WrongAudience => ErrorCode::TokenWrongAudience,
            TokenError::WrongIssuer => ErrorCode::TokenWrongIssuer,
            TokenError::UnknownKey(_) => ErrorCode::TokenUnknownKey,
            TokenError::Malformed(_) => ErrorCode::TokenMalformed,
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        ApiError::new(e.code(), e.to_string())
    }
}

/// What a verified token says about the resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentClaims {
    pub id_number: IdNumber,
    /// The `name` claim, if present and not blank.
    pub name: Option<String>,
    /// The issuer that vouched for them.
    pub issuer: String,
}

/// A trusted issuer with its cached key set and checks.
struct Trusted {
    config: OidcConfig,
    keys: KeySet,
    /// The checks for each allowed algorithm, built once.
    validations: Vec<(Algorithm, Validation)>,
}

/// Verifies ID tokens from one or more trusted issuers (the configured one,
/// and in demo mode the built-in one).
pub struct Verifier {
    issuers: Vec<Trusted>,
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
}

/// The algorithms accepted. Anything else — `none`, HS256/384/512, PS*, ES384
/// — is refused before a key is looked at.
const ALLOWED: [(&str, Algorithm); 3] = [
    ("EdDSA", Algorithm::EdDSA),
    ("ES256", Algorithm::ES256),
    ("RS256", Algorithm::RS256),
];

impl Verifier {
    /// A verifier trusting `issuers` (loaded now; see [`KeySet::load`]),
    /// refetching key sets at most once per `min_refetch`.
    pub async fn new(
        issuers: Vec<OidcConfig>,
        min_refetch: Duration,
    ) -> Result<Verifier, KeySetError> {
        let mut out = Vec::with_capacity(issuers.len());
        for config in issuers {
            let keys = KeySet::load(config.jwks.clone(), min_refetch).await?;
            let validations = ALLOWED
                .iter()
                .map(|(_, alg)| (*alg, validation(&config, *alg)))
                .collect();
            out.push(Trusted {
                config,
                keys,
                validations,
            });
        }
        Ok(Verifier { issuers: out })
    }

    /// The configured issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &OidcConfig> {
        self.issuers.iter().map(|t| &t.config)
    }

    /// The key set of `issuer`, if trusted.
    pub fn key_set(&self, issuer: &str) -> Option<&KeySet> {
        self.issuers
            .iter()
            .find(|t| t.config.issuer == issuer)
            .map(|t| &t.keys)
    }

    /// Checks `token` and returns the resident it names.
    pub async fn verify(&self, token: &str) -> Result<ResidentClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed("longer than 16 KiB".into()));
        }
        let (header, payload) = split(token)?;
        let alg = ALLOWED
            .iter()
            .find(|(name, _)| *name == header.alg)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                TokenError::BadSignature(format!(
                    "algorithm `{}` is not accepted (EdDSA, ES256 or RS256 only)",
                    header.alg
                ))
            })?;
        let kid = header
            .kid
            .ok_or_else(|| TokenError::UnknownKey("the header has no `kid`".into()))?;
        // Which issuer's keys to try: the one the token claims, if trusted;
        // otherwise the first, so that a token signed by a trusted key but
        // naming another issuer is told `token_wrong_issuer`.
        let trusted = self
            .issuers
            .iter()
            .find(|t| Some(t.config.issuer.as_str()) == payload.iss.as_deref())
            .or_else(|| self.issuers.first())
            .ok_or(TokenError::WrongIssuer)?;
        let key = trusted
            .keys
            .key(&kid)
            .await
            .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        if key.alg != alg {
            return Err(TokenError::BadSignature(format!(
                "key `{kid}` is not for `{}`",
                header.alg
            )));
        }
        let validation = trusted
            .validations
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v)
            .ok_or_else(|| TokenError::BadSignature("algorithm not accepted".into()))?;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token, &key.key, validation,
        )
        .map_err(|e| classify(e.into_kind()))?;
        resident(&trusted.config, &data.claims)
    }
}

fn validation(config: &OidcConfig, alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECONDS;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.validate_aud = true;
    v.set_audience(&[&config.audience]);
    v.set_issuer(&[&config.issuer]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v
}

/// The claims read before verification, only to choose the issuer's keys.
#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

/// The header and the unverified `iss` of a compact JWS.
fn split(token: &str) -> Result<(JoseHeader, Unverified), TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts[..] else {
        return Err(TokenError::Malformed(
            "not three base64url parts separated by `.`".into(),
        ));
    };
    let decode = |part: &str, what: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed(format!("the {what} is not base64url")))
    };
    let header: JoseHeader = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| TokenError::Malformed("the header is not a JOSE header with `alg`".into()))?;
    let payload: Unverified = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|_| TokenError::Malformed("the payload is not a JSON object of claims".into()))?;
    Ok((header, payload))
}

/// Maps the library's failure to ours.
fn classify(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature("forged or altered".into()),
        ErrorKind::InvalidAlgorithm => {
            TokenError::BadSignature("wrong algorithm for the key".into())
        }
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidEddsaKey | ErrorKind::InvalidRsaKey(_) => {
            tracing::warn!(?kind, "an identity provider key does not work");
            TokenError::BadSignature("the key cannot verify it".into())
        }
        ErrorKind::ExpiredSignature => TokenError::Expired("`exp` has passed"),
        ErrorKind::ImmatureSignature => TokenError::Expired("`nbf` is in the future"),
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) if c == "iss" => TokenError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(c) if c == "aud" => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) => TokenError::Malformed(format!("no `{c}` claim")),
        ErrorKind::InvalidClaimFormat(c) => TokenError::Malformed(format!("`{c}` is not a number")),
        other => TokenError::Malformed(format!("{other:?}")),
    }
}

/// The resident named by verified claims.
fn resident(
    config: &OidcConfig,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<ResidentClaims, TokenError> {
    let raw = claims
        .get(&config.id_claim)
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            TokenError::Malformed(format!("no `{}` claim with the ID number", config.id_claim))
        })?;
    let id_number = IdNumber::parse(raw.trim()).map_err(|e| {
        TokenError::Malformed(format!(
            "the `{}` claim is not a valid ID number: {e}",
            config.id_claim
        ))
    })?;
    let name = claims
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect());
    Ok(ResidentClaims {
        id_number,
        name,
        issuer: config.issuer.clone(),
    })
}

/// A shared verifier, as the state holds it.
pub type SharedVerifier = Arc<Verifier>;
