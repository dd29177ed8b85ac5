//! The console's 信易+ scenarios page: register (the domain refuses a
//! penalty), list, retire; the public list follows at once; admins only.

use chengxin_domain::staff::Role;
use reqwest::StatusCode;

use super::{console, page};
use crate::helpers::{assert_json, on_each_backend};

fn form<'a>(code: &'a str, zh: &'a str, until: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("action", "add"),
        ("code", code),
        ("provider", "绍兴公交集团"),
        ("sector", "transport"),
        ("description_zh", zh),
        ("description_en", "20% off bus fares"),
        ("benefit", "discount"),
        ("amount", "20"),
        ("min_grade", ""),
        ("min_score", "600"),
        ("valid_from", "2026-01-01"),
        ("valid_until", until),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_registers_and_retires_a_benefit() {
    on_each_backend(|app| async move {
        let admin = console(&app, "adm-scen", Role::Admin).await;
        let until = chengxin_jobs::today()
            .saturating_add(jiff::Span::new().days(30))
            .to_string();
        let res = admin
            .post(app.url("/console/scenarios"))
            .form(&form("WEB-BUS", "诚信分达标者乘坐公交享受八折优惠", &until))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("已登记场景 WEB-BUS") && html.contains("提供中"),
            "{html}"
        );
        let public = assert_json(
            app.client
                .get(app.url("/api/v1/scenarios"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(public.to_string().contains("WEB-BUS"));

        // A penalty is refused with its code, the form kept.
        let res = admin
            .post(app.url("/console/scenarios"))
            .form(&form("WEB-BAD", "失信者禁止乘坐公交", &until))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
        let html = res.text().await.unwrap();
        assert!(html.contains("scenario_not_incentive"), "{html}");
        assert!(html.contains("value=\"WEB-BAD\""), "the form is kept");

        let res = admin
            .post(app.url("/console/scenarios"))
            .form(&[("action", "retire"), ("code", "WEB-BUS")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("已停止场景 WEB-BUS"));
        let public = assert_json(
            app.client
                .get(app.url("/api/v1/scenarios"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(!public.to_string().contains("WEB-BUS"));
        let res = admin
            .post(app.url("/console/scenarios"))
            .form(&[("action", "retire"), ("code", "WEB-BUS")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);

        let auditor = console(&app, "aud-scen", Role::Auditor).await;
        let res = auditor
            .get(app.url("/console/scenarios"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(page(&admin, &app, "/console/scenarios")
            .await
            .contains("已停止"));
    })
    .await;
}
