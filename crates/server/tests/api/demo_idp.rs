//! The demo identity provider: only with `serve --demo`; discovery, JWKS,
//! the login page, the authorization-code flow with PKCE S256 (a wrong
//! verifier refused), and the API users' demo grant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{
    assert_json, assert_problem, b03, id, on_each_backend, on_each_backend_demo, TestApp,
};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Logs in as `person` on the login page; returns the code.
async fn code_for(app: &TestApp, person: &str, challenge: &str) -> String {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/demo-idp/authorize"))
        .form(&[
            ("id_number", person),
            ("response_type", "code"),
            ("client_id", "chengxin-demo"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", "st-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=st-1"), "{location}");
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    code.replace("%2D", "-").replace("%5F", "_")
}

async fn exchange(app: &TestApp, code: &str, verifier: &str) -> reqwest::Response {
    app.client
        .post(app.url("/demo-idp/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pkce_flow_signs_a_resident_in_and_a_wrong_verifier_is_refused() {
    on_each_backend_demo(|app| async move {
        let person = id(71);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(app.push(&key, &b03("R-71", &person)).await, StatusCode::CREATED).await;

        let disc = assert_json(
            app.client.get(app.url("/demo-idp/.well-known/openid-configuration")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(disc["issuer"], app.url("/demo-idp"));
        assert_eq!(disc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        let jwks = assert_json(app.client.get(app.url("/demo-idp/jwks.json")).send().await.unwrap(), StatusCode::OK).await;
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");

        let verifier = "a-demo-code-verifier-that-is-long-enough-0123456789";
        let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
        let page = app
            .client
            .get(app.url("/demo-idp/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", "chengxin-demo"),
                ("redirect_uri", REDIRECT),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("演示身份认证"));
        assert!(html.contains(&person) && html.contains("张三"), "the stored resident is listed");
        assert!(html.contains("&amp;lang=en\" lang=\"en\" hreflang=\"en\">English</a>"), "{html}");
        // The same page in English.
        let page = app
            .client
            .get(app.url("/demo-idp/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", "chengxin-demo"),
                ("redirect_uri", REDIRECT),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("lang", "en"),
            ])
            .send()
            .await
            .unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">") && html.contains("Demo identity provider"));
        assert!(html.contains(&person) && html.contains("has a score"), "{html}");
        assert!(!html.contains("演示身份认证"), "{html}");

        // A request without PKCE gets no page.
        let res = app
            .client
            .get(app.url("/demo-idp/authorize?response_type=code&client_id=chengxin-demo&redirect_uri=http://x/cb"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "bad_request").await;

        // The wrong verifier: refused, and the code is spent.
        let code = code_for(&app, &person, &challenge).await;
        let res = exchange(&app, &code, "the-wrong-verifier-the-wrong-verifier-the-wrong").await;
        let body = assert_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"], "invalid_grant");
        let res = exchange(&app, &code, verifier).await;
        assert_eq!(assert_json(res, StatusCode::BAD_REQUEST).await["error"], "invalid_grant");

        // The right verifier: an ID token the API accepts.
        let code = code_for(&app, &person, &challenge).await;
        let body = assert_json(exchange(&app, &code, verifier).await, StatusCode::OK).await;
        let token = body["id_token"].as_str().unwrap();
        let me = assert_json(app.get(token, "/api/v1/me").await, StatusCode::OK).await;
        assert_eq!(me["id_number"], person.as_str());
        assert_eq!(me["name"], "张三");
        assert_eq!(me["eligible"], true);
        // Used once only.
        assert_json(exchange(&app, &code, verifier).await, StatusCode::BAD_REQUEST).await;

        // API users: the demo grant.
        let res = app
            .client
            .post(app.url("/demo-idp/token"))
            .form(&[("grant_type", "urn:chengxin:demo"), ("id_number", person.as_str())])
            .send()
            .await
            .unwrap();
        let body: Value = assert_json(res, StatusCode::OK).await;
        let me = assert_json(app.get(body["id_token"].as_str().unwrap(), "/api/v1/me").await, StatusCode::OK).await;
        assert_eq!(me["id_number"], person.as_str());
        let res = app
            .client
            .post(app.url("/demo-idp/token"))
            .form(&[("grant_type", "urn:chengxin:demo"), ("id_number", "330602199001011230")])
            .send()
            .await
            .unwrap();
        assert_eq!(assert_json(res, StatusCode::BAD_REQUEST).await["error"], "invalid_request");
        // The test provider stays trusted beside it.
        assert_json(app.get(&app.resident_token(&person), "/api/v1/me").await, StatusCode::OK).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_demo_there_is_no_demo_provider() {
    on_each_backend(|app| async move {
        for path in [
            "/demo-idp/jwks.json",
            "/demo-idp/.well-known/openid-configuration",
            "/demo-idp/authorize",
        ] {
            let res = app.client.get(app.url(path)).send().await.unwrap();
            assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        }
        let res = app
            .client
            .post(app.url("/demo-idp/token"))
            .form(&[
                ("grant_type", "urn:chengxin:demo"),
                ("id_number", id(72).as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        // A demo provider's token (from another server) is not trusted here.
        let other = chengxin_server::demo_idp::DemoIdp::new(&app.base);
        let token = other.id_token(
            &chengxin_domain::IdNumber::parse(&id(72)).unwrap(),
            None,
            None,
        );
        let res = app.get(&token, "/api/v1/me").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "token_unknown_key").await;
    })
    .await;
}
