//! A party's certificate and scenario check under an authorisation, over
//! real HTTP on every backend: a grade grant gives a grade certificate that
//! verifies, and answers a minimum-grade scenario but not a minimum-score
//! one; a `threshold:N` grant gives a threshold certificate and answers only
//! the scenario whose minimum is N; another party's authorisation and an
//! unknown scenario are not found; each use is in the resident's access log.

use chengxin_domain::staff::Role;
use chengxin_jobs::{certificates, parties};
use jiff::ToSpan;
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, TestApp};

fn day(n: i64) -> String {
    chengxin_jobs::today()
        .checked_add(n.days())
        .unwrap()
        .to_string()
}

async fn post(app: &TestApp, key: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn party(app: &TestApp, code: &str) -> String {
    let code = code.to_owned();
    app.run(move |ctx| {
        parties::add_party(
            ctx,
            &code,
            "绍兴测试银行",
            "bank",
            &["loan_discount".into()],
            "operator:test",
        )
        .unwrap()
        .1
    })
    .await
}

/// The resident grants `scope` to SX-BANK, which redeems it: its id.
async fn granted(app: &TestApp, token: &str, key: &str, scope: &str) -> i64 {
    let body = json!({"party": "SX-BANK", "purpose": "loan_discount", "scope": scope, "valid_until": day(30)});
    let g = assert_json(
        post(app, token, "/api/v1/me/authorisations", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let r = post(
        app,
        key,
        "/api/v1/party/authorisations/redeem",
        &json!({"code": g["code"]}),
    )
    .await;
    assert_json(r, StatusCode::OK).await["authorisation_id"]
        .as_i64()
        .unwrap()
}

async fn certificate(app: &TestApp, key: &str, id: i64) -> reqwest::Response {
    post(
        app,
        key,
        &format!("/api/v1/party/authorisations/{id}/certificate"),
        &json!({}),
    )
    .await
}

async fn scenario(app: &TestApp, key: &str, id: i64, code: &str) -> reqwest::Response {
    app.get(
        key,
        &format!("/api/v1/party/authorisations/{id}/scenarios/{code}"),
    )
    .await
}

async fn verify(app: &TestApp, jws: &Value) -> Value {
    let res = post(
        app,
        "-",
        "/api/v1/certificates/verify",
        &json!({ "jws": jws }),
    )
    .await;
    assert_json(res, StatusCode::OK).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_and_scenarios_within_the_grant() {
    let dbs = tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap();
    for db in dbs {
        let keys = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_city(db, "shaoxing", keys.path().join("k")).await;
        app.run(|ctx| certificates::rotate(ctx, jiff::Timestamp::now().as_second()).unwrap())
            .await;
        let a = id(91);
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        assert_json(app.push(&psb, &b03("a", &a)).await, StatusCode::CREATED).await;
        let token = app.resident_token(&a);
        let bank = party(&app, "SX-BANK").await;
        let admin = app.staff_token("admin", Role::Admin).await;
        for (code, minimum) in [
            ("HOTEL-A", json!({"min_grade": "A"})),
            ("BUS-600", json!({"min_score": 600})),
            ("BUS-700", json!({"min_score": 700})),
        ] {
            let mut body = json!({
                "code": code, "provider": "绍兴文旅集团", "sector": "hotel_catering",
                "description_zh": "诚信分达标者入住免押金", "description_en": "no deposit at check-in",
                "benefit": {"kind": "deposit_waiver"},
                "valid_from": day(-1), "valid_until": day(365),
            });
            body.as_object_mut()
                .unwrap()
                .extend(minimum.as_object().unwrap().clone());
            let res = post(&app, &admin, "/api/v1/staff/scenarios", &body).await;
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }

        // A grade grant: a grade certificate that verifies; a minimum grade
        // answered, a minimum score beyond it.
        let g = granted(&app, &token, &bank, "grade").await;
        let c = assert_json(certificate(&app, &bank, g).await, StatusCode::OK).await;
        let v = verify(&app, &c["jws"]).await;
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["grade"], "A", "{}: {v}", app.backend);
        assert!(v.get("met").is_none_or(Value::is_null), "{v}");
        let e = assert_json(scenario(&app, &bank, g, "HOTEL-A").await, StatusCode::OK).await;
        assert_eq!(e, json!({"eligible": true}));
        assert_problem(
            scenario(&app, &bank, g, "BUS-600").await,
            StatusCode::FORBIDDEN,
            "scope_exceeded",
        )
        .await;
        assert_problem(
            scenario(&app, &bank, g, "NOPE").await,
            StatusCode::NOT_FOUND,
            "scenario_not_found",
        )
        .await;

        // A threshold grant: the threshold's certificate; only the scenario
        // whose minimum is that threshold.
        let t = granted(&app, &token, &bank, "threshold:600").await;
        let c = assert_json(certificate(&app, &bank, t).await, StatusCode::OK).await;
        let v = verify(&app, &c["jws"]).await;
        assert_eq!(
            (v["valid"].clone(), v["threshold"].clone(), v["met"].clone()),
            (json!(true), json!(600), json!(true)),
            "{v}"
        );
        assert!(
            v.get("grade").is_none_or(Value::is_null),
            "a threshold certificate states no grade: {v}"
        );
        let e = assert_json(scenario(&app, &bank, t, "BUS-600").await, StatusCode::OK).await;
        assert_eq!(e, json!({"eligible": true}));
        assert_problem(
            scenario(&app, &bank, t, "BUS-700").await,
            StatusCode::FORBIDDEN,
            "scope_exceeded",
        )
        .await;
        assert_problem(
            scenario(&app, &bank, t, "HOTEL-A").await,
            StatusCode::FORBIDDEN,
            "scope_exceeded",
        )
        .await;

        // Another party cannot use them.
        let other = party(&app, "SX-OTHER").await;
        assert_problem(
            certificate(&app, &other, g).await,
            StatusCode::NOT_FOUND,
            "authorisation_not_found",
        )
        .await;
        assert_problem(
            scenario(&app, &other, t, "BUS-600").await,
            StatusCode::NOT_FOUND,
            "authorisation_not_found",
        )
        .await;

        // Revoked: refused on the very next request.
        let res = app
            .client
            .delete(app.url(&format!("/api/v1/me/authorisations/{g}")))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        assert_problem(
            certificate(&app, &bank, g).await,
            StatusCode::FORBIDDEN,
            "authorisation_revoked",
        )
        .await;

        // Four uses, each in the resident's access log with the party.
        let log = assert_json(
            app.get(&token, "/api/v1/me/access-log").await,
            StatusCode::OK,
        )
        .await;
        let uses = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "authorisation.used")
            .count();
        assert_eq!(uses, 4, "{}: {log}", app.backend);
    }
}
