//! ID tokens already verified: a resident's next requests with the same
//! token skip the signature check (70–400 µs a token on this machine, more
//! than the rest of an own-score read). An entry is keyed by the SHA-256 of
//! the whole token and lives until the token expires (plus the leeway), and
//! at most [`MAX_AGE_SECONDS`], so a key withdrawn from the provider's key
//! set stops being honoured within that time. The cache holds at most
//! [`MAX_ENTRIES`]; when full, expired entries go, and if none had expired,
//! all of them (re-verifying is only slower, never wrong).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::ResidentClaims;

/// Longest an entry is trusted without verifying the token again.
pub const MAX_AGE_SECONDS: i64 = 300;
/// Most entries held.
pub const MAX_ENTRIES: usize = 100_000;

struct Entry {
    claims: ResidentClaims,
    /// Unix seconds after which the entry is not used.
    until: i64,
}

/// Verified tokens by digest.
#[derive(Default)]
pub(super) struct Verified {
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

/// The digest a token is cached under.
pub(super) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Verified {
    /// The claims of a token verified before and still within its time.
    pub(super) fn get(&self, key: &[u8; 32], now: i64) -> Option<ResidentClaims> {
        let map = self.map.lock().ok()?;
        map.get(key)
            .filter(|e| now <= e.until)
            .map(|e| e.claims.clone())
    }

    /// Remembers a verified token whose `exp` is `exp` (with `leeway` seconds).
    pub(super) fn put(
        &self,
        key: [u8; 32],
        claims: &ResidentClaims,
        exp: i64,
        leeway: i64,
        now: i64,
    ) {
        let until = (exp + leeway).min(now + MAX_AGE_SECONDS);
        if until < now {
            return;
        }
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| now <= e.until);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            key,
            Entry {
                claims: claims.clone(),
                until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> ResidentClaims {
        ResidentClaims {
            id_number: chengxin_domain::IdNumber::parse("11010519491231002X").unwrap(),
            name: None,
            issuer: "https://idp.example".into(),
        }
    }

    #[test]
    fn entries_end_with_the_token_or_after_five_minutes() {
        let c = Verified::default();
        let k = digest("a.b.c");
        c.put(k, &claims(), 1_000, 60, 900);
        assert_eq!(c.get(&k, 1_060), Some(claims()));
        assert_eq!(c.get(&k, 1_061), None, "expired, leeway included");
        c.put(k, &claims(), 100_000, 60, 1_000);
        assert!(c.get(&k, 1_300).is_some());
        assert_eq!(c.get(&k, 1_301), None, "trusted at most five minutes");
        assert_eq!(c.get(&digest("a.b.d"), 1_000), None);
        c.put(k, &claims(), 10, 60, 1_000);
        assert_eq!(
            c.get(&k, 1_000).map(|_| ()),
            Some(()),
            "the older entry stays"
        );
    }
}
