//! What a party does with a redeemed authorisation besides reading its
//! answer: have a certificate signed, or check one 信易+ scenario. Each is
//! one use, checked, counted and audited exactly like a result (see
//! [`authorisations::checked_use`]), and never reveals more than the grant:
//! a certificate states the grade (under a `score` or `grade` grant) or the
//! granted threshold; a scenario's eligibility is within a grant only if it
//! says no more than the grant would (a minimum grade needs the grade, a
//! minimum score N needs `score` or exactly `threshold:N`).

use chengxin_domain::authorisation::Scope;
use chengxin_domain::scenario::Threshold;
use jiff::Timestamp;

use crate::authorisations::{checked_use, civil_day, AuthError, Use};
use crate::certificates::{self, Ask, CertError, Issued};
use crate::parties::Party;
use crate::scenarios::{self, ScenarioError};
use crate::uow::write;
use crate::Context;

/// Why a party's use failed.
#[derive(Debug, thiserror::Error)]
pub enum PartyUseError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

impl From<crate::JobError> for PartyUseError {
    fn from(e: crate::JobError) -> Self {
        PartyUseError::Auth(AuthError::Job(e))
    }
}

/// A certificate for authorisation `id`: the grade under a `score` or
/// `grade` grant, the granted threshold's answer under `threshold:N`. The use
/// is counted before signing (a person without a score still spends it: the
/// party learned that much).
pub fn certificate(
    ctx: &Context,
    party: &Party,
    id: i64,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<Issued, PartyUseError> {
    let used = Use {
        party,
        id,
        request_id,
        now,
        what: "certificate",
    };
    let (row, scope) = write(&*ctx.store, |tx| {
        checked_use(tx, &used, |grant| {
            Ok(match grant.scope {
                Scope::Threshold(n) => Scope::Threshold(n),
                Scope::Score | Scope::Grade => Scope::Grade,
            })
        })
    })?
    .map_err(PartyUseError::Auth)?;
    let ask = match scope {
        Scope::Threshold(n) => Ask::Threshold(n),
        Scope::Score | Scope::Grade => Ask::Grade,
    };
    Ok(certificates::issue(
        ctx,
        row.person_id,
        &party.code,
        ask,
        now.as_second(),
    )?)
}

/// Whether the resident of authorisation `id` qualifies for scenario `code`
/// today. A scenario not offered today is not found, before any use is
/// counted; one that would say more than the grant is `scope_exceeded`.
pub fn scenario(
    ctx: &Context,
    party: &Party,
    id: i64,
    code: &str,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<bool, PartyUseError> {
    let today = civil_day(now);
    let offered = scenarios::offered(ctx, today)?;
    let Some(s) = offered.iter().find(|s| s.scenario.code == code) else {
        return Err(ScenarioError::NotFound(code.to_owned()).into());
    };
    let needs = match &s.scenario.threshold {
        Threshold::Grade(_) => Scope::Grade,
        Threshold::Score(n) => Scope::Threshold(*n),
    };
    let used = Use {
        party,
        id,
        request_id,
        now,
        what: "scenario",
    };
    write(&*ctx.store, |tx| {
        let (row, _) = match checked_use(tx, &used, |_| Ok(needs))? {
            Ok(v) => v,
            Err(e) => return Ok(Err(PartyUseError::Auth(e))),
        };
        Ok(scenarios::eligible(ctx, tx, row.person_id, code, today).map_err(PartyUseError::from))
    })?
}
