//! The public rules pages over real HTTP on both backends, without signing
//! in, in both languages: the catalogue, the model in force, the difference
//! between two published model versions (an unknown version is a 404
//! page), the benefits, and certificate verification (a tampered
//! certificate is invalid).

use chengxin_domain::model::DEFAULT_MODEL;
use reqwest::header::COOKIE;
use reqwest::StatusCode;

use super::client;
use crate::helpers::{on_each_backend, TestApp};

/// The page at `path` in `lang` (`zh` or `en`), signed in as no one.
async fn public_page(app: &TestApp, path: &str, lang: &str) -> String {
    let res = client()
        .get(app.url(path))
        .header(COOKIE, format!("cx_lang={lang}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path} ({lang})");
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    let code = if lang == "en" { "en" } else { "zh-CN" };
    assert!(html.contains(&format!("<html lang=\"{code}\">")), "{path}");
    assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
    assert!(
        !html.contains("/portal/logout"),
        "{path}: nobody is signed in"
    );
    html
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_pages_render_without_signing_in_in_both_languages() {
    on_each_backend(|app| async move {
        for lang in ["zh", "en"] {
            let zh = lang == "zh";
            let html = public_page(&app, "/rules/catalogue", lang).await;
            assert!(html.contains("id=\"item-P01\""), "{html}");
            assert!(html.contains("id=\"item-C01\""));
            assert!(html.contains(if zh {
                "可自主申报"
            } else {
                "Self-reportable"
            }));

            let html = public_page(&app, "/rules/model", lang).await;
            assert!(
                html.contains("<dd class=\"model-version\">2026.1</dd>"),
                "{html}"
            );
            assert!(html.contains("id=\"ind-commitments_signed\""), "{html}");
            assert!(
                html.contains("<table class=\"bands\">"),
                "banded indicators show their bands"
            );
            assert!(html.contains(if zh {
                "等级与分数区间"
            } else {
                "Grades and their score ranges"
            }));
            let hash = app
                .run(|ctx| chengxin_jobs::model_in_force(ctx).unwrap().hash)
                .await;
            assert!(html.contains(&hash));

            let html = public_page(&app, "/rules/scenarios", lang).await;
            assert!(html.contains(if zh {
                "信易+守信激励场景"
            } else {
                "benefits for trustworthy residents"
            }));

            let html = public_page(&app, "/verify", lang).await;
            assert!(html.contains("<label for=\"jws\">"));
            assert!(!html.contains("verdict-"));

            let html = public_page(&app, "/rules/model/diff", lang).await;
            assert!(html.contains("<option value=\"2026.1\""));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_diff_shows_a_changed_indicator_and_unknown_versions_are_404() {
    on_each_backend(|app| async move {
        let text = DEFAULT_MODEL
            .replace("version = \"2026.1\"", "version = \"2026.2\"")
            .replace("points_each = 5", "points_each = 6");
        let today = chengxin_jobs::today();
        app.run(move |ctx| chengxin_jobs::publish(ctx, &text, today, today, &()).unwrap())
            .await;
        for lang in ["zh", "en"] {
            let html = public_page(&app, "/rules/model/diff?from=2026.1&to=2026.2", lang).await;
            let item = html
                .split("id=\"change-commitments_signed\"")
                .nth(1)
                .expect("the changed indicator is listed")
                .split("</ul>")
                .next()
                .unwrap();
            let expected = if lang == "zh" {
                "每项分值：5 → 6"
            } else {
                "points each: 5 → 6"
            };
            assert!(item.contains(expected), "{item}");
            assert!(
                !html.contains("id=\"change-provincial"),
                "unchanged indicators are not listed"
            );
        }
        let same = public_page(&app, "/rules/model/diff?from=2026.2&to=2026.2", "zh").await;
        assert!(same.contains("两个版本的计分规则相同。"));
        let model = public_page(&app, "/rules/model", "zh").await;
        assert!(model.contains("<dd class=\"model-version\">2026.2</dd>"));

        for q in ["from=2026.1&to=1999.9", "from=nope&to=2026.2"] {
            let res = client()
                .get(app.url(&format!("/rules/model/diff?{q}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{q}");
            assert!(res.text().await.unwrap().contains("not_found"));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_says_a_tampered_certificate_is_invalid() {
    let dbs = tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap();
    for db in dbs {
        let keys = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_city(db, "shaoxing", keys.path().join("k")).await;
        eprintln!("backend: {}", app.backend);
        let now = jiff::Timestamp::now().as_second();
        let person = crate::helpers::id(431);
        let (_, psb) = app.unit("SX-PSB", &["B03"]).await;
        crate::helpers::assert_json(
            app.push(&psb, &crate::helpers::b03("W-431", &person)).await,
            StatusCode::CREATED,
        )
        .await;
        let jws = app
            .run(move |ctx| {
                chengxin_jobs::certificates::rotate(ctx, now).unwrap();
                let p = ctx
                    .store
                    .read()
                    .unwrap()
                    .find_person(&ctx.store.keys().blind_index(person.as_bytes()))
                    .unwrap()
                    .unwrap();
                chengxin_jobs::certificates::issue(
                    ctx,
                    p,
                    "SX-BANK",
                    chengxin_jobs::certificates::Ask::Grade,
                    now,
                )
                .unwrap()
                .jws
            })
            .await;
        let html = public_page(&app, &format!("/verify?jws={jws}"), "zh").await;
        assert!(html.contains("verdict-valid"), "{html}");
        assert!(html.contains("城市代码 shaoxing"));
        // One character of the signature changed.
        let mut t = jws.clone().into_bytes();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(t).unwrap();
        for lang in ["zh", "en"] {
            let html = public_page(&app, &format!("/verify?jws={tampered}"), lang).await;
            assert!(html.contains("verdict-invalid"), "{html}");
            assert!(html.contains("bad_signature"), "{html}");
        }
        let html = public_page(&app, "/verify?jws=not.a.certificate", "en").await;
        assert!(html.contains("verdict-invalid") && html.contains("malformed"));
        app.stop().await.unwrap();
    }
}
