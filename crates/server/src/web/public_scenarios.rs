//! `/rules/scenarios` (public) and `/portal/scenarios` (the resident's):
//! the 信易+ benefits offered today, the latter marked with whether the
//! resident qualifies — the same use cases as `GET /api/v1/scenarios` and
//! the audited `GET /api/v1/me/scenarios`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chengxin_domain::scenario::{BenefitKind, Scenario, Threshold};
use chengxin_jobs::scenarios;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::session::Portal;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::state::AppState;

/// One benefit as a row of the page, in the page's language.
pub struct Row {
    pub code: String,
    pub provider: String,
    pub sector: &'static str,
    pub description: String,
    pub benefit: String,
    pub minimum: String,
    pub valid_until: String,
    /// For the resident's page: whether they qualify.
    pub qualifies: Option<bool>,
}

impl Row {
    fn of(l: Lang, s: &Scenario, qualifies: Option<bool>) -> Row {
        let zh = l.is_zh();
        let amount = s.benefit.amount.unwrap_or(0);
        let benefit = match s.benefit.kind {
            BenefitKind::Discount if zh => format!("优惠 {amount}%"),
            BenefitKind::Discount => format!("{amount}% off"),
            BenefitKind::DepositWaiver => l.t("免押金", "no deposit").to_owned(),
            BenefitKind::Priority => l.t("优先办理", "priority service").to_owned(),
            BenefitKind::CreditLine if zh => format!("增加授信额度 {amount} 元"),
            BenefitKind::CreditLine => format!("extra credit line of {amount} yuan"),
            BenefitKind::RateReduction if zh => format!("利率或费率降低 {amount} 个基点"),
            BenefitKind::RateReduction => format!("rate or fee lower by {amount} basis points"),
            BenefitKind::FreeService => l.t("免费服务", "free service").to_owned(),
        };
        let minimum = match &s.threshold {
            Threshold::Grade(g) if zh => format!("等级 {g} 及以上"),
            Threshold::Grade(g) => format!("grade {g} or better"),
            Threshold::Score(n) if zh => format!("诚信分不低于 {n}"),
            Threshold::Score(n) => format!("a score of at least {n}"),
        };
        Row {
            code: s.code.clone(),
            provider: s.provider.clone(),
            sector: l.t(s.sector.name_zh(), s.sector.name_en()),
            description: l.t(&s.description_zh, &s.description_en).to_owned(),
            benefit,
            minimum,
            valid_until: s.valid_until.to_string(),
            qualifies,
        }
    }
}

/// Both pages.
#[derive(Template, WebTemplate)]
#[template(path = "public/scenarios.html")]
pub struct ScenariosPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// The resident's page (with "qualifies").
    mine: bool,
}

/// `GET /rules/scenarios`.
pub async fn public(State(state): State<AppState>, l: Lang) -> Result<ScenariosPage, WebError> {
    let chrome = Chrome::public(l, "/rules/scenarios");
    let offered = state
        .reading(|ctx| scenarios::offered(ctx, chengxin_jobs::today()))
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(|e| WebError::api(e, &chrome))?;
    Ok(ScenariosPage {
        rows: offered
            .iter()
            .map(|s| Row::of(l, &s.scenario, None))
            .collect(),
        chrome,
        mine: false,
    })
}

/// `GET /portal/scenarios`.
pub async fn mine(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<ScenariosPage, WebError> {
    let resident = p.resident.clone();
    let list = state
        .reading(move |ctx| scenarios::mine(ctx, resident.acting(&request_id)))
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(|e| p.fail(e))?;
    Ok(ScenariosPage {
        chrome: p.chrome(),
        rows: list
            .iter()
            .map(|m| Row::of(p.l, &m.scenario.scenario, Some(m.qualifies)))
            .collect(),
        mine: true,
    })
}
