//! The resident's own data as pages (第十六、十七条): `/portal/history`
//! (a line chart and a table), `/portal/records` (every record with its
//! state, each row anchored `#r{id}`), `/portal/notifications`,
//! `/portal/access-log` and `/portal/export` (the same JSON document as
//! `GET /api/v1/me/export`, as a download). Each calls the same audited use
//! case as the matching `/api/v1/me/…` route.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chengxin_jobs::own::{self, Access, Notification, OwnRecord, ScoreChange};

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::portal_labels as labels;
use super::session::Portal;
use super::svg;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::state::AppState;

/// Runs an audited read of the resident's own data for page `p`.
pub(crate) async fn read<T: Send + 'static>(
    state: &AppState,
    p: &Portal,
    f: impl FnOnce(&chengxin_jobs::Context) -> Result<T, chengxin_jobs::JobError> + Send + 'static,
) -> Result<T, WebError> {
    crate::routes::read_own(state, f)
        .await
        .map_err(|e| p.fail(e))
}

/// `GET /portal/history`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/history.html")]
pub struct HistoryPage {
    chrome: Chrome,
    /// Newest first for the table.
    rows: Vec<ScoreChange>,
    chart: String,
}

impl HistoryPage {
    fn cause(&self, c: &ScoreChange) -> String {
        labels::cause(self.chrome.l, c.cause.as_str())
    }
}

/// `GET /portal/history`: the score history, oldest first in the chart.
pub async fn history(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<HistoryPage, WebError> {
    let id = p.resident.id_number;
    let rows = read(&state, &p, move |ctx| {
        own::history(ctx, &id, Some(&request_id))
    })
    .await?;
    let l = p.l;
    let points: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|r| r.score.map(|s| (r.as_of.to_string(), f64::from(s))))
        .collect();
    let chart = if points.is_empty() {
        String::new()
    } else {
        svg::line(&points, 1000.0, l.t("诚信分历史走势", "Score history"))
    };
    let mut rows = rows;
    rows.reverse();
    Ok(HistoryPage {
        chrome: p.chrome(),
        rows,
        chart,
    })
}

/// `GET /portal/records`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/records.html")]
pub struct RecordsPage {
    chrome: Chrome,
    records: Vec<OwnRecord>,
}

impl RecordsPage {
    fn state(&self, r: &OwnRecord) -> String {
        labels::record_state(self.chrome.l, r.state.as_str())
    }

    fn fields(&self, r: &OwnRecord) -> Vec<String> {
        labels::fields(self.chrome.l, &r.fields)
    }

    /// Whether an objection can be filed about it (it still counts).
    fn disputable(&self, r: &OwnRecord) -> bool {
        matches!(r.state.as_str(), "active")
    }
}

/// `GET /portal/records`: every record version with its state.
pub async fn records(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<RecordsPage, WebError> {
    let id = p.resident.id_number;
    let records = read(&state, &p, move |ctx| {
        own::records(ctx, &id, chengxin_jobs::today(), Some(&request_id))
    })
    .await?;
    Ok(RecordsPage {
        chrome: p.chrome(),
        records,
    })
}

/// `GET /portal/notifications`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/notifications.html")]
pub struct NotificationsPage {
    chrome: Chrome,
    items: Vec<Notification>,
}

impl NotificationsPage {
    fn text<'a>(&self, n: &'a Notification) -> &'a str {
        self.chrome.l.t(&n.text_zh, &n.text_en)
    }

    fn kind(&self, n: &Notification) -> String {
        labels::cause(self.chrome.l, n.kind.as_str())
    }
}

/// `GET /portal/notifications`: each change of the score, newest first.
pub async fn notifications(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<NotificationsPage, WebError> {
    let id = p.resident.id_number;
    let items = read(&state, &p, move |ctx| {
        own::notifications(ctx, &id, Some(&request_id))
    })
    .await?;
    Ok(NotificationsPage {
        chrome: p.chrome(),
        items,
    })
}

/// `GET /portal/access-log`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/access_log.html")]
pub struct AccessPage {
    chrome: Chrome,
    items: Vec<Access>,
}

impl AccessPage {
    fn l(&self) -> Lang {
        self.chrome.l
    }

    fn kind(&self, a: &Access) -> String {
        labels::actor_kind(self.l(), &a.actor_kind)
    }

    fn action(&self, a: &Access) -> String {
        labels::action(self.l(), &a.action)
    }

    fn purpose(&self, a: &Access) -> String {
        labels::purpose(self.l(), &a.purpose)
    }
}

/// `GET /portal/access-log`: who else read or changed the data (newest 200,
/// the API's default).
pub async fn access_log(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<AccessPage, WebError> {
    let id = p.resident.id_number;
    let items = read(&state, &p, move |ctx| {
        own::access_log(ctx, &id, 200, Some(&request_id))
    })
    .await?;
    Ok(AccessPage {
        chrome: p.chrome(),
        items,
    })
}

/// `GET /portal/export`: everything held, as a JSON file to keep.
pub async fn export(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<Response, WebError> {
    let id = p.resident.id_number;
    let doc = read(&state, &p, move |ctx| {
        own::export(ctx, &id, chengxin_jobs::today(), Some(&request_id))
    })
    .await?;
    let body = serde_json::to_vec(&doc).map_err(|e| p.fail(ApiError::internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"chengxin-my-data.json\"",
            ),
        ],
        body,
    )
        .into_response())
}
