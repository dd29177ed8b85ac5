//! Cooperating units (协同单位): creation, API keys (stored only as hashes),
//! rotation, disabling, and authenticating a request's key.

use serde::Serialize;

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

/// Creates a unit and returns it with its new API key (shown once).
pub fn add_unit(ctx: &Context, code: &str, name: &str, items: &[String], actor: &str) -> Result<(Unit, String), JobError> {
    let _ = (ctx, code, name, items, actor);
    todo!("units")
}

/// All units.
pub fn list_units(ctx: &Context) -> Result<Vec<Unit>, JobError> {
    let _ = ctx;
    todo!("units")
}

/// Replaces a unit's key; the old key stops working at once. Returns the new key.
pub fn rotate_key(ctx: &Context, code: &str, actor: &str) -> Result<String, JobError> {
    let _ = (ctx, code, actor);
    todo!("units")
}

/// Disables a unit: its key stops working.
pub fn disable_unit(ctx: &Context, code: &str, actor: &str) -> Result<(), JobError> {
    let _ = (ctx, code, actor);
    todo!("units")
}

/// The enabled unit holding this key, if any.
pub fn authenticate(ctx: &Context, key: &str) -> Result<Option<Unit>, JobError> {
    let _ = (ctx, key);
    todo!("units")
}
