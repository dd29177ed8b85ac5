//! 信易+ scenarios over HTTP on every backend: an admin registers one (a
//! reviewer may not), anything that is not a benefit is refused with each
//! reason and path, the public list shows only those offered today,
//! residents above and below the minimum see `qualifies` (their read
//! audited as theirs), and retiring hides it.

use chengxin_domain::staff::Role;
use chengxin_jobs::staff;
use jiff::ToSpan;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01, TestApp};

const PW: &str = "correct horse battery";

async fn staff_token(app: &TestApp, name: &str, role: Role) -> String {
    let n = name.to_owned();
    app.run(move |ctx| staff::add_staff(ctx, &n, role, PW, "operator:test", staff::now()))
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/staff/sessions"))
        .json(&json!({"name": name, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::CREATED).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn day(n: i64) -> String {
    chengxin_jobs::today()
        .checked_add(n.days())
        .unwrap()
        .to_string()
}

fn scenario(code: &str) -> Value {
    json!({
        "code": code,
        "provider": "绍兴公交集团",
        "sector": "transport",
        "description_zh": "诚信分达标者乘坐公交享受八折优惠",
        "description_en": "20% off bus fares",
        "benefit": {"kind": "discount", "percent": 20},
        "min_score": 600,
        "valid_from": day(-10),
        "valid_until": day(365),
    })
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn codes(res: reqwest::Response) -> Vec<(String, Option<bool>)> {
    assert_json(res, StatusCode::OK)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["qualifies"].as_bool(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_register_benefits_only_and_residents_see_what_they_qualify_for() {
    on_each_backend(|app| async move {
        let admin = staff_token(&app, "admin", Role::Admin).await;
        let reviewer = staff_token(&app, "wang", Role::Reviewer).await;
        let auditor = staff_token(&app, "li", Role::Auditor).await;
        for t in [&reviewer, &auditor] {
            assert_problem(
                post(&app, t, "/api/v1/staff/scenarios", &scenario("BUS")).await,
                StatusCode::FORBIDDEN,
                "role_forbidden",
            )
            .await;
            assert_problem(
                app.get(t, "/api/v1/staff/scenarios").await,
                StatusCode::FORBIDDEN,
                "role_forbidden",
            )
            .await;
        }
        // The documented example is accepted.
        let doc = assert_json(
            app.client
                .get(app.url("/api/v1/openapi.json"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let schema = &doc["paths"]["/api/v1/staff/scenarios"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        let name = schema["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        let example = doc["components"]["schemas"][name]["example"].clone();
        assert_json(
            post(&app, &admin, "/api/v1/staff/scenarios", &example).await,
            StatusCode::CREATED,
        )
        .await;
        let created = assert_json(
            post(&app, &admin, "/api/v1/staff/scenarios", &scenario("BUS")).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(created["sector"], "transport");
        assert_eq!(created["sector_zh"], "交通出行");
        assert_eq!(
            created["benefit"],
            json!({"kind": "discount", "percent": 20})
        );
        assert_eq!(created["min_score"], 600);
        assert_eq!(created["min_grade"], Value::Null);
        assert_eq!(created["created_by"], "staff:admin");
        assert_eq!(created["retired_at"], Value::Null);
        assert_problem(
            post(&app, &admin, "/api/v1/staff/scenarios", &scenario("BUS")).await,
            StatusCode::CONFLICT,
            "scenario_exists",
        )
        .await;

        // Not a benefit: each refused with its reason and path.
        let refusals: [(&str, Value, &str); 4] = [
            (
                "description_en",
                json!("Surcharge of 10% for everyone else"),
                "penalty_wording",
            ),
            (
                "description_zh",
                json!("未达标者提高押金"),
                "penalty_wording",
            ),
            (
                "description_zh",
                json!("低于标准者拒绝办理"),
                "penalty_wording",
            ),
            (
                "benefit",
                json!({"kind": "discount", "percent": -10}),
                "not_positive",
            ),
        ];
        for (field, value, reason) in refusals {
            let mut v = scenario("BAD");
            v[field] = value;
            let p = assert_problem(
                post(&app, &admin, "/api/v1/staff/scenarios", &v).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "scenario_not_incentive",
            )
            .await;
            let detail = p["detail"].as_str().unwrap();
            let path = if field == "benefit" {
                "benefit.percent"
            } else {
                field
            };
            assert!(detail.contains(&format!("{path}: ")), "{detail}");
            assert!(detail.contains(reason), "{detail}");
        }
        // Several problems at once: every one is named.
        let mut v = scenario("BAD");
        v["description_zh"] = json!("加收附加费");
        v["min_grade"] = json!("A");
        let p = assert_problem(
            post(&app, &admin, "/api/v1/staff/scenarios", &v).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "scenario_not_incentive",
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("description_zh: ") && detail.contains("min_grade: "),
            "{detail}"
        );
        // Other problems: their own code; the body's shape: the usual codes.
        let mut v = scenario("BAD");
        v["min_score"] = json!(2000);
        assert_problem(
            post(&app, &admin, "/api/v1/staff/scenarios", &v).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_scenario",
        )
        .await;
        let mut v = scenario("BAD");
        v["extra"] = json!(1);
        assert_problem(
            post(&app, &admin, "/api/v1/staff/scenarios", &v).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        )
        .await;
        let mut v = scenario("BAD");
        v["valid_from"] = json!("2026-02-30");
        assert_problem(
            post(&app, &admin, "/api/v1/staff/scenarios", &v).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        )
        .await;

        let mut hotel = scenario("HOTEL");
        hotel["sector"] = json!("hotel_catering");
        hotel["benefit"] = json!({"kind": "deposit_waiver"});
        hotel["description_zh"] = json!("入住免押金");
        hotel["description_en"] = json!("No deposit at check-in");
        hotel.as_object_mut().unwrap().remove("min_score");
        hotel["min_grade"] = json!("A");
        assert_json(
            post(&app, &admin, "/api/v1/staff/scenarios", &hotel).await,
            StatusCode::CREATED,
        )
        .await;
        let mut later = scenario("LATER");
        later["valid_from"] = json!(day(30));
        assert_json(
            post(&app, &admin, "/api/v1/staff/scenarios", &later).await,
            StatusCode::CREATED,
        )
        .await;

        // Public: only those offered today, no sign-in.
        let public = app
            .client
            .get(app.url("/api/v1/scenarios"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            codes(public).await,
            [
                ("BUS".to_owned(), None),
                ("HOTEL".to_owned(), None),
                ("SX-BUS-01".to_owned(), None)
            ]
        );

        // Residents above (600, A) and below the minimum.
        let (above, below) = (id(71), id(72));
        let (_, gov) = app.unit("SX-GOV", &["B03", "P01"]).await;
        for (n, p) in [(1, &above), (2, &below)] {
            assert_json(
                app.push(&gov, &b03(&format!("h{n}"), p)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        assert_json(
            app.push(&gov, &p01("p1", &below, "serious")).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(app.stored_score(&above).await, Some(600));
        assert!(app.stored_score(&below).await.unwrap() < 600);
        for (who, expected) in [(&above, true), (&below, false)] {
            let token = app.resident_token(who);
            let res = app.get(&token, "/api/v1/me/scenarios").await;
            assert_eq!(
                codes(res).await,
                [
                    ("BUS".to_owned(), Some(expected)),
                    ("HOTEL".to_owned(), Some(expected)),
                    // AA and better: 600 is grade A.
                    ("SX-BUS-01".to_owned(), Some(false))
                ],
                "{}",
                app.backend
            );
        }
        // Each resident's read is in their own access log as theirs, not as
        // someone else's read (so it is not listed to them).
        assert_problem(
            app.client
                .get(app.url("/api/v1/me/scenarios"))
                .send()
                .await
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        let entries = app
            .run(|ctx| chengxin_jobs::audit::entries_after(ctx, 0, 100_000))
            .await
            .unwrap();
        let reads = entries
            .iter()
            .filter(|e| {
                e.event.action == "person.read"
                    && e.event.detail.to_string().contains("GET /me/scenarios")
            })
            .count();
        assert_eq!(reads, 2);

        // Retiring hides it everywhere but the agency's list.
        assert_problem(
            post(
                &app,
                &reviewer,
                "/api/v1/staff/scenarios/BUS/retire",
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "role_forbidden",
        )
        .await;
        let r = assert_json(
            post(
                &app,
                &admin,
                "/api/v1/staff/scenarios/BUS/retire",
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(r["retired_at"].is_string(), "{r}");
        assert_problem(
            post(
                &app,
                &admin,
                "/api/v1/staff/scenarios/BUS/retire",
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
            "scenario_retired",
        )
        .await;
        assert_problem(
            post(
                &app,
                &admin,
                "/api/v1/staff/scenarios/NOPE/retire",
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "scenario_not_found",
        )
        .await;
        let public = app
            .client
            .get(app.url("/api/v1/scenarios"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            codes(public).await,
            [("HOTEL".to_owned(), None), ("SX-BUS-01".to_owned(), None)]
        );
        let res = app
            .get(&app.resident_token(&above), "/api/v1/me/scenarios")
            .await;
        assert_eq!(
            codes(res).await,
            [
                ("HOTEL".to_owned(), Some(true)),
                ("SX-BUS-01".to_owned(), Some(false))
            ]
        );
        let all = codes(app.get(&admin, "/api/v1/staff/scenarios").await).await;
        assert_eq!(all.len(), 4);
        let audited: Vec<(String, String)> = app
            .run(|ctx| chengxin_jobs::audit::entries_after(ctx, 0, 100_000))
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action.starts_with("scenario."))
            .map(|e| (e.event.action, e.event.actor))
            .collect();
        assert_eq!(audited.len(), 5, "{audited:?}");
        assert!(audited.iter().all(|(_, a)| a == "staff:admin"));
    })
    .await;
}
