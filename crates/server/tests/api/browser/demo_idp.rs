//! The demo identity provider's login page in the browser, on a phone: it
//! loads cleanly, passes the page checks in Chinese and in English, and a
//! resident signs in through the authorization-code flow with PKCE (by
//! tapping a listed resident, and by typing an ID number), coming back to
//! the client's callback with a code that the token endpoint accepts.

use std::time::{Duration, Instant};

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use fantoccini::Locator;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::{run, serve, Browser};
use crate::helpers::{assert_json, b03, id, on_each_backend_demo, TestApp};
use crate::pages_check::{assert_page_ok, check_page};

const TEST: &str = "the_demo_login_page_signs_a_resident_in_on_a_phone";
const VERIFIER: &str = "a-browser-code-verifier-that-is-long-enough-0123456789";

/// The OIDC client's callback: where the provider sends the browser back.
fn client_site() -> Router {
    Router::new().route(
        "/callback",
        get(|| async {
            Html(
                "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
                 <title>登录完成</title><link rel=\"icon\" href=\"data:,\"></head>\
                 <body><h1>已收到授权码</h1></body></html>",
            )
        }),
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Waits until the browser is at a URL starting with `prefix`; returns it.
async fn wait_for_url(b: &Browser, prefix: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = b.current_url().await.expect("the current URL");
        if url.as_str().starts_with(prefix) {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "still at {url}, expected {prefix}…"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `code` of the callback URL `url`, after checking its `state`.
fn code_of(url: &url::Url) -> String {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("st-browser"), "{url}");
    let code = param("code").unwrap_or_else(|| panic!("no code in {url}"));
    assert!(code.len() >= 16, "a code worth its name: {code}");
    code
}

/// Exchanges `code` and reads `/api/v1/me` with the ID token it gives.
async fn signed_in_as(app: &TestApp, code: &str, redirect: &str) -> serde_json::Value {
    let res = app
        .client
        .post(app.url("/demo-idp/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap();
    let body = assert_json(res, StatusCode::OK).await;
    let token = body["id_token"].as_str().expect("an ID token");
    assert_json(app.get(token, "/api/v1/me").await, StatusCode::OK).await
}

/// Checks the page the browser shows: clean, and right for every reader.
async fn check_shown(b: &Browser, shots: &str, page: &str) {
    b.screenshot(shots, page).await;
    b.assert_clean(page).await;
    assert_page_ok(&b.source().await.unwrap());
    let overflow = b
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, false, "{page}: nothing is wider than the phone");
}

#[test]
fn the_demo_login_page_signs_a_resident_in_on_a_phone() {
    run(|b| async move {
        on_each_backend_demo(|app| {
            let b = b.clone();
            async move {
                let shots = format!("{TEST}-{}", app.backend);
                let person = id(81);
                let (_, key) = app.unit("SX-GOV", &["B03"]).await;
                assert_json(
                    app.push(&key, &b03("R-81", &person)).await,
                    StatusCode::CREATED,
                )
                .await;
                let client = serve(client_site()).await;
                let redirect = client.url("/callback");
                let challenge = B64.encode(Sha256::digest(VERIFIER.as_bytes()));
                let authorize = format!(
                    "{}?response_type=code&client_id=chengxin-demo&redirect_uri={}\
                     &code_challenge={challenge}&code_challenge_method=S256&state=st-browser",
                    app.url("/demo-idp/authorize"),
                    enc(&redirect),
                );

                // The server's own HTML passes the checks too.
                let html = app
                    .client
                    .get(&authorize)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert_eq!(check_page(&html), Vec::<String>::new(), "{html}");

                b.viewport_phone().await;
                b.goto(&authorize).await;
                check_shown(&b, &shots, "login").await;
                assert_eq!(b.title().await.unwrap(), "演示登录");

                // The English page, and back.
                b.find(Locator::LinkText("English"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                wait_for_url(&b, &app.url("/demo-idp/authorize")).await;
                let lang = b
                    .execute("return document.documentElement.lang", vec![])
                    .await;
                assert_eq!(lang.unwrap(), "en");
                check_shown(&b, &shots, "login-en").await;
                assert_eq!(b.title().await.unwrap(), "Demo sign-in");
                b.find(Locator::LinkText("中文"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                let lang = b
                    .execute("return document.documentElement.lang", vec![])
                    .await;
                assert_eq!(lang.unwrap(), "zh-CN");

                // Tap the listed resident.
                let tap = format!("button[value='{person}']");
                let button = b.find(Locator::Css(&tap)).await.unwrap();
                assert!(button.text().await.unwrap().contains("张三"));
                button.click().await.unwrap();
                let back = wait_for_url(&b, &redirect).await;
                check_shown(&b, &shots, "callback").await;
                let me = signed_in_as(&app, &code_of(&back), &redirect).await;
                assert_eq!(me["id_number"], person.as_str());
                assert_eq!(me["name"], "张三");

                // Type another ID number.
                let other = id(82);
                b.goto(&authorize).await;
                let field = b
                    .find(Locator::Css("input[name='id_number']"))
                    .await
                    .unwrap();
                field.send_keys(&other).await.unwrap();
                b.find(Locator::XPath("//button[text()='登录']"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                let back = wait_for_url(&b, &redirect).await;
                b.assert_clean("callback").await;
                let me = signed_in_as(&app, &code_of(&back), &redirect).await;
                assert_eq!(me["id_number"], other.as_str());
            }
        })
        .await;
    });
}
