//! What the console's case queues share (`/console/self-reports`,
//! `/console/objections`, `/console/repairs`): the zh/en labels of the
//! states they show, the notice after a decision (Post/Redirect/Get), the
//! refusal shown in place (its code, its 4xx status), and turning a form
//! into the JSON body the API's decision handlers read — so a page's
//! decision goes through exactly the API's parsing, use case and error
//! mapping.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::lang::Lang;
use crate::error::ApiError;

/// A refusal shown on the queue page, next to the case it concerns.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The case the form was about, if any.
    pub case: Option<i64>,
    pub code: &'static str,
    pub detail: String,
    /// What the staff member had typed (kept in the form).
    pub text: String,
}

impl Refusal {
    /// `e` refused a step on `case`; `text` is put back in the form.
    pub fn new(case: Option<i64>, e: &ApiError, text: String) -> Refusal {
        Refusal {
            case,
            code: e.code().as_str(),
            detail: e.detail().to_owned(),
            text,
        }
    }

    /// `e` refused a step on `case`, with the status the page answers.
    pub fn refused(case: Option<i64>, e: &ApiError, text: String) -> Refused {
        (Refusal::new(case, e, text), e.code().status())
    }

    /// Shown at the top when the case is not among `shown`.
    pub fn placed(mut self, shown: &[i64]) -> Refusal {
        if self.case.is_some_and(|c| !shown.contains(&c)) {
            self.case = None;
        }
        self
    }

    /// Whether the refusal belongs to `case`'s card.
    pub fn about(&self, case: &i64) -> bool {
        self.case == Some(*case)
    }
}

/// The query of a queue page split into the filter the API's parser reads
/// and the notice left by a decision (`done`, `case`).
pub struct PageQuery {
    /// The filter's pairs, as the API's queue parser reads them.
    pub filter: String,
    pub done: Option<String>,
    pub case: Option<i64>,
    /// The raw pairs, for the filter form.
    pub pairs: BTreeMap<String, String>,
}

impl PageQuery {
    pub fn parse(query: Option<&str>) -> PageQuery {
        let mut filter = Vec::new();
        let (mut done, mut case) = (None, None);
        let mut pairs = BTreeMap::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "done" => done = Some(v.to_owned()),
                "case" => case = v.parse().ok(),
                _ => {
                    pairs.insert(k.to_owned(), v.to_owned());
                    filter.push(pair);
                }
            }
        }
        PageQuery {
            filter: filter.join("&"),
            done,
            case,
            pairs,
        }
    }
}

/// 303 back to the queue at `path` with what was done to `case`.
pub fn done(path: &str, what: &str, case: i64) -> Response {
    Redirect::to(&format!("{path}?done={what}&case={case}#c{case}")).into_response()
}

/// The notice after a decision (`?done=…&case=…`), in the page's language.
pub fn done_text(l: Lang, done: Option<&str>, case: Option<i64>) -> Option<String> {
    let case = case?;
    let (zh, en) = match done? {
        "accepted" => ("已受理", "Accepted"),
        "decided" => ("已作出决定", "Decided"),
        "verified" => ("已核实通过", "Verified"),
        "approved" => ("已批准修复", "Repair approved"),
        "rejected" => ("已驳回", "Rejected"),
        "corrected" => ("已决定：更正", "Decided: corrected"),
        "explained" => ("已决定：解释说明", "Decided: explained"),
        _ => return None,
    };
    Some(format!("{} #{case}", l.t(zh, en)))
}

/// A form's decision as the JSON body the API's handler reads: `text`
/// fields are sent when not empty (absent otherwise), `flags` as booleans
/// when checked.
pub fn json_body(fields: &[(&str, Option<&str>)], flags: &[(&str, bool)]) -> bytes::Bytes {
    let mut obj = serde_json::Map::new();
    for (k, v) in fields {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            obj.insert((*k).to_owned(), serde_json::Value::String(v.to_owned()));
        }
    }
    for (k, on) in flags {
        if *on {
            obj.insert((*k).to_owned(), serde_json::Value::Bool(true));
        }
    }
    bytes::Bytes::from(serde_json::to_vec(&obj).unwrap_or_default())
}

/// A refusal and the status its page is answered with.
pub type Refused = (Refusal, axum::http::StatusCode);

/// The refusal to show (in its case's card if that case is `shown`) and
/// the page's status: 200 without one.
pub fn shown(refused: Option<Refused>, shown: &[i64]) -> (Option<Refusal>, axum::http::StatusCode) {
    match refused {
        Some((r, s)) => (Some(r.placed(shown)), s),
        None => (None, axum::http::StatusCode::OK),
    }
}

/// A queue's state filter: each state with its label.
pub fn tabs(l: Lang, states: &[&'static str]) -> Vec<(&'static str, String)> {
    states.iter().map(|s| (*s, label(l, s))).collect()
}

/// The `{decision, reason}` form of the self-report and repair queues.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: Option<String>,
    #[serde(default)]
    pub reason: String,
}

impl DecisionForm {
    /// The API's decision body for it.
    pub fn body(&self) -> bytes::Bytes {
        json_body(
            &[
                ("decision", self.decision.as_deref()),
                ("reason", Some(self.reason.as_str())),
            ],
            &[],
        )
    }
}

/// The JSON name of a serialisable state (`"awaiting_unit"`).
pub fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The zh/en label of a state, step, decision or level name.
pub fn label(l: Lang, name: &str) -> String {
    let (zh, en) = match name {
        // Objections.
        "submitted" => ("待受理", "Submitted"),
        "accepted" => ("已受理", "Accepted"),
        "awaiting_unit" => ("待单位答复", "Awaiting the unit"),
        "routed_to_unit" => ("转交单位", "Routed to the unit"),
        "unit_replied" => ("单位已答复", "The unit replied"),
        "corrected" => ("已更正", "Corrected"),
        "explained" => ("已解释说明", "Explained"),
        // Self-reports, repairs, records.
        "pending" => ("待审核", "Pending"),
        "verified" => ("已核实", "Verified"),
        "approved" => ("已批准", "Approved"),
        "rejected" => ("已驳回", "Rejected"),
        "active" => ("有效", "Active"),
        "disputed" => ("异议中", "Disputed"),
        "repaired" => ("已修复", "Repaired"),
        "withdrawn" => ("已撤回", "Withdrawn"),
        // Penalty levels.
        "general" => ("一般失信", "General"),
        "serious" => ("严重失信", "Serious"),
        other => return other.to_owned(),
    };
    l.t(zh, en).to_owned()
}

/// A record or report field as shown: `字段 key：value`, so the field's
/// code is never a bare English word on a Chinese page.
pub fn fields_text(l: Lang, fields: &serde_json::Value) -> Vec<String> {
    let Some(o) = fields.as_object() else {
        return Vec::new();
    };
    o.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if l.is_zh() {
                format!("字段 {k}：{v}")
            } else {
                format!("Field {k}: {v}")
            }
        })
        .collect()
}

/// A catalogue item's name in the page's language, after its code.
pub fn item_name(l: Lang, catalogue: &chengxin_domain::Catalogue, code: &str) -> String {
    match catalogue.item(code) {
        Some(i) => format!("{code} {}", if l.is_zh() { &i.name_zh } else { &i.name_en }),
        None => code.to_owned(),
    }
}

/// An RFC 3339 UTC timestamp as `YYYY-MM-DD HH:MM:SS` (the label says UTC).
pub fn timestamp(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// What a refusal's code means, in the page's language (the API's detail,
/// in English, follows it).
pub fn code_text(l: impl std::borrow::Borrow<Lang>, code: &str) -> &'static str {
    let l = *l.borrow();
    match code {
        "missing_field" => l.t("缺少必填内容（驳回须说明理由，决定须填写答复）。", "Something required is missing."),
        "out_of_range" => l.t("内容过长。", "Too long."),
        "invalid_field" | "invalid_enum" | "invalid_character" => l.t("填写的内容不符合要求。", "A value is not acceptable."),
        "objection_wrong_state" => l.t("该异议当前状态不允许此操作（可能已受理或已决定）。", "The objection's state does not allow this step."),
        "objection_not_corrected" => l.t("单位尚未更正或撤回该信息；如由本机构撤回，请勾选“撤回”。", "The unit has not corrected or withdrawn the record; tick “withdraw” for the agency to withdraw it."),
        "record_not_disputable" => l.t("该信息当前状态不能撤回。", "The record cannot be withdrawn in its state."),
        "self_report_already_decided" | "repair_already_decided" => l.t("已经作出过决定。", "It was already decided."),
        "repair_record_changed" => l.t("该记录已不再计分，只能驳回。", "The record no longer counts; it can only be rejected."),
        "objection_not_found" | "self_report_not_found" | "repair_not_found" | "not_found" => l.t("没有找到该案件。", "No such case."),
        "id_check_digit" | "invalid_id_number" => l.t("身份证号不正确。", "The ID number is not valid."),
        "role_forbidden" => l.t("您的角色无权进行此操作。", "Your role may not do this."),
        _ => l.t("操作未能完成。", "It could not be done."),
    }
}
