//! The console's case pages over real HTTP on both backends: a reviewer
//! works the objection, repair and self-report queues through the pages
//! (deadlines shown, refusals in place with their codes, each decision seen
//! by the resident through the API); other roles are refused on every page
//! and form with nothing written; a look-up of one person needs a purpose
//! and is audited with the staff member; the audit page verifies the log.

use chengxin_domain::staff::Role;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client_with, console, location};
use crate::helpers::{assert_json, b03, days_ago, id, on_each_backend, p01, wrong_check, TestApp};
use crate::pages_check::assert_page_ok;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// `POST path` with a form.
async fn form(
    c: &reqwest::Client,
    app: &TestApp,
    path: &str,
    f: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(path)).form(f).send().await.unwrap()
}

/// The body of a response that must have `status` and be HTML passing
/// the page checks (labels, headings, no English-only text in Chinese).
async fn html(res: reqwest::Response, status: StatusCode) -> String {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    assert_page_ok(&text);
    text
}

/// The page at `path` (200, HTML, checked).
async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let html = super::page(c, app, path).await;
    assert_page_ok(&html);
    html
}

/// A reviewer `name` signed in twice: a Chinese and an English client.
async fn reviewer(app: &TestApp, name: &str) -> (reqwest::Client, reqwest::Client) {
    let token = app.staff_token(name, Role::Reviewer).await;
    (
        client_with(app, &format!("cx_staff={token}")),
        client_with(app, &format!("cx_staff={token}; cx_lang=en")),
    )
}

/// `paths` in English: 200, `lang="en"`, checked.
async fn english(c: &reqwest::Client, app: &TestApp, paths: &[&str]) {
    for path in paths {
        let html = page(c, app, path).await;
        assert!(html.contains("<html lang=\"en\">"), "{path}: {html}");
    }
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let res = app
        .client
        .post(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::CREATED).await
}

/// A resident with a general penalty from SX-TAX decided `days` ago; their
/// token and the penalty's record id.
async fn penalised(app: &TestApp, tax: &str, n: u32, days: i64) -> (String, String, i64) {
    let person = id(n);
    assert_json(
        app.push(tax, &b03(&format!("b-{n}"), &person)).await,
        StatusCode::CREATED,
    )
    .await;
    let mut p = p01(&format!("p-{n}"), &person, "general");
    p["fields"]["decided_on"] = json!(days_ago(days).to_string());
    let r = assert_json(app.push(tax, &p).await, StatusCode::CREATED).await;
    let token = app.resident_token(&person);
    (person, token, r["record_id"].as_i64().unwrap())
}

/// The audit entries of staff member `wang`'s look-ups.
async fn lookups(app: &TestApp) -> Vec<chengxin_domain::audit::AuditEntry> {
    app.run(|ctx| {
        ctx.store.seal_audit().unwrap();
        ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
    })
    .await
    .into_iter()
    .filter(|e| e.event.actor == "staff:wang" && e.event.detail["what"] == "lookup")
    .collect()
}

async fn mine(app: &TestApp, token: &str, what: &str) -> Value {
    assert_json(
        app.get(token, &format!("/api/v1/me/{what}")).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_accepts_and_decides_an_objection_through_the_pages() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let (_, token, record) = penalised(&app, &tax, 401, 30).await;
        let before = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await;
        let filed = post_json(
            &app,
            &token,
            "/api/v1/me/objections",
            &json!({"record_id": record, "reason": "该处罚已被复议撤销"}),
        )
        .await;
        let oid = filed["id"].as_i64().unwrap();
        let accept_by = filed["accept_by"].as_str().unwrap().to_owned();

        let (wang, wang_en) = reviewer(&app, "wang").await;
        let list = page(&wang, &app, "/console/objections").await;
        english(&wang_en, &app, &["/console/objections", "/console/lookup"]).await;
        assert!(list.contains(&format!("id=\"c{oid}\"")), "{list}");
        assert!(list.contains("该处罚已被复议撤销"));
        assert!(
            list.contains(&format!("<dd class=\"accept-by\">{accept_by}")),
            "the acceptance deadline: {list}"
        );
        assert!(list.contains("待受理"), "the status, in Chinese");
        assert!(list.contains(&format!("/console/objections/{oid}/accept")));
        // The filters: decided ones and late ones do not include it.
        assert!(!page(&wang, &app, "/console/objections?status=explained")
            .await
            .contains(&format!("id=\"c{oid}\"")));
        assert!(
            !page(&wang, &app, "/console/objections?status=&overdue=true")
                .await
                .contains(&format!("id=\"c{oid}\""))
        );
        assert!(page(&wang, &app, "/console/objections?status=submitted")
            .await
            .contains(&format!("id=\"c{oid}\"")));
        // A bad filter is the API's 400.
        let bad = html(
            wang.get(app.url("/console/objections?status=nope"))
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(bad.contains("bad_request"), "{bad}");

        // Accept: 303 back with a notice; the reply deadline appears.
        let res = form(
            &wang,
            &app,
            &format!("/console/objections/{oid}/accept"),
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = location(&res);
        assert_eq!(
            back,
            format!("/console/objections?done=accepted&case={oid}#c{oid}")
        );
        let list = page(&wang, &app, &back).await;
        assert!(list.contains(&format!("已受理 #{oid}")), "{list}");
        assert!(list.contains("待单位答复"), "routed to the record's unit");
        let api = mine(&app, &token, "objections").await;
        let reply_by = api[0]["reply_by"].as_str().unwrap().to_owned();
        assert!(
            list.contains(&format!("<dd class=\"reply-by\">{reply_by}")),
            "{list}"
        );

        // Accepting again: the domain's refusal, in place, 409.
        let again = html(
            form(
                &wang,
                &app,
                &format!("/console/objections/{oid}/accept"),
                &[],
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(again.contains("objection_wrong_state"), "{again}");
        // A decision without an answer: 422 missing_field, in place.
        let path = format!("/console/objections/{oid}/decision");
        let refused = html(
            form(
                &wang,
                &app,
                &path,
                &[("outcome", "explained"), ("explanation", "  ")],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused.contains("missing_field"), "{refused}");
        // "corrected" while the unit neither corrected nor withdrew it, and
        // without the agency withdrawing it: refused, the answer kept.
        let refused = html(
            form(
                &wang,
                &app,
                &path,
                &[("outcome", "corrected"), ("explanation", "经核实信息有误")],
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(refused.contains("objection_not_corrected"), "{refused}");
        assert!(
            refused.contains(">经核实信息有误</textarea>"),
            "the answer is kept: {refused}"
        );
        assert_eq!(
            mine(&app, &token, "objections").await[0]["status"],
            "awaiting_unit",
            "nothing was written"
        );

        // Corrected, with the agency withdrawing the record.
        let res = form(
            &wang,
            &app,
            &path,
            &[
                ("outcome", "corrected"),
                ("withdraw", "true"),
                ("explanation", "经核实信息有误，已撤回"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("/console/objections?done=decided&case={oid}#c{oid}")
        );
        let api = mine(&app, &token, "objections").await;
        assert_eq!(api[0]["status"], "corrected");
        assert_eq!(api[0]["answer"], "经核实信息有误，已撤回");
        let after = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await;
        assert!(
            after["score"].as_i64() > before["score"].as_i64(),
            "the penalty no longer counts: {before} → {after}"
        );
        // Deciding it again: refused in place.
        let again = html(
            form(
                &wang,
                &app,
                &path,
                &[("outcome", "explained"), ("explanation", "再次")],
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(again.contains("objection_wrong_state"), "{again}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_decides_a_repair_and_a_self_report_through_the_pages() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        app.unit("SX-CHARITY", &["O02"]).await;
        // A general penalty decided 120 days ago: repair reaches it (3 months).
        let (_, token, record) = penalised(&app, &tax, 402, 120).await;
        post_json(&app, &token, "/api/v1/me/commitments", &json!({"template": "T01"})).await;
        let applied = post_json(&app, &token, "/api/v1/me/repairs",
            &json!({"record_id": record, "statement": "已缴清罚款并完成整改"})).await;
        let aid = applied["id"].as_i64().unwrap();
        let before = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await;

        let (wang, wang_en) = reviewer(&app, "wang").await;
        let list = page(&wang, &app, "/console/repairs").await;
        english(&wang_en, &app, &["/console/repairs"]).await;
        assert!(list.contains(&format!("id=\"c{aid}\"")), "{list}");
        assert!(list.contains("已缴清罚款并完成整改"), "the statement");
        assert!(list.contains(&format!("#{record}")), "the record");
        assert!(list.contains("符合条件"), "eligible: {list}");
        let path = format!("/console/repairs/{aid}/decision");
        let refused = html(form(&wang, &app, &path, &[("decision", "rejected"), ("reason", "")]).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(refused.contains("missing_field"), "a rejection needs a reason: {refused}");
        assert_eq!(mine(&app, &token, "repairs").await[0]["status"], "pending");
        let res = form(&wang, &app, &path, &[("decision", "approved"), ("reason", "")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/console/repairs?done=approved&case={aid}#c{aid}"));
        assert!(page(&wang, &app, &location(&res)).await.contains(&format!("已批准修复 #{aid}")));
        assert_eq!(mine(&app, &token, "repairs").await[0]["status"], "approved");
        let after = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await;
        assert!(after["score"].as_i64() > before["score"].as_i64(), "{before} → {after}");
        let again = html(form(&wang, &app, &path, &[("decision", "rejected"), ("reason", "迟到")]).await, StatusCode::CONFLICT).await;
        assert!(again.contains("repair_already_decided"), "{again}");
        assert!(page(&wang, &app, "/console/repairs?status=approved").await.contains(&format!("id=\"c{aid}\"")));

        // A self-report with evidence.
        let boundary = "----console-test-boundary";
        let mut body = Vec::new();
        for (name, value) in [("item", "O02"), ("fields", r#"{"amount_cny": "5000", "donated_on": "2026-01-05", "recipient": "绍兴市慈善总会"}"#)] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"r.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
        body.extend_from_slice(PDF);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = app.client.post(app.url("/api/v1/me/self-reports"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body).send().await.unwrap();
        let sid = assert_json(res, StatusCode::CREATED).await["id"].as_i64().unwrap();
        let sha = mine(&app, &token, "self-reports").await[0]["evidence"][0]["sha256"].as_str().unwrap().to_owned();

        let list = page(&wang, &app, "/console/self-reports").await;
        english(&wang_en, &app, &["/console/self-reports"]).await;
        assert!(list.contains(&format!("id=\"c{sid}\"")), "{list}");
        assert!(list.contains("字段 amount_cny：5000"), "{list}");
        let link = format!("/console/self-reports/{sid}/evidence/{sha}");
        assert!(list.contains(&link), "an evidence link");
        let file = wang.get(app.url(&link)).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
        let path = format!("/console/self-reports/{sid}/decision");
        let refused = html(form(&wang, &app, &path, &[("decision", "rejected"), ("reason", " ")]).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(refused.contains("missing_field"), "{refused}");
        let res = form(&wang, &app, &path, &[("decision", "verified"), ("reason", "")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/console/self-reports?done=verified&case={sid}#c{sid}"));
        assert_eq!(mine(&app, &token, "self-reports").await[0]["status"], "verified");
        let again = html(form(&wang, &app, &path, &[("decision", "verified")]).await, StatusCode::CONFLICT).await;
        assert!(again.contains("self_report_already_decided"), "{again}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_and_auditors_are_refused_on_the_queues_and_nothing_is_written() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let (person, token, record) = penalised(&app, &tax, 403, 30).await;
        let oid = post_json(
            &app,
            &token,
            "/api/v1/me/objections",
            &json!({"record_id": record, "reason": "有误"}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        for (name, role) in [("li", Role::Admin), ("zhao", Role::Auditor)] {
            let c = console(&app, name, role).await;
            for path in [
                "/console/objections",
                "/console/self-reports",
                "/console/repairs",
                "/console/lookup",
            ] {
                let body = html(
                    c.get(app.url(path)).send().await.unwrap(),
                    StatusCode::FORBIDDEN,
                )
                .await;
                assert!(body.contains("role_forbidden"), "{name} {path}: {body}");
            }
            let posts: [(String, Vec<(&str, &str)>); 6] = [
                (format!("/console/objections/{oid}/accept"), vec![]),
                (
                    format!("/console/objections/{oid}/decision"),
                    vec![("outcome", "explained"), ("explanation", "x")],
                ),
                (
                    "/console/repairs/1/decision".into(),
                    vec![("decision", "approved")],
                ),
                (
                    "/console/self-reports/1/decision".into(),
                    vec![("decision", "verified")],
                ),
                (
                    "/console/lookup".into(),
                    vec![("id_number", person.as_str()), ("purpose", "案件 1")],
                ),
                (format!("/console/objections/{oid}/evidence/00"), vec![]),
            ];
            for (path, f) in &posts {
                let res = if path.contains("/evidence/") {
                    c.get(app.url(path)).send().await.unwrap()
                } else {
                    form(&c, &app, path, f).await
                };
                let body = html(res, StatusCode::FORBIDDEN).await;
                assert!(body.contains("role_forbidden"), "{name} {path}: {body}");
            }
        }
        assert_eq!(
            mine(&app, &token, "objections").await[0]["status"],
            "submitted",
            "nothing was written"
        );
        // A lookup by someone refused left no audit entry naming them.
        let entries = app
            .run(|ctx| {
                ctx.store.seal_audit().unwrap();
                ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
            })
            .await;
        let refused: Vec<_> = entries
            .iter()
            .filter(|e| ["staff:li", "staff:zhao"].contains(&e.event.actor.as_str()))
            .map(|e| e.event.action.as_str())
            .filter(|a| *a != "staff.signed_in")
            .collect();
        assert!(refused.is_empty(), "{refused:?}");
        // The reviewer has no audit page; the auditor has.
        let wang = console(&app, "wang", Role::Reviewer).await;
        let body = html(
            wang.get(app.url("/console/audit")).send().await.unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(body.contains("role_forbidden"));
        let body = html(
            form(&wang, &app, "/console/audit", &[]).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(body.contains("role_forbidden"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_up_needs_a_purpose_and_is_audited_with_the_staff_member() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let (person, token, record) = penalised(&app, &tax, 404, 30).await;
        post_json(
            &app,
            &token,
            "/api/v1/me/objections",
            &json!({"record_id": record, "reason": "有误"}),
        )
        .await;
        let score = assert_json(app.get(&token, "/api/v1/me/score").await, StatusCode::OK).await
            ["score"]
            .as_i64()
            .unwrap();
        let wang = console(&app, "wang", Role::Reviewer).await;
        let form_page = page(&wang, &app, "/console/lookup").await;
        assert!(form_page.contains("<label for=\"purpose\">"), "{form_page}");

        let refused = html(
            form(
                &wang,
                &app,
                "/console/lookup",
                &[("id_number", &person), ("purpose", "  ")],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused.contains("missing_field"), "{refused}");
        assert!(
            !refused.contains("score-value"),
            "nothing shown without a purpose"
        );
        let refused = html(
            form(
                &wang,
                &app,
                "/console/lookup",
                &[
                    ("id_number", &wrong_check(&person)),
                    ("purpose", "案件 2026-001"),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            refused.contains("id_check_digit") && refused.contains("校验位"),
            "{refused}"
        );
        assert!(
            lookups(&app).await.is_empty(),
            "refused look-ups read nothing"
        );

        let found = html(
            form(
                &wang,
                &app,
                "/console/lookup",
                &[("id_number", &person), ("purpose", "案件 2026-001")],
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            found.contains(&format!("<span class=\"score-value\">{score}</span>")),
            "{found}"
        );
        assert!(found.contains(&chengxin_domain::IdNumber::parse(&person).unwrap().masked()));
        assert!(found.contains(&format!("#{record}")), "the records");
        assert!(
            found.contains("/console/objections#c"),
            "the open objection"
        );
        let entries = lookups(&app).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].event.action, "person.read");
        assert_eq!(entries[0].event.detail["purpose"], "案件 2026-001");
        assert_eq!(entries[0].event.detail["found"], true);

        // Someone the platform does not know: said so, and audited too.
        let stranger = id(499);
        let none = html(
            form(
                &wang,
                &app,
                "/console/lookup",
                &[("id_number", &stranger), ("purpose", "咨询")],
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(none.contains("class=\"not-found\""), "{none}");
        let entries = lookups(&app).await;
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].event.detail["found"], false);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_page_verifies_a_fresh_log() {
    on_each_backend(|app| async move {
        let zhao = console(&app, "zhao", Role::Auditor).await;
        let start = page(&zhao, &app, "/console/audit").await;
        assert!(start.contains("立即校验"), "{start}");
        let body = html(
            form(&zhao, &app, "/console/audit", &[]).await,
            StatusCode::OK,
        )
        .await;
        assert!(body.contains("audit-ok"), "{body}");
        let size = app
            .run(|ctx| chengxin_jobs::audit::size(ctx).unwrap())
            .await;
        assert!(size > 0);
        assert!(body.contains("<dd class=\"entries\">"), "{body}");
        // In English too.
        let en = client_with(
            &app,
            &format!(
                "{}; cx_lang=en",
                "cx_staff=".to_owned() + &app.staff_token("zhao2", Role::Auditor).await
            ),
        );
        let body = html(form(&en, &app, "/console/audit", &[]).await, StatusCode::OK).await;
        assert!(body.contains("OK: the audit log is intact."), "{body}");
    })
    .await;
}
