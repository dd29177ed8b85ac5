//! The portal's authorisations, benefits and printable report pages over
//! real HTTP on both backends: a grant shows the one-time code as text and
//! as a QR code, a party redeems it through the API and the page lists the
//! use, revoking stops the party's next request, another resident's
//! authorisation is a 404 page; the report shows the score and links to a
//! certificate that `/verify` finds valid.

use chengxin_jobs::{certificates, parties};
use jiff::ToSpan;
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde_json::json;

use super::{location, page, portal};
use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};

fn day(n: i64) -> String {
    chengxin_jobs::today()
        .checked_add(n.days())
        .unwrap()
        .to_string()
}

async fn bank(app: &TestApp) -> String {
    app.run(|ctx| {
        parties::add_party(
            ctx,
            "SX-BANK",
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

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let len = html[from..].find(end)?;
    Some(&html[from..from + len])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_redeem_list_and_revoke_an_authorisation() {
    on_each_backend(|app| async move {
        let person = id(401);
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        assert_json(
            app.push(&psb, &b03("W-401", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let key = bank(&app).await;
        let c = portal(&app, &person);

        let html = page(&c, &app, "/portal/authorisations").await;
        assert!(html.contains("绍兴测试银行（SX-BANK）"), "{html}");
        assert!(html.contains("贷款"), "the declared purpose is shown");

        // A purpose the party did not declare: the form again, with why.
        let form = |purpose: &str| {
            vec![
                ("party", "SX-BANK".to_owned()),
                ("purpose", purpose.to_owned()),
                ("scope", "score".to_owned()),
                ("threshold", String::new()),
                ("valid_until", day(30)),
                ("max_uses", "3".to_owned()),
            ]
        };
        let res = c
            .post(app.url("/portal/authorisations"))
            .form(&form("rental_deposit"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("该查询方未申报这一用途"), "{html}");
        assert!(!html.contains("one-time-code"));

        // Granted: the code as text and as a QR code.
        let res = c
            .post(app.url("/portal/authorisations"))
            .form(&form("loan_discount"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        let code = between(&html, "class=\"one-time-code\"", "</code>")
            .and_then(|s| s.split('>').nth(1))
            .expect("the code is shown")
            .to_owned();
        assert_eq!(code.len(), 8, "{code}");
        let qr = between(&html, "<div class=\"qr\">", "</div>").expect("a QR code");
        assert!(
            qr.starts_with("<svg role=\"img\" aria-label=\"授权码二维码\""),
            "{qr}"
        );

        // The party redeems it and reads the result through the API.
        let res = app
            .client
            .post(app.url("/api/v1/party/authorisations/redeem"))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap();
        let auth_id = assert_json(res, StatusCode::OK).await["authorisation_id"]
            .as_i64()
            .unwrap();
        let result = format!("/api/v1/party/authorisations/{auth_id}/result");
        assert_json(app.get(&key, &result).await, StatusCode::OK).await;

        // The page lists the uses: who and what.
        let html = page(&c, &app, "/portal/authorisations").await;
        assert!(html.contains(&format!("id=\"a{auth_id}\"")), "{html}");
        assert!(html.contains("<span class=\"uses\">1</span> / 3"), "{html}");
        assert!(html.contains("领取了授权码"), "{html}");
        assert!(html.contains("凭授权查询（查询结果）"), "{html}");
        assert!(html.contains("data-confirm="), "revoking asks first");

        // Another resident cannot revoke it: a 404 page, nothing changed.
        let other = portal(&app, &id(402));
        let res = other
            .post(app.url(&format!("/portal/authorisations/{auth_id}/revoke")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("authorisation_not_found"));
        let res = other
            .post(app.url("/portal/authorisations/x/revoke"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_json(app.get(&key, &result).await, StatusCode::OK).await;

        // Revoked: back to the page, and the party's next request is refused.
        let res = c
            .post(app.url(&format!("/portal/authorisations/{auth_id}/revoke")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/portal/authorisations?done=revoked");
        assert_problem(
            app.get(&key, &result).await,
            StatusCode::FORBIDDEN,
            "authorisation_revoked",
        )
        .await;
        let html = page(&c, &app, "/portal/authorisations?done=revoked").await;
        assert!(html.contains("已撤销；对方的下一次查询将被拒绝。"));
        assert!(
            html.contains("查询被拒绝"),
            "the refused use is listed: {html}"
        );
        let api = assert_json(
            app.get(&app.resident_token(&person), "/api/v1/me/authorisations")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(api[0]["status"], "revoked");
        assert_eq!(
            api[0]["uses"], 2,
            "redeeming does not count; the result did, and again"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benefits_page_marks_those_the_resident_qualifies_for() {
    on_each_backend(|app| async move {
        let person = id(411);
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        assert_json(app.push(&psb, &b03("W-411", &person)).await, StatusCode::CREATED).await;
        let admin = app.staff_token("admin", chengxin_domain::staff::Role::Admin).await;
        for (code, min) in [("LOW-1", 1), ("HIGH-1000", 1000)] {
            let body = json!({
                "code": code, "provider": "绍兴文旅集团", "sector": "hotel_catering",
                "description_zh": format!("{code} 入住免押金"), "description_en": "no deposit at check-in",
                "benefit": {"kind": "deposit_waiver"}, "min_score": min,
                "valid_from": day(-1), "valid_until": day(365),
            });
            let res = app
                .client
                .post(app.url("/api/v1/staff/scenarios"))
                .header(AUTHORIZATION, format!("Bearer {admin}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_json(res, StatusCode::CREATED).await;
        }
        let api = assert_json(
            app.get(&app.resident_token(&person), "/api/v1/me/scenarios").await,
            StatusCode::OK,
        )
        .await;
        let html = page(&portal(&app, &person), &app, "/portal/scenarios").await;
        for s in api.as_array().unwrap() {
            let card = between(&html, &format!("id=\"s-{}\"", s["code"].as_str().unwrap()), "</article>")
                .expect("every benefit is shown");
            assert_eq!(card.contains("qualifies-yes"), s["qualifies"].as_bool().unwrap(), "{card}");
        }
        assert!(html.contains("qualifies-yes") && html.contains("qualifies-no"), "{html}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_shows_the_score_and_a_certificate_that_verifies() {
    let dbs = tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap();
    for db in dbs {
        let keys = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_city(db, "shaoxing", keys.path().join("k")).await;
        eprintln!("backend: {}", app.backend);
        let person = id(421);
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        assert_json(
            app.push(&psb, &b03("W-421", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let c = portal(&app, &person);

        // No signing key yet: the report says so instead of a QR code.
        let html = page(&c, &app, "/portal/report").await;
        assert!(html.contains("未配置证书签名密钥"), "{html}");
        assert!(!html.contains("verify-link"));

        app.run(|ctx| certificates::rotate(ctx, jiff::Timestamp::now().as_second()).unwrap())
            .await;
        let api = assert_json(
            app.get(&app.resident_token(&person), "/api/v1/me/score")
                .await,
            StatusCode::OK,
        )
        .await;
        let html = page(&c, &app, "/portal/report").await;
        let score = api["score"].as_i64().unwrap();
        assert!(
            html.contains(&format!("<strong class=\"score-value\">{score}</strong>")),
            "{html}"
        );
        assert!(html.contains(api["model_version"].as_str().unwrap()));
        assert!(html.contains("data-print"));
        assert!(html.contains("分项明细"));
        let masked = between(&html, "身份证号</dt><dd>", "</dd>").unwrap();
        assert!(masked.contains('*') && !html.contains(&person), "{masked}");
        let qr = between(&html, "<div class=\"qr\">", "</div>").expect("a QR code");
        assert!(qr.starts_with("<svg role=\"img\""));
        let link = between(&html, "<p class=\"verify-link\"><a href=\"", "\"")
            .unwrap()
            .replace("&#x2f;", "/")
            .replace("&#x3d;", "=")
            .replace("&#x3f;", "?")
            .replace("&amp;", "&");
        assert!(link.starts_with(&app.url("/verify?jws=")), "{link}");

        // Anyone opening the link sees a valid certificate of the grade.
        let anyone = super::client();
        let res = anyone.get(&link).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v = res.text().await.unwrap();
        assert!(v.contains("verdict-valid"), "{v}");
        assert!(
            v.contains(&format!(
                "<dd class=\"grade\">{}</dd>",
                api["grade"].as_str().unwrap()
            )),
            "{v}"
        );

        // The report's certificate is the resident's own audited read.
        let actor = app.idp_actor(&person);
        let entries = app
            .run(move |ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        assert!(entries.iter().any(|e| e.event.actor == actor
            && e.event.action == "person.read"
            && e.event.detail.to_string().contains("report certificate")));
        app.stop().await.unwrap();
    }
}
