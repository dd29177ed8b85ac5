//! The web pages, served by the same binary as the API: server-rendered
//! HTML from askama templates (`crates/server/templates/`, checked and
//! escaped at compile time), Chinese first with an English switch
//! ([`lang`]), one stylesheet and one small script shipped inside the binary
//! ([`assets`]; nothing is fetched from elsewhere). Three areas:
//! - `/portal…`: the resident's portal, signed in through the OIDC code flow
//!   with PKCE ([`rp`]);
//! - `/console…`: the agency console, signed in with a staff account;
//! - `/`, `/rules…`, `/verify`: public pages, no sign-in.
//!
//! Page handlers call the same `chengxin-jobs` use cases as the API (every
//! read of a resident's data audited the same way) and never a second copy
//! of a rule. They take [`session::Portal`] or [`session::Console`] (which
//! send the browser to sign in when needed) and [`lang::Lang`], render a
//! template whose struct has a `chrome: Chrome` field (the frame,
//! `base.html`), and return [`page::WebError`] on failure. Pages carry a
//! strict Content-Security-Policy: no inline script or style (use classes
//! and SVG presentation attributes), nothing from other origins.

pub mod assets;
pub mod console_audit;
pub mod console_cases;
pub mod console_lookup;
pub mod console_models;
pub mod console_objections;
pub mod console_registry;
pub mod console_repairs;
pub mod console_scenarios;
pub mod console_self_reports;
pub mod csrf;
pub mod form;
pub mod home;
pub mod lang;
pub mod page;
pub mod portal_authorisations;
pub mod portal_commitments;
pub mod portal_data;
pub mod portal_forms;
pub mod portal_labels;
pub mod portal_objections;
pub mod portal_repairs;
pub mod portal_report;
pub mod portal_score;
pub mod portal_self_reports;
pub mod public_rules;
pub mod public_scenarios;
pub mod public_verify;
pub mod qr;
pub mod rp;
pub mod session;
pub mod svg;

use std::fmt::Write as _;

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// The pages' Content-Security-Policy.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                       object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Every page route.
pub fn routes() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(home::index))
        .route("/lang", get(lang::switch))
        .route("/portal", get(portal_score::page))
        .route("/portal/history", get(portal_data::history))
        .route("/portal/records", get(portal_data::records))
        .route("/portal/notifications", get(portal_data::notifications))
        .route("/portal/access-log", get(portal_data::access_log))
        .route("/portal/export", get(portal_data::export))
        .route(
            "/portal/commitments",
            get(portal_commitments::page).post(portal_commitments::sign),
        )
        .route(
            "/portal/self-reports",
            get(portal_self_reports::page)
                .post(portal_self_reports::submit)
                .layer(evidence_limit()),
        )
        .route(
            "/portal/objections",
            get(portal_objections::page)
                .post(portal_objections::file)
                .layer(evidence_limit()),
        )
        .route(
            "/portal/repairs",
            get(portal_repairs::page).post(portal_repairs::apply),
        )
        .route(
            "/portal/authorisations",
            get(portal_authorisations::page).post(portal_authorisations::grant),
        )
        .route(
            "/portal/authorisations/{id}/revoke",
            post(portal_authorisations::revoke),
        )
        .route("/portal/scenarios", get(public_scenarios::mine))
        .route("/portal/report", get(portal_report::page))
        .route("/rules/catalogue", get(public_rules::catalogue))
        .route("/rules/model", get(public_rules::model))
        .route("/rules/model/diff", get(public_rules::diff))
        .route("/rules/scenarios", get(public_scenarios::public))
        .route("/verify", get(public_verify::page))
        .route("/portal/login", get(rp::login))
        .route("/portal/callback", get(rp::callback))
        .route("/portal/logout", post(rp::logout))
        .route("/console", get(home::console))
        .route(
            "/console/login",
            get(session::console_login_page).post(session::console_login),
        )
        .route("/console/logout", post(session::console_logout))
        .route("/console/self-reports", get(console_self_reports::page))
        .route(
            "/console/self-reports/{id}/decision",
            post(console_self_reports::decide),
        )
        .route(
            "/console/self-reports/{id}/evidence/{sha256}",
            get(console_self_reports::evidence),
        )
        .route("/console/objections", get(console_objections::page))
        .route(
            "/console/objections/{id}/accept",
            post(console_objections::accept),
        )
        .route(
            "/console/objections/{id}/decision",
            post(console_objections::decide),
        )
        .route(
            "/console/objections/{id}/evidence/{sha256}",
            get(console_objections::evidence),
        )
        .route("/console/repairs", get(console_repairs::page))
        .route(
            "/console/repairs/{id}/decision",
            post(console_repairs::decide),
        )
        .route(
            "/console/lookup",
            get(console_lookup::page).post(console_lookup::lookup),
        )
        .route(
            "/console/audit",
            get(console_audit::page).post(console_audit::verify),
        )
        .route(
            "/console/units",
            get(console_registry::units).post(console_registry::units_act),
        )
        .route(
            "/console/parties",
            get(console_registry::parties).post(console_registry::parties_act),
        )
        .route(
            "/console/partners",
            get(console_registry::partners).post(console_registry::partners_act),
        )
        .route(
            "/console/scenarios",
            get(console_scenarios::page).post(console_scenarios::act),
        )
        .route(
            "/console/models",
            get(console_models::page).post(console_models::act),
        )
        .layer(axum::middleware::from_fn(csrf::same_origin))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    pages.merge(assets::routes())
}

/// Forms with evidence files take the API's limit for them.
fn evidence_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(crate::routes::evidence_form::BODY_LIMIT)
}

/// Percent-encodes `s` for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
