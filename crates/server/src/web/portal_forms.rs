//! What the portal's forms share: a refusal by the API's use case shown in
//! place, in the page's language, with its stable code; and the outcome
//! notice after a Post/Redirect/Get (`?done=…`).

use axum::http::StatusCode;
use serde::Deserialize;

use super::lang::Lang;
use crate::error::{ApiError, ErrorCode};

/// A refused form, as the page shows it.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The problem code, as the API gives it.
    pub code: &'static str,
    /// What went wrong, in the page's language.
    pub text: String,
    pub status: StatusCode,
}

impl Refusal {
    /// `e` told in `l`: the Chinese text for the code on a Chinese page,
    /// the API's own detail on an English one.
    pub fn of(l: Lang, e: &ApiError) -> Refusal {
        Refusal {
            code: e.code().as_str(),
            text: if l.is_zh() || e.code().status().is_server_error() {
                l.t(
                    zh(e.code()),
                    "Something went wrong on our side; please try again later.",
                )
                .to_owned()
            } else {
                e.detail().to_owned()
            },
            status: e.code().status(),
        }
    }

    /// As an error page's problem (a 404 tells nothing more than its code).
    pub fn into_api(self) -> ApiError {
        let code = ErrorCode::from_code(self.code).unwrap_or(ErrorCode::BadRequest);
        ApiError::new(code, self.text)
    }
}

/// The Chinese text of a refusal a resident can meet on the portal.
fn zh(code: ErrorCode) -> &'static str {
    match code.as_str() {
        "unknown_template" => "没有该承诺模板。",
        "template_retired" => "该承诺模板已停止签署。",
        "commitment_already_active" => "您已签署该承诺，且仍在有效期内。",
        "repair_too_early" => "尚未满最短公示期，暂不能申请信用修复（可申请日期见下表）。",
        "repair_needs_commitment" => "申请信用修复须先作出信用承诺，请先签署一份信用承诺。",
        "record_not_repairable" => "该信息不适用信用修复。",
        "repair_already_pending" => "该信息已有待审核的信用修复申请。",
        "record_not_found" | "objection_record_not_found" => "没有找到您的这条信息。",
        "objection_already_open" => "对同一信息（或诚信分）的异议尚在处理中。",
        "record_not_disputable" => "该信息已不计分，无需提出异议。",
        "item_not_self_reportable" => "该事项不能自主申报。",
        "evidence_required" => "请至少上传一份证明材料。",
        "too_many_evidence_files" => "证明材料最多五份。",
        "evidence_type_not_allowed" => "证明材料须为 PDF、JPEG 或 PNG 文件（按文件内容判断）。",
        "evidence_too_large" => "每份证明材料不得超过 10 MiB。",
        "payload_too_large" => "提交的内容过大。",
        "missing_field" => "有必填项未填写。",
        "invalid_field" | "malformed_json" | "invalid_utf8" | "unknown_field" => {
            "填写的内容无法识别，请检查后重试。"
        }
        "invalid_date" => "日期无效，请按 年-月-日 填写。",
        "invalid_enum" => "所选的值无效。",
        "out_of_range" => "填写的内容超出允许范围（过长或数值超限）。",
        "malformed_multipart" => "表单无法读取，请重新提交。",
        "not_found" => "没有找到这一页或这一项。",
        _ => "提交未被受理，请检查后重试。",
    }
}

/// `?done=…` after a form succeeded.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub done: Option<String>,
    /// A record to preselect in a form.
    pub record: Option<i64>,
}

/// The notice for `done`, if it names something the page did.
pub fn done_text(l: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "signed" => l.t(
            "承诺已签署，诚信分已更新。",
            "Signed; your score is updated.",
        ),
        "submitted" => l.t(
            "申报已提交，待核实后计分。",
            "Submitted; it counts once verified.",
        ),
        "filed" => l.t(
            "异议已提交，请留意受理和答复期限。",
            "Objection filed; see the deadlines below.",
        ),
        "applied" => l.t(
            "信用修复申请已提交，等待审核。",
            "Application made; it awaits review.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_speaks_the_page_language_and_keeps_its_code() {
        let e = ApiError::new(
            ErrorCode::RepairTooEarly,
            "the record may be repaired from 2027-01-01",
        );
        let zh = Refusal::of(Lang::Zh, &e);
        assert_eq!(zh.code, "repair_too_early");
        assert!(zh.text.contains("信用修复"));
        assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
        let en = Refusal::of(Lang::En, &e);
        assert!(en.text.contains("2027-01-01"));
    }
}
