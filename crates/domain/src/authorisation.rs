//! A resident's authorisation (授权, 第十六、十七条) of a party: its scope,
//! the one-time code that hands it over, and the rules deciding, at a given
//! moment, whether it may be granted, redeemed or used, and why not.
//!
//! A scope is `score` (score and grade), `grade` (grade only) or
//! `threshold:N` (only whether the score is at least N). A party may ask for
//! less than it was granted, never more. Times are unix seconds; validity
//! ends with the civil day `valid_until` (Asia/Shanghai) the caller passes
//! as `today`.

use jiff::civil::Date;
use jiff::ToSpan;

/// The highest score (第十三条: 0–1000 points).
pub const MAX_SCORE: i32 = 1000;
/// How long a one-time code may wait to be redeemed.
pub const CODE_TTL_SECS: i64 = 600;
/// Characters of a one-time code: digits and capitals without 0/O, 1/I/L.
pub const CODE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of a one-time code (31^8 ≈ 8.5 × 10^11 codes).
pub const CODE_LEN: usize = 8;
/// The longest validity a resident may grant, in days from today.
pub const MAX_VALIDITY_DAYS: i64 = 366;
/// The largest use count a grant may carry.
pub const MAX_USES: i64 = 10_000;
/// Grants one resident may make to one party within [`GRANT_WINDOW_SECS`].
pub const MAX_GRANTS_PER_WINDOW: u32 = 5;
/// The window of [`MAX_GRANTS_PER_WINDOW`].
pub const GRANT_WINDOW_SECS: i64 = 86_400;

/// How far an authorisation reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The score and its grade.
    Score,
    /// The grade only.
    Grade,
    /// Only whether the score is at least N.
    Threshold(i32),
}

/// Why a scope does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scope must be `score`, `grade` or `threshold:N` with N a whole number from 0 to 1000, not `{0}`")]
pub struct ScopeError(pub String);

impl Scope {
    /// Parses `score`, `grade` or `threshold:N` (0 ≤ N ≤ 1000, plain digits).
    pub fn parse(s: &str) -> Result<Scope, ScopeError> {
        let err = || ScopeError(s.chars().take(40).collect());
        match s {
            "score" => Ok(Scope::Score),
            "grade" => Ok(Scope::Grade),
            _ => {
                let n = s.strip_prefix("threshold:").ok_or_else(err)?;
                if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                let n: i32 = n.parse().map_err(|_| err())?;
                if n > MAX_SCORE || (n.to_string() != s["threshold:".len()..]) {
                    return Err(err());
                }
                Ok(Scope::Threshold(n))
            }
        }
    }

    /// Whether an answer in `wanted` stays within this scope: a score grant
    /// covers everything, a grade grant the grade, a threshold grant only
    /// its own N.
    pub fn covers(self, wanted: Scope) -> bool {
        match (self, wanted) {
            (Scope::Score, _) => true,
            (Scope::Grade, Scope::Grade) => true,
            (Scope::Threshold(a), Scope::Threshold(b)) => a == b,
            _ => false,
        }
    }

    /// Whether it is a threshold scope.
    pub fn is_threshold(self) -> bool {
        matches!(self, Scope::Threshold(_))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Score => f.write_str("score"),
            Scope::Grade => f.write_str("grade"),
            Scope::Threshold(n) => write!(f, "threshold:{n}"),
        }
    }
}

/// Whether a score meets threshold N (no score never does).
pub fn meets(score: Option<i32>, n: i32) -> bool {
    score.is_some_and(|s| s >= n)
}

/// What the rules need to know of one authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub scope: Scope,
    /// The last civil day it may be used.
    pub valid_until: Date,
    pub max_uses: Option<i64>,
    pub uses: i64,
    /// Unix seconds.
    pub created_at: i64,
    pub redeemed_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Where an authorisation stands, as its resident sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Granted; the code still waits to be redeemed.
    Pending,
    /// Redeemed and usable.
    Active,
    /// Past its last day, or its code was never redeemed in time.
    Expired,
    /// Revoked by the resident.
    Revoked,
    /// Every use it allowed is spent.
    Exhausted,
}

impl Status {
    /// The status as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
            Status::Exhausted => "exhausted",
        }
    }
}

/// Why a party is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Refusal {
    #[error("the authorisation has expired")]
    Expired,
    #[error("the resident revoked the authorisation")]
    Revoked,
    #[error("every use the authorisation allowed is spent")]
    Exhausted,
    #[error("the answer asked for is beyond the authorisation's scope")]
    ScopeExceeded,
    #[error("no such authorisation for this party")]
    NotFound,
    #[error("the code was already redeemed")]
    AlreadyRedeemed,
}

impl Grant {
    /// Where it stands at `now` on civil day `today`. Revocation outranks
    /// everything, then expiry, then spent uses.
    pub fn status(&self, now: i64, today: Date) -> Status {
        if self.revoked_at.is_some() {
            Status::Revoked
        } else if today > self.valid_until
            || (self.redeemed_at.is_none() && now > self.created_at + CODE_TTL_SECS)
        {
            Status::Expired
        } else if self.max_uses.is_some_and(|m| self.uses >= m) {
            Status::Exhausted
        } else if self.redeemed_at.is_none() {
            Status::Pending
        } else {
            Status::Active
        }
    }

    /// Whether it still counts against the resident's grants (pending or active).
    pub fn live(&self, now: i64, today: Date) -> bool {
        matches!(self.status(now, today), Status::Pending | Status::Active)
    }

    /// Whether its code may be redeemed now.
    pub fn check_redeem(&self, now: i64, today: Date) -> Result<(), Refusal> {
        if self.redeemed_at.is_some() {
            return Err(Refusal::AlreadyRedeemed);
        }
        match self.status(now, today) {
            Status::Pending => Ok(()),
            Status::Revoked => Err(Refusal::Revoked),
            Status::Exhausted => Err(Refusal::Exhausted),
            Status::Expired | Status::Active => Err(Refusal::Expired),
        }
    }

    /// Whether the holder may have an answer in `wanted` now (one use).
    pub fn check_use(&self, wanted: Scope, now: i64, today: Date) -> Result<(), Refusal> {
        match self.status(now, today) {
            Status::Active => {}
            Status::Pending => return Err(Refusal::NotFound),
            Status::Revoked => return Err(Refusal::Revoked),
            Status::Expired => return Err(Refusal::Expired),
            Status::Exhausted => return Err(Refusal::Exhausted),
        }
        if self.scope.covers(wanted) {
            Ok(())
        } else {
            Err(Refusal::ScopeExceeded)
        }
    }
}

/// Why a grant is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("valid_until {0} is in the past")]
    ValidUntilPast(Date),
    #[error("valid_until {0} is more than {MAX_VALIDITY_DAYS} days away")]
    ValidUntilTooFar(Date),
    #[error("max_uses must be from 1 to {MAX_USES}, not {0}")]
    MaxUses(i64),
    #[error("the purpose `{0}` is not one this party declared")]
    PurposeNotDeclared(String),
    #[error("this party already holds a live threshold authorisation from you; revoke it first (one threshold at a time, so no one can narrow down your score)")]
    ThresholdHeld,
    #[error("you made {MAX_GRANTS_PER_WINDOW} authorisations to this party in the last 24 hours; try again later")]
    TooManyGrants,
}

/// Whether a resident may grant `scope` until `valid_until` with
/// `max_uses`, given their other grants to the same party (`others`, any
/// state) at `now` on `today`.
pub fn check_grant(
    scope: Scope,
    valid_until: Date,
    max_uses: Option<i64>,
    others: &[Grant],
    now: i64,
    today: Date,
) -> Result<(), GrantError> {
    if valid_until < today {
        return Err(GrantError::ValidUntilPast(valid_until));
    }
    let last = today
        .checked_add(MAX_VALIDITY_DAYS.days())
        .unwrap_or(Date::MAX);
    if valid_until > last {
        return Err(GrantError::ValidUntilTooFar(valid_until));
    }
    if let Some(m) = max_uses {
        if !(1..=MAX_USES).contains(&m) {
            return Err(GrantError::MaxUses(m));
        }
    }
    let recent = others
        .iter()
        .filter(|g| g.created_at > now - GRANT_WINDOW_SECS)
        .count();
    if recent >= MAX_GRANTS_PER_WINDOW as usize {
        return Err(GrantError::TooManyGrants);
    }
    if scope.is_threshold()
        && others
            .iter()
            .any(|g| g.scope.is_threshold() && g.live(now, today))
    {
        return Err(GrantError::ThresholdHeld);
    }
    Ok(())
}

/// A one-time code as typed: upper-cased, spaces and hyphens dropped; `None`
/// unless it is [`CODE_LEN`] characters of [`CODE_ALPHABET`].
pub fn normalise_code(s: &str) -> Option<String> {
    if s.len() > 32 {
        return None;
    }
    let c: String = s
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// A code from random bytes: each byte below 248 (8 × 31, so every
/// character is equally likely) picks a character; others are skipped.
/// `None` if the bytes ran out first.
pub fn code_from_random(bytes: &[u8]) -> Option<String> {
    let limit = (256 / CODE_ALPHABET.len() * CODE_ALPHABET.len()) as u8;
    let code: String = bytes
        .iter()
        .filter(|b| **b < limit)
        .take(CODE_LEN)
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

#[cfg(test)]
#[path = "authorisation_tests.rs"]
mod tests;
