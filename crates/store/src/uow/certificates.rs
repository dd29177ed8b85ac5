//! Score certificates: the public halves of our signing keys (the private
//! keys never enter the database) and the partner cities whose
//! certificates we verify.

use crate::Result;

/// One of our certificate signing keys, as the database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    /// The Ed25519 public key (32 bytes).
    pub public_key: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    /// When a newer key replaced it (unix seconds); `None` for the current key.
    pub retired_at: Option<i64>,
}

/// A registered partner city.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRow {
    pub code: String,
    pub name: String,
    /// The `iss` of its certificates.
    pub issuer: String,
    /// Its key set (JWKS JSON, public keys only).
    pub jwks: String,
    /// Its grade map (JSON).
    pub grade_map: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Reads of signing keys and partner cities.
pub trait CertificatesRead {
    /// Every signing key, oldest first.
    fn signing_keys(&mut self) -> Result<Vec<SigningKeyRow>>;
    /// Every partner city, by code.
    fn partners(&mut self) -> Result<Vec<PartnerRow>>;
    /// The partner city whose certificates carry this `iss`.
    fn partner_by_issuer(&mut self, issuer: &str) -> Result<Option<PartnerRow>>;
}

/// Writes to signing keys and partner cities.
pub trait CertificatesWrite {
    /// Records a new signing key.
    fn insert_signing_key(&mut self, key: &SigningKeyRow) -> Result<()>;
    /// Marks every key but `kid` that is not retired yet as retired at `at`;
    /// returns how many.
    fn retire_signing_keys_except(&mut self, kid: &str, at: i64) -> Result<u64>;
    /// Registers a partner city, or replaces the one with its code
    /// (`created_at` of a replaced one is kept). `true`: it is new.
    fn put_partner(&mut self, partner: &PartnerRow) -> Result<bool>;
}
