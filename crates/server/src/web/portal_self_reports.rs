//! `/portal/self-reports` (自主申报, 第十二条): the resident's reports with
//! status and reason, and a form per self-reportable item (O01–O03) with
//! that item's fields, as the catalogue in force defines them, and evidence
//! files. The form is read by the API's multipart code
//! ([`crate::routes::evidence_form`]), its `f_<field>` parts become the
//! API's `fields` object, and the same use case as
//! `POST /api/v1/me/self-reports` checks and stores it; a refusal is shown
//! in place.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_domain::catalogue::FieldType;
use chengxin_jobs::self_reports;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::portal_data::read;
use super::portal_forms::{done_text, Done, Refusal};
use super::portal_labels as labels;
use super::session::Portal;
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::routes::evidence_form;
use crate::routes::me_self_reports::{problem, ReportBody};
use crate::state::AppState;

/// One input of an item's form.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub label: String,
    /// The `<input type>`; `select` for an enumeration.
    pub kind: &'static str,
    pub required: bool,
    /// An enumeration's values with their labels.
    pub options: Vec<(String, String)>,
    pub max_len: Option<usize>,
}

/// The form of one self-reportable item.
#[derive(Debug, Clone)]
pub struct ItemForm {
    pub code: String,
    pub name: String,
    pub fields: Vec<FieldInput>,
}

/// A refused form: the refusal, the item and the `(field, value)` pairs sent.
type Failed = (Refusal, String, Vec<(String, String)>);

/// `GET /portal/self-reports`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/self_reports.html")]
pub struct SelfReportsPage {
    chrome: Chrome,
    mine: Vec<ReportBody>,
    items: Vec<ItemForm>,
    /// What a refused form held: its item and `(field, value)` pairs.
    entered: Option<(String, Vec<(String, String)>)>,
    done: Option<&'static str>,
    error: Option<Refusal>,
}

impl SelfReportsPage {
    fn status(&self, r: &ReportBody) -> String {
        labels::decision_status(self.chrome.l, &labels::name(&r.status))
    }

    fn fields(&self, r: &ReportBody) -> Vec<String> {
        labels::fields(self.chrome.l, &r.fields)
    }

    fn item_name(&self, code: &str) -> String {
        self.items
            .iter()
            .find(|i| i.code == code)
            .map_or_else(String::new, |i| i.name.clone())
    }

    fn value(&self, item: &str, field: &str) -> &str {
        match &self.entered {
            Some((i, values)) if i == item => values
                .iter()
                .find(|(k, _)| k == field)
                .map_or("", |(_, v)| v.as_str()),
            _ => "",
        }
    }
}

fn item_forms(l: Lang, catalogue: &chengxin_domain::catalogue::Catalogue) -> Vec<ItemForm> {
    catalogue
        .items
        .iter()
        .filter(|i| i.self_reportable)
        .map(|i| ItemForm {
            code: i.code.clone(),
            name: l.t(&i.name_zh, &i.name_en).to_owned(),
            fields: i
                .fields
                .iter()
                .map(|f| FieldInput {
                    name: f.name.clone(),
                    label: labels::field(l, &f.name),
                    kind: match f.ty {
                        FieldType::Date => "date",
                        FieldType::Int | FieldType::Decimal => "number",
                        FieldType::Enum => "select",
                        FieldType::Bool => "checkbox",
                        _ => "text",
                    },
                    required: f.required,
                    options: f
                        .values
                        .iter()
                        .map(|v| (v.clone(), labels::value(l, v)))
                        .collect(),
                    max_len: f.max_len,
                })
                .collect(),
        })
        .collect()
}

async fn render(
    state: &AppState,
    p: &Portal,
    request_id: String,
    done: Option<&str>,
    failed: Option<Failed>,
) -> Result<Response, WebError> {
    let resident = p.resident.clone();
    let (mine, catalogue) = read(state, p, move |ctx| {
        let mine = self_reports::list_mine(ctx, resident.acting(&request_id))?;
        Ok((mine, ctx.catalogue_now()?))
    })
    .await?;
    let (error, entered) = match failed {
        Some((e, item, values)) => (Some(e), Some((item, values))),
        None => (None, None),
    };
    let status = error.as_ref().map(|e| e.status);
    let page = SelfReportsPage {
        chrome: p.chrome(),
        mine: mine.into_iter().map(ReportBody::from).collect(),
        items: item_forms(p.l, &catalogue),
        entered,
        done: done_text(p.l, done),
        error,
    };
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page.into_response(),
    })
}

/// `GET /portal/self-reports`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    render(&state, &p, request_id, q.done.as_deref(), None).await
}

/// The `fields` JSON of a form's `f_<name>` parts: empty ones left out (a
/// required one is then `missing_field`), whole numbers and yes/no typed as
/// the item wants them, everything else as text for the catalogue to check.
fn fields_json(
    catalogue: &chengxin_domain::catalogue::Catalogue,
    item: &str,
    values: &[(String, String)],
) -> String {
    let spec = catalogue.items.iter().find(|i| i.code == item);
    let mut map = serde_json::Map::new();
    for (name, v) in values {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let ty = spec
            .and_then(|s| s.fields.iter().find(|f| &f.name == name))
            .map(|f| f.ty);
        let value = match ty {
            Some(FieldType::Int) => v
                .parse::<i64>()
                .map_or_else(|_| v.into(), serde_json::Value::from),
            Some(FieldType::Bool) => serde_json::Value::Bool(matches!(v, "on" | "true")),
            _ => v.into(),
        };
        map.insert(name.clone(), value);
    }
    serde_json::Value::Object(map).to_string()
}

/// `POST /portal/self-reports` (`multipart/form-data`): submits a report.
pub async fn submit(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let form = async {
        let form =
            multipart.map_err(|e| ApiError::new(ErrorCode::MalformedMultipart, e.body_text()))?;
        evidence_form::read(
            form,
            |n| n == "item" || n.starts_with("f_"),
            "`item`, `f_<field>` and `evidence`",
            true,
        )
        .await
    }
    .await;
    let form = match form {
        Ok(f) => f,
        Err(e) => return refused(&state, &p, request_id, e, String::new(), Vec::new()).await,
    };
    let item = form.text("item").unwrap_or_default().to_owned();
    let values: Vec<(String, String)> = form
        .texts
        .iter()
        .filter_map(|(n, v)| n.strip_prefix("f_").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let (resident, rid, it, vals) = (
        p.resident.clone(),
        request_id.clone(),
        item.clone(),
        values.clone(),
    );
    let evidence = form.evidence;
    let outcome = state
        .blocking(move |ctx| {
            let fields = fields_json(&ctx.catalogue(), &it, &vals);
            self_reports::submit(ctx, resident.acting(&rid), &it, &fields, &evidence)
        })
        .await
        .map_err(|e| p.fail(e))?;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/self-reports?done=submitted").into_response()),
        Err(e) => refused(&state, &p, request_id, problem(e), item, values).await,
    }
}

async fn refused(
    state: &AppState,
    p: &Portal,
    request_id: String,
    e: ApiError,
    item: String,
    values: Vec<(String, String)>,
) -> Result<Response, WebError> {
    if e.code().status().is_server_error() {
        return Err(p.fail(e));
    }
    let refusal = Refusal::of(p.l, &e);
    render(state, p, request_id, None, Some((refusal, item, values))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_become_the_fields_object() {
        let c = chengxin_domain::catalogue::Catalogue::builtin();
        let json = fields_json(
            &c,
            "O02",
            &[
                ("amount_cny".into(), " 5000 ".into()),
                ("donated_on".into(), "2026-01-05".into()),
                ("recipient".into(), String::new()),
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"amount_cny": "5000", "donated_on": "2026-01-05"})
        );
    }
}
