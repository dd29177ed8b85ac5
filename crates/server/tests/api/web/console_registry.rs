//! The console's registers: units, parties and partner cities added,
//! keys rotated and disabled through the pages, each change effective at
//! once for the API; admins only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chengxin_domain::staff::Role;
use reqwest::StatusCode;

use super::{console, page};
use crate::helpers::{b03, id, on_each_backend};

/// The `<code class="secret">` key on a page.
fn key_on(html: &str) -> String {
    let start = html
        .find("<code class=\"secret\">")
        .expect("a key is shown")
        + 21;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_unit_whose_key_then_pushes_and_disables_it() {
    on_each_backend(|app| async move {
        let admin = console(&app, "adm-units", Role::Admin).await;
        let res = admin
            .post(app.url("/console/units"))
            .form(&[
                ("action", "add"),
                ("code", "SX-WEB"),
                ("name", "网页添加的单位"),
                ("items", "B03"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("已添加单位 SX-WEB"), "{html}");
        let key = key_on(&html);
        let res = app.push(&key, &b03("U-1", &id(501))).await;
        assert_eq!(res.status(), StatusCode::CREATED, "the shown key works");

        // The key is shown once: the list does not show it again.
        let html = page(&admin, &app, "/console/units").await;
        assert!(html.contains("SX-WEB") && !html.contains(&key));

        // A bad code: refused in place, nothing added.
        let res = admin
            .post(app.url("/console/units"))
            .form(&[
                ("action", "add"),
                ("code", "bad code!"),
                ("name", "x"),
                ("items", "B03"),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
        assert!(res.text().await.unwrap().contains("notice error"));

        let res = admin
            .post(app.url("/console/units"))
            .form(&[("action", "rotate"), ("code", "SX-WEB")])
            .send()
            .await
            .unwrap();
        let new_key = key_on(&res.text().await.unwrap());
        assert_ne!(new_key, key);
        assert_eq!(
            app.push(&key, &b03("U-2", &id(502))).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let res = admin
            .post(app.url("/console/units"))
            .form(&[("action", "disable"), ("code", "SX-WEB")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            app.push(&new_key, &b03("U-3", &id(503))).await.status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_and_partner_cities_are_registered_through_the_console() {
    on_each_backend(|app| async move {
        let admin = console(&app, "adm-parties", Role::Admin).await;
        let res = admin
            .post(app.url("/console/parties"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("action=add&code=WEB-BANK&name=%E7%BD%91%E9%A1%B5%E9%93%B6%E8%A1%8C&kind=bank&purposes=loan_discount&purposes=deposit_waiver")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("已添加查询方 WEB-BANK"), "{html}");
        assert!(key_on(&html).starts_with("cxp_"), "a party key");
        let html = page(&admin, &app, "/console/parties").await;
        assert!(html.contains("信用贷款利率优惠") && html.contains("免押金"));

        // A government party may declare incentive purposes only (第十九条).
        let res = admin
            .post(app.url("/console/parties"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("action=add&code=WEB-GOV&name=gov&kind=government&purposes=loan_discount")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
        assert!(!page(&admin, &app, "/console/parties").await.contains("WEB-GOV"));

        let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let jwks = format!(
            "{{\"keys\":[{{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"{}\",\"kid\":\"nb-1\",\"alg\":\"EdDSA\",\"use\":\"sig\"}}]}}",
            B64.encode(sk.verifying_key().to_bytes())
        );
        let map = "issuer = \"https://nb.example\"\n[grades]\nAAA = \"AA\"\nAA = \"AA\"\nA = \"A\"\nB = \"B\"\nC = \"C\"\n";
        let res = admin
            .post(app.url("/console/partners"))
            .form(&[("action", "add"), ("code", "ningbo"), ("name", "宁波"), ("jwks", jwks.as_str()), ("grade_map", map)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("已添加合作城市 ningbo") && html.contains("https://nb.example"), "{html}");
        let res = admin
            .post(app.url("/console/partners"))
            .form(&[("action", "add"), ("code", "bad"), ("name", "x"), ("jwks", jwks.as_str()), ("grade_map", "issuer = \"https://x.example\"\n[grades]\nAAA = \"S\"\n")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
        assert!(res.text().await.unwrap().contains("`S`"));

        // Not for reviewers, on either method.
        let reviewer = console(&app, "rev-parties", Role::Reviewer).await;
        for path in ["/console/units", "/console/parties", "/console/partners"] {
            let res = reviewer.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
            let res = reviewer
                .post(app.url(path))
                .form(&[("action", "add"), ("code", "X"), ("name", "x"), ("items", "B03")])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
    })
    .await;
}
