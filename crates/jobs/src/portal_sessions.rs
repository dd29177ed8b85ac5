//! Residents' portal sessions. The session is the resident's verified ID
//! token, held in an HttpOnly cookie and verified on every request; signing
//! out lists the token's hash until the token expires, so a copy of the
//! cookie stops working at once instead of at the token's expiry.

use chengxin_domain::audit::AuditEvent;
use sha2::{Digest, Sha256};

use crate::resident::Resident;
use crate::uow::write;
use crate::{Context, JobError};

fn token_hash(id_token: &str) -> [u8; 32] {
    Sha256::digest(id_token.as_bytes()).into()
}

/// Whether the portal session holding `id_token` was signed out.
pub fn signed_out(ctx: &Context, id_token: &str) -> Result<bool, JobError> {
    Ok(ctx
        .store
        .read()?
        .resident_signed_out(&token_hash(id_token))?)
}

/// Signs `resident` out of the portal session holding `id_token` (verified,
/// expiring at `expires_at`, Unix seconds), audited as the resident's act.
pub fn sign_out(
    ctx: &Context,
    resident: Resident<'_>,
    id_token: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), JobError> {
    let hash = token_hash(id_token);
    let event = AuditEvent {
        actor: resident.actor(ctx),
        action: "resident.signed_out".into(),
        subject: None,
        person: Some(chengxin_store::person_ref(&resident.index(ctx))),
        request_id: resident.request_id.map(str::to_owned),
        detail: serde_json::json!({ "session": "portal" }),
    };
    write(&*ctx.store, |tx| {
        tx.sign_out_resident(&hash, expires_at, now)?;
        tx.append_audit(vec![event.clone()]);
        Ok(())
    })
}
