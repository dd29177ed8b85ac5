//! `/portal/authorisations`: the resident grants a party an authorisation
//! (the one-time code shown as text and as a QR code), sees each one's uses
//! (who, when) and revokes one — the same use cases, audit entries and
//! error codes as `POST/GET/DELETE /api/v1/me/authorisations`.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_domain::authorisation::Scope;
use chengxin_domain::party::Purpose;
use chengxin_jobs::authorisation_uses::{self, WithUses};
use chengxin_jobs::authorisations::{self, GrantRequest};
use chengxin_jobs::parties::{self, Party};
use serde::Deserialize;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::session::Portal;
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::routes::party::{auth_error, authorisation_id};
use crate::state::AppState;

/// The grant form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    party: String,
    #[serde(default)]
    purpose: String,
    /// `score`, `grade` or `threshold`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    max_uses: String,
}

/// The form's suggested end of an authorisation: 30 days from today.
fn default_valid_until() -> String {
    chengxin_jobs::today()
        .saturating_add(jiff::Span::new().days(30))
        .to_string()
}

/// One option of the purpose list.
pub struct PurposeOption {
    code: &'static str,
    label: String,
    selected: bool,
}

/// A code just granted.
pub struct Granted {
    id: i64,
    code: String,
    qr: String,
}

/// `GET /portal/authorisations`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/authorisations.html")]
pub struct AuthorisationsPage {
    chrome: Chrome,
    parties: Vec<Party>,
    list: Vec<WithUses>,
    form: GrantForm,
    error: Option<String>,
    granted: Option<Granted>,
    done: Option<String>,
}

impl AuthorisationsPage {
    fn purpose(&self, code: &str) -> String {
        purpose_text(self.chrome.l, code)
    }

    fn purposes(&self, p: &Party) -> String {
        p.purposes
            .iter()
            .map(|c| self.purpose(c))
            .collect::<Vec<_>>()
            .join(self.chrome.l.t("、", ", "))
    }

    fn all_purposes(&self) -> Vec<PurposeOption> {
        Purpose::ALL
            .iter()
            .map(|p| PurposeOption {
                code: p.code(),
                label: self.purpose(p.code()),
                selected: self.form.purpose == p.code(),
            })
            .collect()
    }

    fn scope(&self, s: &str) -> String {
        let l = self.chrome.l;
        match Scope::parse(s) {
            Ok(Scope::Score) => l.t("分数和等级", "score and grade").to_owned(),
            Ok(Scope::Grade) => l.t("仅等级", "grade only").to_owned(),
            Ok(Scope::Threshold(n)) => {
                if l.is_zh() {
                    format!("仅告知是否达到 {n} 分")
                } else {
                    format!("only whether the score is at least {n}")
                }
            }
            Err(_) => s.to_owned(),
        }
    }

    fn status(&self, s: &str) -> &'static str {
        let l = self.chrome.l;
        match s {
            "pending" => l.t("待领取", "code not yet redeemed"),
            "active" => l.t("有效", "active"),
            "expired" => l.t("已过期", "expired"),
            "revoked" => l.t("已撤销", "revoked"),
            "exhausted" => l.t("次数已用完", "uses exhausted"),
            _ => l.t("其他", "other"),
        }
    }

    fn use_kind(&self, kind: &str, what: &Option<String>) -> String {
        let l = self.chrome.l;
        let k = match kind {
            "redeemed" => l.t("领取了授权码", "redeemed the code"),
            "used" => l.t("凭授权查询", "read under the authorisation"),
            "use_refused" => l.t("查询被拒绝", "a read was refused"),
            _ => l.t("其他", "other"),
        };
        let w = match what.as_deref() {
            Some("result") => l.t("（查询结果）", " (result)"),
            Some("certificate") => l.t("（信用证书）", " (certificate)"),
            Some("scenario") => l.t("（信易+场景）", " (benefit check)"),
            _ => "",
        };
        format!("{k}{w}")
    }

    fn party_name(&self, code: &str) -> String {
        self.parties
            .iter()
            .find(|p| p.code == code)
            .map_or_else(|| code.to_owned(), |p| format!("{}（{code}）", p.name))
    }

    fn time(&self, ts: &str) -> String {
        local_time(ts)
    }
}

/// Why a grant was refused: the reason in the page's language, then the
/// API's detail.
fn refusal_text(l: Lang, e: &ApiError) -> String {
    let why = match e.code() {
        ErrorCode::UnknownParty => l.t("没有这个授权查询方", "No such party"),
        ErrorCode::PurposeNotDeclared => l.t(
            "该查询方未申报这一用途",
            "The party did not declare this purpose",
        ),
        ErrorCode::InvalidScope => l.t("授权范围不正确", "The scope is not valid"),
        ErrorCode::InvalidDate => l.t("有效期日期不正确", "The date is not valid"),
        ErrorCode::InvalidValidity => l.t(
            "有效期须在今天至 366 天内，次数须为 1–10000",
            "Valid until must be from today to 366 days ahead, uses 1–10000",
        ),
        ErrorCode::ThresholdGrantExists => l.t(
            "该查询方已持有您的一项有效阈值授权",
            "The party already holds a live threshold grant from you",
        ),
        ErrorCode::TooManyGrants => l.t(
            "24 小时内对该查询方授权过多",
            "Too many grants to this party in 24 hours",
        ),
        _ => l.t("无法授权", "The grant was refused"),
    };
    format!("{why}：{}", e.detail())
}

/// A purpose code in the page's language.
pub fn purpose_text(l: Lang, code: &str) -> String {
    Purpose::parse(code).map_or_else(|| code.to_owned(), |p| l.t(p.zh(), p.en()).to_owned())
}

pub use super::page::local_time;

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn load(
    state: &AppState,
    p: &Portal,
    request_id: String,
) -> Result<(Vec<Party>, Vec<WithUses>), WebError> {
    let resident = p.resident.clone();
    state
        .reading(move |ctx| {
            let list = authorisation_uses::list_with_uses(
                ctx,
                resident.acting(&request_id),
                jiff::Timestamp::now(),
            )?;
            let parties = parties::list_parties(ctx)?
                .into_iter()
                .filter(|p| !p.disabled)
                .collect();
            Ok::<_, chengxin_jobs::JobError>((parties, list))
        })
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(|e| p.fail(e))
}

/// `GET /portal/authorisations`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Query(q): Query<Done>,
) -> Result<AuthorisationsPage, WebError> {
    let (parties, list) = load(&state, &p, request_id).await?;
    let done = q.done.filter(|d| d == "revoked").map(|_| {
        p.l.t(
            "已撤销；对方的下一次查询将被拒绝。",
            "Revoked: the party's next request is refused.",
        )
        .to_owned()
    });
    Ok(AuthorisationsPage {
        chrome: p.chrome(),
        parties,
        list,
        form: GrantForm {
            scope: "grade".into(),
            valid_until: default_valid_until(),
            ..GrantForm::default()
        },
        error: None,
        granted: None,
        done,
    })
}

fn parse(f: &GrantForm) -> Result<GrantRequest, ApiError> {
    let scope_text = if f.scope == "threshold" {
        format!("threshold:{}", f.threshold.trim())
    } else {
        f.scope.clone()
    };
    let scope = Scope::parse(&scope_text)
        .map_err(|e| ApiError::new(ErrorCode::InvalidScope, e.to_string()))?;
    let valid_until =
        chengxin_domain::dates::parse_date(f.valid_until.trim()).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidDate,
                "有效期须为 YYYY-MM-DD 格式的日期 `valid_until` must be an existing YYYY-MM-DD date",
            )
        })?;
    let max_uses = match f.max_uses.trim() {
        "" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidField,
                "次数须为整数 `max_uses` must be a whole number",
            )
        })?),
    };
    Ok(GrantRequest {
        party: f.party.trim().to_owned(),
        purpose: f.purpose.trim().to_owned(),
        scope,
        valid_until,
        max_uses,
    })
}

/// `POST /portal/authorisations`: grants, then shows the one-time code as
/// text and as a QR code (once: it is not stored in clear); a refusal
/// shows the form again with the reason.
pub async fn grant(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    PageForm(form): PageForm<GrantForm>,
) -> Result<Response, WebError> {
    let outcome = match parse(&form) {
        Err(e) => Err(e),
        Ok(req) => {
            let resident = p.resident.clone();
            let rid = request_id.clone();
            state
                .blocking(move |ctx| {
                    authorisations::grant(ctx, resident.acting(&rid), &req, jiff::Timestamp::now())
                })
                .await
                .map_err(|e| p.fail(e))?
                .map_err(auth_error)
        }
    };
    let (granted, error, status) = match outcome {
        Ok(g) => {
            let label = p.l.t("授权码二维码", "QR code of the authorisation code");
            let qr = super::qr::svg(&g.code, 200, label).unwrap_or_default();
            let granted = Granted {
                id: g.id,
                code: g.code,
                qr,
            };
            (Some(granted), None, StatusCode::OK)
        }
        Err(e) if e.code().status().is_server_error() => return Err(p.fail(e)),
        Err(e) => (None, Some(refusal_text(p.l, &e)), e.code().status()),
    };
    let (parties, list) = load(&state, &p, request_id).await?;
    let page = AuthorisationsPage {
        chrome: p.chrome(),
        parties,
        list,
        form: if granted.is_some() {
            GrantForm {
                scope: "grade".into(),
                valid_until: default_valid_until(),
                ..GrantForm::default()
            }
        } else {
            form
        },
        error,
        granted,
        done: None,
    };
    Ok((status, page).into_response())
}

/// `POST /portal/authorisations/{id}/revoke`: revokes one of the
/// resident's own (another's or an unknown id: the 404 page, nothing
/// written), then back to the list.
pub async fn revoke(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    let id = authorisation_id(&id).map_err(|e| p.fail(e))?;
    let resident = p.resident.clone();
    state
        .blocking(move |ctx| {
            authorisations::revoke(
                ctx,
                resident.acting(&request_id),
                id,
                jiff::Timestamp::now(),
            )
        })
        .await
        .and_then(|r| r.map_err(auth_error))
        .map_err(|e| p.fail(e))?;
    Ok(Redirect::to("/portal/authorisations?done=revoked"))
}
