//! An issuer's key set (JWKS): loaded from a file or a URL, or given in
//! memory (the demo identity provider); cached, and fetched again when a
//! token names an unknown `kid` — at most once per [`KeySet::min_refetch`]
//! (30 s by default) so that tokens with made-up `kid`s cannot make us hammer
//! the provider — or when the cached set is older than an hour.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Where a key set comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS document on disk, read again on each refetch.
    File(PathBuf),
    /// A JWKS document served over HTTP(S).
    Url(String),
    /// A JWKS document held in memory (the demo identity provider's).
    Static(serde_json::Value),
}

impl KeySource {
    /// `http://…` or `https://…` is a URL; anything else a file path.
    pub fn parse(s: &str) -> KeySource {
        if s.starts_with("https://") || s.starts_with("http://") {
            KeySource::Url(s.to_owned())
        } else {
            KeySource::File(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "{}", p.display()),
            KeySource::Url(u) => f.write_str(u),
            KeySource::Static(_) => f.write_str("(in memory)"),
        }
    }
}

/// A verification key and the one algorithm it may be used with.
pub struct VerifyKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

type Keys = Arc<HashMap<String, Arc<VerifyKey>>>;

/// The key set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error("cannot read the key set {0}: {1}")]
    Read(String, String),
    #[error("the key set {0} is not a JWKS document: {1}")]
    Parse(String, String),
}

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// A cached set older than this is fetched again on the next request.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// A cached key set.
pub struct KeySet {
    source: KeySource,
    keys: RwLock<(Keys, Instant)>,
    /// When the set was last fetched (or tried); held while fetching, so
    /// concurrent requests for an unknown `kid` share one fetch.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_refetch: Duration,
    fetches: AtomicU64,
    http: reqwest::Client,
}

impl KeySet {
    /// A key set, loaded once now. A URL that does not answer is not fatal
    /// (the provider may come up later): the set starts empty and is fetched
    /// again when a token needs it; a missing or invalid file is.
    pub async fn load(source: KeySource, min_refetch: Duration) -> Result<KeySet, KeySetError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| KeySetError::Read(source.to_string(), e.to_string()))?;
        let set = KeySet {
            keys: RwLock::new((Arc::new(HashMap::new()), Instant::now())),
            // The load at start does not count: a key rotated in just after
            // start is picked up by the first token that names it.
            last_fetch: tokio::sync::Mutex::new(None),
            min_refetch,
            fetches: AtomicU64::new(0),
            http,
            source,
        };
        match set.fetch().await {
            Ok(keys) => set.replace(keys),
            Err(e) if matches!(set.source, KeySource::Url(_)) => {
                tracing::warn!(error = %e, "identity provider key set not loaded yet; will retry when a token needs it");
            }
            Err(e) => return Err(e),
        }
        Ok(set)
    }

    /// The key named `kid`, fetching the set again if it is unknown (or the
    /// cache is old) and the last fetch is at least `min_refetch` ago.
    pub async fn key(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        let (keys, loaded) = self.current();
        if let Some(k) = keys.get(kid) {
            if loaded.elapsed() < MAX_AGE {
                return Some(Arc::clone(k));
            }
        }
        self.refetch().await;
        self.current().0.get(kid).cloned()
    }

    /// How many times the set was fetched (for tests and logs).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The shortest time between two fetches.
    pub fn min_refetch(&self) -> Duration {
        self.min_refetch
    }

    fn current(&self) -> (Keys, Instant) {
        let guard = self.keys.read().unwrap_or_else(|e| e.into_inner());
        (Arc::clone(&guard.0), guard.1)
    }

    fn replace(&self, keys: HashMap<String, Arc<VerifyKey>>) {
        let mut guard = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *guard = (Arc::new(keys), Instant::now());
    }

    async fn refetch(&self) {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.min_refetch) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(source = %self.source, keys = keys.len(), "identity provider key set fetched");
                self.replace(keys);
            }
            // The keys held stay in use.
            Err(e) => tracing::warn!(error = %e, "identity provider key set not refreshed"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<VerifyKey>>, KeySetError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let name = self.source.to_string();
        let doc: serde_json::Value = match &self.source {
            KeySource::Static(v) => v.clone(),
            KeySource::File(p) => {
                let bytes = tokio::fs::read(p)
                    .await
                    .map_err(|e| KeySetError::Read(name.clone(), e.to_string()))?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| KeySetError::Parse(name.clone(), e.to_string()))?
            }
            KeySource::Url(u) => {
                let read = |e: reqwest::Error| KeySetError::Read(name.clone(), e.to_string());
                let res = self
                    .http
                    .get(u)
                    .send()
                    .await
                    .map_err(read)?
                    .error_for_status()
                    .map_err(read)?;
                let bytes = res.bytes().await.map_err(read)?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(KeySetError::Parse(name, "larger than 1 MiB".into()));
                }
                serde_json::from_slice(&bytes)
                    .map_err(|e| KeySetError::Parse(name.clone(), e.to_string()))?
            }
        };
        parse_jwks(&doc).map_err(|e| KeySetError::Parse(name, e))
    }
}

/// The signing keys of a JWKS document by `kid`. Keys that are not for
/// signatures, have no `kid`, or are of a kind we do not accept are skipped
/// (logged), not fatal: providers publish encryption keys beside them.
pub fn parse_jwks(doc: &serde_json::Value) -> Result<HashMap<String, Arc<VerifyKey>>, String> {
    let list = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("no `keys` array")?;
    let mut out = HashMap::new();
    for raw in list {
        let jwk: Jwk = match serde_json::from_value(raw.clone()) {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "JWKS: a key that does not parse is skipped");
                continue;
            }
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            tracing::warn!("JWKS: a key without `kid` is skipped");
            continue;
        };
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        match verify_key(&jwk) {
            Ok(k) => {
                out.insert(kid, Arc::new(k));
            }
            Err(e) => tracing::warn!(kid, error = %e, "JWKS: key skipped"),
        }
    }
    Ok(out)
}

/// The key and its single algorithm: Ed25519 → EdDSA, P-256 → ES256, RSA
/// (at least 2048 bits) → RS256. A key's own `alg`, when set, must agree.
fn verify_key(jwk: &Jwk) -> Result<VerifyKey, String> {
    use base64::Engine as _;
    let b64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|e| format!("bad base64url: {e}"))
    };
    let (alg, want) = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            if b64(&p.x)?.len() != 32 {
                return Err("an Ed25519 key must be 32 bytes".into());
            }
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::RSA(p) => {
            if b64(&p.n)?.len() < 256 {
                return Err("an RSA key must have at least 2048 bits".into());
            }
            (Algorithm::RS256, KeyAlgorithm::RS256)
        }
        _ => {
            return Err(
                "not an Ed25519, P-256 or RSA key (symmetric keys are never accepted)".into(),
            )
        }
    };
    if let Some(a) = jwk.common.key_algorithm {
        if a != want {
            return Err(format!(
                "the key's `alg` is {a:?}, which this key type cannot be used with here"
            ));
        }
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    Ok(VerifyKey { alg, key })
}
