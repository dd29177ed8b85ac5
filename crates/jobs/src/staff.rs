//! Agency staff: accounts (argon2id password hashes), sign-in sessions
//! (bearer tokens stored only as SHA-256 hashes, expiring and revocable),
//! the limit on failed sign-ins, and authenticating a session's token.
//!
//! Every account change, sign-in, failed sign-in, refusal by the limit and
//! sign-out is audited; sign-ins and sign-outs with the staff member as the
//! actor (`staff:NAME`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use chengxin_domain::staff::{self as rules, Right, Role, StaffName};
use chengxin_store::uow::StaffRow;
use chengxin_store::Cause;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit_events::staff_event;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// How long a session lasts: 8 hours.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// Prefix of every staff session token, so a leaked one is recognisable
/// and a unit's key or a resident's token is never looked up as one.
const TOKEN_PREFIX: &str = "cxs_";

/// A staff account as others see it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl StaffMember {
    /// The audit actor: `staff:NAME`.
    pub fn actor(&self) -> String {
        rules::actor(&self.name)
    }

    /// Whether the member's role holds `right`.
    pub fn may(&self, right: Right) -> bool {
        self.role.may(right)
    }
}

impl From<StaffRow> for StaffMember {
    fn from(r: StaffRow) -> Self {
        StaffMember {
            name: r.name,
            role: r.role,
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

/// The argon2id (default parameters) PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, JobError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| JobError::Invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (compared in constant
/// time by the `argon2` crate). A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash no password is checked against successfully in practice; verified
/// for unknown names so they take as long as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no staff member has this password").unwrap_or_default())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn invalid(e: impl std::fmt::Display) -> JobError {
    JobError::Invalid(e.to_string())
}

/// Creates a staff account. `now` is unix seconds.
pub fn add_staff(
    ctx: &Context,
    name: &str,
    role: Role,
    password: &str,
    actor: &str,
    now: i64,
) -> Result<StaffMember, JobError> {
    let name = StaffName::parse(name).map_err(invalid)?;
    rules::check_password(password).map_err(invalid)?;
    let hash = hash_password(password)?;
    let change = Change::request(Cause::Push, actor, None);
    let created = write(&*ctx.store, |tx| {
        if !tx.insert_staff(name.as_str(), role, &hash, now)? {
            return Ok(false);
        }
        let detail = json!({ "role": role.as_str() });
        tx.append_audit(vec![staff_event(
            &change,
            "staff.created",
            name.as_str(),
            detail,
        )]);
        Ok(true)
    })?;
    if !created {
        return Err(JobError::Invalid(format!(
            "staff member {name} already exists (工作人员账号已存在)"
        )));
    }
    Ok(StaffMember {
        name: name.as_str().to_owned(),
        role,
        disabled: false,
        created_at: now,
    })
}

/// Every staff account, by name.
pub fn list_staff(ctx: &Context) -> Result<Vec<StaffMember>, JobError> {
    Ok(ctx
        .store
        .read()?
        .staff_members()?
        .into_iter()
        .map(StaffMember::from)
        .collect())
}

/// Disables an account and revokes its sessions at once.
pub fn disable_staff(ctx: &Context, name: &str, actor: &str) -> Result<(), JobError> {
    let change = Change::request(Cause::Push, actor, None);
    let found = write(&*ctx.store, |tx| {
        let Some(row) = tx.staff_by_name(name)? else {
            return Ok(false);
        };
        tx.disable_staff(name)?;
        let revoked = tx.revoke_staff_sessions_of(row.id)?;
        let detail = json!({ "sessions_revoked": revoked });
        tx.append_audit(vec![staff_event(&change, "staff.disabled", name, detail)]);
        Ok(true)
    })?;
    if !found {
        return Err(JobError::Invalid(format!(
            "there is no staff member {name} (没有该工作人员)"
        )));
    }
    Ok(())
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The bearer token, shown once; only its hash is stored.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub staff: StaffMember,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown name, wrong password or disabled account: the caller is not
    /// told which.
    #[error("the name or password is wrong, or the account is disabled")]
    Refused,
    /// Too many failed sign-ins for this account or from this address.
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    Limited { retry_after: u64 },
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Failed sign-ins allowed per account within [`SignInLimiter::window`].
pub const FAILURES_PER_ACCOUNT: usize = 5;
/// Failed sign-ins allowed per client address within the window.
pub const FAILURES_PER_ADDRESS: usize = 20;
/// The window failures are counted in: 15 minutes.
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// Accounts or addresses tracked at once; past this, expired entries are
/// dropped and then the oldest ones, so an attacker cannot grow memory.
const MAX_TRACKED: usize = 65_536;

/// Counts failed sign-ins per account and per client address in a sliding
/// window. Kept in process memory: each server process counts on its own
/// and a restart forgets, so with N processes an attacker gets at most N
/// times the allowance (documented in the README).
#[derive(Debug, Default)]
pub struct SignInLimiter {
    accounts: Mutex<Failures>,
    addresses: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures(HashMap<String, VecDeque<i64>>);

impl Failures {
    /// Seconds until a key at its limit may try again (0: it may now).
    fn wait(&mut self, key: &str, limit: usize, now: i64) -> u64 {
        let Some(times) = self.0.get_mut(key) else {
            return 0;
        };
        while times
            .front()
            .is_some_and(|t| *t + FAILURE_WINDOW_SECONDS <= now)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return 0;
        }
        let oldest = times[times.len() - limit];
        (oldest + FAILURE_WINDOW_SECONDS - now)
            .max(1)
            .unsigned_abs()
    }

    fn record(&mut self, key: &str, now: i64) {
        if self.0.len() >= MAX_TRACKED && !self.0.contains_key(key) {
            self.0.retain(|_, t| {
                t.back()
                    .is_some_and(|last| *last + FAILURE_WINDOW_SECONDS > now)
            });
            if self.0.len() >= MAX_TRACKED {
                let mut by_age: Vec<(i64, String)> = self
                    .0
                    .iter()
                    .map(|(k, t)| (t.back().copied().unwrap_or(0), k.clone()))
                    .collect();
                by_age.sort_unstable();
                for (_, k) in by_age.into_iter().take(MAX_TRACKED / 2) {
                    self.0.remove(&k);
                }
            }
        }
        self.0.entry(key.to_owned()).or_default().push_back(now);
    }
}

impl SignInLimiter {
    /// Seconds to wait before `name` may try from `address` (0: now).
    pub fn wait(&self, name: &str, address: &str, now: i64) -> u64 {
        let a = lock(&self.accounts).wait(name, FAILURES_PER_ACCOUNT, now);
        let b = lock(&self.addresses).wait(address, FAILURES_PER_ADDRESS, now);
        a.max(b)
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, name: &str, address: &str, now: i64) {
        lock(&self.accounts).record(name, now);
        lock(&self.addresses).record(address, now);
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, name: &str) {
        lock(&self.accounts).0.remove(name);
    }
}

fn lock(m: &Mutex<Failures>) -> std::sync::MutexGuard<'_, Failures> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Who is signing in, for the limit and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub name: &'a str,
    pub password: &'a str,
    /// The client's address (`unknown` when the server cannot tell).
    pub address: &'a str,
    pub request_id: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// Signs a staff member in: a new session token valid for
/// [`SESSION_SECONDS`]. Refusals do not say whether the name exists.
pub fn sign_in(
    ctx: &Context,
    limiter: &SignInLimiter,
    a: Attempt<'_>,
) -> Result<Session, SignInError> {
    // An unparsable name is still counted and audited, under a fixed label.
    let name = StaffName::parse(a.name).map_or_else(|_| "?".to_owned(), |n| n.to_string());
    let actor = rules::actor(&name);
    let change = Change::request(Cause::Push, &actor, a.request_id);
    let wait = limiter.wait(&name, a.address, a.now);
    if wait > 0 {
        let detail = json!({ "client": a.address, "retry_after": wait });
        write(&*ctx.store, |tx| {
            tx.append_audit(vec![staff_event(
                &change,
                "staff.sign_in_limited",
                &name,
                detail.clone(),
            )]);
            Ok(())
        })?;
        return Err(SignInError::Limited { retry_after: wait });
    }
    let row = ctx
        .store
        .read()
        .map_err(JobError::from)?
        .staff_by_name(&name);
    let row = row.map_err(JobError::from)?;
    let refusal = match &row {
        None => {
            verify_password(a.password, dummy_hash());
            Some("unknown_name")
        }
        Some(r) => {
            let ok = a.password.len() <= rules::MAX_PASSWORD_BYTES
                && verify_password(a.password, &r.password_hash);
            match (ok, r.disabled) {
                (false, _) => Some("wrong_password"),
                (true, true) => Some("disabled"),
                (true, false) => None,
            }
        }
    };
    if let Some(reason) = refusal {
        limiter.failed(&name, a.address, a.now);
        let detail = json!({ "client": a.address, "reason": reason });
        write(&*ctx.store, |tx| {
            tx.append_audit(vec![staff_event(
                &change,
                "staff.sign_in_failed",
                &name,
                detail.clone(),
            )]);
            Ok(())
        })?;
        return Err(SignInError::Refused);
    }
    let row = row.ok_or(SignInError::Refused)?;
    limiter.succeeded(&name);
    let token = new_token();
    let hash = token_hash(&token);
    let expires_at = a.now + SESSION_SECONDS;
    let detail = json!({ "client": a.address, "expires_at": expires_at });
    write(&*ctx.store, |tx| {
        tx.insert_staff_session(&hash, row.id, a.now, expires_at)?;
        tx.append_audit(vec![staff_event(
            &change,
            "staff.signed_in",
            &name,
            detail.clone(),
        )]);
        Ok(())
    })?;
    Ok(Session {
        token,
        expires_at,
        staff: row.into(),
    })
}

/// The enabled staff member whose open, unexpired session has this token.
/// `now` is unix seconds.
pub fn authenticate(ctx: &Context, token: &str, now: i64) -> Result<Option<StaffMember>, JobError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let found = ctx.store.read()?.staff_session(&token_hash(token))?;
    Ok(found
        .filter(|s| !s.revoked && s.expires_at > now && !s.staff.disabled)
        .map(|s| StaffMember::from(s.staff)))
}

/// Ends the session with this token (sign-out). `false` if there is no such
/// open session.
pub fn sign_out(ctx: &Context, token: &str, request_id: Option<&str>) -> Result<bool, JobError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(false);
    }
    let hash = token_hash(token);
    write(&*ctx.store, |tx| {
        let Some(s) = tx.staff_session(&hash)? else {
            return Ok(false);
        };
        if s.revoked {
            return Ok(false);
        }
        tx.revoke_staff_session(&hash)?;
        let actor = rules::actor(&s.staff.name);
        let change = Change::request(Cause::Push, &actor, request_id);
        tx.append_audit(vec![staff_event(
            &change,
            "staff.signed_out",
            &s.staff.name,
            json!({}),
        )]);
        Ok(true)
    })
}

/// Unix seconds now.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
