//! Credit commitments over HTTP on every backend: the public templates, a
//! resident signing one (the score changes in the same transaction), a
//! penalty breaching it, the refusals, and one resident never seeing
//! another's.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};

async fn sign(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/me/commitments"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_a_commitment_scores_it_and_a_penalty_breaches_it() {
    on_each_backend(|app| async move {
        let (a, b) = (id(61), id(62));
        let (_, gov) = app.unit("SX-GOV", &["B03", "P01"]).await;
        for (n, p) in [(1, &a), (2, &b)] {
            assert_json(
                app.push(&gov, &b03(&format!("h{n}"), p)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        assert_eq!(app.stored_score(&a).await, Some(600), "{}", app.backend);
        let (ta, tb) = (app.resident_token(&a), app.resident_token(&b));

        // Public: no token needed.
        let res = app
            .client
            .get(app.url("/api/v1/commitment-templates"))
            .send()
            .await
            .unwrap();
        let templates = assert_json(res, StatusCode::OK).await;
        let codes: Vec<&str> = templates
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["T01", "T02", "T03"]);
        assert_eq!(templates[0]["title"], "遵纪守法");
        assert_eq!(templates[0]["term_months"], 12);
        assert!(templates[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("本人承诺"));

        let today = chengxin_jobs::today();
        let c = assert_json(
            sign(&app, &ta, &json!({"template": "T01"})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(c["template"], "T01");
        assert_eq!(c["status"], "active");
        assert_eq!(c["signed_on"], today.to_string());
        let until = chengxin_domain::dates::add_months(today, 12)
            .yesterday()
            .unwrap();
        assert_eq!(c["valid_until"], until.to_string());
        assert_eq!(
            app.stored_score(&a).await,
            Some(605),
            "{}: +5 at once",
            app.backend
        );

        // Refusals, each with its code, and nothing changes.
        assert_problem(
            sign(&app, &ta, &json!({"template": "T01"})).await,
            StatusCode::CONFLICT,
            "commitment_already_active",
        )
        .await;
        assert_problem(
            sign(&app, &ta, &json!({"template": "T99"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_template",
        )
        .await;
        assert_problem(
            sign(&app, &ta, &json!({})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        )
        .await;
        assert_problem(
            sign(&app, &ta, &json!({"template": 1})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_problem(
            sign(&app, &ta, &json!({"template": "T02", "when": "now"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        )
        .await;
        let res = app
            .client
            .post(app.url("/api/v1/me/commitments"))
            .header(AUTHORIZATION, format!("Bearer {ta}"))
            .header(CONTENT_TYPE, "text/plain")
            .body("T02")
            .send()
            .await
            .unwrap();
        assert_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = app
            .client
            .post(app.url("/api/v1/me/commitments"))
            .json(&json!({"template": "T02"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_eq!(app.stored_score(&a).await, Some(605));

        // A general penalty inside the term breaches it: −20 and −30.
        let penalty = json!({"source_id": "p1", "item": "P01", "id_number": a, "fields": {
            "level": "general", "decided_on": today.to_string(), "authority": "绍兴市市场监管局",
            "case_no": "1", "domain": "market"}});
        let pushed = assert_json(app.push(&gov, &penalty).await, StatusCode::CREATED).await;
        assert_eq!(app.stored_score(&a).await, Some(555), "{}", app.backend);
        let list = assert_json(app.get(&ta, "/api/v1/me/commitments").await, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], c["id"]);
        assert_eq!(list[0]["status"], "breached");
        assert_eq!(list[0]["breached_by"], pushed["record_id"]);

        // B sees nothing of A's; B's own signature is B's alone.
        assert_eq!(
            assert_json(app.get(&tb, "/api/v1/me/commitments").await, StatusCode::OK).await,
            json!([])
        );
        let cb = assert_json(
            sign(&app, &tb, &json!({"template": "T02"})).await,
            StatusCode::CREATED,
        )
        .await;
        let list = assert_json(app.get(&ta, "/api/v1/me/commitments").await, StatusCode::OK).await;
        assert!(list.as_array().unwrap().iter().all(|x| x["id"] != cb["id"]));
        assert_eq!(app.stored_score(&b).await, Some(605));

        // Each /me read is in the audit log under the resident's name; B's
        // reads never name A.
        let entries = app
            .run(|ctx| chengxin_jobs::audit::entries_after(ctx, 0, 100_000).unwrap())
            .await;
        let reads = |who: &str| {
            let actor = app.idp_actor(who);
            entries
                .iter()
                .filter(|e| e.event.actor == actor && e.event.action == "person.read")
                .map(|e| e.event.person.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(reads(&a).len(), 2);
        let b_reads = reads(&b);
        assert_eq!(b_reads.len(), 1);
        assert!(!reads(&a).contains(&b_reads[0]));
    })
    .await;
}
