//! A resident's own data, read by the resident (第十七条: free real-name
//! self-query). Every read is audited with the resident as the actor.

use chengxin_domain::record::PersonInput;
use chengxin_domain::IdNumber;

use crate::{Context, JobError};

/// The audit actor for a signed-in resident: `resident:` and the hex of
/// their blind index, so the log never holds their ID number in clear.
pub fn resident_actor(ctx: &Context, id: &IdNumber) -> String {
    crate::own::actor(&ctx.store.keys().blind_index(id.as_str().as_bytes()))
}

/// What `GET /me` answers: who the resident is and whether they have a score.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    /// In full: it is their own.
    pub id_number: String,
    /// The stored name, else the one their identity provider gave.
    pub name: Option<String>,
    pub eligible: bool,
    /// Why they have no score (empty when eligible).
    pub reasons: Vec<chengxin_domain::engine::Reason>,
    /// Whether the platform holds anything about them.
    #[serde(skip)]
    pub known: bool,
}

/// The resident's profile as of today, under the model in force; the read
/// is audited (actor [`resident_actor`]) and durable before this returns.
///
/// A person the platform does not know is answered from their ID number
/// alone, with no records: the engine then finds them `NOT_RESIDENT` (no
/// household registration or residence permit is on file), and also
/// `UNDER_18` when their birth date says so. Nothing is stored about them
/// but the audit entry of the read.
pub fn profile(
    ctx: &Context,
    id: &IdNumber,
    token_name: Option<&str>,
    request_id: Option<&str>,
) -> Result<Profile, JobError> {
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let today = crate::today();
    let (person_id, name, eval) = {
        let mut tx = ctx.store.snapshot()?;
        let scorer = ctx.active(&mut *tx)?;
        let found = match tx.find_person(&index)? {
            Some(pid) => tx
                .load_people(&[pid], &scorer.model.version)?
                .pop()
                .map(|raw| (pid, raw)),
            None => None,
        };
        match found {
            Some((pid, raw)) => {
                let name = tx.identity(pid)?.and_then(|i| i.name);
                let input = scorer.decode(&raw);
                let e = scorer.engine.evaluate(&input, today);
                (Some(pid), name, (e.eligible, e.reasons))
            }
            None => {
                let input = PersonInput {
                    birth_date: id.birth_date(),
                    records: Vec::new(),
                };
                let e = scorer.engine.evaluate(&input, today);
                (None, None, (e.eligible, e.reasons))
            }
        }
    };
    crate::audit::record_read_of(
        ctx,
        &resident_actor(ctx, id),
        &index,
        person_id,
        request_id,
        "own profile (GET /me)",
    )?;
    Ok(Profile {
        id_number: id.as_str().to_owned(),
        name: name.or_else(|| token_name.map(str::to_owned)),
        eligible: eval.0,
        reasons: eval.1,
        known: person_id.is_some(),
    })
}

/// The name stored for the person with this ID number, if any.
pub fn stored_name(ctx: &Context, id: &IdNumber) -> Result<Option<String>, JobError> {
    let index = ctx.store.keys().blind_index(id.as_str().as_bytes());
    let mut tx = ctx.store.read()?;
    Ok(match tx.find_person(&index)? {
        Some(pid) => tx.identity(pid)?.and_then(|i| i.name),
        None => None,
    })
}

/// A synthetic resident the demo identity provider offers to sign in as.
#[derive(Debug, Clone)]
pub struct DemoResident {
    pub id_number: IdNumber,
    pub name: Option<String>,
    pub eligible: bool,
}

/// Up to `n` residents for the demo identity provider's login page: the
/// first people by id, eligible ones first. Only `serve --demo` calls this;
/// it is not an audited read of anyone's data beyond who exists.
pub fn demo_residents(ctx: &Context, n: usize) -> Result<Vec<DemoResident>, JobError> {
    let today = crate::today();
    let mut tx = ctx.store.snapshot()?;
    let scorer = ctx.active(&mut *tx)?;
    // Ids are assigned from 1; a few may be missing (rolled back), so look
    // at a few times as many as wanted.
    let ids: Vec<i64> = (1..=(4 * n as i64).max(16)).collect();
    let mut out = Vec::new();
    for raw in tx.load_people(&ids, &scorer.model.version)? {
        let Some(who) = tx.identity(raw.id)? else {
            continue;
        };
        let input = scorer.decode(&raw);
        out.push(DemoResident {
            id_number: who.id_number,
            name: who.name,
            eligible: scorer.engine.evaluate(&input, today).eligible,
        });
    }
    out.sort_by_key(|r| !r.eligible);
    out.truncate(n);
    Ok(out)
}
