//! Our certificate signing keys: rotation, the current signer, and the
//! published key set (`/.well-known/jwks.json`).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use chengxin_domain::audit::AuditEvent;
use chengxin_domain::certificate::{still_published, Claims, ALGORITHM};
use chengxin_store::uow::SigningKeyRow;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::CertError;
use crate::Context;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One public key of a key set (RFC 8037: OKP, Ed25519).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// Always `OKP`.
    #[cfg_attr(feature = "openapi", schema(example = "OKP"))]
    pub kty: String,
    /// Always `Ed25519`.
    #[cfg_attr(feature = "openapi", schema(example = "Ed25519"))]
    pub crv: String,
    /// The public key, base64url.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    )]
    pub x: String,
    /// The key id certificates name in their header.
    #[cfg_attr(feature = "openapi", schema(example = "20261130-8f3a1c2e"))]
    pub kid: String,
    /// Always `EdDSA`.
    #[cfg_attr(feature = "openapi", schema(example = "EdDSA"))]
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    #[cfg_attr(feature = "openapi", schema(example = "sig"))]
    pub use_: String,
}

/// A key set (RFC 7517).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The JWK of an Ed25519 public key.
    pub fn ed25519(kid: &str, public_key: &[u8]) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(public_key),
            kid: kid.to_owned(),
            alg: ALGORITHM.into(),
            use_: "sig".into(),
        }
    }
}

/// A new current signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotated {
    pub kid: String,
    /// Its key file.
    pub file: PathBuf,
    /// Keys it replaced (they stay published until their certificates expire).
    pub retired: u64,
}

/// Makes a new signing key the current one at `now` (unix seconds): its
/// seed is written to a new 0600 file `KID.key` in the key directory, its
/// public half recorded; the previous key is retired and stays published
/// until every certificate it signed has expired.
pub fn rotate(ctx: &Context, now: i64) -> Result<Rotated, CertError> {
    let dir = keys_dir(ctx)?;
    create_private_dir(dir)?;
    let mut id = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    let date = jiff::Timestamp::from_second(now)
        .map_err(|e| CertError::Invalid(e.to_string()))?
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date();
    let kid = format!("{}-{}", date.strftime("%Y%m%d"), hex::encode(id));
    let file = key_file(dir, &kid);
    let seed = chengxin_store::crypto::load_key(&file, "certificate signing key", true)
        .map_err(|e| CertError::KeyFile(e.to_string()))?;
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let row = SigningKeyRow {
        kid: kid.clone(),
        public_key: public.to_vec(),
        created_at: now,
        retired_at: None,
    };
    let actor = ctx.actor().to_owned();
    let retired = crate::uow::write(&*ctx.store, |tx| {
        tx.insert_signing_key(&row)?;
        let retired = tx.retire_signing_keys_except(&row.kid, now)?;
        tx.append_audit(vec![AuditEvent {
            actor: actor.clone(),
            action: "certificate_key.rotated".into(),
            subject: Some(format!("certificate_key:{}", row.kid)),
            person: None,
            request_id: None,
            detail: serde_json::json!({ "retired": retired }),
        }]);
        Ok(retired)
    })?;
    Ok(Rotated { kid, file, retired })
}

/// Our key set at `now`: the current key and retired keys whose
/// certificates may still be unexpired.
pub fn published_keys(ctx: &Context, now: i64) -> Result<Jwks, CertError> {
    let rows = ctx.store.read()?.signing_keys()?;
    Ok(Jwks {
        keys: rows
            .iter()
            .filter(|k| still_published(k.retired_at, now))
            .map(|k| Jwk::ed25519(&k.kid, &k.public_key))
            .collect(),
    })
}

/// The current key, loaded from its file and checked against the record.
pub(super) struct Signer {
    pub kid: String,
    key: SigningKey,
}

impl Signer {
    /// The compact JWS of `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, CertError> {
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| CertError::KeyFile(e.to_string()))?;
        let encoding = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &encoding)
            .map_err(|e| CertError::KeyFile(format!("signing failed: {e}")))
    }
}

pub(super) fn current_signer(ctx: &Context) -> Result<Signer, CertError> {
    let dir = keys_dir(ctx)?;
    let rows = ctx.store.read()?.signing_keys()?;
    let current = rows
        .iter()
        .rev()
        .find(|k| k.retired_at.is_none())
        .ok_or(CertError::NoSigningKey)?;
    let file = key_file(dir, &current.kid);
    let seed = chengxin_store::crypto::load_key(&file, "certificate signing key", false)
        .map_err(|e| CertError::KeyFile(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    if key.verifying_key().to_bytes().as_slice() != current.public_key.as_slice() {
        return Err(CertError::KeyFile(format!(
            "{} does not hold the key recorded for {}: restore that key's file",
            file.display(),
            current.kid
        )));
    }
    Ok(Signer {
        kid: current.kid.clone(),
        key,
    })
}

fn keys_dir(ctx: &Context) -> Result<&Path, CertError> {
    ctx.certificates()
        .keys_dir
        .as_deref()
        .ok_or(CertError::NoKeysDir)
}

fn key_file(dir: &Path, kid: &str) -> PathBuf {
    dir.join(format!("{kid}.key"))
}

/// Creates the key directory (0700) if missing.
fn create_private_dir(dir: &Path) -> Result<(), CertError> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(CertError::KeyFile(format!("{}: {e}", dir.display()))),
    }
}
