//! A test identity provider: Ed25519, P-256 and RSA keys generated once per
//! process, their JWKS written to a temporary file, and helpers that mint ID
//! tokens — valid ones and each kind of bad one.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The issuer the test provider's tokens carry.
pub const ISSUER: &str = "https://idp.test.chengxin.example";
/// The audience (client id) they are for.
pub const AUDIENCE: &str = "chengxin-test";

/// One signing key of the test provider.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// The public key as a JWK (with `kid`, `alg`, `use`).
    pub jwk: Value,
    /// The public key's bytes (raw Ed25519, SEC1 point, or PKCS#1 DER):
    /// what an attacker would use as an HMAC secret.
    pub public_bytes: Vec<u8>,
}

impl TestKey {
    /// A fresh Ed25519 key.
    pub fn ed25519(kid: &str) -> TestKey {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let sk = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let der = sk.to_pkcs8_der().expect("pkcs8");
        let public = sk.verifying_key().to_bytes().to_vec();
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(&public),
                        "kid": kid, "alg": "EdDSA", "use": "sig"}),
            public_bytes: public,
        }
    }

    /// A fresh P-256 key.
    pub fn p256(kid: &str) -> TestKey {
        use p256::pkcs8::EncodePrivateKey;
        let sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let der = sk.to_pkcs8_der().expect("pkcs8");
        let point = sk.public_key().to_sec1_bytes().to_vec();
        // Uncompressed SEC1: 0x04 ‖ x ‖ y.
        let (x, y) = point[1..].split_at(32);
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            jwk: json!({"kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y),
                        "kid": kid, "alg": "ES256", "use": "sig"}),
            public_bytes: point,
        }
    }

    /// A fresh 2048-bit RSA key.
    pub fn rsa(kid: &str) -> TestKey {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        use rsa::traits::PublicKeyParts;
        let sk = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key");
        let der = sk.to_pkcs1_der().expect("pkcs1");
        let public = sk.to_public_key();
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            jwk: json!({"kty": "RSA", "n": B64.encode(public.n().to_bytes_be()),
                        "e": B64.encode(public.e().to_bytes_be()),
                        "kid": kid, "alg": "RS256", "use": "sig"}),
            public_bytes: public.to_pkcs1_der().expect("pkcs1").as_bytes().to_vec(),
        }
    }

    /// `claims` signed with this key, with `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.encoding).expect("sign")
    }
}

/// The test identity provider.
pub struct TestIdp {
    pub issuer: String,
    pub audience: String,
    /// EdDSA, ES256 and RS256 keys, in that order.
    pub keys: Vec<TestKey>,
    /// Its JWKS document on disk.
    pub jwks_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestIdp {
    /// A provider with fresh keys (RSA generation takes a moment: prefer
    /// [`TestIdp::shared`]).
    pub fn new() -> TestIdp {
        let keys = vec![
            TestKey::ed25519("test-ed25519"),
            TestKey::p256("test-p256"),
            TestKey::rsa("test-rsa"),
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        let jwks_path = dir.path().join("jwks.json");
        let idp = TestIdp {
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            keys,
            jwks_path,
            _dir: dir,
        };
        std::fs::write(&idp.jwks_path, idp.jwks().to_string()).expect("write JWKS");
        idp
    }

    /// One provider for the whole test process.
    pub fn shared() -> &'static TestIdp {
        static IDP: OnceLock<TestIdp> = OnceLock::new();
        IDP.get_or_init(TestIdp::new)
    }

    /// The JWKS document of its keys.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }

    /// The key for `alg`.
    pub fn key(&self, alg: Algorithm) -> &TestKey {
        self.keys
            .iter()
            .find(|k| k.alg == alg)
            .expect("the test provider has EdDSA, ES256 and RS256 keys")
    }

    /// Valid claims for `id_number`: issued now, valid 10 minutes.
    pub fn claims(&self, id_number: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "aud": self.audience, "sub": format!("sub-{id_number}"),
            "iat": now, "nbf": now, "exp": now + 600,
            "id_number": id_number, "name": "测试居民",
        })
    }

    /// A valid EdDSA ID token for `id_number`.
    pub fn token(&self, id_number: &str) -> String {
        self.token_with(Algorithm::EdDSA, &self.claims(id_number))
    }

    /// `claims` signed with the key for `alg`.
    pub fn token_with(&self, alg: Algorithm, claims: &Value) -> String {
        self.key(alg).sign(claims)
    }
}

impl Default for TestIdp {
    fn default() -> Self {
        TestIdp::new()
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A token assembled from raw parts, e.g. `alg: none` or a forged signature:
/// `header` and `claims` are base64url-encoded, `signature` used as given.
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(signature)
    )
}

/// `claims` signed with HS256 using `secret` (e.g. a public key's bytes).
pub fn hs256_token(kid: &str, claims: &Value, secret: &[u8]) -> String {
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(secret)).expect("sign")
}
