//! What every page shares: the [`Chrome`] around it (language, area, who is
//! signed in, navigation) and [`WebError`], the HTML answer for anything
//! that goes wrong (the API's problem codes, shown in the page's language).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chengxin_domain::staff::Right;

use super::lang::{self, Lang};
use crate::error::{ApiError, ErrorCode};

/// Which part of the site a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The public rules pages (no sign-in).
    Public,
    /// The resident's portal.
    Portal,
    /// The agency console.
    Console,
}

/// One navigation link.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// The page being shown.
    pub current: bool,
}

/// The frame around a page's content: `base.html` reads only this.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub l: Lang,
    pub area: Area,
    /// The path of the page (for the language switch and the current link).
    pub path: String,
    /// Who is signed in, as shown in the header.
    pub user: Option<String>,
    /// The console's links the signed-in role may use (empty elsewhere).
    rights: Vec<Right>,
}

impl Chrome {
    /// A public page's frame.
    pub fn public(l: Lang, path: &str) -> Chrome {
        Chrome {
            l,
            area: Area::Public,
            path: path.to_owned(),
            user: None,
            rights: Vec::new(),
        }
    }

    /// A portal page's frame for the signed-in resident.
    pub fn portal(l: Lang, path: &str, user: String) -> Chrome {
        Chrome {
            l,
            area: Area::Portal,
            path: path.to_owned(),
            user: Some(user),
            rights: Vec::new(),
        }
    }

    /// A console page's frame for a staff member holding `rights`.
    pub fn console(l: Lang, path: &str, user: String, rights: Vec<Right>) -> Chrome {
        Chrome {
            l,
            area: Area::Console,
            path: path.to_owned(),
            user: Some(user),
            rights,
        }
    }

    /// The link that shows this page in the other language.
    pub fn switch_href(&self) -> String {
        lang::switch_href(self.l, &self.path)
    }

    /// The area's home.
    pub fn home(&self) -> &'static str {
        match self.area {
            Area::Public => "/",
            Area::Portal => "/portal",
            Area::Console => "/console",
        }
    }

    /// The site's name in the header.
    pub fn site(&self) -> &'static str {
        match self.area {
            Area::Public => self
                .l
                .t("绍兴个人诚信分", "Shaoxing personal integrity score"),
            Area::Portal => self.l.t("我的诚信分", "My integrity score"),
            Area::Console => self.l.t("诚信分管理台", "Integrity score console"),
        }
    }

    /// Where signing out goes (none on public pages).
    pub fn sign_out(&self) -> Option<&'static str> {
        match self.area {
            Area::Public => None,
            Area::Portal => Some("/portal/logout"),
            Area::Console => Some("/console/logout"),
        }
    }

    /// The navigation of the page's area.
    pub fn nav(&self) -> Vec<NavItem> {
        let l = self.l;
        let items: Vec<(&'static str, &'static str)> = match self.area {
            Area::Public => vec![
                ("/rules/catalogue", l.t("信息目录", "Catalogue")),
                ("/rules/model", l.t("评分模型", "Score model")),
                ("/rules/scenarios", l.t("信易+场景", "Benefits")),
                ("/verify", l.t("证书验证", "Verify a certificate")),
                ("/portal", l.t("居民登录", "Residents")),
            ],
            Area::Portal => vec![
                ("/portal", l.t("我的分数", "My score")),
                ("/portal/history", l.t("历史", "History")),
                ("/portal/records", l.t("信用记录", "Records")),
                ("/portal/commitments", l.t("信用承诺", "Commitments")),
                ("/portal/self-reports", l.t("自主申报", "Self-reports")),
                ("/portal/objections", l.t("异议", "Objections")),
                ("/portal/repairs", l.t("信用修复", "Credit repair")),
                ("/portal/authorisations", l.t("授权查询", "Authorisations")),
                ("/portal/scenarios", l.t("信易+", "Benefits")),
                ("/portal/access-log", l.t("查询记录", "Access log")),
                ("/portal/notifications", l.t("消息", "Notifications")),
                ("/portal/report", l.t("信用报告", "Credit report")),
            ],
            Area::Console => console_nav(l)
                .into_iter()
                .filter(|(_, _, right)| right.is_none_or(|r| self.rights.contains(&r)))
                .map(|(href, label, _)| (href, label))
                .collect(),
        };
        items
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: self.path == href
                    || (href != self.home() && self.path.starts_with(&format!("{href}/"))),
            })
            .collect()
    }
}

/// The console's pages and the right each needs (`None`: any staff member).
fn console_nav(l: Lang) -> Vec<(&'static str, &'static str, Option<Right>)> {
    vec![
        ("/console", l.t("概览", "Dashboard"), None),
        (
            "/console/lookup",
            l.t("按身份证号查询", "Look up by ID"),
            Some(Right::DecideObjections),
        ),
        (
            "/console/self-reports",
            l.t("自主申报", "Self-reports"),
            Some(Right::DecideSelfReports),
        ),
        (
            "/console/objections",
            l.t("异议", "Objections"),
            Some(Right::DecideObjections),
        ),
        (
            "/console/repairs",
            l.t("信用修复", "Credit repair"),
            Some(Right::DecideRepairs),
        ),
        (
            "/console/models",
            l.t("评分模型", "Score models"),
            Some(Right::ManageModels),
        ),
        (
            "/console/units",
            l.t("协同单位", "Units"),
            Some(Right::ManageUnits),
        ),
        (
            "/console/parties",
            l.t("授权查询方", "Parties"),
            Some(Right::ManageUnits),
        ),
        (
            "/console/scenarios",
            l.t("信易+场景", "Benefits"),
            Some(Right::ManageScenarios),
        ),
        (
            "/console/partners",
            l.t("合作城市", "Partner cities"),
            Some(Right::ManagePartnerCities),
        ),
        (
            "/console/audit",
            l.t("审计日志", "Audit log"),
            Some(Right::ReadAuditLog),
        ),
    ]
}

/// A page that went wrong, shown in the page's language.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    code: &'static str,
    detail: String,
}

/// What a page handler returns when it cannot show its page.
#[derive(Debug)]
pub enum WebError {
    /// An error with its problem code, shown as a page.
    Api(Box<(ApiError, Chrome)>),
    /// Not signed in (or no longer): go and sign in, then come back.
    SignIn(String),
}

impl WebError {
    /// `e` shown inside `chrome`.
    pub fn api(e: ApiError, chrome: &Chrome) -> WebError {
        WebError::Api(Box::new((e, chrome.clone())))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn(to) => Redirect::to(&to).into_response(),
            WebError::Api(b) => {
                let (e, chrome) = *b;
                let status = e.code().status();
                if status.is_server_error() {
                    tracing::error!(code = e.code().as_str(), detail = e.detail(), "page failed");
                }
                let detail = if status.is_server_error() {
                    chrome
                        .l
                        .t(
                            "服务器内部错误，请稍后再试。",
                            "Something went wrong on our side; please try again later.",
                        )
                        .to_owned()
                } else {
                    e.detail().to_owned()
                };
                let page = ErrorPage {
                    chrome,
                    status: status.as_u16(),
                    code: e.code().as_str(),
                    detail,
                };
                (status, page).into_response()
            }
        }
    }
}

/// A use case's failure on an operator's form (console): the operator's
/// own input refused (a bad code or name, an invalid model, a publication
/// the model's status forbids) is 400 with the use case's message, shown in
/// place; anything else is [`ApiError::job`].
pub fn operator_error(e: chengxin_jobs::JobError) -> ApiError {
    use chengxin_jobs::JobError as J;
    match e {
        e @ (J::Invalid(_) | J::Model(_) | J::Engine(_) | J::Publication(_)) => {
            ApiError::new(ErrorCode::BadRequest, e.to_string())
        }
        e => ApiError::job(e),
    }
}

/// A 404 page for a well-formed address that names nothing of the caller's.
pub fn not_found(chrome: &Chrome) -> WebError {
    WebError::api(
        ApiError::new(
            ErrorCode::NotFound,
            chrome
                .l
                .t("没有找到这一页或这一项。", "There is no such page or item."),
        ),
        chrome,
    )
}

/// A status for tests and handlers that want it spelled out.
pub const SEE_OTHER: StatusCode = StatusCode::SEE_OTHER;
