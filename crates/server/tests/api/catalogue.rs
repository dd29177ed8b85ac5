//! The catalogue and commitment templates in force over HTTP on every
//! backend: `GET /api/v1/catalogue` and `GET /api/v1/commitment-templates`
//! serve what the agency published, at once, and pushes and signatures
//! follow it.

use chengxin_jobs::catalogue::{self, Kind};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};

const NEXT_CATALOGUE: &str = include_str!("../../../domain/data/catalogue/example-2026.2.toml");
const NEXT_TEMPLATES: &str = include_str!("../../../domain/data/templates/example-2026.2.toml");

async fn public(app: &TestApp, path: &str) -> Value {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_json(res, StatusCode::OK).await
}

async fn publish(app: &TestApp, kind: Kind, text: &'static str) -> i64 {
    app.run(move |ctx| {
        let on = jiff::civil::date(2026, 12, 1);
        catalogue::publish(ctx, kind, text, on, "staff:admin-li")
            .unwrap()
            .number
    })
    .await
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_catalogue_and_templates_are_served_and_followed() {
    on_each_backend(|app| async move {
        let c = public(&app, "/api/v1/catalogue").await;
        assert_eq!(c["version"], 1);
        assert_eq!(c["label"], "2026.1");
        assert_eq!(c["effective_from"], "2026-01-01");
        assert_eq!(
            codes(&c["items"]),
            ["B01", "B02", "B03", "B04", "C01", "P01", "S01", "O01", "O02", "O03", "O04"]
        );
        let p01 = &c["items"][5];
        assert_eq!(p01["category"], "commitment");
        assert_eq!(p01["repairable"], true);
        assert_eq!(
            p01["fields"][0],
            json!({"name": "level", "type": "enum", "required": true, "min": null, "max": null,
                   "values": ["minor", "general", "serious"], "max_len": null, "not_before": null})
        );
        assert_eq!(
            c["items"][0]["fields"][0],
            json!({"name": "score", "type": "int", "required": true, "min": "0", "max": "1000",
                   "values": [], "max_len": null, "not_before": null})
        );

        // Published, O05 is served at once and its unit may push it.
        assert_eq!(publish(&app, Kind::Catalogue, NEXT_CATALOGUE).await, 2);
        let c = public(&app, "/api/v1/catalogue").await;
        assert_eq!(
            (c["version"].clone(), c["label"].clone()),
            (json!(2), json!("2026.2"))
        );
        assert_eq!(c["effective_from"], "2026-12-01");
        assert_eq!(c["items"][11]["code"], "O05");
        assert_eq!(c["items"][11]["self_reportable"], true);
        let person = id(71);
        let (_, gov) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&gov, &b03("h1", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let (_, comm) = app.unit("SX-COMM", &["O05"]).await;
        let o05 = json!({"source_id": "c1", "item": "O05", "id_number": person,
            "fields": {"hours": "4", "served_on": "2026-03-01", "community": "塔山社区"}});
        assert_json(app.push(&comm, &o05).await, StatusCode::CREATED).await;
        assert_problem(
            app.push(&gov, &o05).await,
            StatusCode::FORBIDDEN,
            "item_not_permitted",
        )
        .await;

        // Templates: T03 retired, T04 added.
        let token = app.resident_token(&person);
        let sign = |template: &'static str| {
            app.client
                .post(app.url("/api/v1/me/commitments"))
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .json(&json!({ "template": template }))
                .send()
        };
        assert_json(sign("T03").await.unwrap(), StatusCode::CREATED).await;
        assert_eq!(publish(&app, Kind::Templates, NEXT_TEMPLATES).await, 2);
        let t = public(&app, "/api/v1/commitment-templates").await;
        assert_eq!(codes(&t), ["T01", "T02", "T04"]);
        assert_problem(
            sign("T03").await.unwrap(),
            StatusCode::CONFLICT,
            "template_retired",
        )
        .await;
        assert_json(sign("T04").await.unwrap(), StatusCode::CREATED).await;
        let res = app
            .client
            .get(app.url("/api/v1/me/commitments"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let mine = assert_json(res, StatusCode::OK).await;
        let states: Vec<(&str, &str)> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["template"].as_str().unwrap(),
                    c["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [("T03", "active"), ("T04", "active")],
            "{}",
            app.backend
        );
    })
    .await;
}
