//! `/verify`: anyone checks a score certificate — pasted into the form, or
//! opened from a report's QR code (`/verify?jws=…`) — with the same
//! verifier as `POST /api/v1/certificates/verify`: valid or not and why,
//! expired, the claims in Chinese and English, and the issuing city.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chengxin_jobs::certificates::{self, Verdict};
use serde::Deserialize;

use super::lang::Lang;
use super::page::{Chrome, WebError};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    jws: Option<String>,
}

/// `GET /verify`.
#[derive(Template, WebTemplate)]
#[template(path = "public/verify.html")]
pub struct VerifyPage {
    chrome: Chrome,
    jws: String,
    verdict: Option<Verdict>,
}

impl VerifyPage {
    fn reason(&self) -> String {
        let l = self.chrome.l;
        let Some(v) = &self.verdict else {
            return String::new();
        };
        let code = v
            .reason
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|r| r.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text = match code.as_str() {
            "malformed" => l.t("格式不正确，不是证书", "not a certificate (malformed)"),
            "alg_not_allowed" => l.t("签名算法不被接受", "signature algorithm not allowed"),
            "unknown_issuer" => l.t("签发城市未登记", "unknown issuing city"),
            "unknown_key" => l.t("签名密钥未知", "unknown signing key"),
            "bad_signature" => l.t(
                "签名无效，证书可能被篡改",
                "bad signature: the certificate may have been altered",
            ),
            "expired" => l.t("证书已过期", "the certificate has expired"),
            "not_yet_valid" => l.t("证书尚未生效", "the certificate is not yet valid"),
            "claims_invalid" => l.t("证书内容不合规", "the certificate's claims are invalid"),
            "grade_unmapped" => l.t(
                "该城市的等级无法对应本市等级",
                "the city's grade has no local equivalent",
            ),
            _ => l.t("证书无效", "invalid"),
        };
        format!("{text}（{code}）")
    }

    fn expired(&self) -> bool {
        self.verdict
            .as_ref()
            .and_then(|v| v.reason.as_ref())
            .and_then(|r| serde_json::to_value(r).ok())
            .is_some_and(|r| r == "expired")
    }

    fn time(&self, t: &str) -> String {
        super::portal_authorisations::local_time(t)
    }
}

/// `GET /verify[?jws=…]`.
pub async fn page(
    State(state): State<AppState>,
    l: Lang,
    Query(q): Query<VerifyQuery>,
) -> Result<VerifyPage, WebError> {
    let chrome = Chrome::public(l, "/verify");
    let jws = q.jws.unwrap_or_default().trim().to_owned();
    let verdict = if jws.is_empty() {
        None
    } else {
        let token = jws.clone();
        Some(
            state
                .blocking(move |ctx| {
                    certificates::verify(ctx, &token, jiff::Timestamp::now().as_second())
                })
                .await
                .and_then(|r| r.map_err(ApiError::internal))
                .map_err(|e| WebError::api(e, &chrome))?,
        )
    };
    Ok(VerifyPage {
        chrome,
        jws,
        verdict,
    })
}
