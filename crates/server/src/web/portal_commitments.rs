//! `/portal/commitments` (信用承诺, 第八条): the templates in force to read
//! and sign (a form per template), and the resident's commitments with
//! their status. Signing is the same use case as `POST /api/v1/me/commitments`
//! (a C01 record, rescored in the same transaction), then 303 back here.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_jobs::commitments::{self, TemplateView};
use serde::Deserialize;

use super::page::{Chrome, WebError};
use super::portal_data::read;
use super::portal_forms::{done_text, Done, Refusal};
use super::portal_labels as labels;
use super::session::Portal;
use crate::middleware::RequestId;
use crate::routes::me_commitments::{sign_problem, CommitmentBody};
use crate::state::AppState;

/// `GET /portal/commitments`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/commitments.html")]
pub struct CommitmentsPage {
    chrome: Chrome,
    templates: Vec<TemplateView>,
    mine: Vec<CommitmentBody>,
    done: Option<&'static str>,
    error: Option<Refusal>,
}

impl CommitmentsPage {
    fn status(&self, c: &CommitmentBody) -> String {
        labels::commitment_status(self.chrome.l, &labels::name(&c.status))
    }

    fn title<'a>(&self, t: &'a TemplateView) -> &'a str {
        self.chrome.l.t(&t.title, &t.title_en)
    }

    fn title_of(&self, code: &str) -> String {
        self.templates
            .iter()
            .find(|t| t.code == code)
            .map_or_else(|| code.to_owned(), |t| self.title(t).to_owned())
    }
}

async fn render(
    state: &AppState,
    p: &Portal,
    request_id: String,
    done: Option<&str>,
    error: Option<Refusal>,
) -> Result<Response, WebError> {
    let templates = read(state, p, commitments::templates).await?;
    let resident = p.resident.clone();
    let mine = read(state, p, move |ctx| {
        commitments::list(ctx, resident.acting(&request_id))
    })
    .await?;
    let status = error.as_ref().map(|e| e.status);
    let page = CommitmentsPage {
        chrome: p.chrome(),
        templates,
        mine: mine.into_iter().map(CommitmentBody::from).collect(),
        done: done_text(p.l, done),
        error,
    };
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page.into_response(),
    })
}

/// `GET /portal/commitments`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    render(&state, &p, request_id, q.done.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    template: String,
}

/// `POST /portal/commitments`: signs the template today.
pub async fn sign(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    PageForm(f): PageForm<SignForm>,
) -> Result<Response, WebError> {
    let resident = p.resident.clone();
    let rid = request_id.clone();
    let template = f.template.trim().to_owned();
    let outcome = state
        .blocking(move |ctx| commitments::sign(ctx, resident.acting(&rid), &template))
        .await
        .map_err(|e| p.fail(e))?;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/commitments?done=signed").into_response()),
        Err(e) => {
            let e = sign_problem(e);
            if e.code().status().is_server_error() {
                return Err(p.fail(e));
            }
            render(&state, &p, request_id, None, Some(Refusal::of(p.l, &e))).await
        }
    }
}
