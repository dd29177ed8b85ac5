//! Agency staff accounts and sessions, and residents' signed-out portal
//! sessions.

use chengxin_domain::staff::Role;

use crate::Result;

/// An agency staff account as stored (the password only as its argon2id
/// PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// A staff session as stored, with its staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRow {
    pub staff: StaffRow,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    pub revoked: bool,
}

/// Agency staff accounts and their sign-in sessions.
pub trait StaffRead {
    /// Every staff account, by name.
    fn staff_members(&mut self) -> Result<Vec<StaffRow>>;
    /// The account with this name (disabled ones too).
    fn staff_by_name(&mut self, name: &str) -> Result<Option<StaffRow>>;
    /// The session whose token has this hash, with its staff member
    /// (expired, revoked and disabled ones too).
    fn staff_session(&mut self, token_hash: &[u8]) -> Result<Option<StaffSessionRow>>;
    /// Whether the resident's portal session with this ID token hash was
    /// signed out.
    fn resident_signed_out(&mut self, token_hash: &[u8]) -> Result<bool>;
}

/// Writes to staff accounts and sessions.
pub trait StaffWrite {
    /// Creates an account (enabled); `false` if the name is taken.
    fn insert_staff(
        &mut self,
        name: &str,
        role: Role,
        password_hash: &str,
        created_at: i64,
    ) -> Result<bool>;
    /// Disables an account; `false` if there is no such account.
    fn disable_staff(&mut self, name: &str) -> Result<bool>;
    /// Stores a new session under its token's hash.
    fn insert_staff_session(
        &mut self,
        token_hash: &[u8],
        staff_id: i64,
        created_at: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Marks a session revoked; `false` if there is no such session.
    fn revoke_staff_session(&mut self, token_hash: &[u8]) -> Result<bool>;
    /// Marks every session of a staff member revoked; returns how many were open.
    fn revoke_staff_sessions_of(&mut self, staff_id: i64) -> Result<u64>;
    /// Lists a resident's portal session (its ID token's hash) as signed
    /// out until `expires_at` (Unix seconds), and forgets those whose
    /// tokens expired before `now`.
    fn sign_out_resident(&mut self, token_hash: &[u8], expires_at: i64, now: i64) -> Result<()>;
}
