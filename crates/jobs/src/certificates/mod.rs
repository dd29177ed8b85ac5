//! Score certificates (第二十三条): signing a person's grade or threshold
//! answer for a party as a compact JWS (EdDSA, `kid`), our published key set,
//! rotating the signing key, verifying ours and registered partner cities'
//! certificates (one verifier for the CLI and the HTTP API), and
//! registering partner cities.
//!
//! Signing keys live outside the database, one 0600 file per key id in the
//! directory `--cert-keys` / `CHENGXIN_CERT_KEYS_DIR`; the database records
//! only their public halves, ids and creation and retirement times. A key
//! file whose key is not the one recorded for its id is refused.

mod keys;
mod own;
mod partners;
mod verify;

use std::path::PathBuf;

use chengxin_domain::certificate::{Answer, Claims};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use keys::{published_keys, rotate, Jwk, Jwks, Rotated};
pub use own::{issue_own, REPORT_AUDIENCE};
pub use partners::{add_partner, list_partners, Partner};
pub use verify::{verify, verify_offline, KeySet, Verdict};

use crate::{Context, JobError};

/// This city's URL unless configured (`--city-url`, `CHENGXIN_CITY_URL`):
/// the address `chengxin serve` listens on by default.
pub const DEFAULT_CITY_URL: &str = "http://127.0.0.1:8080";
/// This city's code unless configured (`--city-code`, `CHENGXIN_CITY_CODE`).
pub const DEFAULT_CITY_CODE: &str = "shaoxing";

/// A city's certificate settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertConfig {
    /// The `iss` of our certificates: this city's URL.
    pub city_url: String,
    /// This city's code, as `city` in verification answers.
    pub city_code: String,
    /// The directory of signing key files (`KID.key`, mode 0600).
    pub keys_dir: Option<PathBuf>,
}

impl Default for CertConfig {
    fn default() -> Self {
        CertConfig {
            city_url: DEFAULT_CITY_URL.to_owned(),
            city_code: DEFAULT_CITY_CODE.to_owned(),
            keys_dir: None,
        }
    }
}

/// Why a certificate cannot be issued, or a key rotated.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Job(#[from] JobError),
    /// No signing key directory was configured.
    #[error("没有证书签名密钥目录 no certificate key directory: set CHENGXIN_CERT_KEYS_DIR or pass --cert-keys DIR")]
    NoKeysDir,
    /// The database records no current signing key.
    #[error("没有证书签名密钥 no certificate signing key yet: run `chengxin keys rotate`")]
    NoSigningKey,
    /// The key file is missing, unreadable, or not the recorded key.
    #[error("证书签名密钥无法使用 certificate signing key unusable: {0}")]
    KeyFile(String),
    /// The person has no score under the model in force (unknown or not
    /// eligible), so there is nothing to certify.
    #[error("没有可证明的诚信分 no score to certify under the model in force")]
    NoScore,
    /// A threshold outside 0–1000, or a party code that is blank.
    #[error("{0}")]
    Invalid(String),
}

impl From<chengxin_store::StoreError> for CertError {
    fn from(e: chengxin_store::StoreError) -> Self {
        CertError::Job(JobError::Store(e))
    }
}

/// What a certificate is asked to state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// The person's grade.
    Grade,
    /// Whether the score is at least N (0–1000), and nothing else.
    Threshold(i32),
}

/// A signed certificate and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub jws: String,
    pub kid: String,
    pub claims: Claims,
}

/// Signs a certificate for the person `person_id` for the party `party`
/// (its code): their grade, or whether their score reaches the threshold,
/// from their stored score under the model in force, valid 30 days from
/// `now` (unix seconds). `sub` is the person's pseudonym for this party
/// ([`pseudonym`]), never the ID number.
///
/// Audits nothing itself: the party operation that calls it records the
/// use of its authorisation.
pub fn issue(
    ctx: &Context,
    person_id: i64,
    party: &str,
    ask: Ask,
    now: i64,
) -> Result<Issued, CertError> {
    if party.trim().is_empty() {
        return Err(CertError::Invalid("party code is blank".into()));
    }
    if let Ask::Threshold(n) = ask {
        if !(0..=1000).contains(&n) {
            return Err(CertError::Invalid(format!(
                "threshold {n} is outside 0–1000"
            )));
        }
    }
    let (index, state, version) = {
        let mut tx = ctx.store.read()?;
        let active = ctx.active(&mut *tx)?;
        let identity = tx.identity(person_id)?.ok_or(CertError::NoScore)?;
        let stored = tx
            .score(person_id, &active.model.version)?
            .ok_or(CertError::NoScore)?;
        (identity.index, stored.state, active.model.version)
    };
    let answer = match (ask, state.eligible, state.score, state.grade) {
        (Ask::Grade, true, Some(_), Some(grade)) => Answer::Grade(grade),
        (Ask::Threshold(n), true, Some(score), _) => Answer::Threshold {
            threshold: n,
            met: score >= n,
        },
        _ => return Err(CertError::NoScore),
    };
    let sub = pseudonym(ctx, &index, party);
    let config = ctx.certificates();
    let claims = Claims::new(&config.city_url, &sub, now, &answer, &version);
    let signer = keys::current_signer(ctx)?;
    let jws = signer.sign(&claims)?;
    Ok(Issued {
        jws,
        kid: signer.kid,
        claims,
    })
}

/// The person's pairwise pseudonym for a party: HMAC-SHA256, under a key
/// derived from the data key's blind-index key for this purpose only, of
/// the person's blind index and the party code; base64url. The same person
/// gets the same `sub` from one party every time, and unlinkable ones
/// across parties; the ID number cannot be recovered from it.
pub fn pseudonym(ctx: &Context, person_index: &[u8], party: &str) -> String {
    use base64::Engine as _;
    let key = ctx
        .store
        .keys()
        .blind_index(b"chengxin certificate subject key v1");
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .expect("HMAC accepts keys of any length")
        .chain_update((person_index.len() as u32).to_be_bytes())
        .chain_update(person_index)
        .chain_update(party.as_bytes())
        .finalize()
        .into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
}
