//! `/portal/objections` (异议, 第二十五、二十六条): the resident's objections
//! with each step and its date and the deadlines (`accept_by`, `reply_by`,
//! provisional ones marked), and a form to file one — about a record
//! (preselected from the records page with `?record=ID`) or the score, with
//! a reason and optional evidence files. The same use cases as
//! `GET`/`POST /api/v1/me/objections`; the form is read by the same
//! multipart code as the API's.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_jobs::objections;
use chengxin_jobs::own::{self, OwnRecord};

use super::page::{Chrome, WebError};
use super::portal_data::read;
use super::portal_forms::{done_text, Done, Refusal};
use super::portal_labels as labels;
use super::session::Portal;
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::routes::evidence_form;
use crate::routes::me_objections::{form_target, problem, ObjectionBody};
use crate::state::AppState;

/// `GET /portal/objections`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/objections.html")]
pub struct ObjectionsPage {
    chrome: Chrome,
    mine: Vec<ObjectionBody>,
    /// The records an objection can be about (those that count now).
    records: Vec<OwnRecord>,
    /// The record preselected (`record_id`), or `None` for the score.
    chosen: Option<i64>,
    reason: String,
    done: Option<&'static str>,
    error: Option<Refusal>,
}

impl ObjectionsPage {
    fn status(&self, o: &ObjectionBody) -> String {
        labels::objection_status(self.chrome.l, &labels::name(&o.status))
    }

    fn step(&self, s: &str) -> String {
        labels::objection_step(self.chrome.l, s)
    }

    fn item<'a>(&self, r: &'a OwnRecord) -> &'a str {
        self.chrome.l.t(&r.item_name_zh, &r.item_name_en)
    }

    fn is_chosen(&self, id: &i64) -> bool {
        self.chosen == Some(*id)
    }
}

struct Shown {
    chosen: Option<i64>,
    reason: String,
    done: Option<String>,
    error: Option<Refusal>,
}

async fn render(
    state: &AppState,
    p: &Portal,
    request_id: String,
    shown: Shown,
) -> Result<Response, WebError> {
    let (resident, rid) = (p.resident.clone(), request_id.clone());
    let mine = read(state, p, move |ctx| {
        objections::list_mine(ctx, resident.acting(&rid), chengxin_jobs::today())
    })
    .await?;
    let id = p.resident.id_number;
    let records = read(state, p, move |ctx| {
        own::records(ctx, &id, chengxin_jobs::today(), Some(&request_id))
    })
    .await?;
    let records: Vec<OwnRecord> = records
        .into_iter()
        .filter(|r| r.state.as_str() == "active")
        .collect();
    let status = shown.error.as_ref().map(|e| e.status);
    let page = ObjectionsPage {
        chrome: p.chrome(),
        mine: mine.into_iter().map(ObjectionBody::from).collect(),
        chosen: shown.chosen,
        records,
        reason: shown.reason,
        done: done_text(p.l, shown.done.as_deref()),
        error: shown.error,
    };
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page.into_response(),
    })
}

/// `GET /portal/objections[?record=ID]`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let shown = Shown {
        chosen: q.record,
        reason: String::new(),
        done: q.done,
        error: None,
    };
    render(&state, &p, request_id, shown).await
}

/// `POST /portal/objections` (`multipart/form-data`): files an objection.
/// The form's `target` is `score` or a record id; it becomes the API's
/// `about` or `record_id`.
pub async fn file(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let read_form = async {
        let form =
            multipart.map_err(|e| ApiError::new(ErrorCode::MalformedMultipart, e.body_text()))?;
        let mut form = evidence_form::read(
            form,
            |n| matches!(n, "target" | "reason"),
            "`target`, `reason` and `evidence`",
            true,
        )
        .await?;
        // The page's one `target` select is the API's `record_id` or `about`.
        let target = form.text("target").unwrap_or_default().to_owned();
        form.texts.retain(|(n, _)| n != "target");
        let key = if target == "score" {
            "about"
        } else {
            "record_id"
        };
        form.texts.push((key.to_owned(), target));
        let (target, reason) = form_target(&form)?;
        Ok::<_, ApiError>((target, reason, form.evidence))
    };
    let (chosen, reason, outcome) = match read_form.await {
        Err(e) => (None, String::new(), Err(e)),
        Ok((target, reason, evidence)) => {
            let chosen = match target {
                objections::Target::Record(id) => Some(id),
                objections::Target::Score => None,
            };
            let (resident, rid, r) = (p.resident.clone(), request_id.clone(), reason.clone());
            let stored = state
                .blocking(move |ctx| {
                    objections::submit(
                        ctx,
                        resident.acting(&rid),
                        target,
                        &r,
                        &evidence,
                        chengxin_jobs::today(),
                    )
                })
                .await
                .map_err(|e| p.fail(e))?
                .map_err(problem);
            (chosen, reason, stored.map(|_| ()))
        }
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/portal/objections?done=filed").into_response()),
        Err(e) => {
            let refusal = Refusal::of(p.l, &e);
            if e.code().status().is_server_error() {
                return Err(p.fail(e));
            }
            if refusal.status == axum::http::StatusCode::NOT_FOUND {
                // Another person's record (or none): nothing said about it.
                return Err(p.fail(refusal.into_api()));
            }
            let shown = Shown {
                chosen,
                reason,
                done: None,
                error: Some(refusal),
            };
            render(&state, &p, request_id, shown).await
        }
    }
}
