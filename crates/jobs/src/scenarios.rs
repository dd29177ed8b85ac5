//! 信易+ incentive scenarios (第二十条–第二十二条): admins register and retire
//! a provider's benefit; anyone lists those offered today; a resident sees
//! which they qualify for (an audited read of their own score); and a
//! provider's eligibility check for one resident ([`eligible`]), which the
//! party API runs under an authorisation.
//!
//! Whether a scenario is a benefit at all is the domain's rule
//! ([`chengxin_domain::scenario::validate`], 第十八条); thresholds are read
//! against the grade bands of the model in force when asked, so a new model
//! moves who qualifies without touching the scenarios.

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::model::Grade;
use chengxin_domain::scenario::{
    self as rules, Benefit, BenefitKind, Scenario, ScenarioErrors, ScenarioInput, Sector, Threshold,
};
use chengxin_store::uow::ScenarioRow;
use chengxin_store::ReadTx;
use jiff::civil::Date;
use serde_json::{json, Value};

use crate::resident::Resident;
use crate::uow::write;
use crate::{Context, JobError};

/// A stored scenario: validated, with who registered it and whether it was retired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScenario {
    pub scenario: Scenario,
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` while offered.
    pub retired_at: Option<i64>,
}

impl StoredScenario {
    /// Whether it is offered on `day`: not retired, and within its validity.
    pub fn offered_on(&self, day: Date) -> bool {
        self.retired_at.is_none() && self.scenario.valid_on(day)
    }
}

/// A scenario offered today, and whether the resident asking qualifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyScenario {
    pub scenario: StoredScenario,
    pub qualifies: bool,
}

/// Why a scenario was not registered.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Every problem, with its path and reason.
    #[error(transparent)]
    Invalid(#[from] ScenarioErrors),
    #[error("a scenario with code `{0}` already exists (场景编号已存在)")]
    Exists(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Why a scenario could not be retired or checked.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// No such scenario (for [`eligible`]: none offered today).
    #[error("there is no scenario `{0}` (无此场景)")]
    NotFound(String),
    #[error("scenario `{0}` is already retired (场景已下线)")]
    AlreadyRetired(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for ScenarioError {
    fn from(e: chengxin_store::StoreError) -> Self {
        ScenarioError::Job(e.into())
    }
}

/// A body that is not a scenario's JSON shape: a stable code
/// (`missing_field`, `invalid_field`, `unknown_field`, `invalid_date`) and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShapeError {
    pub code: &'static str,
    pub message: String,
}

fn shape(code: &'static str, message: impl Into<String>) -> ShapeError {
    ShapeError {
        code,
        message: message.into(),
    }
}

/// The fields of a scenario's JSON object.
pub const FIELDS: [&str; 10] = [
    "code",
    "provider",
    "sector",
    "description_zh",
    "description_en",
    "benefit",
    "min_grade",
    "min_score",
    "valid_from",
    "valid_until",
];

/// Reads a scenario's JSON object (the API's body, the CLI's file) into the
/// domain's input; the domain then says whether it is a benefit.
pub fn parse_input(value: &Value) -> Result<ScenarioInput, ShapeError> {
    let Value::Object(obj) = value else {
        return Err(shape("malformed_json", "a scenario is a JSON object"));
    };
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(shape("unknown_field", format!("unknown field `{k}`")));
    }
    let text = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Err(shape("missing_field", format!("`{k}` is required"))),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(shape("invalid_field", format!("`{k}` must be a string"))),
    };
    let date = |k: &str| -> Result<Date, ShapeError> {
        text(k)?
            .parse()
            .map_err(|_| shape("invalid_date", format!("`{k}` is not a YYYY-MM-DD date")))
    };
    let min_grade = match obj.get("min_grade") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(shape("invalid_field", "`min_grade` must be a string")),
    };
    let min_score = match obj.get("min_score") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| shape("invalid_field", "`min_score` must be an integer"))?,
        ),
    };
    let Some(Value::Object(benefit)) = obj.get("benefit") else {
        return Err(match obj.get("benefit") {
            None | Some(Value::Null) => shape("missing_field", "`benefit` is required"),
            Some(_) => shape("invalid_field", "`benefit` must be an object"),
        });
    };
    let kind = match benefit.get("kind") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(shape("missing_field", "`benefit.kind` is required"))
        }
        Some(_) => return Err(shape("invalid_field", "`benefit.kind` must be a string")),
    };
    let mut amounts = Vec::new();
    for (k, v) in benefit {
        if k == "kind" {
            continue;
        }
        if !rules::AMOUNT_FIELDS.contains(&k.as_str()) {
            return Err(shape(
                "unknown_field",
                format!("unknown field `benefit.{k}`"),
            ));
        }
        let n = v
            .as_i64()
            .ok_or_else(|| shape("invalid_field", format!("`benefit.{k}` must be an integer")))?;
        amounts.push((k.clone(), n));
    }
    Ok(ScenarioInput {
        code: text("code")?,
        provider: text("provider")?,
        sector: text("sector")?,
        description_zh: text("description_zh")?,
        description_en: text("description_en")?,
        benefit_kind: kind,
        amounts,
        min_grade,
        min_score,
        valid_from: date("valid_from")?,
        valid_until: date("valid_until")?,
    })
}

fn corrupt(what: &str, code: &str) -> JobError {
    JobError::Invalid(format!("stored scenario {code} has an unknown {what}"))
}

fn from_row(r: ScenarioRow) -> Result<StoredScenario, JobError> {
    let sector = Sector::parse(&r.sector).ok_or_else(|| corrupt("sector", &r.code))?;
    let kind = BenefitKind::parse(&r.benefit_kind).ok_or_else(|| corrupt("benefit", &r.code))?;
    let threshold = match (r.min_grade, r.min_score) {
        (Some(g), None) => Threshold::Grade(g),
        (None, Some(s)) => Threshold::Score(s),
        _ => return Err(corrupt("threshold", &r.code)),
    };
    Ok(StoredScenario {
        scenario: Scenario {
            code: r.code,
            provider: r.provider,
            sector,
            description_zh: r.description_zh,
            description_en: r.description_en,
            benefit: Benefit {
                kind,
                amount: r.benefit_amount,
            },
            threshold,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
        },
        created_by: r.created_by,
        created_at: r.created_at,
        retired_at: r.retired_at,
    })
}

fn to_row(s: &Scenario, created_by: &str, created_at: i64) -> ScenarioRow {
    let (min_grade, min_score) = match &s.threshold {
        Threshold::Grade(g) => (Some(g.clone()), None),
        Threshold::Score(n) => (None, Some(*n)),
    };
    ScenarioRow {
        code: s.code.clone(),
        provider: s.provider.clone(),
        sector: s.sector.code().to_owned(),
        description_zh: s.description_zh.clone(),
        description_en: s.description_en.clone(),
        benefit_kind: s.benefit.kind.code().to_owned(),
        benefit_amount: s.benefit.amount,
        min_grade,
        min_score,
        valid_from: s.valid_from,
        valid_until: s.valid_until,
        created_by: created_by.to_owned(),
        created_at,
        retired_at: None,
    }
}

fn event(
    actor: &str,
    action: &str,
    code: &str,
    request_id: Option<&str>,
    detail: Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: Some(format!("scenario:{code}")),
        person: None,
        request_id: request_id.map(str::to_owned),
        detail,
    }
}

/// The grade bands of the model in force.
fn grades<T: ReadTx + ?Sized>(ctx: &Context, tx: &mut T) -> Result<Vec<Grade>, JobError> {
    let model = tx
        .active_model()?
        .ok_or_else(|| JobError::Invalid("no score model is in force".into()))?;
    Ok(ctx.engine_for(&model)?.model().doc.grades.clone())
}

/// Registers a scenario after validating it against the model in force as
/// of today; audited with `actor` (`staff:NAME`). `now` is unix seconds.
pub fn create(
    ctx: &Context,
    input: &ScenarioInput,
    actor: &str,
    request_id: Option<&str>,
    now: i64,
) -> Result<StoredScenario, CreateError> {
    let today = crate::today();
    write(&*ctx.store, |tx| {
        let scenario = match rules::validate(input, &grades(ctx, tx)?, today) {
            Ok(s) => s,
            Err(e) => return Ok(Err(CreateError::Invalid(e))),
        };
        if !tx.insert_scenario(&to_row(&scenario, actor, now))? {
            return Ok(Err(CreateError::Exists(scenario.code)));
        }
        let detail = json!({
            "provider": scenario.provider,
            "sector": scenario.sector.code(),
            "benefit": scenario.benefit.kind.code(),
            "amount": scenario.benefit.amount,
            "valid_from": scenario.valid_from.to_string(),
            "valid_until": scenario.valid_until.to_string(),
        });
        tx.append_audit(vec![event(
            actor,
            "scenario.created",
            &scenario.code,
            request_id,
            detail,
        )]);
        Ok(Ok(StoredScenario {
            scenario,
            created_by: actor.to_owned(),
            created_at: now,
            retired_at: None,
        }))
    })?
}

/// Retires a scenario: it is no longer offered, listed to the public or
/// checkable; kept for the record. Audited with `actor`.
pub fn retire(
    ctx: &Context,
    code: &str,
    actor: &str,
    request_id: Option<&str>,
    now: i64,
) -> Result<StoredScenario, ScenarioError> {
    write(&*ctx.store, |tx| {
        let Some(row) = tx.scenario(code)? else {
            return Ok(Err(ScenarioError::NotFound(code.to_owned())));
        };
        if !tx.retire_scenario(code, now)? {
            return Ok(Err(ScenarioError::AlreadyRetired(code.to_owned())));
        }
        tx.append_audit(vec![event(
            actor,
            "scenario.retired",
            code,
            request_id,
            json!({}),
        )]);
        let mut s = from_row(row)?;
        s.retired_at = Some(now);
        Ok(Ok(s))
    })?
}

/// Every scenario, retired ones too, by code (for the agency).
pub fn list(ctx: &Context) -> Result<Vec<StoredScenario>, JobError> {
    let rows = ctx.store.read()?.scenarios()?;
    rows.into_iter().map(from_row).collect()
}

/// The scenarios offered on `day` (public), by code.
pub fn offered(ctx: &Context, day: Date) -> Result<Vec<StoredScenario>, JobError> {
    Ok(list(ctx)?
        .into_iter()
        .filter(|s| s.offered_on(day))
        .collect())
}

/// A person's stored score under the model in force (`None`: none, or ineligible).
fn stored_score<T: ReadTx + ?Sized>(tx: &mut T, person_id: i64) -> Result<Option<i32>, JobError> {
    let model = tx
        .active_model()?
        .ok_or_else(|| JobError::Invalid("no score model is in force".into()))?;
    Ok(tx
        .score(person_id, &model.version)?
        .filter(|s| s.state.eligible)
        .and_then(|s| s.state.score))
}

/// The scenarios offered today, each marked with whether the resident
/// qualifies by their stored score under the model in force. The read of
/// their score is audited before the answer.
pub fn mine(ctx: &Context, resident: Resident<'_>) -> Result<Vec<MyScenario>, JobError> {
    let today = crate::today();
    let mut tx = ctx.store.snapshot()?;
    let found = resident.find(ctx, &mut *tx)?;
    let score = match found {
        Some(pid) => stored_score(&mut *tx, pid)?,
        None => None,
    };
    let grades = grades(ctx, &mut *tx)?;
    let rows = tx.scenarios()?;
    drop(tx);
    resident.audit_read(ctx, found, "scenarios they qualify for (GET /me/scenarios)")?;
    rows.into_iter()
        .map(from_row)
        .filter(|s| s.as_ref().map_or(true, |s| s.offered_on(today)))
        .map(|s| {
            s.map(|s| MyScenario {
                qualifies: s.scenario.threshold.met(score, &grades),
                scenario: s,
            })
        })
        .collect()
}

/// Whether the person meets scenario `code`'s minimum on `day`, by their
/// stored score under the model in force, in a unit of work the caller holds
/// (the party API's, which checks the authorisation and audits the use).
/// A scenario unknown, retired or outside its validity on `day` is
/// [`ScenarioError::NotFound`].
pub fn eligible<T: ReadTx + ?Sized>(
    ctx: &Context,
    tx: &mut T,
    person_id: i64,
    code: &str,
    day: Date,
) -> Result<bool, ScenarioError> {
    let Some(row) = tx.scenario(code)? else {
        return Err(ScenarioError::NotFound(code.to_owned()));
    };
    let s = from_row(row)?;
    if !s.offered_on(day) {
        return Err(ScenarioError::NotFound(code.to_owned()));
    }
    let score = stored_score(tx, person_id)?;
    Ok(s.scenario.threshold.met(score, &grades(ctx, tx)?))
}
