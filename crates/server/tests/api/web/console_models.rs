//! The console's score models page: validate with errors in place,
//! simulate (charts, matrix, no list of people), publish (everyone
//! rescored, audited as the staff member); admins only.

use chengxin_domain::model::DEFAULT_MODEL;
use chengxin_domain::staff::Role;
use reqwest::StatusCode;

use super::{console, location, page};
use crate::helpers::{assert_json, b03, id, on_each_backend};

fn candidate() -> String {
    DEFAULT_MODEL
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("points = 620", "points = 640")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_validates_simulates_and_publishes_a_model() {
    on_each_backend(|app| async move {
        let person = id(401);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&key, &b03("M-401", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let before = app.stored_score(&person).await.unwrap();
        let admin = console(&app, "adm-models", Role::Admin).await;
        let html = page(&admin, &app, "/console/models").await;
        assert!(html.contains("2026.1") && html.contains("现行"));

        // A typo'd key: refused with its path, in place, the text kept.
        let typo = candidate().replacen("ceiling =", "ceilng =", 1);
        let res = admin
            .post(app.url("/console/models"))
            .form(&[("text", typo.as_str()), ("action", "validate")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("模型有错误") && html.contains("ceilng"),
            "{html}"
        );
        assert!(
            html.contains("version = &#34;2027.1&#34;"),
            "the text stays in the form"
        );

        let good = candidate();
        let res = admin
            .post(app.url("/console/models"))
            .form(&[("text", good.as_str()), ("action", "validate")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("校验通过"));

        let res = admin
            .post(app.url("/console/models"))
            .form(&[("text", good.as_str()), ("action", "simulate")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("模拟结果") && html.contains("2026.1 → 2027.1"));
        assert!(html.contains("等级迁移矩阵") && html.contains("<svg class=\"chart\""));
        assert!(!html.contains(&person[..14]), "no person is listed");
        assert_eq!(
            app.stored_score(&person).await,
            Some(before),
            "simulating stores nothing"
        );

        let res = admin
            .post(app.url("/console/models"))
            .form(&[
                ("text", good.as_str()),
                ("action", "publish"),
                ("effective", "2026-01-01"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/models?done=2027.1");
        let now = assert_json(
            app.get(&app.resident_token(&person), "/api/v1/me/score")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(now["model_version"], "2027.1", "in force at once");
        assert_eq!(
            now["stored"]["model_version"], "2027.1",
            "everyone rescored: {now}"
        );
        let entries = app
            .run(|ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        assert!(
            entries.iter().any(|e| e.event.actor == "staff:adm-models"),
            "the publication is audited as the staff member"
        );
        let html = page(&admin, &app, "/console/models?done=2027.1").await;
        assert!(html.contains("已发布"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_reach_the_models_page() {
    on_each_backend(|app| async move {
        let reviewer = console(&app, "rev-models", Role::Reviewer).await;
        let res = reviewer
            .get(app.url("/console/models"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("role_forbidden"));
        let good = candidate();
        let res = reviewer
            .post(app.url("/console/models"))
            .form(&[
                ("text", good.as_str()),
                ("action", "publish"),
                ("effective", "2026-01-01"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let versions = app
            .run(|ctx| chengxin_jobs::list_models(ctx).unwrap().len())
            .await;
        assert_eq!(versions, 1, "nothing published");
    })
    .await;
}
