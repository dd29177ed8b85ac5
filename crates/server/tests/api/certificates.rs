//! Certificates over real HTTP, on every backend: the published key set,
//! the verifier's answers and refusals, and two cities (two servers, two
//! databases, two key sets) each registering the other as a partner and
//! verifying the other's certificate with the translated `local_grade`.

use chengxin_jobs::certificates::{self, Ask};
use chengxin_testkit::certs as alter;
use chengxin_testkit::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, TestApp};

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A resident with a provincial evaluation of `evaluation`, pushed by a
/// unit; their person id and grade.
async fn scored(app: &TestApp, n: u32, evaluation: i32) -> (i64, String) {
    let (_, key) = app.unit(&format!("SX-T{n}"), &["B01", "B03"]).await;
    let id_number = id(n);
    let b01 = json!({
        "source_id": format!("b01-{n}"), "item": "B01", "id_number": id_number, "name": "张三",
        "fields": {"score": evaluation, "evaluated_on": chengxin_jobs::today().to_string()}
    });
    for record in [b03(&format!("b03-{n}"), &id_number), b01] {
        let res = app.push(&key, &record).await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    app.run(move |ctx| {
        let index = ctx.store.keys().blind_index(id_number.as_bytes());
        let mut tx = ctx.store.read().unwrap();
        let pid = tx.find_person(&index).unwrap().unwrap();
        let version = chengxin_jobs::model_in_force(ctx).unwrap().version;
        let state = tx.score(pid, &version).unwrap().unwrap().state;
        (pid, state.grade.unwrap())
    })
    .await
}

async fn verify(app: &TestApp, jws: &str) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/certificates/verify"))
        .json(&json!({ "jws": jws }))
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::OK).await
}

async fn jwks(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::OK).await
}

async fn issue(app: &TestApp, pid: i64, ask: Ask, at: i64) -> String {
    app.run(move |ctx| {
        certificates::issue(ctx, pid, "bank-1", ask, at)
            .unwrap()
            .jws
    })
    .await
}

async fn register(at: &TestApp, code: &str, of: &TestApp, map: &str) {
    let keys = jwks(of).await.to_string();
    let map = map.replace("ISSUER", &of.base);
    let code = code.to_owned();
    at.run(move |ctx| {
        certificates::add_partner(ctx, &code, "伙伴城市", &keys, &map, now()).unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_set_and_the_verifier_over_http() {
    let dbs = tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap();
    for db in dbs {
        let keys = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_city(db, "shaoxing", keys.path().join("k")).await;
        assert_eq!(jwks(&app).await, json!({"keys": []}));
        let (pid, grade) = scored(&app, 1, 870).await;
        let kid = app
            .run(|ctx| certificates::rotate(ctx, now()).unwrap().kid)
            .await;
        let set = jwks(&app).await;
        assert_eq!(set["keys"].as_array().unwrap().len(), 1);
        let k = &set["keys"][0];
        assert_eq!(
            (
                k["kty"].as_str(),
                k["crv"].as_str(),
                k["alg"].as_str(),
                k["use"].as_str()
            ),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
        );
        assert_eq!(k["kid"], kid.as_str());
        assert!(k.get("d").is_none(), "never the private key");

        let jws = issue(&app, pid, Ask::Grade, now()).await;
        let v = verify(&app, &jws).await;
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["city"], "shaoxing");
        assert_eq!(v["grade"], grade.as_str());
        assert_eq!(v["local_grade"], grade.as_str());
        assert_eq!(v["expires_at"].as_str().unwrap().len(), 20, "{v}");
        for (altered, reason) in [
            (alter::signature_byte_changed(&jws), "bad_signature"),
            (alter::alg_none(&jws), "alg_not_allowed"),
            (alter::with_kid(&jws, "other"), "unknown_key"),
            ("x.y.z".to_owned(), "malformed"),
        ] {
            let v = verify(&app, &altered).await;
            assert_eq!(
                (v["valid"].clone(), v["reason"].clone()),
                (json!(false), json!(reason))
            );
        }
        let expired = issue(&app, pid, Ask::Threshold(500), now() - 31 * 86_400).await;
        assert_eq!(verify(&app, &expired).await["reason"], "expired");

        for (body, status, code) in [
            (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
            (
                json!({"jws": 1}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                json!({"jws": jws, "x": 1}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
            ),
        ] {
            let res = app
                .client
                .post(app.url("/api/v1/certificates/verify"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_problem(res, status, code).await;
        }
        app.stop().await.unwrap();
    }
}

const ONE_DOWN: &str = "{\"issuer\":\"ISSUER\",\"grades\":{\"AAA\":\"AA\",\"AA\":\"A\",\"A\":\"B\",\"B\":\"C\",\"C\":\"C\"}}";
const SAME: &str =
    "issuer = \"ISSUER\"\n[grades]\nAAA = \"AAA\"\nAA = \"AA\"\nA = \"A\"\nB = \"B\"\nC = \"C\"\n";

fn one_down(g: &str) -> &'static str {
    match g {
        "AAA" => "AA",
        "AA" => "A",
        "A" => "B",
        _ => "C",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cities_verify_each_others_certificates() {
    let pairs: Vec<(TestDb, TestDb)> = tokio::task::spawn_blocking(|| {
        chengxin_testkit::backends()
            .into_iter()
            .zip(chengxin_testkit::backends())
            .collect()
    })
    .await
    .unwrap();
    for (db_a, db_b) in pairs {
        let dir = tempfile::tempdir().unwrap();
        let a = TestApp::spawn_city(db_a, "shaoxing", dir.path().join("a")).await;
        let b = TestApp::spawn_city(db_b, "ningbo", dir.path().join("b")).await;
        eprintln!("backend: {}", a.backend);
        for city in [&a, &b] {
            city.run(|ctx| certificates::rotate(ctx, now()).unwrap())
                .await;
        }
        let (pa, grade_a) = scored(&a, 1, 870).await;
        let (pb, grade_b) = scored(&b, 2, 720).await;
        let from_a = issue(&a, pa, Ask::Grade, now()).await;
        let from_b = issue(&b, pb, Ask::Grade, now()).await;
        assert_eq!(verify(&a, &from_b).await["reason"], "unknown_issuer");

        register(&a, "ningbo", &b, ONE_DOWN).await;
        register(&b, "shaoxing", &a, SAME).await;

        let at_a = verify(&a, &from_b).await;
        assert_eq!(at_a["valid"], true, "{at_a}");
        assert_eq!(at_a["city"], "ningbo");
        assert_eq!(at_a["grade"], grade_b.as_str());
        assert_eq!(at_a["local_grade"], one_down(&grade_b));
        let at_b = verify(&b, &from_a).await;
        assert_eq!(at_b["valid"], true, "{at_b}");
        assert_eq!(at_b["city"], "shaoxing");
        assert_eq!(at_b["local_grade"], grade_a.as_str());
        // Each still knows its own, and refuses the other's altered one.
        assert_eq!(verify(&a, &from_a).await["city"], "shaoxing");
        let altered = alter::payload_byte_changed(&from_a);
        assert_eq!(verify(&b, &altered).await["reason"], "bad_signature");
        a.stop().await.unwrap();
        b.stop().await.unwrap();
    }
}
