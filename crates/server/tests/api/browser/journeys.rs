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
        assert!(
            Instant::now() < deadline,
            "still at {url}, expected {prefix}…"
        );
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
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(overflow, false, "{page}: nothing is wider than the phone");
    }
    html
}

/// Confirmation dialogs are answered yes (the forms ask before sending).
async fn confirm_yes(b: &Browser) {
    b.execute("window.confirm = function () { return true; };", vec![])
        .await
        .unwrap();
}

async fn click(b: &Browser, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
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
                assert_json(
                    app.push(&key, &b03("J-91", &person)).await,
                    StatusCode::CREATED,
                )
                .await;
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
                let api = assert_json(
                    app.get(&app.resident_token(&person), "/api/v1/me/score")
                        .await,
                    StatusCode::OK,
                )
                .await;
                assert_eq!(
                    before,
                    api["score"].as_i64().unwrap(),
                    "the page shows the API's score"
                );

                // Sign a commitment: the score changes.
                b.goto(&app.url("/portal/commitments")).await;
                shown(&b, &test, "commitments", true).await;
                confirm_yes(&b).await;
                click(
                    &b,
                    "form[action='/portal/commitments'] button[type='submit']",
                )
                .await;
                wait_for(&b, &app.url("/portal/commitments?done=")).await;
                shown(&b, &test, "commitment-signed", true).await;
                let after = score_shown(&b, &app).await;
                assert!(
                    after > before,
                    "signing raised the score: {before} → {after}"
                );

                // Object to the record from the records page.
                b.goto(&app.url("/portal/records")).await;
                shown(&b, &test, "records", true).await;
                click(&b, "a[href^='/portal/objections?record=']").await;
                wait_for(&b, &app.url("/portal/objections?record=")).await;
                b.find(Locator::Css("#reason"))
                    .await
                    .unwrap()
                    .send_keys("评价结果与实际不符，请核实。")
                    .await
                    .unwrap();
                click(
                    &b,
                    "form[action='/portal/objections'] button[type='submit']",
                )
                .await;
                wait_for(&b, &app.url("/portal/objections")).await;
                let html = shown(&b, &test, "objection-filed", true).await;
                assert!(
                    html.contains("受理期限"),
                    "the objection shows its deadline"
                );
                let mine = assert_json(
                    app.get(&app.resident_token(&person), "/api/v1/me/objections")
                        .await,
                    StatusCode::OK,
                )
                .await;
                assert_eq!(mine.as_array().unwrap().len(), 1);

                // Grant an authorisation: a code and its QR code; the party
                // redeems it; then revoke it.
                b.goto(&app.url("/portal/authorisations")).await;
                shown(&b, &test, "authorisations", true).await;
                click(
                    &b,
                    "form[action='/portal/authorisations'] button[type='submit']",
                )
                .await;
                let html = shown(&b, &test, "authorisation-granted", true).await;
                assert!(html.contains("<svg role=\"img\""), "the code as a QR code");
                let granted = assert_json(
                    app.get(&app.resident_token(&person), "/api/v1/me/authorisations")
                        .await,
                    StatusCode::OK,
                )
                .await;
                assert_eq!(granted.as_array().unwrap().len(), 1, "{granted}");
                b.goto(&app.url("/portal/authorisations")).await;
                // The page's script is deferred: let it attach before asking.
                tokio::time::sleep(Duration::from_millis(300)).await;
                confirm_yes(&b).await;
                // Submitted as the button would (its submit event, so the
                // confirmation runs); a WebDriver click on this inline
                // form's button did not always reach it on the phone layout.
                b.execute(
                    "document.querySelector(\"form[action$='/revoke']\").requestSubmit();",
                    vec![],
                )
                .await
                .unwrap();
                wait_for(&b, &app.url("/portal/authorisations?done=")).await;
                shown(&b, &test, "authorisation-revoked", true).await;
                let listed = assert_json(
                    app.get(&app.resident_token(&person), "/api/v1/me/authorisations")
                        .await,
                    StatusCode::OK,
                )
                .await;
                assert_eq!(listed[0]["status"], "revoked", "{listed}");
                drop(party_key);

                // The printable report: printed to PDF, it carries the
                // score and a QR code whose link verifies.
                b.goto(&app.url("/portal/report")).await;
                shown(&b, &test, "report", true).await;
                let pdf = b.print_pdf().await;
                std::fs::write(
                    super::artefacts_dir().join(format!("{test}-report.pdf")),
                    &pdf,
                )
                .unwrap();
                let text = pdf_text(&pdf);
                assert!(
                    text.contains(&after.to_string()),
                    "the score is in the PDF: {text}"
                );
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
                assert_json(
                    app.push(&key, &b03("J-92", &id(92))).await,
                    StatusCode::CREATED,
                )
                .await;
                app.staff_token("adm-journey", Role::Admin).await;
                b.viewport_desktop().await;
                b.goto(&app.url("/console/models")).await;
                wait_for(&b, &app.url("/console/login")).await;
                shown(&b, &test, "sign-in", false).await;
                b.find(Locator::Css("#name"))
                    .await
                    .unwrap()
                    .send_keys("adm-journey")
                    .await
                    .unwrap();
                b.find(Locator::Css("#password"))
                    .await
                    .unwrap()
                    .send_keys("correct horse battery")
                    .await
                    .unwrap();
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
                let versions = app
                    .run(|ctx| chengxin_jobs::list_models(ctx).unwrap())
                    .await;
                assert!(versions
                    .iter()
                    .any(|m| m.version == "2027.1" && m.status.as_str() == "active"));
            }
        })
        .await;
    });
}

/// `body` posted as the resident with `token`; the answer's JSON.
async fn post_json(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::CREATED).await
}

#[test]
fn a_reviewer_decides_an_objection_and_a_repair_on_a_desktop() {
    const TEST: &str = "reviewer_journey";
    run(|b| async move {
        on_each_backend_demo_city(|app| {
            let b = b.clone();
            async move {
                let test = format!("{TEST}-{}", app.backend);
                let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
                let person = id(93);
                let token = app.resident_token(&person);
                assert_json(app.push(&tax, &b03("J-93", &person)).await, StatusCode::CREATED).await;
                // A general penalty decided 120 days ago: credit repair reaches it.
                let mut p = crate::helpers::p01("J-93-P", &person, "general");
                p["fields"]["decided_on"] = serde_json::json!(crate::helpers::days_ago(120).to_string());
                let record = assert_json(app.push(&tax, &p).await, StatusCode::CREATED).await["record_id"].as_i64().unwrap();
                post_json(&app, &token, "/api/v1/me/commitments", &serde_json::json!({"template": "T01"})).await;
                let repair = post_json(&app, &token, "/api/v1/me/repairs",
                    &serde_json::json!({"record_id": record, "statement": "已缴清罚款并完成整改"})).await["id"].as_i64().unwrap();
                let objection = post_json(&app, &token, "/api/v1/me/objections",
                    &serde_json::json!({"about": "score", "reason": "分数计算有误，请复核。"})).await["id"].as_i64().unwrap();

                app.staff_token("rev-journey", Role::Reviewer).await;
                b.viewport_desktop().await;
                b.goto(&app.url("/console/login")).await;
                b.find(Locator::Css("#name")).await.unwrap().send_keys("rev-journey").await.unwrap();
                b.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
                click(&b, "form[action='/console/login'] button[type='submit']").await;
                wait_for(&b, &app.url("/console")).await;
                shown(&b, &test, "home", false).await;

                // The objection: accept, then decide.
                b.goto(&app.url("/console/objections")).await;
                shown(&b, &test, "objections", false).await;
                click(&b, &format!("form[action='/console/objections/{objection}/accept'] button")).await;
                wait_for(&b, &app.url("/console/objections?")).await;
                shown(&b, &test, "objection-accepted", false).await;
                b.find(Locator::Css(&format!("#explanation-{objection}"))).await.unwrap()
                    .send_keys("经核实，分数按现行模型计算无误。").await.unwrap();
                confirm_yes(&b).await;
                click(&b, &format!("form[action='/console/objections/{objection}/decision'] button[type='submit']")).await;
                wait_for(&b, &app.url("/console/objections?done=")).await;
                shown(&b, &test, "objection-decided", false).await;
                let mine = assert_json(app.get(&token, "/api/v1/me/objections").await, StatusCode::OK).await;
                assert_eq!(mine[0]["status"], "explained", "{mine}");

                // The repair: approve; the resident's score rises.
                let before = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await["score"].as_i64();
                b.goto(&app.url("/console/repairs")).await;
                shown(&b, &test, "repairs", false).await;
                click(&b, &format!("form[action='/console/repairs/{repair}/decision'] button[value='approved']")).await;
                wait_for(&b, &app.url("/console/repairs?done=approved")).await;
                shown(&b, &test, "repair-approved", false).await;
                let after = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await["score"].as_i64();
                assert!(after > before, "repair raised the score: {before:?} → {after:?}");
            }
        })
        .await;
    });
}
