//! `/console/self-reports`: the reviewers' queue of residents' self-reports
//! (pending first; `?status=verified|rejected` for the decided ones), each
//! with its fields and evidence downloads, verified or rejected with a
//! reason. The list is the same use case as `GET
//! /api/v1/staff/self-reports` (each reporter's read audited); a decision
//! is the API's own handler (`POST /api/v1/staff/self-reports/{id}/decision`).

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chengxin_domain::self_report::ReportStatus;
use chengxin_domain::staff::Right;
use chengxin_jobs::self_reports::{self, Report, Verifier};

use super::console_cases::{self as cases, PageQuery, Refusal};
use super::page::{Chrome, WebError};
use super::session::Console;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::routes::{decision, staff_self_reports};
use crate::state::AppState;

const PATH: &str = "/console/self-reports";
const PAGE: usize = 500;

/// One report as shown.
pub struct Row {
    pub r: Report,
    pub item: String,
    pub status: String,
    pub fields: Vec<String>,
}

/// `GET /console/self-reports`.
#[derive(Template, WebTemplate)]
#[template(path = "console/self_reports.html")]
pub struct SelfReportsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    status: String,
    tabs: Vec<(&'static str, String)>,
    notice: Option<String>,
    refusal: Option<Refusal>,
}

impl SelfReportsPage {
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
        ReportStatus::Pending,
        ReportStatus::parse,
        "pending, verified or rejected",
        "a report id",
    )
    .map_err(|e| c.fail(e))?;
    let actor = c.require(Right::DecideSelfReports)?.actor();
    let (list, catalogue) = state
        .blocking(move |ctx| {
            let v = Verifier::Staff {
                actor: &actor,
                request_id: Some(&request_id),
            };
            self_reports::queue(ctx, v, status, after, PAGE).map(|l| (l, ctx.catalogue()))
        })
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| c.fail(e))?;
    let l = c.l;
    let rows: Vec<Row> = list
        .into_iter()
        .map(|r| Row {
            item: cases::item_name(l, &catalogue, &r.item),
            status: cases::name_of(&r.status),
            fields: cases::fields_text(l, &r.fields),
            r,
        })
        .collect();
    let shown: Vec<i64> = rows.iter().map(|r| r.r.id).collect();
    let (refusal, code) = cases::shown(refusal, &shown);
    let page = SelfReportsPage {
        chrome: c.chrome(),
        rows,
        status: cases::name_of(&status),
        tabs: cases::tabs(l, &["pending", "verified", "rejected"]),
        notice: cases::done_text(l, q.done.as_deref(), q.case),
        refusal,
    };
    Ok((code, page).into_response())
}

/// `GET /console/self-reports?status=`.
pub async fn page(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    c.require(Right::DecideSelfReports)?;
    render(state, &c, request_id, query.as_deref(), None).await
}

/// `POST /console/self-reports/{id}/decision`: the API's decision.
pub async fn decide(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    PageForm(f): PageForm<cases::DecisionForm>,
) -> Result<Response, WebError> {
    c.require(Right::DecideSelfReports)?;
    let case = id.parse().ok();
    let body = f.body();
    match staff_self_reports::decide(
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

/// `GET /console/self-reports/{id}/evidence/{sha256}`: the API's download
/// (the read audited).
pub async fn evidence(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Response, WebError> {
    c.require(Right::DecideSelfReports)?;
    staff_self_reports::evidence(State(state), c.staff.clone(), RequestId(request_id), path)
        .await
        .map(IntoResponse::into_response)
        .map_err(|e| c.fail(e))
}
