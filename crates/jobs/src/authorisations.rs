//! Residents' authorisations of parties (第十六、十七条): a resident grants a
//! party a purpose, a scope, a validity and perhaps a use count, and hands
//! over a one-time code; the party redeems it once, then asks for answers
//! within the scope. Each decision is the domain's
//! ([`chengxin_domain::authorisation`]); each use case is one unit of work,
//! so a use is counted, answered and audited together, and a revocation
//! holds from the party's very next request.

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::authorisation::{
    check_grant, code_from_random, meets, normalise_code, Grant, GrantError, Refusal, Scope, Status,
};
use chengxin_domain::party::Purpose;
use chengxin_store::uow::{AuthorisationRow, NewAuthorisation, PersonKey};
use chengxin_store::{person_ref, WriteTx};
use jiff::civil::Date;
use jiff::Timestamp;
use rand::RngCore;
use serde::Serialize;

use crate::api_keys::code_hash;
use crate::parties::Party;
use crate::resident::Resident;
use crate::uow::write;
use crate::{Context, JobError};

/// Why an authorisation use case refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("there is no party `{0}` (or it is disabled)")]
    UnknownParty(String),
    #[error("`{0}` is not a purpose this party declared")]
    PurposeNotDeclared(String),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for AuthError {
    fn from(e: chengxin_store::StoreError) -> Self {
        AuthError::Job(e.into())
    }
}

/// The civil day in Asia/Shanghai at `now`.
pub fn civil_day(now: Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

fn grant_of(row: &AuthorisationRow) -> Result<Grant, JobError> {
    let scope = Scope::parse(&row.scope)
        .map_err(|e| JobError::Invalid(format!("stored authorisation {}: {e}", row.id)))?;
    Ok(Grant {
        scope,
        valid_until: row.valid_until,
        max_uses: row.max_uses,
        uses: row.uses,
        created_at: row.created_at,
        redeemed_at: row.redeemed_at,
        revoked_at: row.revoked_at,
    })
}

fn purpose_label(code: &str) -> String {
    Purpose::parse(code).map_or_else(|| code.to_owned(), Purpose::label)
}

fn event(
    actor: &str,
    action: &str,
    id: Option<i64>,
    index: &[u8],
    request_id: Option<&str>,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: id.map(|id| format!("authorisation:{id}")),
        person: Some(person_ref(index)),
        request_id: request_id.map(str::to_owned),
        detail,
    }
}

/// What a resident asks to grant.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// The party's code.
    pub party: String,
    /// A purpose code the party declared.
    pub purpose: String,
    pub scope: Scope,
    pub valid_until: Date,
    pub max_uses: Option<i64>,
}

/// A new authorisation and its one-time code (shown to the resident once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub id: i64,
    pub code: String,
}

fn new_code() -> String {
    loop {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        if let Some(c) = code_from_random(&bytes) {
            return c;
        }
    }
}

/// Grants an authorisation at `now`. A refusal for holding a live
/// threshold grant, or for too many grants, is itself in the audit log as
/// the platform's (so the resident sees it in their access log).
pub fn grant(
    ctx: &Context,
    resident: Resident<'_>,
    req: &GrantRequest,
    now: Timestamp,
) -> Result<Granted, AuthError> {
    let today = civil_day(now);
    let at = now.as_second();
    let index = resident.index(ctx);
    let actor = resident.actor(ctx);
    let code = new_code();
    write(&*ctx.store, |tx| {
        let Some(party) = tx
            .party_by_code(&req.party)?
            .filter(|p| !p.disabled)
            .map(Party::from)
        else {
            return Ok(Err(AuthError::UnknownParty(req.party.clone())));
        };
        match Purpose::parse(&req.purpose) {
            Some(p) if party.declared(p) => {}
            _ => return Ok(Err(AuthError::PurposeNotDeclared(req.purpose.clone()))),
        }
        let person_id = tx.resolve_people(&[PersonKey {
            index,
            id_number: resident.id_number,
            name: resident.name,
        }])?[0];
        tx.lock_grants(person_id, party.id)?;
        let others = tx
            .authorisations_of(person_id)?
            .iter()
            .filter(|a| a.party_id == party.id)
            .map(grant_of)
            .collect::<Result<Vec<_>, _>>()?;
        if let Err(e) = check_grant(req.scope, req.valid_until, req.max_uses, &others, at, today) {
            if matches!(e, GrantError::ThresholdHeld | GrantError::TooManyGrants) {
                let why = match e {
                    GrantError::ThresholdHeld => "已持有门槛授权 a threshold grant is still live",
                    _ => "24小时内授权次数过多 too many grants in 24 hours",
                };
                let d = format!("{}（{}）：{} {why}", party.name, party.code, req.scope);
                tx.append_audit(vec![event(
                    crate::SYSTEM,
                    "authorisation.refused",
                    None,
                    &index,
                    resident.request_id,
                    serde_json::json!({"party": party.code, "scope": req.scope.to_string(), "purpose": d}),
                )]);
            }
            return Ok(Err(e.into()));
        }
        let scope = req.scope.to_string();
        let hash = code_hash(&code);
        let id = tx.insert_authorisation(&NewAuthorisation {
            person_id,
            party_id: party.id,
            purpose: &req.purpose,
            scope: &scope,
            valid_until: req.valid_until,
            max_uses: req.max_uses,
            code_hash: &hash,
            created_at: at,
        })?;
        tx.append_audit(vec![event(
            &actor,
            "authorisation.granted",
            Some(id),
            &index,
            resident.request_id,
            serde_json::json!({
                "party": party.code, "purpose": req.purpose, "scope": scope,
                "valid_until": req.valid_until.to_string(), "max_uses": req.max_uses,
            }),
        )]);
        Ok(Ok(Granted {
            id,
            code: code.clone(),
        }))
    })?
}

/// One of a resident's authorisations, as they see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnAuthorisation {
    pub id: i64,
    /// The party's code and name.
    pub party: String,
    pub party_name: String,
    pub purpose: String,
    pub scope: String,
    pub valid_until: Date,
    pub max_uses: Option<i64>,
    pub uses: i64,
    /// `pending`, `active`, `expired`, `revoked`, `exhausted`.
    pub status: &'static str,
    /// RFC 3339.
    pub created_at: String,
    pub redeemed_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The resident's authorisations, oldest first, each with its uses and
/// where it stands at `now`; the read is audited.
pub fn list(
    ctx: &Context,
    resident: Resident<'_>,
    now: Timestamp,
) -> Result<Vec<OwnAuthorisation>, JobError> {
    let today = civil_day(now);
    let (person, rows, parties) = {
        let mut tx = ctx.store.snapshot()?;
        let person = resident.find(ctx, &mut *tx)?;
        let rows = match person {
            Some(p) => tx.authorisations_of(p)?,
            None => Vec::new(),
        };
        (person, rows, tx.parties()?)
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let g = grant_of(r)?;
        let party = parties.iter().find(|p| p.id == r.party_id);
        out.push(OwnAuthorisation {
            id: r.id,
            party: party.map(|p| p.code.clone()).unwrap_or_default(),
            party_name: party.map(|p| p.name.clone()).unwrap_or_default(),
            purpose: r.purpose.clone(),
            scope: r.scope.clone(),
            valid_until: r.valid_until,
            max_uses: r.max_uses,
            uses: r.uses,
            status: g.status(now.as_second(), today).as_str(),
            created_at: rfc3339(r.created_at),
            redeemed_at: r.redeemed_at.map(rfc3339),
            revoked_at: r.revoked_at.map(rfc3339),
        });
    }
    resident.audit_read(ctx, person, "authorisations")?;
    Ok(out)
}

/// Revokes one of the resident's authorisations at `now` (again: no change).
/// Another resident's, or an unknown id, is [`Refusal::NotFound`].
pub fn revoke(
    ctx: &Context,
    resident: Resident<'_>,
    id: i64,
    now: Timestamp,
) -> Result<(), AuthError> {
    let index = resident.index(ctx);
    let actor = resident.actor(ctx);
    write(&*ctx.store, |tx| {
        let Some(person) = tx.find_person(&index)? else {
            return Ok(Err(Refusal::NotFound.into()));
        };
        match tx.authorisation(id)? {
            Some(a) if a.person_id == person => {}
            _ => return Ok(Err(Refusal::NotFound.into())),
        }
        if tx.revoke_authorisation(id, now.as_second())? {
            tx.append_audit(vec![event(
                &actor,
                "authorisation.revoked",
                Some(id),
                &index,
                resident.request_id,
                serde_json::json!({}),
            )]);
        }
        Ok(Ok(()))
    })?
}

/// What a party learns on redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub authorisation_id: i64,
    pub scope: String,
    pub purpose: String,
    pub valid_until: Date,
}

/// The identity of the person an authorisation is about, as the audit names them.
fn index_of(tx: &mut dyn WriteTx, person_id: i64) -> Result<Vec<u8>, JobError> {
    Ok(tx
        .identity(person_id)?
        .ok_or_else(|| JobError::Invalid(format!("person {person_id} has no identity")))?
        .index)
}

/// `party` redeems a one-time code at `now`: once, within its time.
pub fn redeem(
    ctx: &Context,
    party: &Party,
    code: &str,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<Redeemed, AuthError> {
    let Some(code) = normalise_code(code) else {
        return Err(Refusal::NotFound.into());
    };
    let hash = code_hash(&code);
    let today = civil_day(now);
    let actor = party.actor();
    write(&*ctx.store, |tx| {
        let row = match tx.authorisation_by_code(&hash)? {
            Some(a) if a.party_id == party.id => a,
            _ => return Ok(Err(Refusal::NotFound.into())),
        };
        if let Err(r) = grant_of(&row)?.check_redeem(now.as_second(), today) {
            return Ok(Err(r.into()));
        }
        if !tx.redeem_authorisation(row.id, now.as_second())? {
            return Ok(Err(Refusal::AlreadyRedeemed.into()));
        }
        let index = index_of(tx, row.person_id)?;
        tx.append_audit(vec![event(
            &actor,
            "authorisation.redeemed",
            Some(row.id),
            &index,
            request_id,
            serde_json::json!({"scope": row.scope, "purpose": purpose_label(&row.purpose)}),
        )]);
        Ok(Ok(Redeemed {
            authorisation_id: row.id,
            scope: row.scope.clone(),
            purpose: row.purpose.clone(),
            valid_until: row.valid_until,
        }))
    })?
}

/// An answer within an authorisation's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The scope answered (the one asked for).
    pub scope: Scope,
    pub as_of: Date,
    pub model_version: String,
    pub score: Option<i32>,
    pub grade: Option<String>,
    /// For a threshold scope: whether the score is at least N.
    pub met: bool,
}

impl Answer {
    /// The JSON body: `scope`, `as_of`, `model_version` and the scope's own
    /// fields. A threshold answer is the same length whether it is met or
    /// not (`"met": true` carries a space `"met":false` does not), so its
    /// size tells nothing about the score.
    pub fn body(&self) -> String {
        let head = format!(
            "{{\"scope\":{},\"as_of\":\"{}\",\"model_version\":{}",
            serde_json::Value::from(self.scope.to_string()),
            self.as_of,
            serde_json::Value::from(self.model_version.as_str()),
        );
        let tail = match self.scope {
            Scope::Score => format!(
                ",\"score\":{},\"grade\":{}}}",
                serde_json::json!(self.score),
                serde_json::json!(self.grade)
            ),
            Scope::Grade => format!(",\"grade\":{}}}", serde_json::json!(self.grade)),
            Scope::Threshold(n) => format!(
                ",\"threshold\":{n},\"met\":{}}}",
                if self.met { " true" } else { "false" }
            ),
        };
        head + &tail
    }
}

/// `party` asks for the answer of authorisation `id` in `wanted` (its
/// granted scope if `None`) at `now`. The use is checked, counted, answered
/// and audited in one unit of work: the count never passes `max_uses`.
pub fn result(
    ctx: &Context,
    party: &Party,
    id: i64,
    wanted: Option<Scope>,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<Answer, AuthError> {
    let today = civil_day(now);
    let used = Use {
        party,
        id,
        request_id,
        now,
        what: "result",
    };
    write(&*ctx.store, |tx| {
        let (row, wanted) = match checked_use(tx, &used, |grant| Ok(wanted.unwrap_or(grant.scope)))?
        {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let scorer = ctx
            .in_play(tx)?
            .into_iter()
            .next()
            .ok_or_else(|| JobError::Invalid("no score model is in force".into()))?;
        let model_version = scorer.model.version.clone();
        let (score, grade) = match tx.load_people(&[row.person_id], &model_version)?.pop() {
            Some(raw) => {
                let input = scorer.decode(&raw);
                let e = scorer.engine.evaluate(&input, today);
                (e.score, e.grade.map(str::to_owned))
            }
            None => (None, None),
        };
        let met = match wanted {
            Scope::Threshold(n) => meets(score, n),
            _ => false,
        };
        Ok(Ok(Answer {
            scope: wanted,
            as_of: today,
            model_version,
            score: matches!(wanted, Scope::Score).then_some(score).flatten(),
            grade: matches!(wanted, Scope::Score | Scope::Grade)
                .then_some(grade)
                .flatten(),
            met,
        }))
    })?
}

/// One use of an authorisation by its party: which, when, and what for
/// (`result`, `certificate`, `scenario`: named in the audit entry).
pub(crate) struct Use<'a> {
    pub party: &'a Party,
    pub id: i64,
    pub request_id: Option<&'a str>,
    pub now: Timestamp,
    pub what: &'a str,
}

/// Checks and counts one use inside the caller's unit of work: another
/// party's (or no) authorisation is not found; a refusal is audited; the
/// count moves only while `uses` is what was read, so it never passes
/// `max_uses`; the use is audited with the party's purpose. `wanted` says
/// which answer the use gives (from the grant, or an error of its own).
/// On success: the authorisation and the scope answered.
pub(crate) fn checked_use(
    tx: &mut dyn WriteTx,
    used: &Use<'_>,
    wanted: impl FnOnce(&Grant) -> Result<Scope, AuthError>,
) -> Result<Result<(AuthorisationRow, Scope), AuthError>, JobError> {
    let today = civil_day(used.now);
    let actor = used.party.actor();
    let row = match tx.authorisation(used.id)? {
        Some(a) if a.party_id == used.party.id => a,
        _ => return Ok(Err(Refusal::NotFound.into())),
    };
    let grant = grant_of(&row)?;
    let wanted = match wanted(&grant) {
        Ok(w) => w,
        Err(AuthError::Job(e)) => return Err(e),
        Err(e) => return Ok(Err(e)),
    };
    let purpose = purpose_label(&row.purpose);
    if let Err(r) = grant.check_use(wanted, used.now.as_second(), today) {
        if r == Refusal::NotFound {
            return Ok(Err(r.into()));
        }
        let index = index_of(tx, row.person_id)?;
        tx.append_audit(vec![event(
            &actor,
            "authorisation.use_refused",
            Some(row.id),
            &index,
            used.request_id,
            serde_json::json!({"purpose": purpose, "scope": wanted.to_string(), "use_for": used.what, "refusal": format!("{r:?}")}),
        )]);
        return Ok(Err(r.into()));
    }
    if !tx.count_authorisation_use(row.id, row.uses)? {
        return Ok(Err(Refusal::Exhausted.into()));
    }
    let index = index_of(tx, row.person_id)?;
    tx.append_audit(vec![event(
        &actor,
        "authorisation.used",
        Some(row.id),
        &index,
        used.request_id,
        serde_json::json!({"purpose": purpose, "scope": wanted.to_string(), "use_for": used.what, "use": row.uses + 1}),
    )]);
    Ok(Ok((row, wanted)))
}

/// Where an authorisation stands (for tests and the CLI).
pub fn status_of(row: &AuthorisationRow, now: Timestamp) -> Result<Status, JobError> {
    Ok(grant_of(row)?.status(now.as_second(), civil_day(now)))
}
