//! The resident portal's pages over real HTTP on every backend: history,
//! records, commitments, self-reports, objections, repairs, notifications,
//! access log and export each render the resident's data (in Chinese and in
//! English), each form's success changes what the API then reports, each
//! refusal is shown in place in the page's language, and another
//! resident's record is a 404 page with nothing written.

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;

use super::{client_with, location, page};
use crate::helpers::{assert_json, b03, id, on_each_backend, p01, TestApp};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// A resident's page client, in Chinese or (`en`) English.
fn resident(app: &TestApp, person: &str, en: bool) -> reqwest::Client {
    let lang = if en { "; cx_lang=en" } else { "" };
    client_with(
        app,
        &format!("cx_resident={}{lang}", app.resident_token(person)),
    )
}

/// `person` made a resident (B03) with a general penalty (P01) decided 30
/// days ago; the penalty's record id.
async fn resident_with_penalty(app: &TestApp, person: &str, n: u32) -> i64 {
    let (_, gov) = app.unit(&format!("SX-GOV{n}"), &["B03", "P01"]).await;
    assert_json(
        app.push(&gov, &b03(&format!("h-{n}"), person)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_json(
        app.push(&gov, &p01(&format!("p-{n}"), person, "general"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let records = api(app, person, "/api/v1/me/records").await;
    records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item"] == "P01")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn api(app: &TestApp, person: &str, path: &str) -> Value {
    assert_json(
        app.get(&app.resident_token(person), path).await,
        StatusCode::OK,
    )
    .await
}

/// A `multipart/form-data` body: text parts, then files `(name, content)`.
fn multipart(texts: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----chengxin-portal-boundary";
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (file, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{file}\"\r\nContent-Type: application/pdf\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    // What a browser sends for a file input left empty.
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    c: &reqwest::Client,
    app: &TestApp,
    path: &str,
    texts: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let (ty, body) = multipart(texts, files);
    c.post(app.url(path))
        .header(CONTENT_TYPE, ty)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_form(
    c: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

/// The score shown on `/portal`.
fn shown_score(html: &str) -> i64 {
    let at = html.find("<span class=\"score-value\">").expect("a score") + 26;
    html[at..at + html[at..].find('<').unwrap()]
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_shows_the_residents_data_in_both_languages() {
    on_each_backend(|app| async move {
        let person = id(501);
        let penalty = resident_with_penalty(&app, &person, 1).await;
        let zh = resident(&app, &person, false);
        let en = resident(&app, &person, true);

        // History: the chart and a row per change with its cause.
        let history = api(&app, &person, "/api/v1/me/history").await;
        let last = history.as_array().unwrap().last().unwrap().clone();
        let html = page(&zh, &app, "/portal/history").await;
        assert!(html.contains("<svg class=\"chart\""), "{html}");
        assert!(html.contains(&format!("<td class=\"num\">{}</td>", last["score"])));
        assert!(html.contains(last["model_version"].as_str().unwrap()));
        assert!(html.contains("单位报送信息"), "the cause in Chinese");
        let html = page(&en, &app, "/portal/history").await;
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("a unit reported a record"));

        // Records: every record anchored, with its state, and a way to object.
        let records = api(&app, &person, "/api/v1/me/records").await;
        let html = page(&zh, &app, "/portal/records").await;
        for r in records.as_array().unwrap() {
            assert!(html.contains(&format!("id=\"r{}\"", r["id"])), "{html}");
        }
        assert!(html.contains("有效"));
        assert!(html.contains("行政处罚"));
        assert!(html.contains("级别：一般"), "fields labelled");
        assert!(html.contains(&format!("/portal/objections?record={penalty}#file")));
        let html = page(&en, &app, "/portal/records").await;
        assert!(html.contains("level: general"));
        assert!(html.contains(">active<"));

        // Notifications: the text in the page's language, before and after.
        let notes = api(&app, &person, "/api/v1/me/notifications").await;
        let n = &notes[0];
        let html = page(&zh, &app, "/portal/notifications").await;
        assert!(html.contains(n["text_zh"].as_str().unwrap()), "{html}");
        assert!(html.contains(&format!("<td class=\"num\">{}</td>", n["score_after"])));
        let html = page(&en, &app, "/portal/notifications").await;
        assert!(html.contains(n["text_en"].as_str().unwrap()));

        // Access log: the unit's reports, with kind and action as words.
        let html = page(&zh, &app, "/portal/access-log").await;
        assert!(html.contains("协同单位"), "{html}");
        assert!(html.contains("报送信息"));
        let html = page(&en, &app, "/portal/access-log").await;
        assert!(html.contains(">unit<"), "{html}");
        assert!(html.contains("record reported"));

        // Export: the API's document, as a download.
        let res = zh.get(app.url("/portal/export")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let mut doc: Value = res.json().await.unwrap();
        let mut from_api = api(&app, &person, "/api/v1/me/export").await;
        for d in [&mut doc, &mut from_api] {
            let o = d.as_object_mut().unwrap();
            o.remove("exported_at");
            o.remove("access_log");
        }
        assert_eq!(doc, from_api, "{}", app.backend);

        // The other pages, both languages.
        for path in [
            "/portal/commitments",
            "/portal/self-reports",
            "/portal/objections",
            "/portal/repairs",
        ] {
            let html = page(&zh, &app, path).await;
            assert!(html.contains("<html lang=\"zh-CN\">"), "{path}");
            assert_eq!(html.matches("<h1").count(), 1, "{path}");
            let html = page(&en, &app, path).await;
            assert!(html.contains("<html lang=\"en\">"), "{path}");
        }
        let html = page(&zh, &app, "/portal/repairs").await;
        assert!(html.contains(&format!("id=\"o{penalty}\"")), "{html}");
        let html = page(&zh, &app, "/portal/self-reports").await;
        for code in ["O01", "O02", "O03"] {
            assert!(html.contains(&format!("id=\"item-{code}\"")), "{html}");
        }
        assert!(!html.contains("item-O04"), "not self-reportable");
        assert!(html.contains("国家级"), "enumerations as words");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_a_commitment_changes_the_score_on_the_portal() {
    on_each_backend(|app| async move {
        let person = id(502);
        resident_with_penalty(&app, &person, 2).await;
        let c = resident(&app, &person, false);
        let before = shown_score(&page(&c, &app, "/portal").await);
        let api_before = api(&app, &person, "/api/v1/me/score").await["score"]
            .as_i64()
            .unwrap();
        assert_eq!(before, api_before);

        let html = page(&c, &app, "/portal/commitments").await;
        assert!(html.contains("遵纪守法"), "the templates to read");
        assert!(html.contains("本人承诺"));
        let res = post_form(&c, &app, "/portal/commitments", &[("template", "T01")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/portal/commitments?done=signed");
        let html = page(&c, &app, "/portal/commitments?done=signed").await;
        assert!(html.contains("承诺已签署"), "{html}");
        assert!(html.contains("履行中"), "the commitment's status");

        let mine = api(&app, &person, "/api/v1/me/commitments").await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        assert_eq!(mine[0]["template"], "T01");
        let api_after = api(&app, &person, "/api/v1/me/score").await["score"]
            .as_i64()
            .unwrap();
        assert!(api_after > api_before, "{api_before} → {api_after}");
        assert_eq!(shown_score(&page(&c, &app, "/portal").await), api_after);

        // Again: refused in place, nothing more signed.
        let res = post_form(&c, &app, "/portal/commitments", &[("template", "T01")]).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = res.text().await.unwrap();
        assert!(html.contains("commitment_already_active"));
        assert!(html.contains("仍在有效期内"), "{html}");
        let en = resident(&app, &person, true);
        let res = post_form(&en, &app, "/portal/commitments", &[("template", "T01")]).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = res.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("active"), "{html}");
        assert!(!html.contains("仍在有效期内"));
        assert_eq!(
            api(&app, &person, "/api/v1/me/commitments")
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objection_filed_from_the_records_page_shows_its_deadlines() {
    on_each_backend(|app| async move {
        let person = id(503);
        let penalty = resident_with_penalty(&app, &person, 3).await;
        let c = resident(&app, &person, false);
        let records = page(&c, &app, "/portal/records").await;
        let link = format!("/portal/objections?record={penalty}");
        assert!(records.contains(&link));
        let form = page(&c, &app, &link).await;
        assert!(
            form.contains(&format!("<option value=\"{penalty}\" selected>")),
            "{form}"
        );

        // No reason: refused in place, nothing filed.
        let target = penalty.to_string();
        let res = post_multipart(&c, &app, "/portal/objections", &[("target", &target)], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("missing_field"), "{html}");
        assert!(html.contains("有必填项未填写"));

        let res = post_multipart(
            &c,
            &app,
            "/portal/objections",
            &[("target", &target), ("reason", "该处罚已被复议撤销")],
            &[("decision.pdf", PDF)],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        assert_eq!(location(&res), "/portal/objections?done=filed");

        let mine = api(&app, &person, "/api/v1/me/objections").await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let o = &mine[0];
        assert_eq!(o["record_id"], penalty);
        assert_eq!(
            o["evidence"].as_array().unwrap().len(),
            1,
            "the empty file input left out"
        );
        let html = page(&c, &app, "/portal/objections?done=filed").await;
        assert!(html.contains("异议已提交"));
        assert!(html.contains("class=\"steps\""));
        assert!(
            html.contains(&format!("受理期限 {}", o["accept_by"].as_str().unwrap())),
            "{html}"
        );
        assert!(html.contains("该处罚已被复议撤销"));
        assert!(html.contains("已提交"), "the status as a word");
        let en = page(&resident(&app, &person, true), &app, "/portal/objections").await;
        assert!(en.contains(&format!("Accept by {}", o["accept_by"].as_str().unwrap())));

        // The record is now disputed.
        let records = page(&c, &app, "/portal/records").await;
        assert!(records.contains("异议中"), "{records}");

        // About the score, too.
        let res = post_multipart(
            &c,
            &app,
            "/portal/objections",
            &[("target", "score"), ("reason", "分数计算有误")],
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let mine = api(&app, &person, "/api/v1/me/objections").await;
        assert_eq!(mine[1]["record_id"], Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_report_with_a_pdf_that_is_html_is_refused_in_place() {
    on_each_backend(|app| async move {
        let person = id(504);
        resident_with_penalty(&app, &person, 4).await;
        let c = resident(&app, &person, false);
        let day = crate::helpers::days_ago(10).to_string();
        let fields = [
            ("item", "O02"),
            ("f_amount_cny", "5000"),
            ("f_donated_on", day.as_str()),
            ("f_recipient", "绍兴市慈善总会"),
        ];
        let html_file: &[u8] = b"<!DOCTYPE html><html><body>not a pdf</body></html>";
        let res = post_multipart(
            &c,
            &app,
            "/portal/self-reports",
            &fields,
            &[("proof.pdf", html_file)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("evidence_type_not_allowed"), "{html}");
        assert!(html.contains("按文件内容判断"));
        assert!(html.contains("value=\"5000\""), "what was entered is kept");
        assert_eq!(
            api(&app, &person, "/api/v1/me/self-reports").await,
            Value::Array(Vec::new()),
            "nothing stored"
        );
        // In English, the API's words.
        let en = resident(&app, &person, true);
        let res = post_multipart(
            &en,
            &app,
            "/portal/self-reports",
            &fields,
            &[("proof.pdf", html_file)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("evidence_type_not_allowed"));
        assert!(!html.contains("按文件内容判断"));

        // No evidence at all: the API's refusal too.
        let res = post_multipart(&c, &app, "/portal/self-reports", &fields, &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("evidence_required"));

        // A real PDF: stored, pending.
        let res = post_multipart(
            &c,
            &app,
            "/portal/self-reports",
            &fields,
            &[("proof.pdf", PDF)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/portal/self-reports?done=submitted");
        let mine = api(&app, &person, "/api/v1/me/self-reports").await;
        assert_eq!(mine[0]["item"], "O02");
        assert_eq!(mine[0]["status"], "pending");
        let html = page(&c, &app, "/portal/self-reports").await;
        assert!(html.contains("待审核"));
        assert!(html.contains("受赠方：绍兴市慈善总会"), "{html}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_applied_too_early_is_refused_in_the_page_language() {
    on_each_backend(|app| async move {
        let person = id(505);
        let penalty = resident_with_penalty(&app, &person, 5).await;
        let options = api(&app, &person, "/api/v1/me/repairs/options").await;
        let from = options[0]["repairable_from"].as_str().unwrap().to_owned();
        let c = resident(&app, &person, false);
        let html = page(&c, &app, "/portal/repairs").await;
        assert!(html.contains(&from));
        let rid = penalty.to_string();
        let form = [
            ("record_id", rid.as_str()),
            ("statement", "已缴清罚款并完成整改"),
        ];
        let res = post_form(&c, &app, "/portal/repairs", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("repair_too_early"), "{html}");
        assert!(
            html.contains(&format!("该信息自 {from} 起方可申请信用修复")),
            "{html}"
        );
        assert!(
            html.contains(">已缴清罚款并完成整改</textarea>"),
            "the statement is kept"
        );

        let en = resident(&app, &person, true);
        let res = post_form(&en, &app, "/portal/repairs", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("repair_too_early"));
        assert!(
            html.contains(&format!("may be repaired from {from}")),
            "{html}"
        );
        assert_eq!(
            api(&app, &person, "/api/v1/me/repairs").await,
            Value::Array(Vec::new())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_residents_record_is_a_404_page_and_nothing_is_written() {
    on_each_backend(|app| async move {
        let (a, b) = (id(506), id(507));
        let theirs = resident_with_penalty(&app, &a, 6).await;
        resident_with_penalty(&app, &b, 7).await;
        let c = resident(&app, &b, false);
        let target = theirs.to_string();
        let res = post_multipart(
            &c,
            &app,
            "/portal/objections",
            &[("target", &target), ("reason", "不是我的")],
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains("objection_record_not_found"), "{html}");
        assert!(!html.contains(&a), "nothing about the other person");

        let res = post_form(
            &c,
            &app,
            "/portal/repairs",
            &[("record_id", &target), ("statement", "不是我的")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        for p in [&a, &b] {
            assert_eq!(
                api(&app, p, "/api/v1/me/objections").await,
                Value::Array(Vec::new())
            );
            assert_eq!(
                api(&app, p, "/api/v1/me/repairs").await,
                Value::Array(Vec::new())
            );
        }
        let records = api(&app, &a, "/api/v1/me/records").await;
        let r = records
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == theirs)
            .unwrap();
        assert_eq!(r["state"], "active", "not disputed");
    })
    .await;
}
