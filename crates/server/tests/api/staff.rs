//! Staff sign-in over HTTP on every backend: sessions, refusals that do not
//! say which check failed, the failed sign-in limit, sign-out, other
//! callers' tokens, and `GET /staff/me` showing the role's rights.

use chengxin_domain::staff::Role;
use chengxin_jobs::staff;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, id, on_each_backend, TestApp};

const PW: &str = "correct horse battery";

async fn add(app: &TestApp, name: &str, role: Role) {
    let name = name.to_owned();
    app.run(move |ctx| staff::add_staff(ctx, &name, role, PW, "operator:test", staff::now()))
        .await
        .unwrap();
}

async fn sign_in(app: &TestApp, name: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/staff/sessions"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn token(app: &TestApp, name: &str) -> String {
    let body = assert_json(sign_in(app, name, PW).await, StatusCode::CREATED).await;
    assert!(
        body["expires_at"].as_str().unwrap().ends_with('Z'),
        "{body}"
    );
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_me_and_sign_out() {
    on_each_backend(|app| async move {
        add(&app, "wang", Role::Reviewer).await;
        add(&app, "li", Role::Auditor).await;
        let t = token(&app, "wang").await;
        let me = assert_json(app.get(&t, "/api/v1/staff/me").await, StatusCode::OK).await;
        assert_eq!(
            me,
            json!({"name": "wang", "role": "reviewer",
                   "rights": ["decide_self_reports", "decide_objections", "decide_repairs",
                              "view_statistics"]})
        );
        let t2 = token(&app, "li").await;
        let me = assert_json(app.get(&t2, "/api/v1/staff/me").await, StatusCode::OK).await;
        assert_eq!(me["rights"], json!(["read_audit_log", "view_statistics"]));

        let res = app
            .client
            .delete(app.url("/api/v1/staff/sessions/current"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(
            app.get(&t, "/api/v1/staff/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        // The other session is untouched.
        assert_json(app.get(&t2, "/api/v1/staff/me").await, StatusCode::OK).await;
        // Disabling ends it.
        app.run(|ctx| staff::disable_staff(ctx, "li", "operator:test"))
            .await
            .unwrap();
        assert_problem(
            app.get(&t2, "/api/v1/staff/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        app.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_do_not_say_which_check_failed() {
    on_each_backend(|app| async move {
        add(&app, "wang", Role::Admin).await;
        add(&app, "zhao", Role::Admin).await;
        app.run(|ctx| staff::disable_staff(ctx, "zhao", "operator:test"))
            .await
            .unwrap();
        let mut details = Vec::new();
        for (name, pw) in [("wang", "wrong password!"), ("nobody", PW), ("zhao", PW)] {
            let p = assert_problem(
                sign_in(&app, name, pw).await,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
            )
            .await;
            details.push(p["detail"].clone());
        }
        assert!(details.iter().all(|d| *d == details[0]), "{details:?}");
        // Bad bodies.
        let res = app
            .client
            .post(app.url("/api/v1/staff/sessions"))
            .json(&json!({"name": "wang"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
        let res = app
            .client
            .post(app.url("/api/v1/staff/sessions"))
            .json(&json!({"name": "wang", "password": PW, "otp": 1}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field").await;
        app.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_callers_tokens_and_forgeries_are_refused() {
    on_each_backend(|app| async move {
        add(&app, "wang", Role::Reviewer).await;
        let (_, unit_key) = app.unit("SX-TAX", &["P01"]).await;
        let resident = app.resident_token(&id(1));
        let real = token(&app, "wang").await;
        let forged = format!("{}x", &real[..real.len() - 1]);
        for t in [
            unit_key.as_str(),
            resident.as_str(),
            "cxs_forged",
            forged.as_str(),
        ] {
            assert_problem(
                app.get(t, "/api/v1/staff/me").await,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
            )
            .await;
        }
        // No header at all.
        let res = app
            .client
            .get(app.url("/api/v1/staff/me"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // A staff token is no unit key.
        assert_problem(
            app.get(&real, "/api/v1/unit/self-reports").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        app.stop().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited_then_audited() {
    on_each_backend(|app| async move {
        add(&app, "wang", Role::Reviewer).await;
        for _ in 0..staff::FAILURES_PER_ACCOUNT {
            assert_problem(
                sign_in(&app, "wang", "wrong password!").await,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
            )
            .await;
        }
        let res = sign_in(&app, "wang", PW).await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0 && retry <= staff::FAILURE_WINDOW_SECONDS as u64);
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins").await;
        let log: Vec<Value> = app
            .run(|ctx| {
                ctx.store.seal_audit().unwrap();
                let entries = ctx
                    .store
                    .snapshot()
                    .unwrap()
                    .audit_entries(0, 100_000)
                    .unwrap();
                entries
                    .into_iter()
                    .filter(|e| e.event.actor == "staff:wang")
                    .map(|e| json!([e.event.action, e.event.detail["client"]]))
                    .collect()
            })
            .await;
        assert_eq!(log.len(), staff::FAILURES_PER_ACCOUNT + 1);
        assert_eq!(log[0], json!(["staff.sign_in_failed", "127.0.0.1"]));
        assert_eq!(log.last().unwrap()[0], "staff.sign_in_limited");
        app.stop().await.unwrap();
    })
    .await;
}
