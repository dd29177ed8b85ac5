//! Who is signed in to the pages. A resident's session cookie holds their
//! verified ID token, checked again on every request by the same verifier
//! as the API (so it ends when the token expires, at most an hour for the
//! demo provider) and against the store's list of signed-out sessions
//! (`jobs::portal_sessions`: signing out ends it at once); a staff member's
//! holds their staff session token, a row in the store that signing out
//! revokes at once. Both cookies are
//! HttpOnly and scoped to their area's path; state-changing requests are
//! also checked for their origin ([`super::csrf`]).
//!
//! [`Portal`] and [`Console`] are the page handlers' extractors: without a
//! valid session they send the browser to sign in and back.

use super::form::PageForm;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chengxin_domain::staff::Right;
use chengxin_jobs::staff::{self, Attempt, SignInError};
use serde::Deserialize;

use super::lang::{is_local, Lang};
use super::page::{Chrome, WebError};
use super::rp::{here, secure};
use crate::auth::{AuthResident, AuthStaff};
use crate::error::{ApiError, ErrorCode};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The resident's session cookie.
pub const RESIDENT_COOKIE: &str = "cx_resident";
/// The staff member's session cookie.
pub const STAFF_COOKIE: &str = "cx_staff";

/// The cookie that keeps a resident signed in.
pub fn resident_cookie(id_token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((RESIDENT_COOKIE, id_token))
        .path("/portal")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

/// Removes [`resident_cookie`].
pub fn clear_resident() -> Cookie<'static> {
    Cookie::build(RESIDENT_COOKIE).path("/portal").build()
}

/// A page request by a signed-in resident.
#[derive(Debug, Clone)]
pub struct Portal {
    pub resident: AuthResident,
    pub l: Lang,
    /// The page's path (without the query).
    pub path: String,
}

impl Portal {
    /// The frame of the page.
    pub fn chrome(&self) -> Chrome {
        let who = self
            .resident
            .name
            .clone()
            .unwrap_or_else(|| self.resident.id_number.masked());
        Chrome::portal(self.l, &self.path, who)
    }

    /// `e` shown as this page's error.
    pub fn fail(&self, e: ApiError) -> WebError {
        WebError::api(e, &self.chrome())
    }
}

/// Going to sign in at `login`, then back to this request's page.
fn sign_in_at(parts: &Parts, login: &str) -> WebError {
    WebError::SignIn(format!("{login}?next={}", super::urlencode(&here(parts))))
}

/// The page's language and the session cookie `name`'s value; without the
/// cookie, going to sign in at `login`.
async fn session_cookie(
    parts: &mut Parts,
    state: &AppState,
    name: &str,
    login: &str,
) -> Result<(Lang, String), WebError> {
    let l = Lang::from_request_parts(parts, state)
        .await
        .unwrap_or_default();
    match CookieJar::from_headers(&parts.headers).get(name) {
        Some(c) => Ok((l, c.value().to_owned())),
        None => Err(sign_in_at(parts, login)),
    }
}

impl FromRequestParts<AppState> for Portal {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let (l, token) = session_cookie(parts, state, RESIDENT_COOKIE, "/portal/login").await?;
        let sign_in = || sign_in_at(parts, "/portal/login");
        let resident = AuthResident::from_token(state, &token)
            .await
            .map_err(|_| sign_in())?;
        let signed_out = state
            .reading_short(move |ctx| chengxin_jobs::portal_sessions::signed_out(ctx, &token))
            .await
            .and_then(|r| r.map_err(ApiError::internal))
            .map_err(|e| WebError::api(e, &Chrome::public(l, parts.uri.path())))?;
        if signed_out {
            return Err(sign_in());
        }
        Ok(Portal {
            resident,
            l,
            path: parts.uri.path().to_owned(),
        })
    }
}

/// A page request by a signed-in staff member.
#[derive(Debug, Clone)]
pub struct Console {
    pub staff: AuthStaff,
    pub l: Lang,
    pub path: String,
}

impl Console {
    /// The frame of the page.
    pub fn chrome(&self) -> Chrome {
        let m = &self.staff.member;
        Chrome::console(
            self.l,
            &self.path,
            format!("{}（{}）", m.name, role_label(self.l, m.role)),
            m.role.rights(),
        )
    }

    /// `e` shown as this page's error.
    pub fn fail(&self, e: ApiError) -> WebError {
        WebError::api(e, &self.chrome())
    }

    /// The member, if their role holds `right`; else a 403 page.
    pub fn require(&self, right: Right) -> Result<&staff::StaffMember, WebError> {
        self.staff.require(right).map_err(|e| self.fail(e))
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let (l, token) = session_cookie(parts, state, STAFF_COOKIE, "/console/login").await?;
        let staff = AuthStaff::from_token(state, token)
            .await
            .map_err(|_| sign_in_at(parts, "/console/login"))?;
        Ok(Console {
            staff,
            l,
            path: parts.uri.path().to_owned(),
        })
    }
}

/// A role's name in the page's language.
pub fn role_label(l: Lang, role: chengxin_domain::staff::Role) -> &'static str {
    use chengxin_domain::staff::Role;
    match role {
        Role::Admin => l.t("管理员", "admin"),
        Role::Reviewer => l.t("审核员", "reviewer"),
        Role::Auditor => l.t("审计员", "auditor"),
    }
}

/// The staff sign-in page.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    chrome: Chrome,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn console_next(next: Option<String>) -> String {
    next.filter(|n| is_local(n) && n.starts_with("/console"))
        .unwrap_or_else(|| "/console".into())
}

/// `GET /console/login`.
pub async fn console_login_page(
    l: Lang,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> LoginPage {
    LoginPage {
        chrome: Chrome::public(l, "/console/login"),
        next: console_next(q.next),
        name: String::new(),
        error: None,
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /console/login`: the same sign-in as `POST /api/v1/staff/sessions`
/// (limits, audit), kept in a cookie.
pub async fn console_login(
    State(state): State<AppState>,
    l: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    RequestId(request_id): RequestId,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    PageForm(f): PageForm<LoginForm>,
) -> Response {
    let address = peer.map_or_else(
        || "unknown".to_owned(),
        |axum::Extension(ConnectInfo(a))| a.ip().to_string(),
    );
    let limiter = state.staff_sign_ins.clone();
    let name = f.name.clone();
    let password = f.password;
    let outcome = state
        .blocking(move |ctx| {
            staff::sign_in(
                ctx,
                &limiter,
                Attempt {
                    name: &name,
                    password: &password,
                    address: &address,
                    request_id: Some(&request_id),
                    now: staff::now(),
                },
            )
        })
        .await;
    let page = |error: String, status: axum::http::StatusCode| {
        (
            status,
            LoginPage {
                chrome: Chrome::public(l, "/console/login"),
                next: console_next(f.next.clone()),
                name: f.name.clone(),
                error: Some(error),
            },
        )
            .into_response()
    };
    match outcome {
        Ok(Ok(session)) => {
            let cookie = Cookie::build((STAFF_COOKIE, session.token))
                .path("/console")
                .http_only(true)
                .secure(secure(&headers))
                .same_site(SameSite::Strict)
                .build();
            (jar.add(cookie), Redirect::to(&console_next(f.next))).into_response()
        }
        Ok(Err(SignInError::Refused)) => page(
            l.t(
                "账号或密码错误，或账号已停用。",
                "The name or password is wrong, or the account is disabled.",
            )
            .into(),
            ErrorCode::InvalidCredentials.status(),
        ),
        Ok(Err(SignInError::Limited { retry_after })) => page(
            if l.is_zh() {
                format!("登录失败次数过多，请 {retry_after} 秒后再试。")
            } else {
                format!("Too many failed sign-ins; try again in {retry_after} s.")
            },
            ErrorCode::TooManySignIns.status(),
        ),
        Ok(Err(SignInError::Job(e))) => {
            WebError::api(ApiError::job(e), &Chrome::public(l, "/console/login")).into_response()
        }
        Err(e) => WebError::api(e, &Chrome::public(l, "/console/login")).into_response(),
    }
}

/// `POST /console/logout`: ends the staff session in the store too.
pub async fn console_logout(
    State(state): State<AppState>,
    jar: CookieJar,
    RequestId(request_id): RequestId,
) -> Response {
    if let Some(c) = jar.get(STAFF_COOKIE) {
        let token = c.value().to_owned();
        let _ = state
            .blocking(move |ctx| staff::sign_out(ctx, &token, Some(&request_id)))
            .await;
    }
    (
        jar.remove(Cookie::build(STAFF_COOKIE).path("/console")),
        Redirect::to("/console/login"),
    )
        .into_response()
}
