//! Verifying a certificate: ours (our published key set) or a registered
//! partner city's (its key set, its grade map), chosen by `iss`. The CLI's
//! `cert verify` and `POST /api/v1/certificates/verify` both call
//! [`verify`], so they agree on every certificate.

use std::collections::HashMap;

use base64::Engine as _;
use chengxin_domain::certificate::{check_claims, Answer, Claims, GradeMap, Refusal, ALGORITHM};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;

use super::keys::Jwks;
use crate::{Context, JobError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// A certificate is a few hundred bytes; anything much larger is not one.
const MAX_LEN: usize = 8 * 1024;

/// Ed25519 verification keys by `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl KeySet {
    /// The keys of a key set; a key that is not an Ed25519 signing key with
    /// a `kid` is refused, naming it.
    pub fn from_jwks(jwks: &Jwks) -> Result<KeySet, String> {
        let mut keys = HashMap::new();
        for k in &jwks.keys {
            if k.kty != "OKP" || k.crv != "Ed25519" || k.alg != ALGORITHM || k.use_ != "sig" {
                return Err(format!(
                    "key `{}` is not an Ed25519 signing key (kty OKP, crv Ed25519, alg EdDSA, use sig)",
                    k.kid
                ));
            }
            let x = B64
                .decode(&k.x)
                .ok()
                .filter(|x| x.len() == 32)
                .ok_or_else(|| format!("key `{}`: x is not 32 bytes of base64url", k.kid))?;
            let key = DecodingKey::from_ed_components(&B64.encode(x))
                .map_err(|e| format!("key `{}`: {e}", k.kid))?;
            if k.kid.is_empty() || keys.insert(k.kid.clone(), key).is_some() {
                return Err(format!("key id `{}` is empty or repeated", k.kid));
            }
        }
        Ok(KeySet { keys })
    }

    /// Parses a JWKS document (JSON) into a key set.
    pub fn parse(text: &str) -> Result<(Jwks, KeySet), String> {
        let jwks: Jwks = serde_json::from_str(text).map_err(|e| {
            format!("not a JWKS of Ed25519 keys (keys[].kty, crv, x, kid, alg, use): {e}")
        })?;
        if jwks.keys.is_empty() {
            return Err("the key set has no keys".into());
        }
        let set = KeySet::from_jwks(&jwks)?;
        Ok((jwks, set))
    }
}

/// The outcome of verifying a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    /// Whether the certificate is valid now.
    pub valid: bool,
    /// Why not (a stable code), when `valid` is false: `malformed`,
    /// `alg_not_allowed`, `unknown_issuer`, `unknown_key`, `bad_signature`,
    /// `expired`, `not_yet_valid`, `claims_invalid`, `grade_unmapped`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = json!(null)))]
    pub reason: Option<Refusal>,
    /// The issuing city's code (ours or a registered partner's), once known.
    #[cfg_attr(feature = "openapi", schema(example = "shaoxing"))]
    pub city: Option<String>,
    /// The grade the certificate states (the issuer's grade).
    #[cfg_attr(feature = "openapi", schema(example = "AA"))]
    pub grade: Option<String>,
    /// That grade in our model's grades (a partner's through its grade map).
    #[cfg_attr(feature = "openapi", schema(example = "AA"))]
    pub local_grade: Option<String>,
    /// For a threshold certificate: the threshold, and whether it is met.
    #[cfg_attr(feature = "openapi", schema(example = json!(null)))]
    pub threshold: Option<i32>,
    #[cfg_attr(feature = "openapi", schema(example = json!(null)))]
    pub met: Option<bool>,
    /// The issuer's model version.
    #[cfg_attr(feature = "openapi", schema(example = "2026.1"))]
    pub model_version: Option<String>,
    /// `iss`, `sub`.
    #[cfg_attr(feature = "openapi", schema(example = "http://127.0.0.1:8080"))]
    pub issuer: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "q9d3yI0n0d2cX6p4QkqS0m9bJf1V8l3a2Qe5H7wXz1E")
    )]
    pub subject: Option<String>,
    /// When it was issued and when it expires (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-30T06:00:00Z"))]
    pub issued_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-30T06:00:00Z"))]
    pub expires_at: Option<String>,
}

impl Verdict {
    fn refused(reason: Refusal, city: Option<String>, claims: Option<&Claims>) -> Verdict {
        let mut v = Verdict::from_claims(claims);
        v.valid = false;
        v.reason = Some(reason);
        v.city = city;
        v
    }

    fn from_claims(claims: Option<&Claims>) -> Verdict {
        Verdict {
            valid: false,
            reason: None,
            city: None,
            grade: claims.and_then(|c| c.grade.clone()),
            local_grade: None,
            threshold: claims.and_then(|c| c.threshold),
            met: claims.and_then(|c| c.met),
            model_version: claims.map(|c| c.model_version.clone()),
            issuer: claims.map(|c| c.iss.clone()),
            subject: claims.map(|c| c.sub.clone()),
            issued_at: claims.map(|c| rfc3339(c.iat)),
            expires_at: claims.map(|c| rfc3339(c.exp)),
        }
    }
}

fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t).map_or_else(|_| t.to_string(), |t| t.to_string())
}

/// Verifies a certificate at `now` (unix seconds) with this city's key set
/// and its registered partners': `iss` selects the city, its key set the
/// key by `kid`; a partner's grade is translated through its grade map.
pub fn verify(ctx: &Context, jws: &str, now: i64) -> Result<Verdict, JobError> {
    let iss = match peek(jws) {
        Ok(iss) => iss,
        Err(r) => return Ok(Verdict::refused(r, None, None)),
    };
    let config = ctx.certificates();
    if iss == config.city_url {
        let jwks = super::published_keys(ctx, now).map_err(|e| match e {
            super::CertError::Job(j) => j,
            other => JobError::Invalid(other.to_string()),
        })?;
        let keys = KeySet::from_jwks(&jwks).map_err(JobError::Invalid)?;
        let city = Some(config.city_code.clone());
        return Ok(match check(jws, &keys, now) {
            Ok((claims, answer)) => accepted(city, &claims, &answer, |g| Some(g.to_owned())),
            Err((r, claims)) => Verdict::refused(r, city, claims.as_ref()),
        });
    }
    let Some(partner) = ctx.store.read()?.partner_by_issuer(&iss)? else {
        return Ok(Verdict::refused(Refusal::UnknownIssuer, None, None));
    };
    let corrupt = |what: &str, e: String| {
        JobError::Invalid(format!(
            "partner {}: stored {what} unusable: {e}",
            partner.code
        ))
    };
    let (_, keys) = KeySet::parse(&partner.jwks).map_err(|e| corrupt("key set", e))?;
    let map: GradeMap = serde_json::from_str(&partner.grade_map)
        .map_err(|e| corrupt("grade map", e.to_string()))?;
    let city = Some(partner.code.clone());
    Ok(match check(jws, &keys, now) {
        Ok((claims, answer)) => {
            if let Answer::Grade(g) = &answer {
                if map.translate(g).is_none() {
                    return Ok(Verdict::refused(
                        Refusal::GradeUnmapped,
                        city,
                        Some(&claims),
                    ));
                }
            }
            accepted(city, &claims, &answer, |g| {
                map.translate(g).map(str::to_owned)
            })
        }
        Err((r, claims)) => Verdict::refused(r, city, claims.as_ref()),
    })
}

/// Verifies a certificate at `now` against one key set given as a JWKS
/// document (`cert verify --jwks FILE`): no database, so any `iss`, no grade
/// translation (`city` is the issuer). `Err`: the key set itself is unusable.
pub fn verify_offline(jws: &str, jwks: &str, now: i64) -> Result<Verdict, String> {
    let (_, keys) = KeySet::parse(jwks)?;
    Ok(match check(jws, &keys, now) {
        Ok((claims, answer)) => accepted(Some(claims.iss.clone()), &claims, &answer, |_| None),
        Err((r, claims)) => Verdict::refused(r, None, claims.as_ref()),
    })
}

fn accepted(
    city: Option<String>,
    claims: &Claims,
    answer: &Answer,
    local: impl Fn(&str) -> Option<String>,
) -> Verdict {
    let mut v = Verdict::from_claims(Some(claims));
    v.valid = true;
    v.city = city;
    if let Answer::Grade(g) = answer {
        v.local_grade = local(g);
    }
    v
}

/// The header's algorithm checked, then the issuer read (unverified: it
/// only selects the key set that the signature must then verify under).
fn peek(jws: &str) -> Result<String, Refusal> {
    let parts = split(jws)?;
    let header = decode_json(parts[0])?;
    match header.get("alg").and_then(|a| a.as_str()) {
        Some(ALGORITHM) => {}
        Some(_) => return Err(Refusal::AlgNotAllowed),
        None => return Err(Refusal::Malformed),
    }
    decode_json(parts[1])?
        .get("iss")
        .and_then(|i| i.as_str())
        .map(str::to_owned)
        .ok_or(Refusal::Malformed)
}

/// The signature under the key named by `kid`, then the claims' rules.
/// On refusal, the claims if they could be read after the signature held.
#[allow(clippy::result_large_err)]
fn check(
    jws: &str,
    keys: &KeySet,
    now: i64,
) -> Result<(Claims, Answer), (Refusal, Option<Claims>)> {
    peek(jws).map_err(|r| (r, None))?;
    let header = decode_json(split(jws).map_err(|r| (r, None))?[0]).map_err(|r| (r, None))?;
    let kid = header
        .get("kid")
        .and_then(|k| k.as_str())
        .ok_or((Refusal::UnknownKey, None))?;
    let key = keys.keys.get(kid).ok_or((Refusal::UnknownKey, None))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Value>(jws, key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        let r = match e.kind() {
            ErrorKind::InvalidSignature => Refusal::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => Refusal::AlgNotAllowed,
            _ => Refusal::Malformed,
        };
        (r, None)
    })?;
    let claims: Claims =
        serde_json::from_value(data.claims).map_err(|_| (Refusal::ClaimsInvalid, None))?;
    match check_claims(&claims, now) {
        Ok(answer) => Ok((claims, answer)),
        Err(r) => Err((r, Some(claims))),
    }
}

fn split(jws: &str) -> Result<[&str; 3], Refusal> {
    if jws.len() > MAX_LEN {
        return Err(Refusal::Malformed);
    }
    let mut it = jws.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(Refusal::Malformed),
    }
}

fn decode_json(part: &str) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
    let bytes = B64.decode(part).map_err(|_| Refusal::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(Refusal::Malformed),
    }
}
