//! The console's 信易+ scenarios page (admins): every scenario with its
//! benefit, threshold, validity and whether it is offered today; a form to
//! register one (checked by the domain: a benefit, never a penalty — 第十九
//! 条 — with a threshold the model in force can meet); retire. The same
//! use cases as `POST /api/v1/staff/scenarios` and `…/retire`, audited as
//! the staff member.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chengxin_domain::scenario::{BenefitKind, Sector, Threshold};
use chengxin_domain::staff::Right;
use chengxin_jobs::scenarios::{self, StoredScenario};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::console_registry::Outcome;
use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::session::Console;
use crate::error::ApiError;
use crate::routes::staff_scenarios::{created_error, retire_error};
use crate::state::AppState;

/// A scenario as the page lists it.
pub struct Row {
    pub code: String,
    pub provider: String,
    pub sector: &'static str,
    pub description: String,
    pub benefit: String,
    pub threshold: String,
    pub valid: String,
    pub offered: bool,
    pub retired: bool,
}

/// `GET /console/scenarios`.
#[derive(Template, WebTemplate)]
#[template(path = "console/scenarios.html")]
pub struct ScenariosPage {
    chrome: Chrome,
    rows: Vec<Row>,
    sectors: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, String)>,
    outcome: Option<Outcome>,
    form: ScenarioForm,
}

/// The registration form (kept on a refusal so nothing is retyped).
#[derive(Debug, Default, Deserialize)]
pub struct ScenarioForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    description_zh: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    benefit: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    min_grade: String,
    #[serde(default)]
    min_score: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
}

/// A benefit kind's name, and the unit of its amount.
pub fn kind_label(l: Lang, k: BenefitKind) -> &'static str {
    match k {
        BenefitKind::Discount => l.t("折扣（百分比）", "discount (per cent)"),
        BenefitKind::DepositWaiver => l.t("免押金", "deposit waived"),
        BenefitKind::Priority => l.t("优先办理", "priority service"),
        BenefitKind::CreditLine => l.t("授信额度（元）", "credit line (yuan)"),
        BenefitKind::RateReduction => l.t("利率优惠（基点）", "rate reduction (basis points)"),
        BenefitKind::FreeService => l.t("免费服务", "free service"),
    }
}

fn row(l: Lang, s: &StoredScenario, today: jiff::civil::Date) -> Row {
    let sc = &s.scenario;
    let benefit = match sc.benefit.amount {
        Some(n) => format!("{} {n}", kind_label(l, sc.benefit.kind)),
        None => kind_label(l, sc.benefit.kind).to_owned(),
    };
    let threshold = match &sc.threshold {
        Threshold::Grade(g) => format!("{} {g}", l.t("等级不低于", "grade at least")),
        Threshold::Score(n) => format!("{} {n}", l.t("分数不低于", "score at least")),
    };
    Row {
        code: sc.code.clone(),
        provider: sc.provider.clone(),
        sector: l.t(sc.sector.name_zh(), sc.sector.name_en()),
        description: l.t(&sc.description_zh, &sc.description_en).to_owned(),
        benefit,
        threshold,
        valid: format!("{} – {}", sc.valid_from, sc.valid_until),
        offered: s.offered_on(today),
        retired: s.retired_at.is_some(),
    }
}

async fn render(
    state: &AppState,
    c: &Console,
    outcome: Option<Outcome>,
    form: ScenarioForm,
) -> Result<ScenariosPage, WebError> {
    let list = state
        .blocking(scenarios::list)
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| c.fail(e))?;
    let l = c.l;
    let today = chengxin_jobs::today();
    Ok(ScenariosPage {
        chrome: c.chrome(),
        rows: list.iter().map(|s| row(l, s, today)).collect(),
        sectors: Sector::ALL
            .iter()
            .map(|s| (s.code(), l.t(s.name_zh(), s.name_en())))
            .collect(),
        kinds: BenefitKind::ALL
            .iter()
            .map(|k| (k.code(), kind_label(l, *k).to_owned()))
            .collect(),
        outcome,
        form,
    })
}

/// `GET /console/scenarios`.
pub async fn page(State(state): State<AppState>, c: Console) -> Result<ScenariosPage, WebError> {
    c.require(Right::ManageScenarios)?;
    let form = ScenarioForm {
        valid_from: chengxin_jobs::today().to_string(),
        ..ScenarioForm::default()
    };
    render(&state, &c, None, form).await
}

/// The form as the API's JSON body, so the one parser reads both.
fn body(f: &ScenarioForm) -> Value {
    let mut o = Map::new();
    for (k, v) in [
        ("code", &f.code),
        ("provider", &f.provider),
        ("sector", &f.sector),
        ("description_zh", &f.description_zh),
        ("description_en", &f.description_en),
        ("valid_from", &f.valid_from),
        ("valid_until", &f.valid_until),
    ] {
        o.insert(k.into(), Value::String(v.trim().to_owned()));
    }
    let mut benefit = json!({"kind": f.benefit.trim()});
    if let Some((field, _)) = BenefitKind::parse(f.benefit.trim()).and_then(BenefitKind::amount) {
        let amount = f.amount.trim();
        benefit[field] = amount
            .parse::<i64>()
            .map_or_else(|_| Value::String(amount.to_owned()), Value::from);
    }
    o.insert("benefit".into(), benefit);
    if !f.min_grade.trim().is_empty() {
        o.insert(
            "min_grade".into(),
            Value::String(f.min_grade.trim().to_owned()),
        );
    }
    if !f.min_score.trim().is_empty() {
        let s = f.min_score.trim();
        o.insert(
            "min_score".into(),
            s.parse::<i64>()
                .map_or_else(|_| Value::String(s.to_owned()), Value::from),
        );
    }
    Value::Object(o)
}

/// `POST /console/scenarios`: register (`action=add`) or retire (`action=retire`, `code`).
pub async fn act(
    State(state): State<AppState>,
    c: Console,
    PageForm(f): PageForm<ScenarioForm>,
) -> Result<Response, WebError> {
    let actor = c.require(Right::ManageScenarios)?.actor();
    let l = c.l;
    let refused = |e: ApiError| super::console_registry::refused(l, &e);
    let (status, out, keep) = match f.action.as_str() {
        "add" => match scenarios::parse_input(&body(&f)) {
            Err(e) => {
                let e = ApiError::from_row_code(e.code, e.message);
                (e.code().status(), refused(e), f)
            }
            Ok(input) => {
                let r = state
                    .blocking(move |ctx| {
                        scenarios::create(ctx, &input, &actor, None, chengxin_jobs::staff::now())
                    })
                    .await
                    .map_err(|e| c.fail(e))?;
                match r {
                    Ok(s) => (
                        StatusCode::OK,
                        Outcome {
                            ok: true,
                            text: format!(
                                "{} {}",
                                l.t("已登记场景", "Scenario registered:"),
                                s.scenario.code
                            ),
                            key: None,
                        },
                        ScenarioForm::default(),
                    ),
                    Err(e) => {
                        let e = created_error(e);
                        (e.code().status(), refused(e), f)
                    }
                }
            }
        },
        "retire" => {
            let code = f.code.trim().to_owned();
            let r = state
                .blocking(move |ctx| {
                    scenarios::retire(ctx, &code, &actor, None, chengxin_jobs::staff::now())
                })
                .await
                .map_err(|e| c.fail(e))?;
            match r {
                Ok(s) => (
                    StatusCode::OK,
                    Outcome {
                        ok: true,
                        text: format!(
                            "{} {}",
                            l.t("已停止场景", "Scenario retired:"),
                            s.scenario.code
                        ),
                        key: None,
                    },
                    ScenarioForm::default(),
                ),
                Err(e) => {
                    let e = retire_error(e);
                    (e.code().status(), refused(e), ScenarioForm::default())
                }
            }
        }
        _ => (
            StatusCode::BAD_REQUEST,
            Outcome {
                ok: false,
                text: l.t("未知的操作。", "Unknown action.").into(),
                key: None,
            },
            f,
        ),
    };
    Ok((status, render(&state, &c, Some(out), keep).await?).into_response())
}
