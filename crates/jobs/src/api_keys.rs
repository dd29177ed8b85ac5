//! API keys of units and parties: random, prefixed so a leaked key says
//! whose it is, stored only as a SHA-256 hash, and compared in constant time.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Longest key looked up at all.
pub(crate) const MAX_KEY_LEN: usize = 128;

/// A fresh random key: `prefix` then 256 bits, URL-safe base64.
pub(crate) fn new_key(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Keys are long and random, so a plain SHA-256 is enough (no password
/// stretching needed).
pub(crate) fn key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Whether `key` could be one of ours with `prefix` (checked before any look-up).
pub(crate) fn plausible(key: &str, prefix: &str) -> bool {
    key.starts_with(prefix) && key.len() <= MAX_KEY_LEN
}

/// Whether `stored` is the hash of `key`, in time independent of where they differ.
pub(crate) fn matches(stored: &[u8], key: &str) -> bool {
    constant_time_eq(stored, &key_hash(key))
}

/// Byte equality whose time depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A code of the one-time kind (a party's redemption code): hashed as keys are.
pub(crate) fn code_hash(code: &str) -> Vec<u8> {
    key_hash(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_match_only_themselves() {
        let (a, b) = (new_key("cxp_"), new_key("cxp_"));
        assert_ne!(a, b);
        assert!(plausible(&a, "cxp_") && !plausible(&a, "cxu_"));
        assert!(matches(&key_hash(&a), &a));
        assert!(!matches(&key_hash(&a), &b));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
