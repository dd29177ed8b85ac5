//! Authorised parties (授权主体, 第十六条): banks, merchants, transport
//! operators and government bodies (第十九条: incentive purposes only) with
//! the purposes they declare; creation, API keys (stored only as hashes,
//! compared in constant time), rotation, disabling, and authenticating a
//! request's key. Keys work as units' keys do ([`crate::api_keys`]).

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::party::{declared_purposes, PartyKind, Purpose};
use chengxin_store::uow::{NewParty, PartyRow};
use serde::Serialize;

use crate::api_keys::{self, key_hash};
use crate::uow::write;
use crate::{Context, JobError};

/// Prefix of every party API key, so a leaked key is recognisable.
const KEY_PREFIX: &str = "cxp_";

/// A party as others see it (never with its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Our id of the party (authorisations name it).
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `bank`, `merchant`, `transport`, `government`.
    pub kind: String,
    /// The purpose codes it declared.
    pub purposes: Vec<String>,
    pub disabled: bool,
}

impl From<PartyRow> for Party {
    fn from(p: PartyRow) -> Self {
        Party {
            id: p.id,
            code: p.code,
            name: p.name,
            kind: p.kind,
            purposes: p.purposes,
            disabled: p.disabled,
        }
    }
}

impl Party {
    /// Whether it declared `purpose`.
    pub fn declared(&self, purpose: Purpose) -> bool {
        self.purposes.iter().any(|p| p == purpose.code())
    }

    /// Its audit actor: `party:CODE`.
    pub fn actor(&self) -> String {
        format!("party:{}", self.code)
    }
}

fn party_event(actor: &str, action: &str, code: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: Some(format!("party:{code}")),
        person: None,
        request_id: None,
        detail,
    }
}

/// Creates a party and returns it with its new API key (shown once).
pub fn add_party(
    ctx: &Context,
    code: &str,
    name: &str,
    kind: &str,
    purposes: &[String],
    actor: &str,
) -> Result<(Party, String), JobError> {
    crate::units::check_code("party", code)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(JobError::Invalid(
            "a party needs a name of 1–100 characters".into(),
        ));
    }
    let kind = PartyKind::parse(kind).ok_or_else(|| {
        JobError::Invalid(format!(
            "party kind `{kind}` must be bank, merchant, transport or government"
        ))
    })?;
    let codes: Vec<&str> = purposes.iter().map(String::as_str).collect();
    let purposes: Vec<String> = declared_purposes(kind, &codes)
        .map_err(|e| JobError::Invalid(e.to_string()))?
        .into_iter()
        .map(|p| p.code().to_owned())
        .collect();
    let key = api_keys::new_key(KEY_PREFIX);
    let now = jiff::Timestamp::now().as_second();
    let created = write(&*ctx.store, |tx| {
        let row = NewParty {
            code,
            name,
            kind: kind.as_str(),
            purposes: &purposes,
            created_at: now,
        };
        if !tx.insert_party(&row, &key_hash(&key))? {
            return Ok(None);
        }
        let detail = serde_json::json!({"name": name, "kind": kind.as_str(), "purposes": purposes});
        tx.append_audit(vec![party_event(actor, "party.created", code, detail)]);
        Ok(tx.party_by_code(code)?)
    })?;
    match created {
        Some(row) => Ok((row.into(), key)),
        None => Err(JobError::Invalid(format!("party {code} already exists"))),
    }
}

/// All parties, by code.
pub fn list_parties(ctx: &Context) -> Result<Vec<Party>, JobError> {
    Ok(ctx
        .store
        .read()?
        .parties()?
        .into_iter()
        .map(Party::from)
        .collect())
}

/// Replaces a party's key; the old key stops working at once. Returns the new key.
pub fn rotate_key(ctx: &Context, code: &str, actor: &str) -> Result<String, JobError> {
    let key = api_keys::new_key(KEY_PREFIX);
    let found = write(&*ctx.store, |tx| {
        let found = tx.set_party_key(code, &key_hash(&key))?;
        if found {
            let event = party_event(actor, "party.key_rotated", code, serde_json::json!({}));
            tx.append_audit(vec![event]);
        }
        Ok(found)
    })?;
    if !found {
        return Err(JobError::Invalid(format!("there is no party {code}")));
    }
    Ok(key)
}

/// Disables a party: its key stops working, and with it every authorisation.
pub fn disable_party(ctx: &Context, code: &str, actor: &str) -> Result<(), JobError> {
    let found = write(&*ctx.store, |tx| {
        let found = tx.disable_party(code)?;
        if found {
            let event = party_event(actor, "party.disabled", code, serde_json::json!({}));
            tx.append_audit(vec![event]);
        }
        Ok(found)
    })?;
    if !found {
        return Err(JobError::Invalid(format!("there is no party {code}")));
    }
    Ok(())
}

/// The enabled party holding this key, if any. The stored hash is compared
/// with the key's in constant time.
pub fn authenticate(ctx: &Context, key: &str) -> Result<Option<Party>, JobError> {
    if !api_keys::plausible(key, KEY_PREFIX) {
        return Ok(None);
    }
    Ok(ctx
        .store
        .read()?
        .party_by_key(&key_hash(key))?
        .filter(|(p, stored)| !p.disabled && api_keys::matches(stored, key))
        .map(|(p, _)| Party::from(p)))
}
