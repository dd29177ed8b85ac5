//! Evidence content at rest, the same on every backend: encrypted with the
//! data key (evidence is personal data), addressed by the SHA-256 of the
//! plaintext (bound to that address as associated data), and checked
//! against that hash when read back.

use sha2::{Digest, Sha256};

use crate::crypto::{DataKeys, Kind};
use crate::{Result, StoreError};

/// The stored form of `content`.
pub(crate) fn seal(keys: &DataKeys, content: &[u8]) -> Vec<u8> {
    keys.encrypt(Kind::Evidence, &Sha256::digest(content), content)
}

/// The content of a stored file, refused unless it hashes to `sha256`.
pub(crate) fn open(keys: &DataKeys, sha256: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
    let content = keys.decrypt(Kind::Evidence, sha256, stored)?;
    if Sha256::digest(&content).as_slice() != sha256 {
        return Err(StoreError::Corrupt(format!(
            "evidence file {} does not match its hash",
            hex::encode(sha256)
        )));
    }
    Ok(content)
}
