//! `/console/repairs`: the reviewers' queue of credit-repair applications
//! (pending by default; `?status=approved|rejected`), each with its record,
//! the repair rule's view of it today (level, repairable from, commitment,
//! eligible) and the resident's statement; approved or rejected with a
//! reason. The list is the same use case as `GET /api/v1/staff/repairs`
//! (each applicant's read audited); a decision is the API's own handler
//! (`POST /api/v1/staff/repairs/{id}/decision`).

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chengxin_domain::repair::ApplicationStatus;
use chengxin_domain::staff::Right;
use chengxin_jobs::console::{repair_reviews, RepairReview};
use chengxin_jobs::repairs::{self, Application, Reviewer};

use super::console_cases::{self as cases, PageQuery, Refusal};
use super::page::{Chrome, WebError};
use super::session::Console;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::routes::{decision, staff_repairs};
use crate::state::AppState;

const PATH: &str = "/console/repairs";
const PAGE: usize = 500;

/// One application as shown.
pub struct Row {
    pub a: Application,
    pub item: String,
    pub status: String,
    pub review: Option<RepairReview>,
    pub record_state: String,
    pub level: String,
}

/// `GET /console/repairs`.
#[derive(Template, WebTemplate)]
#[template(path = "console/repairs.html")]
pub struct RepairsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    status: String,
    tabs: Vec<(&'static str, String)>,
    notice: Option<String>,
    refusal: Option<Refusal>,
}

impl RepairsPage {
    fn label(&self, name: &str) -> String {
        cases::label(self.chrome.l, name)
    }
}

async fn render(
    state: AppState,
    c: &Console,
    request_id: String,
    query: Option<&str>,
    refusal: Option<cases::Refused>,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(query);
    let (status, after) = decision::queue_query(
        &q.filter,
        ApplicationStatus::Pending,
        ApplicationStatus::parse,
        "pending, approved or rejected",
        "an application id",
    )
    .map_err(|e| c.fail(e))?;
    let actor = c.require(Right::DecideRepairs)?.actor();
    let (list, mut reviews, catalogue) = state
        .blocking(move |ctx| {
            let r = Reviewer {
                actor: &actor,
                request_id: Some(&request_id),
            };
            let list = repairs::queue(ctx, r, status, after, PAGE)?;
            let reviews = repair_reviews(ctx, &list, chengxin_jobs::today())?;
            Ok::<_, chengxin_jobs::JobError>((list, reviews, ctx.catalogue()))
        })
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| c.fail(e))?;
    let l = c.l;
    let rows: Vec<Row> = list
        .into_iter()
        .map(|a| {
            let review: Option<RepairReview> = reviews.remove(&a.id);
            let record_state = review
                .as_ref()
                .and_then(|r| r.record_state)
                .map(|s| cases::label(l, &cases::name_of(&s)))
                .unwrap_or_default();
            let level = review
                .as_ref()
                .and_then(|r| r.level)
                .map(|v| cases::label(l, &cases::name_of(&v)))
                .unwrap_or_default();
            Row {
                item: cases::item_name(l, &catalogue, &a.item),
                status: cases::name_of(&a.status),
                review,
                record_state,
                level,
                a,
            }
        })
        .collect();
    let shown: Vec<i64> = rows.iter().map(|r| r.a.id).collect();
    let (refusal, code) = cases::shown(refusal, &shown);
    let page = RepairsPage {
        chrome: c.chrome(),
        rows,
        status: cases::name_of(&status),
        tabs: cases::tabs(l, &["pending", "approved", "rejected"]),
        notice: cases::done_text(l, q.done.as_deref(), q.case),
        refusal,
    };
    Ok((code, page).into_response())
}

/// `GET /console/repairs?status=`.
pub async fn page(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    c.require(Right::DecideRepairs)?;
    render(state, &c, request_id, query.as_deref(), None).await
}

/// `POST /console/repairs/{id}/decision`: the API's decision.
pub async fn decide(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    PageForm(f): PageForm<cases::DecisionForm>,
) -> Result<Response, WebError> {
    c.require(Right::DecideRepairs)?;
    let case = id.parse().ok();
    let body = f.body();
    match staff_repairs::decide(
        State(state.clone()),
        c.staff.clone(),
        RequestId(request_id.clone()),
        PathParam(id),
        JsonBody(body),
    )
    .await
    {
        Ok(d) => Ok(cases::done(PATH, &cases::name_of(&d.0.status), d.0.id)),
        Err(e) => {
            let refused = Refusal::refused(case, &e, f.reason);
            render(state, &c, request_id, None, Some(refused)).await
        }
    }
}
