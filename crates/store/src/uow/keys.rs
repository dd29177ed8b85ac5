//! Data-key rotation.

use chengxin_domain::IdNumber;

use crate::Result;

/// A person to re-encrypt in a key rotation: what the current key opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToRotate {
    pub person_id: i64,
    pub id_number: IdNumber,
    pub name: Option<String>,
}

/// A record whose content hash is still to be computed under the next key's
/// blind index of its person (`id_index_next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToRehash {
    pub record_id: i64,
    pub item: String,
    /// Canonical JSON.
    pub fields: String,
    pub next_index: Vec<u8>,
}

/// Key rotation: the next key recorded, people and records given their
/// values under it beside the current ones, then one switch-over (see
/// `chengxin_jobs::keys`). The next key is the one the store was opened
/// with beside the current one ([`crate::DataKeys::next`]).
pub trait KeysWrite {
    /// The rotation in progress, if any.
    fn rotation(&mut self) -> Result<Option<crate::binding::NextKey>>;
    /// Records the store's next key as the key this database moves to
    /// (`key_file`: where the operator keeps it, for messages). A rotation
    /// already recorded is kept (the store refused to open with another).
    fn start_rotation(&mut self, key_file: Option<&str>) -> Result<()>;
    /// Up to `limit` people without a next index yet, in id order, their
    /// identity opened with the current key.
    fn people_to_rotate(&mut self, limit: usize) -> Result<Vec<ToRotate>>;
    /// Stores each person's next blind index and identity encrypted under
    /// the next key (bound to the next index): `(person, next index, ID
    /// number, name)`.
    fn set_next_identities(
        &mut self,
        rows: &[(i64, [u8; 32], &IdNumber, Option<&str>)],
    ) -> Result<()>;
    /// Up to `limit` records of people with a next index whose next content
    /// hash is missing, in id order.
    fn records_to_rehash(&mut self, limit: usize) -> Result<Vec<ToRehash>>;
    /// Stores next content hashes, `(record id, hash)`.
    fn set_next_hashes(&mut self, rows: &[(i64, Vec<u8>)]) -> Result<()>;
    /// People and records still without their next values.
    fn rotation_remaining(&mut self) -> Result<(u64, u64)>;
    /// If nothing remains, makes the next key current: the next values
    /// replace the current ones, the bound key becomes the next key, the old
    /// one is retired (refused from now on). `false`: rows remain.
    fn switch_keys(&mut self) -> Result<bool>;
}
