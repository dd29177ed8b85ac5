//! Signing in to the portal (OIDC code flow with PKCE) and the console
//! (staff account), sessions, the origin check on forms, the language
//! switch and the pages' headers.

use chengxin_domain::staff::Role;
use reqwest::header::{COOKIE, ORIGIN, REFERER};
use reqwest::StatusCode;

use super::{
    client, client_with, console, demo_sign_in, location, page, portal, query_param, set_cookie,
};
use crate::helpers::{assert_json, b03, id, on_each_backend, on_each_backend_demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_signs_in_through_the_code_flow_and_sees_their_score() {
    on_each_backend_demo(|app| async move {
        let person = id(301);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&key, &b03("W-301", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let api = assert_json(
            app.get(&app.resident_token(&person), "/api/v1/me/score")
                .await,
            StatusCode::OK,
        )
        .await;
        let score = api["score"].as_i64().unwrap();

        let session = demo_sign_in(&app, &person).await;
        let c = client_with(&app, &session);
        let html = page(&c, &app, "/portal").await;
        assert!(html.contains("<html lang=\"zh-CN\">"), "Chinese first");
        assert!(
            html.contains(&format!("<span class=\"score-value\">{score}</span>")),
            "{html}"
        );
        assert!(html.contains(api["model_version"].as_str().unwrap()));
        assert!(html.contains("分项明细"), "the breakdown");

        // The page's read is the resident's own audited read, like the API's.
        let actor = app.idp_actor(&person);
        let entries = app
            .run(move |ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        let reads = entries
            .iter()
            .filter(|e| e.event.actor == actor && e.event.action == "person.read")
            .count();
        assert!(
            reads >= 2,
            "the API's and the page's reads are both audited: {reads}"
        );

        // Signing out forgets the session cookie.
        let res = c.post(app.url("/portal/logout")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cleared = set_cookie(&res, "cx_resident").unwrap();
        assert_eq!(cleared, "cx_resident=");
        // ... and ends the session: a copy of the old cookie no longer
        // works, though its token has not expired.
        let res = c.get(app.url("/portal")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&res).starts_with("/portal/login"),
            "{}",
            location(&res)
        );
        // Signing in again opens a new session.
        let again = client_with(&app, &demo_sign_in(&app, &person).await);
        page(&again, &app, "/portal").await;
        // The sign-out is the resident's own act in the audit log.
        let entries = app
            .run(move |ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        assert!(entries
            .iter()
            .any(|e| e.event.actor == actor && e.event.action == "resident.signed_out"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_valid_session_the_portal_sends_the_browser_to_sign_in() {
    on_each_backend(|app| async move {
        let res = client().get(app.url("/portal?x=1")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/portal/login?next=%2Fportal%3Fx%3D1");

        // A session cookie with a valid token from the configured provider
        // (what the code flow leaves behind) opens the portal.
        let html = page(&portal(&app, &id(302)), &app, "/portal").await;
        assert!(html.contains("<h1>我的诚信分</h1>"), "{html}");

        // A forged token in the cookie: no page, back to sign-in.
        let forged = app.resident_token(&id(302)).replace('.', ".x");
        let res = client_with(&app, &format!("cx_resident={forged}"))
            .get(app.url("/portal"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with("/portal/login"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_that_does_not_match_the_sign_in_started_here_is_refused() {
    on_each_backend_demo(|app| async move {
        // No sign-in started: refused.
        let res = client()
            .get(app.url("/portal/callback?code=x&state=y"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("unauthenticated"));

        // Started, but the state differs (a forged callback).
        let res = client().get(app.url("/portal/login")).send().await.unwrap();
        let login = set_cookie(&res, "cx_login").unwrap();
        let state = query_param(&location(&res), "state").unwrap();
        assert!(!state.is_empty());
        let res = client()
            .get(app.url("/portal/callback?code=x&state=not-the-state"))
            .header(COOKIE, &login)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&res, "cx_resident").is_none());

        // The right state with a made-up code: the provider refuses it.
        let res = client()
            .get(app.url(&format!("/portal/callback?code=made-up&state={state}")))
            .header(COOKIE, &login)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&res, "cx_resident").is_none());

        // `next` can only be a portal page, never another site.
        let res = client()
            .get(app.url("/portal/login?next=//evil.example"))
            .send()
            .await
            .unwrap();
        let login = set_cookie(&res, "cx_login").unwrap();
        assert!(!login.contains("evil"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_to_the_console_and_see_only_their_role_s_sections() {
    on_each_backend(|app| async move {
        // A reviewer account, signed in through the form.
        app.staff_token("rev-web", Role::Reviewer).await;
        let c = client_with(&app, "x=y");
        let res = c
            .post(app.url("/console/login"))
            .form(&[
                ("name", "rev-web"),
                ("password", "wrong password"),
                ("next", "/console"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("账号或密码错误") && html.contains("value=\"rev-web\""),
            "{html}"
        );

        let res = c
            .post(app.url("/console/login"))
            .form(&[
                ("name", "rev-web"),
                ("password", "correct horse battery"),
                ("next", "https://evil.example/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console", "never off-site");
        let session = set_cookie(&res, "cx_staff").unwrap();
        let c = client_with(&app, &session);
        let html = page(&c, &app, "/console").await;
        assert!(html.contains("rev-web（审核员）"));
        assert!(html.contains("href=\"/console/objections\""));
        assert!(
            !html.contains("href=\"/console/models\""),
            "a reviewer does not manage models"
        );

        let admin = console(&app, "adm-web", Role::Admin).await;
        let html = page(&admin, &app, "/console").await;
        assert!(html.contains("href=\"/console/models\""));
        assert!(!html.contains("href=\"/console/objections\""));

        // Signing out ends the session in the store: the token is dead.
        let token = session.split_once('=').unwrap().1.to_owned();
        let res = c.post(app.url("/console/logout")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app.get(&token, "/api/v1/staff/me").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = c.get(app.url("/console")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/login?next=%2Fconsole");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_posted_from_another_site_are_refused() {
    on_each_backend(|app| async move {
        app.staff_token("csrf-web", Role::Admin).await;
        let form = [("name", "csrf-web"), ("password", "correct horse battery")];
        for (header, value) in [
            (ORIGIN, "https://evil.example"),
            (REFERER, "https://evil.example/page"),
        ] {
            let res = client()
                .post(app.url("/console/login"))
                .header(header, value)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "{}",
                res.text().await.unwrap()
            );
            assert!(set_cookie(&res, "cx_staff").is_none());
            assert!(res.text().await.unwrap().contains("cross_site_request"));
        }
        // Neither header: refused too.
        let res = client()
            .post(app.url("/console/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // This site's own Referer: accepted.
        let res = client()
            .post(app.url("/console/login"))
            .header(REFERER, app.url("/console/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_chinese_first_switch_to_english_and_carry_a_strict_policy() {
    on_each_backend(|app| async move {
        let res = client().get(app.url("/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        let html = res.text().await.unwrap();
        assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("居民登录"));

        let res = client()
            .get(app.url("/lang?to=en&back=/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/");
        let cookie = set_cookie(&res, "cx_lang").unwrap();
        let html = page(&client_with(&app, &cookie), &app, "/").await;
        assert!(html.contains("<html lang=\"en\">") && html.contains("Resident sign-in"));
        assert!(
            html.contains("href=\"/lang?to=zh&#38;back=%2F\""),
            "the switch back: {html}"
        );

        let res = client()
            .get(app.url("/lang?to=en&back=//evil.example"))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&res), "/", "never off-site");

        for (path, ct) in [
            ("/static/app.css", "text/css"),
            ("/static/app.js", "text/javascript"),
            ("/favicon.ico", "image/svg+xml"),
        ] {
            let res = client().get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ct));
        }
    })
    .await;
}

/// A form body that cannot be read (a field missing, the wrong content type)
/// gets an HTML page with the API's problem code, not a plain-text answer,
/// and nothing is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_form_bodies_get_an_error_page_with_their_code() {
    on_each_backend(|app| async move {
        let admin = console(&app, "form-admin", Role::Admin).await;
        let reviewer = console(&app, "form-reviewer", Role::Reviewer).await;
        let base = app.url("/console/models");
        let cases = [
            // A queue's decision form.
            (
                reviewer
                    .post(app.url("/console/repairs/1/decision"))
                    .header("content-type", "application/json")
                    .body(r#"{"decision":"approve"}"#)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            // `action` missing: nothing validated, simulated or published.
            (
                admin
                    .post(&base)
                    .form(&[("text", "version = \"x\"")])
                    .send()
                    .await
                    .unwrap(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
            ),
            (
                admin
                    .post(&base)
                    .header("content-type", "application/json")
                    .body(r#"{"text":"","action":"publish"}"#)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            // The sign-in form, before anyone is signed in.
            (
                client_with(&app, "")
                    .post(app.url("/console/login"))
                    .form(&[("name", "form-admin")])
                    .send()
                    .await
                    .unwrap(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
            ),
        ];
        for (res, status, code) in cases {
            assert_eq!(res.status(), status);
            let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(ct.starts_with("text/html"), "{ct}");
            assert!(set_cookie(&res, "cx_staff").is_none());
            let body = res.text().await.unwrap();
            assert!(body.contains(code), "{body}");
            crate::pages_check::assert_page_ok(&body);
        }
        // Still signed in, and the model in force did not change.
        let models = page(&admin, &app, "/console/models").await;
        assert!(models.contains("2026.1"), "{models}");
    })
    .await;
}
