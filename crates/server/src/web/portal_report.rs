//! `/portal/report`: the resident's printable personal credit report (one
//! A4 page in print): name, masked ID number, score, grade, model version,
//! date and the breakdown by indicator — the same audited use case as
//! `GET /api/v1/me/score` — and a QR code linking to `/verify?jws=…` for a
//! certificate of the resident's grade signed for this report (the same
//! signing as a party's certificate, audited as the resident's own read).
//! Without certificate keys the page says so instead of showing a QR code.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chengxin_jobs::certificates::{self, CertError};
use chengxin_jobs::own;

use super::page::{Chrome, WebError};
use super::portal_score::ScoreView;
use super::session::Portal;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::routes::certificates::cert_error;
use crate::state::AppState;

/// The certificate part of the report.
pub enum Certificate {
    /// Signed: the verification link and its QR code.
    Signed {
        link: String,
        qr: String,
        expires: String,
    },
    /// The server has no certificate keys configured.
    Unavailable,
    /// There is no score to certify.
    NoScore,
}

/// `GET /portal/report`.
#[derive(Template, WebTemplate)]
#[template(path = "portal/report.html")]
pub struct ReportPage {
    chrome: Chrome,
    name: Option<String>,
    masked_id: String,
    s: ScoreView,
    today: String,
    certificate: Certificate,
}

impl ReportPage {
    fn grade_name(&self) -> Option<&str> {
        if self.chrome.l.is_zh() {
            self.s.grade_zh.as_deref()
        } else {
            self.s.grade_en.as_deref()
        }
    }
}

/// `GET /portal/report`.
pub async fn page(
    State(state): State<AppState>,
    p: Portal,
    RequestId(request_id): RequestId,
) -> Result<ReportPage, WebError> {
    let id = p.resident.id_number;
    let rid = request_id.clone();
    let own = state
        .reading_short(move |ctx| own::score_audited(ctx, &id, chengxin_jobs::today(), Some(&rid)))
        .await
        .and_then(|r| r.map_err(ApiError::job))
        .map_err(|e| p.fail(e))?
        .durable()
        .await
        .map_err(|e| p.fail(ApiError::job(e)))?;
    let s: ScoreView =
        serde_json::from_slice(own.body()).map_err(|e| p.fail(ApiError::internal(e)))?;
    let resident = p.resident.clone();
    let issued = state
        .blocking(move |ctx| {
            certificates::issue_own(
                ctx,
                resident.acting(&request_id),
                jiff::Timestamp::now().as_second(),
            )
            .map(|i| (i, ctx.certificates().city_url.clone()))
        })
        .await
        .map_err(|e| p.fail(e))?;
    let certificate = match issued {
        Ok((i, city_url)) => {
            let link = format!(
                "{}/verify?jws={}",
                city_url.trim_end_matches('/'),
                super::urlencode(&i.jws)
            );
            let label = p.l.t(
                "扫码验证本报告的信用证书",
                "Scan to verify this report's certificate",
            );
            let qr = super::qr::svg(&link, 180, label).unwrap_or_default();
            let expires = jiff::Timestamp::from_second(i.claims.exp)
                .map(|t| {
                    t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                        .date()
                        .to_string()
                })
                .unwrap_or_default();
            Certificate::Signed { link, qr, expires }
        }
        Err(CertError::NoScore) => Certificate::NoScore,
        Err(CertError::NoKeysDir | CertError::NoSigningKey) => Certificate::Unavailable,
        Err(e) => {
            let e = cert_error(e);
            if e.code().status().is_server_error() {
                Certificate::Unavailable
            } else {
                return Err(p.fail(e));
            }
        }
    };
    Ok(ReportPage {
        chrome: p.chrome(),
        name: p.resident.name.clone(),
        masked_id: p.resident.id_number.masked(),
        s,
        today: chengxin_jobs::today().to_string(),
        certificate,
    })
}
