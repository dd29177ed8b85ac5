//! The console's dashboard: aggregates only — grades, scores, districts,
//! pushes per unit per day, open cases — for every role, never a resident.

use chengxin_domain::staff::Role;
use reqwest::StatusCode;

use super::{console, page};
use crate::helpers::{assert_json, b03, id, on_each_backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_sees_the_dashboard_of_aggregates_and_no_resident() {
    on_each_backend(|app| async move {
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        let people = [id(701), id(702), id(703)];
        for (i, p) in people.iter().enumerate() {
            assert_json(
                app.push(&key, &b03(&format!("D-{i}"), p)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        for role in [Role::Admin, Role::Reviewer, Role::Auditor] {
            let c = console(&app, &format!("dash-{role}"), role).await;
            let html = page(&c, &app, "/console").await;
            assert!(
                html.contains("等级分布") && html.contains("各区县人数"),
                "{html}"
            );
            assert!(
                html.contains("越城区"),
                "the testkit's people live in 330602: {html}"
            );
            assert!(html.contains("<code>SX-GOV</code>"), "pushes per unit");
            assert!(html.contains("<svg class=\"chart\""), "charts");
            for p in &people {
                assert!(
                    !html.contains(&p[..]) && !html.contains(&p[14..]),
                    "no resident is shown"
                );
            }
        }
        let en = super::client_with(
            &app,
            &format!(
                "cx_staff={}; cx_lang=en",
                app.staff_token("dash-en", Role::Admin).await
            ),
        );
        let html = page(&en, &app, "/console").await;
        assert!(
            html.contains("Grade distribution") && html.contains("Yuecheng"),
            "{html}"
        );
    })
    .await;
}
