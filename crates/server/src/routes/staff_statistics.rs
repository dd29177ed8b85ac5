//! The agency dashboard's statistics: `GET /api/v1/staff/statistics`, for
//! every staff role (`view_statistics`). Aggregates only — counts per grade,
//! score bucket, district, unit and day, and open cases — never an ID
//! number, a name or one person's score (第十八条); the read is audited
//! with the staff member. The console's dashboard page renders this answer.

use axum::extract::State;
use axum::Json;
use chengxin_domain::staff::Right;
use chengxin_jobs::stats::{self, Dashboard, Viewer, Waiting};
use serde::Serialize;
use utoipa::ToSchema;

use super::staff::STAFF_401;
use crate::auth::AuthStaff;
use crate::error::{ApiError, Problem};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The dashboard's aggregates as of a day (today in Asia/Shanghai).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsBody {
    #[schema(example = "2026-12-01")]
    pub as_of: String,
    /// The model in force, whose stored scores are counted.
    #[schema(example = "2026.1")]
    pub model_version: String,
    /// People stored.
    #[schema(example = 20000)]
    pub people: u64,
    /// People with a stored result under the model (eligible or not).
    #[schema(example = 19800)]
    pub scored: u64,
    /// Scored people without a score (not eligible: under 18, limited
    /// capacity, not resident).
    #[schema(example = 3100)]
    pub ineligible: u64,
    /// Per grade of the model, best first; zero counts included.
    pub grades: Vec<GradeCountBody>,
    pub score_histogram: HistogramBody,
    /// People per district or county of Shaoxing (by the region code of
    /// their ID number), in code order, zero counts included.
    pub districts: Vec<DistrictCountBody>,
    /// People whose ID number was issued outside Shaoxing, grouped.
    #[schema(example = 2400)]
    pub outside_city: u64,
    /// People whose region code is not yet back-filled (after an upgrade).
    #[schema(example = 0)]
    pub region_unknown: u64,
    pub records_received: ReceivedBody,
    pub cases: CasesBody,
}

/// Stored scores in one grade.
#[derive(Debug, Serialize, ToSchema)]
pub struct GradeCountBody {
    #[schema(example = "A")]
    pub grade: String,
    #[schema(example = "良好")]
    pub name_zh: String,
    #[schema(example = "Good")]
    pub name_en: String,
    #[schema(example = 600)]
    pub min: i32,
    #[schema(example = 699)]
    pub max: i32,
    #[schema(example = 9000)]
    pub count: u64,
}

/// Scores in buckets covering 0–1000; the last bucket also takes 1000.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistogramBody {
    #[schema(example = 50)]
    pub bucket_width: u32,
    pub buckets: Vec<BucketBody>,
}

/// Scores from `from` to `to` points, inclusive.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketBody {
    #[schema(example = 600)]
    pub from: i32,
    #[schema(example = 649)]
    pub to: i32,
    #[schema(example = 5200)]
    pub count: u64,
}

/// People in one district or county.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictCountBody {
    /// The 6-digit administrative division code.
    #[schema(example = "330602")]
    pub code: String,
    #[schema(example = "越城区")]
    pub name_zh: String,
    #[schema(example = "Yuecheng District")]
    pub name_en: String,
    #[schema(example = 3800)]
    pub count: u64,
}

/// Record versions received per unit per day (Asia/Shanghai), the last 14
/// days up to `as_of`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedBody {
    #[schema(example = "2026-11-18")]
    pub from: String,
    #[schema(example = "2026-12-01")]
    pub to: String,
    /// Units that sent anything in the window, by code (`resident`:
    /// residents' self-reports).
    pub units: Vec<UnitReceivedBody>,
}

/// One unit's record versions per day.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitReceivedBody {
    #[schema(example = "SX-TAX")]
    pub unit: String,
    #[schema(example = 130)]
    pub total: u64,
    /// Every day of the window, oldest first.
    pub days: Vec<DayCountBody>,
}

/// Record versions on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCountBody {
    #[schema(example = "2026-12-01")]
    pub day: String,
    #[schema(example = 12)]
    pub count: u64,
}

/// Open cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasesBody {
    pub objections: ObjectionCountsBody,
    /// Residents' self-reports awaiting verification.
    pub self_reports: WaitingBody,
    /// Credit-repair applications awaiting a decision.
    pub repairs: WaitingBody,
}

/// Open objections by state, and those past a deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionCountsBody {
    #[schema(example = 3)]
    pub submitted: u64,
    #[schema(example = 2)]
    pub accepted: u64,
    #[schema(example = 1)]
    pub awaiting_unit: u64,
    /// Open and past their acceptance or reply deadline today.
    #[schema(example = 1)]
    pub overdue: u64,
}

/// Cases awaiting a decision, by days waited.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingBody {
    #[schema(example = 4)]
    pub pending: u64,
    /// Filed 0–7 days ago.
    #[schema(example = 3)]
    pub up_to_7_days: u64,
    /// Filed 8–30 days ago.
    #[schema(example = 1)]
    pub up_to_30_days: u64,
    #[schema(example = 0)]
    pub over_30_days: u64,
    /// Days the oldest has waited (`null`: none pending).
    #[schema(example = 9)]
    pub oldest_days: Option<i64>,
}

impl From<Waiting> for WaitingBody {
    fn from(w: Waiting) -> Self {
        WaitingBody {
            pending: w.pending,
            up_to_7_days: w.up_to_7_days,
            up_to_30_days: w.up_to_30_days,
            over_30_days: w.over_30_days,
            oldest_days: w.oldest_days,
        }
    }
}

impl From<Dashboard> for StatisticsBody {
    fn from(d: Dashboard) -> Self {
        let o = d.cases.objections;
        StatisticsBody {
            as_of: d.as_of.to_string(),
            model_version: d.model_version,
            people: d.people,
            scored: d.scored,
            ineligible: d.ineligible,
            grades: d
                .grades
                .into_iter()
                .map(|g| GradeCountBody {
                    grade: g.grade,
                    name_zh: g.name_zh,
                    name_en: g.name_en,
                    min: g.min,
                    max: g.max,
                    count: g.count,
                })
                .collect(),
            score_histogram: HistogramBody {
                bucket_width: d.histogram.bucket_width,
                buckets: d
                    .histogram
                    .buckets
                    .into_iter()
                    .map(|b| BucketBody {
                        from: b.from,
                        to: b.to,
                        count: b.count,
                    })
                    .collect(),
            },
            districts: d
                .districts
                .into_iter()
                .map(|x| DistrictCountBody {
                    code: x.code.into(),
                    name_zh: x.name_zh.into(),
                    name_en: x.name_en.into(),
                    count: x.count,
                })
                .collect(),
            outside_city: d.outside_city,
            region_unknown: d.region_unknown,
            records_received: ReceivedBody {
                from: d.received.from.to_string(),
                to: d.received.to.to_string(),
                units: d
                    .received
                    .units
                    .into_iter()
                    .map(|u| UnitReceivedBody {
                        unit: u.unit,
                        total: u.total,
                        days: u
                            .days
                            .into_iter()
                            .map(|(day, count)| DayCountBody {
                                day: day.to_string(),
                                count,
                            })
                            .collect(),
                    })
                    .collect(),
            },
            cases: CasesBody {
                objections: ObjectionCountsBody {
                    submitted: o.submitted,
                    accepted: o.accepted,
                    awaiting_unit: o.awaiting_unit,
                    overdue: o.overdue,
                },
                self_reports: d.cases.self_reports.into(),
                repairs: d.cases.repairs.into(),
            },
        }
    }
}

/// The dashboard's aggregate statistics (any staff role).
#[utoipa::path(
    get,
    path = "/api/v1/staff/statistics",
    tag = super::STAFF_TAG,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Counts only, as of today in Asia/Shanghai: no ID number, name or individual score. The read is in the audit log (`statistics.read`, naming the staff member).", body = StatisticsBody),
        (status = 401, description = STAFF_401, body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"chengxin\"`"))),
        (status = 403, description = "`role_forbidden`: the role does not have `view_statistics` (every role has it today).", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statistics(
    State(state): State<AppState>,
    me: AuthStaff,
    RequestId(request_id): RequestId,
) -> Result<Json<StatisticsBody>, ApiError> {
    let member = me.require(Right::ViewStatistics)?.clone();
    let d = state
        .blocking(move |ctx| {
            let viewer = Viewer {
                member: &member,
                request_id: Some(&request_id),
            };
            stats::dashboard(ctx, viewer, chengxin_jobs::today())
        })
        .await?
        // The role was checked above; a refusal from the use case too would
        // be a broken matrix, not the caller's fault.
        .map_err(ApiError::internal)?;
    Ok(Json(d.into()))
}
