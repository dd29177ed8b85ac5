//! Objections (异议) over HTTP on every backend: a resident's objection
//! flags the record at once, a reviewer accepts it (routing it to the
//! record's unit), the unit replies, the reviewer decides and the score
//! moves before the answer; every deadline is checked against the shipped
//! working-day calendar; the role matrix (reviewer, admin, auditor, another
//! unit, another resident) and bad input.

use chengxin_domain::calendar::Calendar;
use chengxin_domain::staff::Role;
use chengxin_jobs::staff;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, p01, TestApp};

const PW: &str = "correct horse battery";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

async fn staff_token(app: &TestApp, name: &str, role: Role) -> String {
    let n = name.to_owned();
    app.run(move |ctx| staff::add_staff(ctx, &n, role, PW, "operator:test", staff::now()))
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/staff/sessions"))
        .json(&json!({"name": name, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_json(res, StatusCode::CREATED).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn post(app: &TestApp, key: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The date `n` working days after today under the shipped calendar.
fn working_days(n: i64) -> String {
    Calendar::shipped()
        .add_working_days(chengxin_jobs::today(), n)
        .unwrap()
        .date
        .to_string()
}

/// A resident with a general penalty (−20) from SX-TAX; returns the
/// penalty's record id.
async fn resident_with_penalty(app: &TestApp, tax: &str, n: u32) -> i64 {
    let me = id(n);
    assert_json(
        app.push(tax, &b03(&format!("b-{n}"), &me)).await,
        StatusCode::CREATED,
    )
    .await;
    let r = assert_json(
        app.push(tax, &p01(&format!("p-{n}"), &me, "general")).await,
        StatusCode::CREATED,
    )
    .await;
    r["record_id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objection_end_to_end_with_the_role_matrix() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let (_, other_unit) = app.unit("SX-MKT", &["P01"]).await;
        let record = resident_with_penalty(&app, &tax, 1).await;
        resident_with_penalty(&app, &tax, 2).await;
        let (me, stranger) = (id(1), id(2));
        let token = app.resident_token(&me);
        let stranger_token = app.resident_token(&stranger);
        let before = app.stored_score(&me).await.unwrap();

        // Another person's record is not revealed.
        let res = post(&app, &stranger_token, "/api/v1/me/objections",
            &json!({"record_id": record, "reason": "不是我的"})).await;
        assert_problem(res, StatusCode::NOT_FOUND, "objection_record_not_found").await;

        let filed = assert_json(
            post(&app, &token, "/api/v1/me/objections",
                &json!({"record_id": record, "reason": "该处罚已被复议撤销"})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(filed["status"], "submitted");
        assert_eq!(filed["accept_by"], working_days(2));
        assert_eq!(filed["reply_by"], Value::Null);
        assert_eq!(filed["provisional"], false);
        let oid = filed["id"].as_i64().unwrap();

        // Disputed at once, still counting, the score unchanged.
        let records = assert_json(app.get(&token, "/api/v1/me/records").await, StatusCode::OK).await;
        let r = records.as_array().unwrap().iter().find(|r| r["id"] == record).unwrap();
        assert_eq!(r["state"], "disputed");
        assert_eq!(r["counts"], true);
        assert_eq!(app.stored_score(&me).await, Some(before));

        let res = post(&app, &token, "/api/v1/me/objections",
            &json!({"record_id": record, "reason": "再次"})).await;
        assert_problem(res, StatusCode::CONFLICT, "objection_already_open").await;

        let reviewer = staff_token(&app, "wang", Role::Reviewer).await;
        let admin = staff_token(&app, "zhao", Role::Admin).await;
        let auditor = staff_token(&app, "li", Role::Auditor).await;
        let accept = format!("/api/v1/staff/objections/{oid}/accept");
        let decision = format!("/api/v1/staff/objections/{oid}/decision");
        let explained = json!({"outcome": "explained", "explanation": "信息无误"});
        for t in [&admin, &auditor] {
            let res = app.get(t, "/api/v1/staff/objections").await;
            assert_problem(res, StatusCode::FORBIDDEN, "role_forbidden").await;
            assert_problem(post(&app, t, &accept, &json!({})).await, StatusCode::FORBIDDEN, "role_forbidden").await;
            assert_problem(post(&app, t, &decision, &explained).await, StatusCode::FORBIDDEN, "role_forbidden").await;
        }
        // A decision before acceptance is in the wrong state.
        assert_problem(post(&app, &reviewer, &decision, &explained).await, StatusCode::CONFLICT, "objection_wrong_state").await;
        let listed = assert_json(app.get(&reviewer, "/api/v1/staff/objections?status=submitted").await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0]["id_number"].as_str().unwrap().contains('*'));
        assert_eq!(listed[0]["unit"], "SX-TAX");

        let accepted = assert_json(post(&app, &reviewer, &accept, &json!({})).await, StatusCode::OK).await;
        assert_eq!(accepted["status"], "awaiting_unit");
        assert_eq!(accepted["reply_by"], working_days(10));
        assert_problem(post(&app, &reviewer, &accept, &json!({})).await, StatusCode::CONFLICT, "objection_wrong_state").await;

        // Only the record's unit sees it and may reply.
        let theirs = assert_json(app.get(&other_unit, "/api/v1/unit/objections").await, StatusCode::OK).await;
        assert_eq!(theirs, json!([]));
        let reply = format!("/api/v1/unit/objections/{oid}/reply");
        assert_problem(post(&app, &other_unit, &reply, &json!({"text": "无关"})).await, StatusCode::NOT_FOUND, "objection_not_found").await;
        let ours = assert_json(app.get(&tax, "/api/v1/unit/objections").await, StatusCode::OK).await;
        assert_eq!(ours[0]["id"], oid);
        let replied = assert_json(post(&app, &tax, &reply, &json!({"text": "请中心依法处理"})).await, StatusCode::OK).await;
        assert_eq!(replied["status"], "accepted");
        assert_eq!(replied["reply"], "请中心依法处理");

        // Another resident sees none of it.
        let theirs = assert_json(app.get(&stranger_token, "/api/v1/me/objections").await, StatusCode::OK).await;
        assert_eq!(theirs, json!([]));

        // `corrected` needs the unit's correction, or the agency's own withdrawal.
        let corrected = json!({"outcome": "corrected", "explanation": "经核实，该处罚已撤销"});
        assert_problem(post(&app, &reviewer, &decision, &corrected).await, StatusCode::CONFLICT, "objection_not_corrected").await;
        let withdraw = json!({"outcome": "corrected", "explanation": "经核实，该处罚已撤销", "withdraw": true});
        let done = assert_json(post(&app, &reviewer, &decision, &withdraw).await, StatusCode::OK).await;
        assert_eq!(done["status"], "corrected");
        assert_problem(post(&app, &reviewer, &decision, &withdraw).await, StatusCode::CONFLICT, "objection_wrong_state").await;

        // The general penalty (−20) stopped counting before the answer.
        assert_eq!(app.stored_score(&me).await, Some(before + 20));
        let history = assert_json(app.get(&token, "/api/v1/me/history").await, StatusCode::OK).await;
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["cause"], "objection");
        assert_eq!(last["score"], before + 20);

        let mine = assert_json(app.get(&token, "/api/v1/me/objections").await, StatusCode::OK).await;
        let today = chengxin_jobs::today().to_string();
        assert_eq!(mine[0]["status"], "corrected");
        assert_eq!(mine[0]["record_id"], record);
        assert_eq!(mine[0]["answer"], "经核实，该处罚已撤销");
        assert_eq!(mine[0]["accept_by"], working_days(2));
        assert_eq!(mine[0]["reply_by"], working_days(10));
        let steps: Vec<(String, String)> = mine[0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["step"].as_str().unwrap().to_owned(), s["on"].as_str().unwrap().to_owned()))
            .collect();
        let names: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["submitted", "accepted", "routed_to_unit", "unit_replied", "corrected"]);
        assert!(steps.iter().all(|(_, on)| *on == today));
        assert!(mine[0].get("reply").is_none(), "the unit's reply is for the agency");

        let late = assert_json(app.get(&reviewer, "/api/v1/staff/objections?overdue=true").await, StatusCode::OK).await;
        assert_eq!(late, json!([]), "everything was done in time");
        let res = app.get(&reviewer, "/api/v1/staff/objections?status=late").await;
        assert_problem(res, StatusCode::BAD_REQUEST, "bad_request").await;
        // `overdue` is a boolean: an empty value is not `false` (found by schemathesis).
        let res = app.get(&reviewer, "/api/v1/staff/objections?overdue=").await;
        assert_problem(res, StatusCode::BAD_REQUEST, "bad_request").await;
    })
    .await;
}

/// A `multipart/form-data` body: text parts, then evidence files.
fn form(texts: &[(&str, &str)], files: &[&[u8]]) -> (String, Vec<u8>) {
    let boundary = "----chengxin-objection-boundary";
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (i, f) in files.iter().enumerate() {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"e{i}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(
    app: &TestApp,
    token: &str,
    texts: &[(&str, &str)],
    files: &[&[u8]],
) -> reqwest::Response {
    let (ty, body) = form(texts, files);
    app.client
        .post(app.url("/api/v1/me/objections"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, ty)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_score_objection_with_evidence_is_explained_and_bad_input_is_refused() {
    on_each_backend(|app| async move {
        let (_, tax) = app.unit("SX-TAX", &["B03", "P01"]).await;
        let record = resident_with_penalty(&app, &tax, 3).await;
        let token = app.resident_token(&id(3));
        let path = "/api/v1/me/objections";

        let bad: Vec<(Value, &str)> = vec![
            (json!({"record_id": record}), "missing_field"),
            (
                json!({"record_id": record, "reason": "   "}),
                "missing_field",
            ),
            (
                json!({"record_id": record, "reason": "字".repeat(2001)}),
                "out_of_range",
            ),
            (
                json!({"record_id": record, "reason": "a\u{0}b"}),
                "invalid_field",
            ),
            (json!({"record_id": "x", "reason": "r"}), "invalid_field"),
            (
                json!({"record_id": record, "about": "score", "reason": "r"}),
                "invalid_field",
            ),
            (json!({"about": "grade", "reason": "r"}), "invalid_enum"),
            (json!({"reason": "r"}), "missing_field"),
            (
                json!({"record_id": record, "reason": "r", "note": 1}),
                "unknown_field",
            ),
        ];
        for (body, code) in bad {
            let res = post(&app, &token, path, &body).await;
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        }
        let res = post_form(
            &app,
            &token,
            &[("about", "score"), ("reason", "有误")],
            &[b"not a pdf"],
        )
        .await;
        assert_problem(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "evidence_type_not_allowed",
        )
        .await;
        let res = app
            .client
            .post(app.url(path))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "text/plain")
            .body("reason")
            .send()
            .await
            .unwrap();
        assert_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // Nothing was stored by any of it.
        let mine = assert_json(app.get(&token, path).await, StatusCode::OK).await;
        assert_eq!(mine, json!([]));

        // A score objection with a PDF, as a form.
        let filed = assert_json(
            post_form(
                &app,
                &token,
                &[("about", "score"), ("reason", "分数偏低")],
                &[PDF],
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(filed["accept_by"], working_days(2));
        let oid = filed["id"].as_i64().unwrap();
        // A record objection as a form too.
        let rec = assert_json(
            post_form(
                &app,
                &token,
                &[("record_id", &record.to_string()), ("reason", "有误")],
                &[],
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let res = post_form(&app, &token, &[("about", "score"), ("reason", "再次")], &[]).await;
        assert_problem(res, StatusCode::CONFLICT, "objection_already_open").await;

        let reviewer = staff_token(&app, "wang", Role::Reviewer).await;
        let accepted = assert_json(
            post(
                &app,
                &reviewer,
                &format!("/api/v1/staff/objections/{oid}/accept"),
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            accepted["status"], "accepted",
            "a score objection goes to no unit"
        );
        assert_eq!(accepted["reply_by"], working_days(10));
        let decision = format!("/api/v1/staff/objections/{oid}/decision");
        for (body, code) in [
            (json!({"outcome": "explained"}), "missing_field"),
            (
                json!({"outcome": "fixed", "explanation": "x"}),
                "invalid_enum",
            ),
            (
                json!({"outcome": "explained", "explanation": "x", "withdraw": true}),
                "invalid_field",
            ),
            (
                json!({"outcome": "explained", "explanation": "x", "withdraw": "yes"}),
                "invalid_field",
            ),
        ] {
            assert_problem(
                post(&app, &reviewer, &decision, &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
            )
            .await;
        }
        assert_problem(
            post(
                &app,
                &reviewer,
                "/api/v1/staff/objections/999999/accept",
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "objection_not_found",
        )
        .await;
        let done = assert_json(
            post(
                &app,
                &reviewer,
                &decision,
                &json!({"outcome": "explained", "explanation": "分数按现行模型计算无误"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["status"], "explained");

        let mine = assert_json(app.get(&token, path).await, StatusCode::OK).await;
        let score_obj = mine
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == oid)
            .unwrap();
        assert_eq!(score_obj["record_id"], Value::Null);
        assert_eq!(score_obj["answer"], "分数按现行模型计算无误");
        assert_eq!(score_obj["evidence"][0]["media_type"], "application/pdf");
        let sha = score_obj["evidence"][0]["sha256"].as_str().unwrap();
        let file = format!("/api/v1/staff/objections/{oid}/evidence/{sha}");
        let res = app.get(&reviewer, &file).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        let auditor = staff_token(&app, "li", Role::Auditor).await;
        assert_problem(
            app.get(&auditor, &file).await,
            StatusCode::FORBIDDEN,
            "role_forbidden",
        )
        .await;
        let other = format!("/api/v1/staff/objections/{}/evidence/{sha}", rec["id"]);
        assert_problem(
            app.get(&reviewer, &other).await,
            StatusCode::NOT_FOUND,
            "evidence_not_found",
        )
        .await;
        let rec_obj = mine
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == rec["id"])
            .unwrap();
        assert_eq!(rec_obj["status"], "submitted");
        assert_eq!(rec_obj["answer"], Value::Null);
    })
    .await;
}
