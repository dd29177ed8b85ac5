//! The console's registers (admins): cooperating units, authorised parties
//! and partner cities — list, add (a new API key is shown once, on the
//! answer to the form), rotate a key, disable; the same use cases as
//! `chengxin unit|party|partner …`, audited as the staff member.

use super::form::PageForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chengxin_domain::party::{PartyKind, Purpose};
use chengxin_domain::staff::Right;
use chengxin_jobs::certificates::Partner;
use chengxin_jobs::parties::Party;
use chengxin_jobs::units::Unit;
use serde::Deserialize;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use super::session::Console;
use crate::error::ApiError;
use crate::state::AppState;

/// What a form did, shown above the list.
pub struct Outcome {
    pub ok: bool,
    pub text: String,
    /// A new API key, shown this once.
    pub key: Option<String>,
}

/// `GET /console/units`.
#[derive(Template, WebTemplate)]
#[template(path = "console/units.html")]
pub struct UnitsPage {
    chrome: Chrome,
    units: Vec<Unit>,
    outcome: Option<Outcome>,
}

/// `GET /console/parties`.
#[derive(Template, WebTemplate)]
#[template(path = "console/parties.html")]
pub struct PartiesPage {
    chrome: Chrome,
    parties: Vec<Party>,
    kinds: Vec<(&'static str, &'static str)>,
    purposes: Vec<(&'static str, &'static str)>,
    outcome: Option<Outcome>,
}

impl PartiesPage {
    fn purpose_name(&self, code: &str) -> String {
        Purpose::parse(code).map_or_else(
            || code.to_owned(),
            |p| self.chrome.l.t(p.zh(), p.en()).to_owned(),
        )
    }
    fn kind_name(&self, code: &str) -> &'static str {
        kind_label(self.chrome.l, code)
    }
}

/// `GET /console/partners`.
#[derive(Template, WebTemplate)]
#[template(path = "console/partners.html")]
pub struct PartnersPage {
    chrome: Chrome,
    partners: Vec<Partner>,
    outcome: Option<Outcome>,
}

fn kind_label(l: Lang, code: &str) -> &'static str {
    match code {
        "bank" => l.t("银行", "bank"),
        "merchant" => l.t("商户", "merchant"),
        "transport" => l.t("交通", "transport"),
        "government" => l.t("政府部门", "government"),
        _ => l.t("其他", "other"),
    }
}

async fn run<T: Send + 'static>(
    state: &AppState,
    c: &Console,
    f: impl FnOnce(&chengxin_jobs::Context) -> Result<T, chengxin_jobs::JobError> + Send + 'static,
) -> Result<Result<T, ApiError>, WebError> {
    state
        .blocking(f)
        .await
        .map(|r| r.map_err(super::page::operator_error))
        .map_err(|e| c.fail(e))
}

fn outcome<T>(
    l: Lang,
    r: Result<T, ApiError>,
    ok: impl FnOnce(T) -> Outcome,
) -> (StatusCode, Outcome) {
    match r {
        Ok(v) => (StatusCode::OK, ok(v)),
        Err(e) => (e.code().status(), refused(l, &e)),
    }
}

/// A refusal: what was not done, the use case's own message and its code.
pub fn refused(l: Lang, e: &ApiError) -> Outcome {
    Outcome {
        ok: false,
        text: format!(
            "{}{}（{}）",
            l.t("未完成：", "Not done: "),
            e.detail(),
            e.code().as_str()
        ),
        key: None,
    }
}

async fn units_page(
    state: &AppState,
    c: &Console,
    outcome: Option<Outcome>,
) -> Result<UnitsPage, WebError> {
    let units = run(state, c, chengxin_jobs::units::list_units)
        .await?
        .map_err(|e| c.fail(e))?;
    Ok(UnitsPage {
        chrome: c.chrome(),
        units,
        outcome,
    })
}

/// `GET /console/units`.
pub async fn units(State(state): State<AppState>, c: Console) -> Result<UnitsPage, WebError> {
    c.require(Right::ManageUnits)?;
    units_page(&state, &c, None).await
}

/// The forms of the registers: which one, and its fields.
#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    action: String,
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    items: String,
    #[serde(default)]
    jwks: String,
    #[serde(default)]
    grade_map: String,
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', '，', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /console/units`: add, rotate-key or disable.
pub async fn units_act(
    State(state): State<AppState>,
    c: Console,
    PageForm(f): PageForm<RegisterForm>,
) -> Result<Response, WebError> {
    let actor = c.require(Right::ManageUnits)?.actor();
    let l = c.l;
    let code = f.code.trim().to_owned();
    let (status, out) = match f.action.as_str() {
        "add" => {
            let items = list_of(&f.items);
            let name = f.name.clone();
            let c2 = code.clone();
            let r = run(&state, &c, move |ctx| {
                chengxin_jobs::units::add_unit(ctx, &c2, &name, &items, &actor)
            })
            .await?;
            outcome(l, r, |(u, key)| Outcome {
                ok: true,
                text: format!("{} {}", l.t("已添加单位", "Unit added:"), u.code),
                key: Some(key),
            })
        }
        action => {
            let keys = KeyActions {
                rotate: chengxin_jobs::units::rotate_key,
                disable: chengxin_jobs::units::disable_unit,
            };
            key_action(&state, &c, action, code, actor, keys).await?
        }
    };
    Ok((status, units_page(&state, &c, Some(out)).await?).into_response())
}

/// A register's key operations (units and parties have the same two).
struct KeyActions {
    rotate: fn(&chengxin_jobs::Context, &str, &str) -> Result<String, chengxin_jobs::JobError>,
    disable: fn(&chengxin_jobs::Context, &str, &str) -> Result<(), chengxin_jobs::JobError>,
}

/// `rotate` (a new key, shown once) or `disable` of the holder `code`.
async fn key_action(
    state: &AppState,
    c: &Console,
    action: &str,
    code: String,
    actor: String,
    keys: KeyActions,
) -> Result<(StatusCode, Outcome), WebError> {
    let l = c.l;
    let c2 = code.clone();
    Ok(match action {
        "rotate" => {
            let r = run(state, c, move |ctx| (keys.rotate)(ctx, &c2, &actor)).await?;
            outcome(l, r, |key| Outcome {
                ok: true,
                text: format!("{} {code}", l.t("已更换密钥：", "New key for")),
                key: Some(key),
            })
        }
        "disable" => {
            let r = run(state, c, move |ctx| (keys.disable)(ctx, &c2, &actor)).await?;
            outcome(l, r, |()| Outcome {
                ok: true,
                text: format!("{} {code}", l.t("已停用", "Disabled")),
                key: None,
            })
        }
        _ => (StatusCode::BAD_REQUEST, unknown(l)),
    })
}

fn unknown(l: Lang) -> Outcome {
    Outcome {
        ok: false,
        text: l.t("未知的操作。", "Unknown action.").to_owned(),
        key: None,
    }
}

async fn parties_page(
    state: &AppState,
    c: &Console,
    outcome: Option<Outcome>,
) -> Result<PartiesPage, WebError> {
    let parties = run(state, c, chengxin_jobs::parties::list_parties)
        .await?
        .map_err(|e| c.fail(e))?;
    let l = c.l;
    Ok(PartiesPage {
        chrome: c.chrome(),
        parties,
        kinds: PartyKind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(l, k.as_str())))
            .collect(),
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.code(), l.t(p.zh(), p.en())))
            .collect(),
        outcome,
    })
}

/// `GET /console/parties`.
pub async fn parties(State(state): State<AppState>, c: Console) -> Result<PartiesPage, WebError> {
    c.require(Right::ManageUnits)?;
    parties_page(&state, &c, None).await
}

/// `POST /console/parties`: add, rotate-key or disable. The form's
/// purposes arrive as repeated `purposes` fields; they are read from the
/// raw body since a form struct keeps only one.
pub async fn parties_act(
    State(state): State<AppState>,
    c: Console,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let actor = c.require(Right::ManageUnits)?.actor();
    let l = c.l;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| {
        c.fail(ApiError::new(
            crate::error::ErrorCode::BadRequest,
            format!("unreadable form: {e}"),
        ))
    })?;
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let purposes: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "purposes")
        .map(|(_, v)| v.clone())
        .collect();
    let code = field("code");
    let (status, out) = match field("action").as_str() {
        "add" => {
            let (name, kind, c2) = (field("name"), field("kind"), code.clone());
            let r = run(&state, &c, move |ctx| {
                chengxin_jobs::parties::add_party(ctx, &c2, &name, &kind, &purposes, &actor)
            })
            .await?;
            outcome(l, r, |(p, key)| Outcome {
                ok: true,
                text: format!("{} {}", l.t("已添加查询方", "Party added:"), p.code),
                key: Some(key),
            })
        }
        action => {
            let keys = KeyActions {
                rotate: chengxin_jobs::parties::rotate_key,
                disable: chengxin_jobs::parties::disable_party,
            };
            key_action(&state, &c, action, code, actor, keys).await?
        }
    };
    Ok((status, parties_page(&state, &c, Some(out)).await?).into_response())
}

async fn partners_page(
    state: &AppState,
    c: &Console,
    outcome: Option<Outcome>,
) -> Result<PartnersPage, WebError> {
    let partners = run(state, c, chengxin_jobs::certificates::list_partners)
        .await?
        .map_err(|e| c.fail(e))?;
    Ok(PartnersPage {
        chrome: c.chrome(),
        partners,
        outcome,
    })
}

/// `GET /console/partners`.
pub async fn partners(State(state): State<AppState>, c: Console) -> Result<PartnersPage, WebError> {
    c.require(Right::ManagePartnerCities)?;
    partners_page(&state, &c, None).await
}

/// `POST /console/partners`: registers (or replaces) a partner city.
pub async fn partners_act(
    State(state): State<AppState>,
    c: Console,
    PageForm(f): PageForm<RegisterForm>,
) -> Result<Response, WebError> {
    let actor = c.require(Right::ManagePartnerCities)?.actor();
    let l = c.l;
    if f.action != "add" {
        return Ok((
            StatusCode::BAD_REQUEST,
            partners_page(&state, &c, Some(unknown(l))).await?,
        )
            .into_response());
    }
    let r = run(&state, &c, move |ctx| {
        let as_staff = ctx.acting_as(actor);
        chengxin_jobs::certificates::add_partner(
            &as_staff,
            f.code.trim(),
            f.name.trim(),
            &f.jwks,
            &f.grade_map,
            jiff::Timestamp::now().as_second(),
        )
    })
    .await?;
    let (status, out) = outcome(l, r, |(p, created)| Outcome {
        ok: true,
        text: format!(
            "{} {}",
            if created {
                l.t("已添加合作城市", "Partner city added:")
            } else {
                l.t("已更新合作城市", "Partner city updated:")
            },
            p.code
        ),
        key: None,
    });
    Ok((status, partners_page(&state, &c, Some(out)).await?).into_response())
}
