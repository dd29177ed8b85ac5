//! A resident's authorisations with each one's uses: who redeemed it, who
//! read under it and when (from the audit log, like the access log), for
//! the portal's authorisations page.

use serde::Serialize;

use crate::authorisations::{self, OwnAuthorisation};
use crate::resident::Resident;
use crate::{Context, JobError};

/// Most audit entries read for the uses.
const MAX_ENTRIES: usize = 1_000;

/// One use of an authorisation by its party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Use {
    /// RFC 3339.
    pub at: String,
    /// The party's code.
    pub party: String,
    /// `redeemed`, `used` or `use_refused`.
    pub kind: String,
    /// What the use was for (`result`, `certificate`, a scenario), if said.
    pub use_for: Option<String>,
}

/// An authorisation and its uses, newest use first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithUses {
    pub authorisation: OwnAuthorisation,
    pub uses: Vec<Use>,
}

/// The resident's authorisations (the same audited read as
/// [`authorisations::list`]) with their uses.
pub fn list_with_uses(
    ctx: &Context,
    resident: Resident<'_>,
    now: jiff::Timestamp,
) -> Result<Vec<WithUses>, JobError> {
    let list = authorisations::list(ctx, resident, now)?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    ctx.store.seal_audit()?;
    let index = resident.index(ctx);
    let entries = ctx.store.snapshot()?.person_audit(
        &chengxin_store::person_ref(&index),
        &resident.actor(ctx),
        MAX_ENTRIES,
    )?;
    Ok(list
        .into_iter()
        .map(|a| {
            let subject = format!("authorisation:{}", a.id);
            let mut uses: Vec<Use> = entries
                .iter()
                .filter(|e| e.event.subject.as_deref() == Some(subject.as_str()))
                .filter_map(|e| {
                    let kind = e.event.action.strip_prefix("authorisation.")?;
                    let party = e.event.actor.strip_prefix("party:")?;
                    matches!(kind, "redeemed" | "used" | "use_refused").then(|| Use {
                        at: e.at.clone(),
                        party: party.to_owned(),
                        kind: kind.to_owned(),
                        use_for: e
                            .event
                            .detail
                            .get("use_for")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned),
                    })
                })
                .collect();
            uses.sort_by(|x, y| y.at.cmp(&x.at));
            WithUses {
                authorisation: a,
                uses,
            }
        })
        .collect())
}
