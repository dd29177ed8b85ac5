//! `/portal/repairs` (信用修复, 第二十四条): the records repair can reach
//! with the date each becomes repairable, whether a commitment is needed and
//! whether an application would be accepted today; an application form per
//! record (a statement); the resident's applications. The same use cases as
//! `GET /api/v1/me/repairs/options`, `POST /api/v1/me/repairs` and
//! `GET /api/v1/me/repairs`; a refusal (`repair_too_early`, …) is shown in
//! place in the page's language.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_jobs::repairs::{self, ApplyError};
use serde::Deserialize;

use super::page::{Chrome, WebError};
use super::portal_data::read;
use super::portal_forms::{done_text, Done, Refusal};
use super::portal_labels as labels;
use super::session::Portal;
use crate::middleware::RequestId;
use crate::routes::me_repairs::{apply_problem, RepairBody, RepairOptionBody};
use crate::state::AppState;

/// `GET /portal/repairs`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/repairs.html")]
pub struct RepairsPage {
    chrome: Chrome,
    options: Vec<RepairOptionBody>,
    mine: Vec<RepairBody>,
    done: Option<&'static str>,
    error: Option<Refusal>,
    /// The record the refused application was about, and its statement.
    tried: Option<(i64, String)>,
}

impl RepairsPage {
    fn level(&self, o: &RepairOptionBody) -> String {
        labels::repair_level(self.chrome.l, &labels::name(&o.level))
    }

    fn status(&self, a: &RepairBody) -> String {
        labels::decision_status(self.chrome.l, &labels::name(&a.status))
    }

    fn statement_for(&self, record_id: &i64) -> &str {
        match &self.tried {
            Some((id, s)) if id == record_id => s,
            _ => "",
        }
    }
}

async fn render(
    state: &AppState,
    p: &Portal,
    request_id: String,
    done: Option<&str>,
    error: Option<(Refusal, i64, String)>,
) -> Result<Response, WebError> {
    let (resident, rid) = (p.resident.clone(), request_id.clone());
    let options = read(state, p, move |ctx| {
        repairs::options(ctx, resident.acting(&rid))
    })
    .await?;
    let resident = p.resident.clone();
    let mine = read(state, p, move |ctx| {
        repairs::list_mine(ctx, resident.acting(&request_id))
    })
    .await?;
    let (error, tried) = match error {
        Some((e, id, s)) => (Some(e), Some((id, s))),
        None => (None, None),
    };
    let status = error.as_ref().map(|e| e.status);
    let page = RepairsPage {
        chrome: p.chrome(),
        options: options.into_iter().map(RepairOptionBody::from).collect(),
        mine: mine.into_iter().map(RepairBody::from).collect(),
        done: done_text(p.l, done),
        error,
        tried,
    };
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page.into_response(),
    })
}

/// `GET /portal/repairs`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    render(&state, &p, request_id, q.done.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    record_id: String,
    statement: String,
}

/// `POST /portal/repairs`: applies for repair of one record.
pub async fn apply(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    PageForm(f): PageForm<ApplyForm>,
) -> Result<Response, WebError> {
    let Ok(record_id) = f.record_id.trim().parse::<i64>() else {
        return Err(super::page::not_found(&p.chrome()));
    };
    let (resident, rid, statement) = (p.resident.clone(), request_id.clone(), f.statement.clone());
    let outcome = state
        .blocking(move |ctx| repairs::apply(ctx, resident.acting(&rid), record_id, &statement))
        .await
        .map_err(|e| p.fail(e))?;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/repairs?done=applied").into_response()),
        Err(e) => {
            let too_early = match &e {
                ApplyError::TooEarly { from, .. } => Some(from.to_string()),
                _ => None,
            };
            let e = apply_problem(e);
            let mut refusal = Refusal::of(p.l, &e);
            if e.code().status().is_server_error() {
                return Err(p.fail(e));
            }
            if refusal.status == axum::http::StatusCode::NOT_FOUND {
                // Another person's record (or none): nothing said about it.
                return Err(p.fail(refusal.into_api()));
            }
            if let (Some(from), true) = (too_early, p.l.is_zh()) {
                refusal.text = format!("该信息自 {from} 起方可申请信用修复（未满最短公示期）。");
            }
            render(
                &state,
                &p,
                request_id,
                None,
                Some((refusal, record_id, f.statement)),
            )
            .await
        }
    }
}
