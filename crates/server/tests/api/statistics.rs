//! `GET /api/v1/staff/statistics` on every backend: every staff role reads
//! it, a resident's or a unit's token does not; the answer has the
//! documented shape and exact counts for pushed records, and no per-person
//! data anywhere (no ID number, name or individual score: 第十八条).

use chengxin_domain::staff::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01};

/// Every key of every object in `v`, recursively.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_reads_aggregates_and_no_person() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let people = [id(1), id(2), id(3)];
        for (n, p) in people.iter().enumerate() {
            let res = app.push(&key, &b03(&format!("b{n}"), p)).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        let res = app.push(&key, &p01("p1", &people[2], "general")).await;
        assert_eq!(res.status(), StatusCode::CREATED);

        for (name, role) in [
            ("ada", Role::Admin),
            ("rui", Role::Reviewer),
            ("aud", Role::Auditor),
        ] {
            let token = app.staff_token(name, role).await;
            let res = app.get(&token, "/api/v1/staff/statistics").await;
            let body = assert_json(res, StatusCode::OK).await;
            assert_eq!(body["as_of"], chengxin_jobs::today().to_string());
            assert_eq!(body["model_version"], "2026.1");
            assert_eq!(
                (body["people"].as_u64(), body["scored"].as_u64()),
                (Some(3), Some(3))
            );
            let grades: Vec<(&str, u64)> = body["grades"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| (g["grade"].as_str().unwrap(), g["count"].as_u64().unwrap()))
                .collect();
            assert_eq!(
                grades,
                [("AAA", 0), ("AA", 0), ("A", 2), ("B", 1), ("C", 0)]
            );
            let histogram = body["score_histogram"]["buckets"].as_array().unwrap();
            assert_eq!(histogram.len(), 20);
            assert_eq!(histogram[12]["from"], 600);
            assert_eq!(histogram[12]["count"], 2);
            assert_eq!(histogram[11]["count"], 1);
            assert_eq!(body["districts"][0]["code"], "330602");
            assert_eq!(body["districts"][0]["name_zh"], "越城区");
            assert_eq!(body["districts"][0]["count"], 3);
            assert_eq!(body["outside_city"], 0);
            let units = body["records_received"]["units"].as_array().unwrap();
            assert_eq!(units.len(), 1);
            assert_eq!(units[0]["unit"], "SX-TAX");
            assert_eq!(units[0]["total"], 4);
            assert_eq!(units[0]["days"].as_array().unwrap().len(), 14);
            assert_eq!(body["cases"]["objections"]["overdue"], 0);
            assert_eq!(body["cases"]["repairs"]["pending"], 0);
            assert_eq!(body["cases"]["self_reports"]["oldest_days"], Value::Null);

            // No per-person data: no ID number (whole or masked), no name,
            // and no field that could carry a person or their score.
            let text = body.to_string();
            for p in &people {
                assert!(!text.contains(p.as_str()), "{text}");
                assert!(!text.contains(&p[14..]), "a masked ID's tail: {text}");
            }
            assert!(!text.contains("张三"), "{text}");
            let mut all = Vec::new();
            keys(&body, &mut all);
            for forbidden in ["id_number", "name", "score", "person", "person_id", "id"] {
                assert!(
                    !all.iter().any(|k| k == forbidden),
                    "key `{forbidden}` in {text}"
                );
            }
        }

        // Only staff: a unit's key and no token are refused.
        let res = app.get(&key, "/api/v1/staff/statistics").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let res = app
            .client
            .get(app.url("/api/v1/staff/statistics"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}
