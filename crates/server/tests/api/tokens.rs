//! The ID-token verifier on its own: every kind of token and the code it
//! gets (the same matrix over HTTP is in `me.rs`).

use chengxin_server::oidc::{TokenError, Verifier, MIN_REFETCH};
use chengxin_server::ErrorCode;
use chengxin_testkit::oidc::{hs256_token, now, raw_token, TestIdp};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

use crate::helpers::{id, test_issuer};

/// Each bad token, its name, and the code it must get.
pub fn bad_tokens(idp: &TestIdp, id_number: &str) -> Vec<(&'static str, String, ErrorCode)> {
    let claims = idp.claims(id_number);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        f(&mut c);
        c
    };
    let ed = idp.key(Algorithm::EdDSA);
    let rsa = idp.key(Algorithm::RS256);
    let valid = idp.token(id_number);
    let (signed, _) = valid.rsplit_once('.').unwrap();
    let other_key = chengxin_testkit::oidc::TestKey::ed25519("test-ed25519");
    vec![
        (
            "forged signature (another key under the same kid)",
            other_key.sign(&claims),
            ErrorCode::TokenBadSignature,
        ),
        (
            "altered claims",
            format!(
                "{}.{}",
                raw_token(
                    &json!({"alg":"EdDSA","kid":ed.kid}),
                    &with(&|c| c["id_number"] = id(999).into()),
                    b""
                )
                .rsplit_once('.')
                .unwrap()
                .0,
                valid.rsplit_once('.').unwrap().1
            ),
            ErrorCode::TokenBadSignature,
        ),
        (
            "alg none",
            raw_token(&json!({"alg": "none", "kid": ed.kid}), &claims, b""),
            ErrorCode::TokenBadSignature,
        ),
        (
            "HS256 with the RSA public key as secret",
            hs256_token(&rsa.kid, &claims, &rsa.public_bytes),
            ErrorCode::TokenBadSignature,
        ),
        (
            "HS256 with the Ed25519 public key as secret",
            hs256_token(&ed.kid, &claims, &ed.public_bytes),
            ErrorCode::TokenBadSignature,
        ),
        (
            "wrong aud",
            ed.sign(&with(&|c| c["aud"] = "someone-else".into())),
            ErrorCode::TokenWrongAudience,
        ),
        (
            "no aud",
            ed.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
            ErrorCode::TokenWrongAudience,
        ),
        (
            "wrong iss",
            ed.sign(&with(&|c| c["iss"] = "https://evil.example".into())),
            ErrorCode::TokenWrongIssuer,
        ),
        (
            "expired beyond the leeway",
            ed.sign(&with(&|c| c["exp"] = (now() - 120).into())),
            ErrorCode::TokenExpired,
        ),
        (
            "nbf in the future beyond the leeway",
            ed.sign(&with(&|c| c["nbf"] = (now() + 300).into())),
            ErrorCode::TokenExpired,
        ),
        (
            "unknown kid",
            chengxin_testkit::oidc::TestKey::ed25519("nobody-has-this-kid").sign(&claims),
            ErrorCode::TokenUnknownKey,
        ),
        (
            "no kid",
            format!(
                "{}.{}",
                raw_token(&json!({"alg":"EdDSA"}), &claims, b"")
                    .rsplit_once('.')
                    .unwrap()
                    .0,
                valid.rsplit_once('.').unwrap().1
            ),
            ErrorCode::TokenUnknownKey,
        ),
        (
            "not a JWT",
            "not-a-token".to_owned(),
            ErrorCode::TokenMalformed,
        ),
        (
            "garbage payload",
            format!("{}.!!!.{}", signed.split('.').next().unwrap(), "AAAA"),
            ErrorCode::TokenMalformed,
        ),
        (
            "invalid ID number claim",
            ed.sign(&with(&|c| c["id_number"] = "330602199001011230".into())),
            ErrorCode::TokenMalformed,
        ),
        (
            "no ID number claim",
            ed.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("id_number");
            })),
            ErrorCode::TokenMalformed,
        ),
        (
            "exp as a string",
            ed.sign(&with(&|c| c["exp"] = "tomorrow".into())),
            ErrorCode::TokenMalformed,
        ),
    ]
}

#[tokio::test]
async fn the_verifier_accepts_each_algorithm_and_refuses_each_bad_token() {
    let idp = TestIdp::shared();
    let v = Verifier::new(vec![test_issuer()], MIN_REFETCH)
        .await
        .unwrap();
    let person = id(41);
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
        let got = v
            .verify(&idp.token_with(alg, &idp.claims(&person)))
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(got.id_number.as_str(), person);
        assert_eq!(got.name.as_deref(), Some("测试居民"));
    }
    // Within the leeway is still fine.
    let mut c = idp.claims(&person);
    c["exp"] = (now() - 30).into();
    c["nbf"] = (now() + 30).into();
    v.verify(&idp.token(&person)).await.unwrap();
    v.verify(&idp.token_with(Algorithm::ES256, &c))
        .await
        .unwrap();

    for (what, token, code) in bad_tokens(idp, &person) {
        let err: TokenError = v.verify(&token).await.expect_err(what);
        assert_eq!(err.code(), code, "{what}: {err}");
    }
}
