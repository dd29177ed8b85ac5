//! Cooperating units (协同单位): creation, API keys (stored only as hashes),
//! rotation, disabling, and authenticating a request's key.

use chengxin_store::{Cause, UnitRow};
use serde::Serialize;

use crate::api_keys::{self, key_hash};

use crate::audit_events::unit_event;
use crate::uow::{write, Change};
use crate::{Context, JobError};

/// A cooperating unit as others see it (never with its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// Catalogue items the unit is responsible for.
    pub items: Vec<String>,
    pub disabled: bool,
}

impl From<UnitRow> for Unit {
    fn from(u: UnitRow) -> Self {
        Unit {
            code: u.code,
            name: u.name,
            items: u.items,
            disabled: u.disabled,
        }
    }
}

/// Prefix of every unit API key, so a leaked key is recognisable.
const KEY_PREFIX: &str = "cxu_";

fn new_key() -> String {
    api_keys::new_key(KEY_PREFIX)
}

/// Checks the code of a unit or party (`what`): what the CLI and the audit log name it by.
pub(crate) fn check_code(what: &str, code: &str) -> Result<(), JobError> {
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(JobError::Invalid(format!(
            "{what} code `{code}` must be 1–32 of A–Z, 0–9, - and _"
        )))
    }
}

/// Creates a unit and returns it with its new API key (shown once).
pub fn add_unit(
    ctx: &Context,
    code: &str,
    name: &str,
    items: &[String],
    actor: &str,
) -> Result<(Unit, String), JobError> {
    check_code("unit", code)?;
    if name.trim().is_empty() {
        return Err(JobError::Invalid("a unit needs a name".into()));
    }
    if items.is_empty() {
        return Err(JobError::Invalid(
            "a unit needs at least one catalogue item (--items P01,S01)".into(),
        ));
    }
    for i in items {
        if ctx.catalogue().item(i).is_none() {
            return Err(JobError::Invalid(format!(
                "there is no catalogue item `{i}`"
            )));
        }
    }
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    let row = UnitRow {
        code: code.to_owned(),
        name: name.trim().to_owned(),
        items,
        disabled: false,
    };
    let key = new_key();
    let change = Change::request(Cause::Push, actor, None);
    let created = write(&*ctx.store, |tx| {
        if !tx.insert_unit(&row, &key_hash(&key))? {
            return Ok(false);
        }
        let detail = serde_json::json!({"name": row.name, "items": row.items});
        tx.append_audit(vec![unit_event(&change, "unit.created", &row.code, detail)]);
        Ok(true)
    })?;
    if !created {
        return Err(JobError::Invalid(format!("unit {code} already exists")));
    }
    Ok((row.into(), key))
}

/// All units.
pub fn list_units(ctx: &Context) -> Result<Vec<Unit>, JobError> {
    Ok(ctx
        .store
        .read()?
        .units()?
        .into_iter()
        .map(Unit::from)
        .collect())
}

/// Replaces a unit's key; the old key stops working at once. Returns the new key.
pub fn rotate_key(ctx: &Context, code: &str, actor: &str) -> Result<String, JobError> {
    let key = new_key();
    let change = Change::request(Cause::Push, actor, None);
    let found = write(&*ctx.store, |tx| {
        let found = tx.set_unit_key(code, &key_hash(&key))?;
        if found {
            let event = unit_event(&change, "unit.key_rotated", code, serde_json::json!({}));
            tx.append_audit(vec![event]);
        }
        Ok(found)
    })?;
    if !found {
        return Err(JobError::Invalid(format!("there is no unit {code}")));
    }
    Ok(key)
}

/// Disables a unit: its key stops working.
pub fn disable_unit(ctx: &Context, code: &str, actor: &str) -> Result<(), JobError> {
    let change = Change::request(Cause::Push, actor, None);
    let found = write(&*ctx.store, |tx| {
        let found = tx.disable_unit(code)?;
        if found {
            let event = unit_event(&change, "unit.disabled", code, serde_json::json!({}));
            tx.append_audit(vec![event]);
        }
        Ok(found)
    })?;
    if !found {
        return Err(JobError::Invalid(format!("there is no unit {code}")));
    }
    Ok(())
}

/// The enabled unit holding this key, if any.
pub fn authenticate(ctx: &Context, key: &str) -> Result<Option<Unit>, JobError> {
    if !api_keys::plausible(key, KEY_PREFIX) {
        return Ok(None);
    }
    Ok(ctx
        .store
        .read()?
        .unit_by_key(&key_hash(key))?
        .filter(|u| !u.disabled)
        .map(Unit::from))
}

/// Whether `key` still authenticates the enabled unit `code`, as this unit
/// of work sees it: a batch checks this before committing each chunk, so a
/// unit disabled (or a key rotated away) mid-batch stops at the next one.
pub(crate) fn still_authorised(
    tx: &mut dyn chengxin_store::WriteTx,
    key: &str,
    code: &str,
) -> Result<bool, JobError> {
    Ok(tx
        .unit_by_key(&key_hash(key))?
        .is_some_and(|u| !u.disabled && u.code == code))
}
