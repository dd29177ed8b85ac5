//! The pages' journeys in the real browser: a resident on a 360 px phone
//! signs in through the demo provider, sees the score, signs a commitment
//! and sees the score change, objects to a record, grants and revokes an
//! authorisation, and prints the credit report, whose QR code verifies;
//! an admin on a desktop simulates and publishes a model. Every page shown
//! is clean (no console error, no failed request), passes the HTML checks
//! and fits the phone; screenshots of each are kept.

use std::time::{Duration, Instant};

use chengxin_domain::model::DEFAULT_MODEL;
use chengxin_domain::staff::Role;
use fantoccini::Locator;
use reqwest::StatusCode;

use super::{pdf_qr_codes, pdf_text, run, Browser};
use crate::helpers::{assert_json, b03, id, on_each_backend_demo_city, TestApp};
use crate::pages_check::assert_page_ok;

/// Waits until the browser's URL starts with `prefix`.
async fn wait_for(b: &Browser, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = b.current_url().await.unwrap();
        if url.as_str().starts_with(prefix) {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {prefix}…");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page shown: screenshot, clean, checked, and (on a phone) not wider
/// than the screen.
async fn shown(b: &Browser, test: &str, page: &str, phone: bool) -> String {
    b.screenshot(test, page).await;
    b.assert_clean(page).await;
    let html = b.source().await.unwrap();
    assert_page_ok(&html);
    if phone {
        let overflow = b
            .execute("return document.documentElement.scrollWidth > window.innerWidth", vec![])
            .await
            .unwrap();
        assert_eq!(overflow, false, "{page}: nothing is wider than the phone");
    }
    html
}

/// Confirmation dialogs are answered yes (the forms ask before sending).
async fn confirm_yes(b: &Browser) {
    b.execute("window.confirm = function () { return true; };", vec![]).await.unwrap();
}

async fn click(b: &Browser, css: &str) {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

async fn score_shown(b: &Browser, app: &TestApp) -> i64 {
    b.goto(&app.url("/portal")).await;
    text_of(b, ".score-value").await.trim().parse().unwrap()
}

#[test]
fn a_resident_on_a_phone_signs_in_commits_objects_authorises_and_prints() {
    const TEST: &str = "resident_journey";
    run(|b| async move {
        on_each_backend_demo_city(|app| {
            let b = b.clone();
            async move {
                let test = format!("{TEST}-{}", app.backend);
                let person = id(91);
                let (_, key) = app.unit("SX-GOV", &["B03"]).await;
                assert_json(app.push(&key, &b03("J-91", &person)).await, StatusCode::CREATED).await;
                let (_, party_key) = app
                    .run(|ctx| {
                        chengxin_jobs::parties::add_party(
                            ctx,
                            "J-BANK",
                            "绍兴诚信银行",
                            "bank",
                            &["loan_discount".to_owned()],
                            "operator:test",
                        )
                        .unwrap()
                    })
                    .await;
                b.viewport_phone().await;

                // Sign in: the portal sends the browser to the provider and back.
                b.goto(&app.url("/portal")).await;
                wait_for(&b, &app.url("/demo-idp/authorize")).await;
                shown(&b, &test, "sign-in", true).await;
                click(&b, &format!("button[value='{person}']")).await;
                wait_for(&b, &app.url("/portal")).await;
                let html = shown(&b, &test, "score", true).await;
                assert!(html.contains("<svg class=\"dial\""), "the dial");
                let before = score_shown(&b, &app).await;
                let api = assert_json(app.get(&app.resident_token(&person), "/api/v1/me/score").await, StatusCode::OK).await;
                assert_eq!(before, api["score"].as_i64().unwrap(), "the page shows the API's score");

                // Sign a commitment: the score changes.
                b.goto(&app.url("/portal/commitments")).await;
                shown(&b, &test, "commitments", true).await;
                confirm_yes(&b).await;
                click(&b, "form[action='/portal/commitments'] button[type='submit']").await;
                wait_for(&b, &app.url("/portal/commitments?done=")).await;
                shown(&b, &test, "commitment-signed", true).await;
                let after = score_shown(&b, &app).await;
                assert!(after > before, "signing raised the score: {before} → {after}");

                // Object to the record from the records page.
                b.goto(&app.url("/portal/records")).await;
                shown(&b, &test, "records", true).await;
                click(&b, "a[href^='/portal/objections?record=']").await;
                wait_for(&b, &app.url("/portal/objections?record=")).await;
                b.find(Locator::Css("#reason")).await.unwrap().send_keys("评价结果与实际不符，请核实。").await.unwrap();
                click(&b, "form[action='/portal/objections'] button[type='submit']").await;
                wait_for(&b, &app.url("/portal/objections")).await;
                let html = shown(&b, &test, "objection-filed", true).await;
                assert!(html.contains("受理期限"), "the objection shows its deadline");
                let mine = assert_json(app.get(&app.resident_token(&person), "/api/v1/me/objections").await, StatusCode::OK).await;
                assert_eq!(mine.as_array().unwrap().len(), 1);

                // Grant an authorisation: a code and its QR code; the party
                // redeems it; then revoke it.
                b.goto(&app.url("/portal/authorisations")).await;
                shown(&b, &test, "authorisations", true).await;
                click(&b, "form[action='/portal/authorisations'] button[type='submit']").await;
                let html = shown(&b, &test, "authorisation-granted", true).await;
                assert!(html.contains("<svg role=\"img\""), "the code as a QR code");
                let granted = assert_json(app.get(&app.resident_token(&person), "/api/v1/me/authorisations").await, StatusCode::OK).await;
                assert_eq!(granted.as_array().unwrap().len(), 1, "{granted}");
                b.goto(&app.url("/portal/authorisations")).await;
                confirm_yes(&b).await;
                click(&b, "form[action$='/revoke'] button[type='submit']").await;
                wait_for(&b, &app.url("/portal/authorisations?done=")).await;
                shown(&b, &test, "authorisation-revoked", true).await;
                let listed = assert_json(app.get(&app.resident_token(&person), "/api/v1/me/authorisations").await, StatusCode::OK).await;
                assert_eq!(listed[0]["status"], "revoked", "{listed}");
                drop(party_key);

                // The printable report: printed to PDF, it carries the
                // score and a QR code whose link verifies.
                b.goto(&app.url("/portal/report")).await;
                shown(&b, &test, "report", true).await;
                let pdf = b.print_pdf().await;
                std::fs::write(super::artefacts_dir().join(format!("{test}-report.pdf")), &pdf).unwrap();
                let text = pdf_text(&pdf);
                assert!(text.contains(&after.to_string()), "the score is in the PDF: {text}");
                let codes = pdf_qr_codes(&pdf);
                assert_eq!(codes.len(), 1, "one QR code: {codes:?}");
                assert!(codes[0].starts_with(&app.url("/verify?")), "{}", codes[0]);
                b.goto(&codes[0]).await;
                let html = shown(&b, &test, "verified", true).await;
                assert!(html.contains("verdict-valid"), "the certificate verifies");
            }
        })
        .await;
    });
}

#[test]
fn an_admin_simulates_and_publishes_a_model_on_a_desktop() {
    const TEST: &str = "admin_models_journey";
    run(|b| async move {
        on_each_backend_demo_city(|app| {
            let b = b.clone();
            async move {
                let test = format!("{TEST}-{}", app.backend);
                let (_, key) = app.unit("SX-GOV", &["B03"]).await;
                assert_json(app.push(&key, &b03("J-92", &id(92))).await, StatusCode::CREATED).await;
                app.staff_token("adm-journey", Role::Admin).await;
                b.viewport_desktop().await;
                b.goto(&app.url("/console/models")).await;
                wait_for(&b, &app.url("/console/login")).await;
                shown(&b, &test, "sign-in", false).await;
                b.find(Locator::Css("#name")).await.unwrap().send_keys("adm-journey").await.unwrap();
                b.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
                click(&b, "form[action='/console/login'] button[type='submit']").await;
                wait_for(&b, &app.url("/console/models")).await;
                shown(&b, &test, "models", false).await;

                let candidate = DEFAULT_MODEL
                    .replace("version = \"2026.1\"", "version = \"2027.1\"")
                    .replace("points = 620", "points = 640");
                b.execute(
                    "document.getElementById('model-text').value = arguments[0];",
                    vec![serde_json::Value::String(candidate)],
                )
                .await
                .unwrap();
                click(&b, "button[value='simulate']").await;
                wait_for(&b, &app.url("/console/models")).await;
                let html = shown(&b, &test, "simulated", false).await;
                assert!(html.contains("2026.1 → 2027.1") && html.contains("class=\"matrix\""));
                confirm_yes(&b).await;
                click(&b, "button[value='publish']").await;
                wait_for(&b, &app.url("/console/models?done=2027.1")).await;
                let html = shown(&b, &test, "published", false).await;
                assert!(html.contains("已发布"));
                let versions = app.run(|ctx| chengxin_jobs::list_models(ctx).unwrap()).await;
                assert!(versions.iter().any(|m| m.version == "2027.1" && m.status.as_str() == "active"));
            }
        })
        .await;
    });
}
