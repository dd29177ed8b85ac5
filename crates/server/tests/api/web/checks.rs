//! Every page of the foundation and the console registers passes the HTML
//! checks (lang, labels, headings, no English-only text on a zh-CN page)
//! in both languages, with data on it.

use chengxin_domain::model::DEFAULT_MODEL;
use chengxin_domain::staff::Role;
use reqwest::StatusCode;

use super::{client_with, console, location};
use crate::helpers::{assert_json, b03, id, on_each_backend};
use crate::pages_check::check_page;

async fn checked(c: &reqwest::Client, url: String, problems: &mut Vec<String>) {
    let res = c.get(&url).send().await.unwrap();
    assert!(
        res.status().is_success() || res.status().is_client_error(),
        "{url}: {}",
        res.status()
    );
    let html = res.text().await.unwrap();
    for p in check_page(&html) {
        problems.push(format!("{url}: {p}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_foundation_and_console_pages_pass_the_html_checks_in_both_languages() {
    on_each_backend(|app| async move {
        let person = id(601);
        let (_, key) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(
            app.push(&key, &b03("C-601", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let admin_token = app.staff_token("adm-check", Role::Admin).await;
        let reviewer = console(&app, "rev-check", Role::Reviewer).await;
        drop(reviewer);
        let mut problems = Vec::new();
        for lang in ["zh", "en"] {
            let admin = client_with(&app, &format!("cx_staff={admin_token}; cx_lang={lang}"));
            let resident = client_with(
                &app,
                &format!(
                    "cx_resident={}; cx_lang={lang}",
                    app.resident_token(&person)
                ),
            );
            let public = client_with(&app, &format!("cx_lang={lang}"));
            for path in ["/", "/console/login", "/console/login?next=/console/units"] {
                checked(&public, app.url(path), &mut problems).await;
            }
            for path in [
                "/portal",
                "/portal/history",
                "/portal/records",
                "/portal/commitments",
                "/portal/self-reports",
                "/portal/objections",
                "/portal/repairs",
                "/portal/authorisations",
                "/portal/scenarios",
                "/portal/access-log",
                "/portal/notifications",
                "/portal/report",
            ] {
                checked(&resident, app.url(path), &mut problems).await;
            }
            for path in [
                "/rules/catalogue",
                "/rules/model",
                "/rules/model/diff?from=2026.1&to=2026.1",
                "/rules/scenarios",
                "/verify",
                "/verify?jws=not-a-certificate",
            ] {
                checked(&public, app.url(path), &mut problems).await;
            }
            for path in [
                "/console",
                "/console/models",
                "/console/units",
                "/console/parties",
                "/console/partners",
                "/console/scenarios",
            ] {
                checked(&admin, app.url(path), &mut problems).await;
            }
            // Pages that show a result or an error in place.
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
            problems.extend(
                check_page(&res.text().await.unwrap())
                    .into_iter()
                    .map(|p| format!("units error ({lang}): {p}")),
            );
            let candidate = DEFAULT_MODEL.replace("version = \"2026.1\"", "version = \"2027.9\"");
            let typo = candidate.replacen("ceiling =", "ceilng =", 1);
            let res = admin
                .post(app.url("/console/models"))
                .form(&[("text", typo.as_str()), ("action", "validate")])
                .send()
                .await
                .unwrap();
            problems.extend(
                check_page(&res.text().await.unwrap())
                    .into_iter()
                    .map(|p| format!("models invalid ({lang}): {p}")),
            );
            for action in ["validate", "simulate"] {
                let res = admin
                    .post(app.url("/console/models"))
                    .form(&[("text", candidate.as_str()), ("action", action)])
                    .send()
                    .await
                    .unwrap();
                problems.extend(
                    check_page(&res.text().await.unwrap())
                        .into_iter()
                        .map(|p| format!("models {action} ({lang}): {p}")),
                );
            }
            // The role-refused page and the sign-in redirect.
            let res = admin
                .get(app.url("/console/self-reports?x"))
                .send()
                .await
                .unwrap();
            if res.status() == StatusCode::FORBIDDEN {
                problems.extend(
                    check_page(&res.text().await.unwrap())
                        .into_iter()
                        .map(|p| format!("403 ({lang}): {p}")),
                );
            }
            let res = public.get(app.url("/console")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert!(location(&res).starts_with("/console/login"));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    })
    .await;
}
