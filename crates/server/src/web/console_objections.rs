//! `/console/objections`: the reviewers' objection queue with its deadlines
//! (accept by, reply by; a missed one highlighted), filtered by status or
//! to the late ones, each with its evidence, acceptance and decision
//! (corrected — optionally with the agency withdrawing the record — or
//! explained, with the answer the resident reads). The list is the same
//! use case as `GET /api/v1/staff/objections` (each resident's read
//! audited); a step is the API's own handler (`POST
//! /api/v1/staff/objections/{id}/accept`, `…/decision`), so the parsing,
//! the rules and the error codes are the API's.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chengxin_domain::objection::ObjectionStatus;
use chengxin_domain::staff::Right;
use chengxin_jobs::objections::{self, Objection, Staff};
use serde::Deserialize;

use super::console_cases::{self as cases, PageQuery, Refusal};
use super::page::{Chrome, WebError};
use super::session::Console;
use crate::extract::{JsonBody, PathParam};
use crate::middleware::RequestId;
use crate::routes::me_objections::problem;
use crate::routes::staff_objections;
use crate::state::AppState;

const PATH: &str = "/console/objections";

/// One objection as the page shows it.
pub struct Row {
    pub o: Objection,
    pub status: String,
    /// Missed: the acceptance deadline / the reply deadline.
    pub accept_late: bool,
    pub reply_late: bool,
    pub can_accept: bool,
    pub can_decide: bool,
    pub steps: Vec<(String, String)>,
}

/// `GET /console/objections`.
#[derive(Template, WebTemplate)]
#[template(path = "console/objections.html")]
pub struct ObjectionsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// The status filter (`""`: every status) and the overdue filter.
    status: String,
    overdue: bool,
    statuses: Vec<(&'static str, String)>,
    notice: Option<String>,
    refusal: Option<Refusal>,
}

impl ObjectionsPage {
    fn label(&self, name: &str) -> String {
        cases::label(self.chrome.l, name)
    }
}

fn row(o: Objection) -> Row {
    let l_status = cases::name_of(&o.status);
    let open_reply = matches!(
        o.status,
        ObjectionStatus::Accepted | ObjectionStatus::AwaitingUnit
    );
    Row {
        accept_late: o.overdue && o.status == ObjectionStatus::Submitted,
        reply_late: o.overdue && open_reply,
        can_accept: o.status == ObjectionStatus::Submitted,
        can_decide: open_reply,
        steps: o
            .steps
            .iter()
            .map(|s| (s.step.to_owned(), s.on.to_string()))
            .collect(),
        status: l_status,
        o,
    }
}

/// The queue page, with `refusal` shown in place (and its status) if any.
async fn render(
    state: AppState,
    c: &Console,
    request_id: String,
    query: Option<&str>,
    refusal: Option<cases::Refused>,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(query);
    let filter = staff_objections::parse_query(&q.filter, true).map_err(|e| c.fail(e))?;
    let member = c.staff.member.clone();
    let list = state
        .blocking(move |ctx| {
            let staff = Staff {
                member: &member,
                request_id: Some(&request_id),
            };
            objections::queue(ctx, staff, filter, chengxin_jobs::today())
        })
        .await
        .and_then(|r| r.map_err(problem))
        .map_err(|e| c.fail(e))?;
    let l = c.l;
    let statuses = cases::tabs(
        l,
        &[
            "submitted",
            "accepted",
            "awaiting_unit",
            "corrected",
            "explained",
        ],
    );
    let rows: Vec<Row> = list.into_iter().map(row).collect();
    let shown: Vec<i64> = rows.iter().map(|r| r.o.id).collect();
    let (refusal, status) = cases::shown(refusal, &shown);
    let page = ObjectionsPage {
        chrome: c.chrome(),
        rows,
        status: q.pairs.get("status").cloned().unwrap_or_default(),
        overdue: filter.overdue,
        statuses,
        notice: cases::done_text(l, q.done.as_deref(), q.case),
        refusal,
    };
    Ok((status, page).into_response())
}

/// `GET /console/objections?status=&overdue=true`.
pub async fn page(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    c.require(Right::DecideObjections)?;
    render(state, &c, request_id, query.as_deref(), None).await
}

/// `POST /console/objections/{id}/accept`: the API's acceptance.
pub async fn accept(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    c.require(Right::DecideObjections)?;
    let case = id.parse().ok();
    match staff_objections::accept(
        State(state.clone()),
        c.staff.clone(),
        RequestId(request_id.clone()),
        PathParam(id),
    )
    .await
    {
        Ok(o) => Ok(cases::done(PATH, "accepted", o.0.id)),
        Err(e) => {
            let refused = Refusal::refused(case, &e, String::new());
            render(state, &c, request_id, None, Some(refused)).await
        }
    }
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    outcome: Option<String>,
    #[serde(default)]
    explanation: String,
    /// A checkbox: present when ticked.
    withdraw: Option<String>,
}

/// `POST /console/objections/{id}/decision`: the API's decision, from a
/// form (`outcome`, `explanation`, `withdraw`).
pub async fn decide(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Response, WebError> {
    c.require(Right::DecideObjections)?;
    let case = id.parse().ok();
    let body = cases::json_body(
        &[
            ("outcome", f.outcome.as_deref()),
            ("explanation", Some(f.explanation.as_str())),
        ],
        &[("withdraw", f.withdraw.is_some())],
    );
    match staff_objections::decide(
        State(state.clone()),
        c.staff.clone(),
        RequestId(request_id.clone()),
        PathParam(id),
        JsonBody(body),
    )
    .await
    {
        Ok(o) => Ok(cases::done(PATH, "decided", o.0.id)),
        Err(e) => {
            let refused = Refusal::refused(case, &e, f.explanation);
            render(state, &c, request_id, None, Some(refused)).await
        }
    }
}

/// `GET /console/objections/{id}/evidence/{sha256}`: the API's download
/// (the read audited).
pub async fn evidence(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Response, WebError> {
    c.require(Right::DecideObjections)?;
    staff_objections::evidence(State(state), c.staff.clone(), RequestId(request_id), path)
        .await
        .map(IntoResponse::into_response)
        .map_err(|e| c.fail(e))
}
