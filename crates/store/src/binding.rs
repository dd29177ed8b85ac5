//! Which keys a database belongs to. The first process to open a new,
//! empty database records its data key's id and check value and the audit
//! key's public half (`key_binding`); every later process compares its keys
//! with them and refuses to start on a mismatch, so a lost or swapped key
//! file can never fork identities (a new key would find no one and create
//! everyone again) or re-sign the audit log.

use base64::Engine as _;

use crate::crypto::{DataKeys, Kind};
use crate::{Result, StoreError};

/// The keys recorded in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Hex of the data key's id.
    pub data_key_id: String,
    /// Hex of the data key's check value.
    pub data_key_check: String,
    /// Base64 of the audit key's public half.
    pub audit_public_key: String,
}

impl Binding {
    /// What `keys` would record.
    pub fn of(keys: &DataKeys) -> Result<Binding> {
        let audit = crate::audit_key(keys)?;
        Ok(Binding {
            data_key_id: hex::encode(keys.key_id()),
            data_key_check: hex::encode(keys.check_value()),
            audit_public_key: base64::engine::general_purpose::STANDARD
                .encode(audit.verifying_key().as_bytes()),
        })
    }
}

/// What a database says about its keys, read before any key is loaded.
#[derive(Debug, Clone, Default)]
pub struct KeyState {
    /// The recorded keys (none: a new database, or one from before keys
    /// were recorded).
    pub bound: Option<Binding>,
    /// No person, unit or audit entry yet.
    pub empty: bool,
    /// One person's blind index and encrypted ID number, to try a key on a
    /// database from before keys were recorded.
    pub sample: Option<(Vec<u8>, Vec<u8>)>,
    /// A key rotation in progress: the key the database is moving to.
    pub rotation: Option<NextKey>,
    /// Keys this database belonged to before a rotation.
    pub retired: Vec<RetiredKey>,
}

/// The key a rotation in progress moves to (`key_rotation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextKey {
    /// Hex of its id.
    pub key_id: String,
    /// Hex of its check value.
    pub key_check: String,
    /// Where the operator said it is kept, for messages.
    pub key_file: Option<String>,
}

/// A key retired by a rotation (`retired_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredKey {
    /// Hex of its id.
    pub key_id: String,
    /// Hex of the key that replaced it.
    pub successor_id: String,
    /// Where the operator said the successor is kept.
    pub successor_file: Option<String>,
}

impl KeyState {
    /// A missing data key file may be created: the database is new and empty.
    pub fn new_database(&self) -> bool {
        self.bound.is_none() && self.empty
    }

    /// A missing audit key file may be created: the database has none yet.
    pub fn no_audit_key(&self) -> bool {
        self.bound.is_none()
    }
}

/// Where the keys came from, for messages.
#[derive(Debug, Clone)]
pub struct KeyOrigin {
    /// e.g. `data key file /var/lib/chengxin/chengxin.db.key`.
    pub data: String,
    /// e.g. `audit key file /etc/chengxin/audit.key`.
    pub audit: String,
}

/// Loads the keys once the database's state is known.
pub type KeyLoader<'a> = Box<dyn FnOnce(&KeyState) -> Result<(DataKeys, KeyOrigin)> + 'a>;

/// A loader for keys already in hand.
pub fn given(keys: DataKeys) -> KeyLoader<'static> {
    Box::new(move |_| {
        Ok((
            keys,
            KeyOrigin {
                data: "the data key given".into(),
                audit: "the audit key given".into(),
            },
        ))
    })
}

/// Checks `keys` against the database. Returns the binding to record when
/// the database has none yet.
pub(crate) fn check(
    state: &KeyState,
    keys: &DataKeys,
    origin: &KeyOrigin,
) -> Result<Option<Binding>> {
    let mine = Binding::of(keys)?;
    let Some(bound) = &state.bound else {
        if let Some((index, cipher)) = &state.sample {
            keys.decrypt(Kind::IdNumber, index, cipher).map_err(|_| {
                StoreError::Key(format!(
                    "the data key from {} does not open this database's data: use the key it was created with",
                    origin.data
                ))
            })?;
        }
        return Ok(Some(mine));
    };
    if let Some(old) = state.retired.iter().find(|r| r.key_id == mine.data_key_id) {
        return Err(StoreError::Key(format!(
            "{} holds data key {}, which this database no longer accepts (a different key): it was rotated to data key {}{}; use that key's file",
            origin.data,
            old.key_id,
            bound.data_key_id,
            old.successor_file
                .as_deref()
                .map(|f| format!(" (key file {f})"))
                .unwrap_or_default()
        )));
    }
    if bound.data_key_id != mine.data_key_id || bound.data_key_check != mine.data_key_check {
        return Err(StoreError::Key(format!(
            "this database belongs to data key {} but {} holds data key {}: use the data key file this database was created with (a new key would fork every identity)",
            bound.data_key_id, origin.data, mine.data_key_id
        )));
    }
    if bound.audit_public_key != mine.audit_public_key {
        return Err(StoreError::Key(format!(
            "this database's audit log is signed by audit key {} but {} holds audit key {}: use the audit key file this database was created with",
            bound.audit_public_key, origin.audit, mine.audit_public_key
        )));
    }
    match (&state.rotation, keys.next()) {
        (Some(next), Some(given))
            if next.key_id != hex::encode(given.key_id())
                || next.key_check != hex::encode(given.check_value()) =>
        {
            return Err(StoreError::Key(format!(
                "this database is being rotated to data key {}{} but the next key given is data key {}: finish the rotation with the key it started with",
                next.key_id,
                next.key_file.as_deref().map(|f| format!(" (key file {f})")).unwrap_or_default(),
                hex::encode(given.key_id())
            )));
        }
        (Some(next), None) => {
            return Err(StoreError::Key(format!(
                "this database is being rotated to data key {}{}: give that key too (CHENGXIN_DATA_KEY_NEXT_FILE)",
                next.key_id,
                next.key_file.as_deref().map(|f| format!(" (key file {f})")).unwrap_or_default(),
            )));
        }
        _ => {}
    }
    Ok(None)
}
