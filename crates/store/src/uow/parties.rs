//! Authorised parties (授权主体) and residents' authorisations of them.
//!
//! Kinds, purposes and scopes are stored as the domain spells them
//! (`chengxin_domain::party`, `chengxin_domain::authorisation`); which
//! authorisation may be redeemed or used is decided there, never here.

use jiff::civil::Date;

use crate::Result;

/// A party as stored (its key only as a hash, never returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `bank`, `merchant`, `transport`, `government`.
    pub kind: String,
    /// Purpose codes, in the domain's order.
    pub purposes: Vec<String>,
    pub disabled: bool,
}

/// A party to create.
#[derive(Debug, Clone, Copy)]
pub struct NewParty<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub purposes: &'a [String],
    /// Unix seconds.
    pub created_at: i64,
}

/// An authorisation as stored (its one-time code only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationRow {
    pub id: i64,
    pub person_id: i64,
    pub party_id: i64,
    pub purpose: String,
    /// `score`, `grade`, `threshold:N`.
    pub scope: String,
    pub valid_until: Date,
    pub max_uses: Option<i64>,
    pub uses: i64,
    /// Unix seconds, as every time below.
    pub created_at: i64,
    pub redeemed_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// An authorisation to store.
#[derive(Debug, Clone, Copy)]
pub struct NewAuthorisation<'a> {
    pub person_id: i64,
    pub party_id: i64,
    pub purpose: &'a str,
    pub scope: &'a str,
    pub valid_until: Date,
    pub max_uses: Option<i64>,
    pub code_hash: &'a [u8],
    pub created_at: i64,
}

/// Parties and authorisations. In a write unit of work on a backend with
/// concurrent writers, an authorisation read by id or by code is locked
/// until the unit of work ends, so a decision taken on it still holds when
/// it commits.
pub trait PartiesRead {
    /// Every party, by code.
    fn parties(&mut self) -> Result<Vec<PartyRow>>;
    /// The party with this code (disabled ones too).
    fn party_by_code(&mut self, code: &str) -> Result<Option<PartyRow>>;
    /// The party whose current key has this hash (disabled ones too).
    fn party_by_key(&mut self, key_hash: &[u8]) -> Result<Option<(PartyRow, Vec<u8>)>>;
    /// A person's authorisations of every party, oldest first.
    fn authorisations_of(&mut self, person_id: i64) -> Result<Vec<AuthorisationRow>>;
    /// One authorisation by id.
    fn authorisation(&mut self, id: i64) -> Result<Option<AuthorisationRow>>;
    /// The authorisation whose one-time code has this hash.
    fn authorisation_by_code(&mut self, code_hash: &[u8]) -> Result<Option<AuthorisationRow>>;
}

/// Writes to parties and authorisations.
pub trait PartiesWrite {
    /// Creates a party (enabled) with its key hash; `false` if the code is taken.
    fn insert_party(&mut self, party: &NewParty<'_>, key_hash: &[u8]) -> Result<bool>;
    /// Replaces a party's key hash; `false` if there is no such party.
    fn set_party_key(&mut self, code: &str, key_hash: &[u8]) -> Result<bool>;
    /// Disables a party; `false` if there is no such party.
    fn disable_party(&mut self, code: &str) -> Result<bool>;
    /// Holds, until this unit of work ends, every other unit of work that
    /// asks for the same (person, party): grants to one party by one
    /// resident are then decided one after another.
    fn lock_grants(&mut self, person_id: i64, party_id: i64) -> Result<()>;
    /// Stores an authorisation; returns its id.
    fn insert_authorisation(&mut self, a: &NewAuthorisation<'_>) -> Result<i64>;
    /// Marks it redeemed at `at`; `false` if it already was.
    fn redeem_authorisation(&mut self, id: i64, at: i64) -> Result<bool>;
    /// Marks it revoked at `at`; `false` if it already was.
    fn revoke_authorisation(&mut self, id: i64, at: i64) -> Result<bool>;
    /// Counts one use: `uses` goes from `seen` to `seen + 1`, only if it is
    /// still `seen` (else `false`, and nothing changes).
    fn count_authorisation_use(&mut self, id: i64, seen: i64) -> Result<bool>;
}
