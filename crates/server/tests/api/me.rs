//! Residents over HTTP: the token matrix on `GET /api/v1/me` (each refusal
//! its own code, nothing read or written), the answer for a known and an
//! unknown person, the audited read, and key sets fetched from a URL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chengxin_server::oidc::{KeySource, OidcConfig};
use chengxin_server::Limits;
use chengxin_testkit::oidc::TestKey;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};
use crate::tokens::bad_tokens;

/// The audit log's size.
async fn audit_size(app: &TestApp) -> i64 {
    app.run(|ctx| chengxin_jobs::audit::size(ctx).unwrap())
        .await
}

/// The entries after `seq`.
async fn audit_after(app: &TestApp, seq: i64) -> Vec<chengxin_domain::audit::AuditEntry> {
    app.run(move |ctx| chengxin_jobs::audit::entries_after(ctx, seq, 100).unwrap())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_is_refused_with_its_code_and_nothing_is_read() {
    on_each_backend(|app| async move {
        let person = id(51);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&key, &b03("R-51", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let before = audit_size(&app).await;

        // No header at all stays `unauthenticated`.
        let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // A unit's key is not a resident's token.
        let res = app.get(&key, "/api/v1/me").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "token_malformed").await;

        for (what, token, code) in bad_tokens(app.idp, &person) {
            let res = app.get(&token, "/api/v1/me").await;
            let www = res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = assert_problem(res, StatusCode::UNAUTHORIZED, code.as_str()).await;
            assert!(www.contains("invalid_token"), "{what}: {www}");
            assert!(!body.to_string().contains(&person), "{what}: {body}");
        }
        assert_eq!(
            audit_size(&app).await,
            before,
            "a refused token reads and writes nothing"
        );

        // The same resident with a valid token, under each algorithm.
        for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
            let token = app.idp.token_with(alg, &app.idp.claims(&person));
            let body = assert_json(app.get(&token, "/api/v1/me").await, StatusCode::OK).await;
            assert_eq!(body["id_number"], person.as_str(), "{alg:?}");
        }
        assert_eq!(audit_size(&app).await, before + 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_resident_sees_themself_and_the_read_is_audited() {
    on_each_backend(|app| async move {
        let person = id(52);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&key, &b03("R-52", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let before = audit_size(&app).await;

        let res = app.get(&app.resident_token(&person), "/api/v1/me").await;
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body = assert_json(res, StatusCode::OK).await;
        // The stored name wins over the token's (测试居民).
        assert_eq!(
            body,
            json!({"id_number": person, "name": "张三", "eligible": true, "reasons": []})
        );

        let entries = audit_after(&app, before).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        let e = &entries[0].event;
        let actor = app
            .run({
                let person = person.clone();
                move |ctx| {
                    chengxin_jobs::me::resident_actor(
                        ctx,
                        &chengxin_domain::IdNumber::parse(&person).unwrap(),
                    )
                }
            })
            .await;
        assert!(
            actor.starts_with("resident:") && actor.len() == 9 + 64,
            "{actor}"
        );
        assert_eq!(e.actor, actor);
        assert_eq!(e.action, "person.read");
        assert!(e
            .subject
            .as_deref()
            .is_some_and(|s| s.starts_with("person:")));
        assert_eq!(Some(&actor[9..]), e.person.as_deref());
        assert_eq!(e.request_id.as_deref(), Some(request_id.as_str()));
        assert!(!serde_json::to_string(&entries[0])
            .unwrap()
            .contains(&person));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_resident_is_answered_from_their_id_number() {
    on_each_backend(|app| async move {
        let adult = id(53);
        let child = chengxin_testkit::id_number("330602", "20200101", 7);
        let before = audit_size(&app).await;

        let body = assert_json(
            app.get(&app.resident_token(&adult), "/api/v1/me").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(body["id_number"], adult.as_str());
        assert_eq!(
            body["name"], "测试居民",
            "the token's name when none is on file"
        );
        assert_eq!(body["eligible"], false);
        let codes: Vec<&str> = body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["NOT_RESIDENT"]);
        assert!(body["reasons"][0]["zh"].as_str().unwrap().contains("常住"));

        let mut claims = app.idp.claims(child.as_str());
        claims.as_object_mut().unwrap().remove("name");
        let token = app.idp.token_with(Algorithm::ES256, &claims);
        let body = assert_json(app.get(&token, "/api/v1/me").await, StatusCode::OK).await;
        assert_eq!(body["name"], Value::Null);
        let codes: Vec<&str> = body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["UNDER_18", "NOT_RESIDENT"]);

        // Both reads are audited; nobody was created.
        let entries = audit_after(&app, before).await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(entries
            .iter()
            .all(|e| e.event.actor.starts_with("resident:") && e.event.subject.is_none()));
        assert_eq!(app.record_count(&adult).await, 0);
    })
    .await;
}

/// A JWKS served over HTTP that the test can change, counting requests.
struct JwksServer {
    url: String,
    doc: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

async fn jwks_server(doc: Value) -> JwksServer {
    let doc = Arc::new(Mutex::new(doc));
    let hits = Arc::new(AtomicUsize::new(0));
    let (d, h) = (Arc::clone(&doc), Arc::clone(&hits));
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (d, h) = (Arc::clone(&d), Arc::clone(&h));
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                axum::Json(d.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    JwksServer { url, doc, hits }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_refetches_the_key_set_once_then_is_rate_limited() {
    let first = TestKey::ed25519("url-key-1");
    let rotated = TestKey::p256("url-key-2");
    let server = jwks_server(json!({"keys": [first.jwk]})).await;
    let issuer = OidcConfig {
        issuer: "https://idp.url.example".into(),
        audience: "chengxin-url".into(),
        jwks: KeySource::parse(&server.url),
        id_claim: "id_number".into(),
    };
    let db = tokio::task::spawn_blocking(chengxin_testkit::TestDb::sqlite)
        .await
        .unwrap();
    let app = TestApp::spawn_trusting(db, Limits::default(), vec![issuer.clone()]).await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "loaded at start");
    let claims = |n| {
        let now = chengxin_testkit::oidc::now();
        json!({"iss": issuer.issuer, "aud": issuer.audience, "exp": now + 600, "nbf": now,
               "id_number": id(n)})
    };

    // A cached key: no fetch.
    let res = app.get(&first.sign(&claims(61)), "/api/v1/me").await;
    assert_json(res, StatusCode::OK).await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);

    // The provider rotates in a new key; the first token naming it makes us
    // fetch the set again, and it is accepted.
    server.doc.lock().unwrap()["keys"] = json!([first.jwk, rotated.jwk]);
    let res = app.get(&rotated.sign(&claims(62)), "/api/v1/me").await;
    assert_json(res, StatusCode::OK).await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);

    // Made-up kids right after: refused, and no further fetch (30 s limit).
    for n in 0..5 {
        let stranger = TestKey::ed25519(&format!("made-up-{n}"));
        let res = app.get(&stranger.sign(&claims(63)), "/api/v1/me").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "token_unknown_key").await;
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "rate-limited");
    let set = app.verifier.key_set(&issuer.issuer).unwrap();
    assert_eq!(set.fetches(), 2);
    assert_eq!(set.min_refetch().as_secs(), 30);
    // The shared test issuer is not trusted by this server.
    let res = app.get(&app.resident_token(&id(64)), "/api/v1/me").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_unknown_key").await;
}
