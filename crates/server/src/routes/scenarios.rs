//! 信易+ incentive scenarios (第二十条–第二十二条), as the public and
//! residents see them: `GET /api/v1/scenarios` (those offered today, no
//! sign-in) and `GET /api/v1/me/scenarios` (the same, each marked with
//! whether the caller qualifies by their own stored score — an audited read
//! of their own data). Neither lists anyone: incentives only (第十八条).

use axum::extract::State;
use axum::Json;
use chengxin_domain::scenario::{BenefitKind, Sector, Threshold};
use chengxin_jobs::scenarios::{self, MyScenario, StoredScenario};
use serde::Serialize;
use utoipa::ToSchema;

use super::me::RESIDENT_401;
use crate::auth::AuthResident;
use crate::error::{ApiError, Problem};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The sector of a scenario (第二十条, 第二十一条).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectorBody {
    /// 金融服务.
    Finance,
    /// 文化旅游.
    CultureTourism,
    /// 酒店餐饮.
    HotelCatering,
    /// 交通出行.
    Transport,
    /// 房屋租赁.
    Rental,
    /// 养老就医.
    ElderlyMedical,
}

impl From<Sector> for SectorBody {
    fn from(s: Sector) -> Self {
        match s {
            Sector::Finance => SectorBody::Finance,
            Sector::CultureTourism => SectorBody::CultureTourism,
            Sector::HotelCatering => SectorBody::HotelCatering,
            Sector::Transport => SectorBody::Transport,
            Sector::Rental => SectorBody::Rental,
            Sector::ElderlyMedical => SectorBody::ElderlyMedical,
        }
    }
}

/// What kind of benefit: every kind is an advantage.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKindBody {
    /// `percent` off (1–100).
    Discount,
    /// No deposit (免押金).
    DepositWaiver,
    /// Priority or fast-track service.
    Priority,
    /// An extra credit line of `amount_yuan`.
    CreditLine,
    /// A lower rate or fee, by `basis_points`.
    RateReduction,
    /// A service free of charge.
    FreeService,
}

impl From<BenefitKind> for BenefitKindBody {
    fn from(k: BenefitKind) -> Self {
        match k {
            BenefitKind::Discount => BenefitKindBody::Discount,
            BenefitKind::DepositWaiver => BenefitKindBody::DepositWaiver,
            BenefitKind::Priority => BenefitKindBody::Priority,
            BenefitKind::CreditLine => BenefitKindBody::CreditLine,
            BenefitKind::RateReduction => BenefitKindBody::RateReduction,
            BenefitKind::FreeService => BenefitKindBody::FreeService,
        }
    }
}

/// A scenario's benefit: its kind and, for the kinds that have one, its
/// positive amount (the others are absent).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BenefitBody {
    pub kind: BenefitKindBody,
    /// Per cent off (`discount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100, example = 20)]
    pub percent: Option<i64>,
    /// Extra credit line in yuan (`credit_line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub amount_yuan: Option<i64>,
    /// Reduction in basis points (`rate_reduction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub basis_points: Option<i64>,
}

/// A 信易+ scenario: a provider's benefit for residents at a minimum score
/// or grade. `min_grade` or `min_score` is set, never both.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioBody {
    #[schema(example = "SX-BUS-01")]
    pub code: String,
    #[schema(example = "绍兴公交集团")]
    pub provider: String,
    pub sector: SectorBody,
    #[schema(example = "交通出行")]
    pub sector_zh: String,
    #[schema(example = "Transport")]
    pub sector_en: String,
    #[schema(example = "诚信分达标者乘坐公交享受八折优惠")]
    pub description_zh: String,
    #[schema(example = "20% off bus fares")]
    pub description_en: String,
    pub benefit: BenefitBody,
    /// This grade or better, under the model in force.
    #[schema(example = "AA")]
    pub min_grade: Option<String>,
    /// At least this score.
    pub min_score: Option<i32>,
    #[schema(format = Date, example = "2026-01-01")]
    pub valid_from: String,
    /// The last day it is offered.
    #[schema(format = Date, example = "2027-12-31")]
    pub valid_until: String,
}

impl From<&StoredScenario> for ScenarioBody {
    fn from(s: &StoredScenario) -> Self {
        let sc = &s.scenario;
        let amount = |k: BenefitKind| {
            (sc.benefit.kind == k)
                .then_some(sc.benefit.amount)
                .flatten()
        };
        let (min_grade, min_score) = match &sc.threshold {
            Threshold::Grade(g) => (Some(g.clone()), None),
            Threshold::Score(n) => (None, Some(*n)),
        };
        ScenarioBody {
            code: sc.code.clone(),
            provider: sc.provider.clone(),
            sector: sc.sector.into(),
            sector_zh: sc.sector.name_zh().to_owned(),
            sector_en: sc.sector.name_en().to_owned(),
            description_zh: sc.description_zh.clone(),
            description_en: sc.description_en.clone(),
            benefit: BenefitBody {
                kind: sc.benefit.kind.into(),
                percent: amount(BenefitKind::Discount),
                amount_yuan: amount(BenefitKind::CreditLine),
                basis_points: amount(BenefitKind::RateReduction),
            },
            min_grade,
            min_score,
            valid_from: sc.valid_from.to_string(),
            valid_until: sc.valid_until.to_string(),
        }
    }
}

/// A scenario offered today, and whether the caller qualifies.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyScenarioBody {
    #[serde(flatten)]
    pub scenario: ScenarioBody,
    /// Whether the caller's stored score under the model in force meets
    /// the minimum (never, without a score).
    pub qualifies: bool,
}

impl From<&MyScenario> for MyScenarioBody {
    fn from(m: &MyScenario) -> Self {
        MyScenarioBody {
            scenario: ScenarioBody::from(&m.scenario),
            qualifies: m.qualifies,
        }
    }
}

/// The 信易+ scenarios offered today (public).
#[utoipa::path(
    get,
    path = "/api/v1/scenarios",
    tag = super::RESIDENTS_TAG,
    responses((status = 200, description = "Every scenario offered today (not retired, within its validity), by code.", body = [ScenarioBody])),
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ScenarioBody>>, ApiError> {
    let offered = state
        .reading(|ctx| scenarios::offered(ctx, chengxin_jobs::today()))
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(offered.iter().map(ScenarioBody::from).collect()))
}

/// The scenarios offered today, each marked with whether the caller qualifies.
#[utoipa::path(
    get,
    path = "/api/v1/me/scenarios",
    tag = super::RESIDENTS_TAG,
    security(("resident_token" = [])),
    responses(
        (status = 200, description = "Every scenario offered today, by code, with `qualifies` from the caller's own stored score. The read is in the audit log.", body = [MyScenarioBody]),
        (status = 401, description = RESIDENT_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`, with `error=\"invalid_token\"` when a token was refused"))),
    )
)]
pub async fn mine(
    State(state): State<AppState>,
    resident: AuthResident,
    RequestId(request_id): RequestId,
) -> Result<Json<Vec<MyScenarioBody>>, ApiError> {
    let list = super::read_own(&state, move |ctx| {
        let me = resident.acting(&request_id);
        scenarios::mine(ctx, me)
    })
    .await?;
    Ok(Json(list.iter().map(MyScenarioBody::from).collect()))
}
