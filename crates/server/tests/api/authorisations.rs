//! Authorisations over HTTP on every backend: a resident grants, a party
//! redeems the one-time code and asks within the scope; the consent matrix
//! (every refusal code), revocation between two requests, the use counter
//! under 16 concurrent requests, threshold answers of one shape and size,
//! and each use in the resident's access log with the party's name and
//! purpose.

use chengxin_domain::authorisation::Scope;
use chengxin_jobs::authorisations::{self, civil_day, GrantRequest};
use chengxin_jobs::parties;
use jiff::{Timestamp, ToSpan};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01, TestApp};

async fn party(app: &TestApp, code: &str, name: &str) -> String {
    let (code, name) = (code.to_owned(), name.to_owned());
    app.run(move |ctx| {
        parties::add_party(
            ctx,
            &code,
            &name,
            "bank",
            &["loan_discount".into(), "deposit_waiver".into()],
            "operator:test",
        )
        .unwrap()
        .1
    })
    .await
}

async fn grant(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/me/authorisations"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn redeem(app: &TestApp, key: &str, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/party/authorisations/redeem"))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn result(app: &TestApp, key: &str, id: &Value, query: &str) -> reqwest::Response {
    app.get(
        key,
        &format!("/api/v1/party/authorisations/{id}/result{query}"),
    )
    .await
}

fn until(days: i64) -> String {
    chengxin_jobs::today()
        .checked_add(days.days())
        .unwrap()
        .to_string()
}

/// Grants `scope` and has `key` redeem it; returns the authorisation id.
async fn granted(app: &TestApp, token: &str, key: &str, scope: &str, max: Option<i64>) -> Value {
    let body = json!({"party": "SX-BANK", "purpose": "loan_discount", "scope": scope,
                      "valid_until": until(30), "max_uses": max});
    let g = assert_json(grant(app, token, &body).await, StatusCode::CREATED).await;
    let code = g["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);
    let r = assert_json(redeem(app, key, code).await, StatusCode::OK).await;
    assert_eq!(r["authorisation_id"], g["id"]);
    assert_eq!(r["scope"], scope);
    assert_eq!(r["purpose"], "loan_discount");
    g["id"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_matrix() {
    on_each_backend(|app| async move {
        let (a, b) = (id(81), id(82));
        let (_, gov) = app.unit("SX-PSB", &["B03"]).await;
        for (n, p) in [(1, &a), (2, &b)] {
            assert_json(app.push(&gov, &b03(&format!("h{n}"), p)).await, StatusCode::CREATED).await;
        }
        let (ta, tb) = (app.resident_token(&a), app.resident_token(&b));
        let bank = party(&app, "SX-BANK", "绍兴测试银行").await;
        let other = party(&app, "SX-OTHER", "另一家银行").await;

        // Grants the body cannot make.
        let base = json!({"party": "SX-BANK", "purpose": "loan_discount", "scope": "grade", "valid_until": until(30)});
        let with = |k: &str, v: Value| {
            let mut x = base.clone();
            x[k] = v;
            x
        };
        for (body, status, code) in [
            (with("party", json!("NOPE")), StatusCode::UNPROCESSABLE_ENTITY, "unknown_party"),
            (with("purpose", json!("hotel_deposit_free")), StatusCode::UNPROCESSABLE_ENTITY, "purpose_not_declared"),
            (with("scope", json!("threshold:1001")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_scope"),
            (with("valid_until", json!("2020-01-01")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_validity"),
            (with("valid_until", json!("2026-02-30")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_date"),
            (with("max_uses", json!(0)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_validity"),
            (with("id_number", json!(a)), StatusCode::UNPROCESSABLE_ENTITY, "unknown_field"),
        ] {
            assert_problem(grant(&app, &ta, &body).await, status, code).await;
        }

        // A grade grant with two uses: one answer, a wider one refused, then spent.
        let g = granted(&app, &ta, &bank, "grade", Some(2)).await;
        let ans = assert_json(result(&app, &bank, &g, "").await, StatusCode::OK).await;
        assert_eq!(ans["scope"], "grade");
        assert_eq!(ans["grade"], "A");
        assert!(ans.get("score").is_none(), "{ans}");
        assert_eq!(ans["as_of"], chengxin_jobs::today().to_string());
        assert_eq!(ans["model_version"], "2026.1");
        assert_problem(result(&app, &bank, &g, "?scope=score").await, StatusCode::FORBIDDEN, "scope_exceeded").await;
        assert_problem(result(&app, &bank, &g, "?scope=threshold%3A600").await, StatusCode::FORBIDDEN, "scope_exceeded").await;
        assert_problem(result(&app, &bank, &g, "?scope=everything").await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_scope").await;
        assert_json(result(&app, &bank, &g, "?scope=grade").await, StatusCode::OK).await;
        assert_problem(result(&app, &bank, &g, "").await, StatusCode::FORBIDDEN, "authorisation_exhausted").await;

        // Another party's authorisation, an unknown id, and a bad key.
        assert_problem(result(&app, &other, &g, "").await, StatusCode::NOT_FOUND, "authorisation_not_found").await;
        assert_problem(result(&app, &bank, &json!(999_999), "").await, StatusCode::NOT_FOUND, "authorisation_not_found").await;
        assert_problem(result(&app, &bank, &json!("x1"), "").await, StatusCode::NOT_FOUND, "authorisation_not_found").await;
        assert_problem(result(&app, "cxp_wrong", &g, "").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // A code works once, and only for its party.
        let body = json!({"party": "SX-BANK", "purpose": "deposit_waiver", "scope": "score", "valid_until": until(30)});
        let g2 = assert_json(grant(&app, &ta, &body).await, StatusCode::CREATED).await;
        let code = g2["code"].as_str().unwrap();
        assert_problem(redeem(&app, &other, code).await, StatusCode::NOT_FOUND, "authorisation_not_found").await;
        assert_json(redeem(&app, &bank, code).await, StatusCode::OK).await;
        assert_problem(redeem(&app, &bank, code).await, StatusCode::CONFLICT, "code_already_redeemed").await;
        assert_problem(redeem(&app, &bank, "not a code").await, StatusCode::NOT_FOUND, "authorisation_not_found").await;

        // Revocation between two requests: the very next one is refused.
        let ans = assert_json(result(&app, &bank, &g2["id"], "").await, StatusCode::OK).await;
        assert_eq!((ans["score"].as_i64(), ans["grade"].as_str()), (Some(600), Some("A")));
        // Another resident cannot revoke it (nor learn it exists).
        let del = |token: String, id: Value| {
            let app = &app;
            async move {
                app.client
                    .delete(app.url(&format!("/api/v1/me/authorisations/{id}")))
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_problem(del(tb.clone(), g2["id"].clone()).await, StatusCode::NOT_FOUND, "authorisation_not_found").await;
        assert_eq!(del(ta.clone(), g2["id"].clone()).await.status(), StatusCode::NO_CONTENT);
        assert_problem(result(&app, &bank, &g2["id"], "").await, StatusCode::FORBIDDEN, "authorisation_revoked").await;

        // Expired: granted and redeemed three days ago, valid until yesterday.
        let ida = chengxin_domain::IdNumber::parse(&a).unwrap();
        let old = app
            .run(move |ctx| {
                let then = Timestamp::now() - 72.hours();
                let p = parties::list_parties(ctx).unwrap().into_iter().find(|p| p.code == "SX-BANK").unwrap();
                let me = chengxin_jobs::resident::Resident { id_number: &ida, name: None, request_id: None };
                let req = GrantRequest {
                    party: "SX-BANK".into(),
                    purpose: "loan_discount".into(),
                    scope: Scope::Grade,
                    valid_until: civil_day(then).checked_add(1.days()).unwrap(),
                    max_uses: None,
                };
                let g = authorisations::grant(ctx, me, &req, then).unwrap();
                authorisations::redeem(ctx, &p, &g.code, None, then).unwrap();
                g.id
            })
            .await;
        assert_problem(result(&app, &bank, &json!(old), "").await, StatusCode::FORBIDDEN, "authorisation_expired").await;

        // The resident's list: uses and status of each.
        let res = app.get(&ta, "/api/v1/me/authorisations").await;
        let list = assert_json(res, StatusCode::OK).await;
        let got: Vec<(Value, Value, Value)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["scope"].clone(), x["uses"].clone(), x["status"].clone()))
            .collect();
        assert_eq!(
            got,
            [
                (json!("grade"), json!(2), json!("exhausted")),
                (json!("score"), json!(1), json!("revoked")),
                (json!("grade"), json!(0), json!("expired")),
            ],
            "{}",
            app.backend
        );
        assert_eq!(list[0]["party_name"], "绍兴测试银行");
        let res = app.get(&tb, "/api/v1/me/authorisations").await;
        assert_eq!(assert_json(res, StatusCode::OK).await, json!([]));

        // Every use is in the resident's access log with name and purpose.
        let log = assert_json(app.get(&ta, "/api/v1/me/access-log").await, StatusCode::OK).await;
        let uses: Vec<&Value> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "authorisation.used")
            .collect();
        assert_eq!(uses.len(), 3, "{log}");
        for u in &uses {
            assert_eq!(u["actor_kind"], "party");
            assert_eq!(u["actor"], "绍兴测试银行（SX-BANK）");
        }
        assert!(uses.iter().any(|u| u["purpose"].as_str().unwrap().contains("信用贷款利率优惠 loan rate discount")));
        assert!(uses.iter().any(|u| u["purpose"].as_str().unwrap().contains("免押金 deposit waiver")));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_requests_never_pass_max_uses() {
    on_each_backend(|app| async move {
        let a = id(83);
        let (_, gov) = app.unit("SX-PSB", &["B03"]).await;
        assert_json(app.push(&gov, &b03("h1", &a)).await, StatusCode::CREATED).await;
        let ta = app.resident_token(&a);
        let bank = party(&app, "SX-BANK", "绍兴测试银行").await;
        let g = granted(&app, &ta, &bank, "score", Some(5)).await;
        let requests = (0..16).map(|_| result(&app, &bank, &g, ""));
        let answers = futures_util::future::join_all(requests).await;
        let mut statuses = Vec::new();
        for res in answers {
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            statuses.push((status, body["code"].as_str().map(str::to_owned)));
        }
        let ok = statuses
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .count();
        let spent = statuses
            .iter()
            .filter(|(s, c)| {
                *s == StatusCode::FORBIDDEN && c.as_deref() == Some("authorisation_exhausted")
            })
            .count();
        assert_eq!((ok, spent), (5, 11), "{}: {statuses:?}", app.backend);
        let list = assert_json(
            app.get(&ta, "/api/v1/me/authorisations").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list[0]["uses"], 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threshold_answers_have_one_shape_and_one_threshold_at_a_time() {
    on_each_backend(|app| async move {
        let (hi, lo) = (id(84), id(85));
        let (_, gov) = app.unit("SX-GOV", &["B03", "P01"]).await;
        assert_json(app.push(&gov, &b03("h1", &hi)).await, StatusCode::CREATED).await;
        assert_json(app.push(&gov, &b03("h2", &lo)).await, StatusCode::CREATED).await;
        assert_json(app.push(&gov, &p01("p2", &lo, "general")).await, StatusCode::CREATED).await;
        let (s_hi, s_lo) = (app.stored_score(&hi).await.unwrap(), app.stored_score(&lo).await.unwrap());
        assert!(s_lo < 600 && s_hi >= 600, "{s_lo} {s_hi}");
        let bank = party(&app, "SX-BANK", "绍兴测试银行").await;

        let mut bodies = Vec::new();
        for p in [&hi, &lo] {
            let token = app.resident_token(p);
            let g = granted(&app, &token, &bank, "threshold:600", None).await;
            let res = result(&app, &bank, &g, "").await;
            assert_eq!(res.status(), StatusCode::OK);
            bodies.push(res.text().await.unwrap());
            // A second threshold grant to the same party is refused.
            let body = json!({"party": "SX-BANK", "purpose": "loan_discount", "scope": "threshold:650", "valid_until": until(30)});
            assert_problem(grant(&app, &token, &body).await, StatusCode::CONFLICT, "threshold_grant_exists").await;
            // Another threshold than the granted one is out of scope.
            assert_problem(result(&app, &bank, &g, "?scope=threshold:601").await, StatusCode::FORBIDDEN, "scope_exceeded").await;
        }
        let (a, b): (Value, Value) = (
            serde_json::from_str(&bodies[0]).unwrap(),
            serde_json::from_str(&bodies[1]).unwrap(),
        );
        assert_eq!((a["met"].as_bool(), b["met"].as_bool()), (Some(true), Some(false)));
        assert_eq!(a["threshold"], 600);
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(keys(&a), ["as_of", "met", "model_version", "scope", "threshold"].map(String::from));
        assert_eq!(bodies[0].len(), bodies[1].len(), "{bodies:?}");
    })
    .await;
}
