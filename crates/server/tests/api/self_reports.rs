//! Self-reports over HTTP on every backend: a resident's report is pending
//! (no points) until the unit responsible for the item verifies it (points
//! at once); other units and other residents see nothing of it; every bad
//! form is refused with its code and stores nothing.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9";
const MIB: usize = 1024 * 1024;

/// A part of a form: name, file name, declared type, content.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<u8>);

/// A `multipart/form-data` body and its content type.
fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----chengxin-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, ty, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = file {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(t) = ty {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn text<'a>(name: &'a str, value: &str) -> Part<'a> {
    (name, None, None, value.as_bytes().to_vec())
}

fn file<'a>(name: &'a str, ty: &'a str, content: &[u8]) -> Part<'a> {
    ("evidence", Some(name), Some(ty), content.to_vec())
}

async fn submit(app: &TestApp, token: &str, parts: &[Part<'_>]) -> reqwest::Response {
    let (ty, body) = form(parts);
    app.client
        .post(app.url("/api/v1/me/self-reports"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, ty)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn decide(app: &TestApp, key: &str, id: &Value, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/unit/self-reports/{id}/decision")))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

const DONATION: &str =
    r#"{"amount_cny": "5000", "donated_on": "2026-01-05", "recipient": "绍兴市慈善总会"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_report_counts_once_the_responsible_unit_verifies_it() {
    on_each_backend(|app| async move {
        let (a, b) = (id(71), id(72));
        let (_, gov) = app.unit("SX-GOV", &["B03"]).await;
        let (_, charity) = app.unit("SX-CHARITY", &["O02"]).await;
        let (_, civ) = app.unit("SX-CIV", &["O01"]).await;
        for (n, p) in [(1, &a), (2, &b)] {
            assert_json(
                app.push(&gov, &b03(&format!("h{n}"), p)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        let (ta, tb) = (app.resident_token(&a), app.resident_token(&b));
        assert_eq!(app.stored_score(&a).await, Some(600));

        let parts = [
            text("item", "O02"),
            text("fields", DONATION),
            file("receipt.pdf", "application/pdf", PDF),
            file("photo.jpg", "image/jpeg", JPEG),
        ];
        let r = assert_json(submit(&app, &ta, &parts).await, StatusCode::CREATED).await;
        assert_eq!(r["status"], "pending");
        let rid = r["id"].clone();
        assert_eq!(
            app.stored_score(&a).await,
            Some(600),
            "{}: pending does not count",
            app.backend
        );

        let mine = assert_json(
            app.get(&ta, "/api/v1/me/self-reports").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        assert_eq!(mine[0]["status"], "pending");
        assert_eq!(mine[0]["item"], "O02");
        assert_eq!(mine[0]["fields"]["amount_cny"], "5000");
        assert_eq!(mine[0]["evidence"][1]["media_type"], "image/jpeg");
        assert!(mine[0].get("id_number").is_none());
        let sha = mine[0]["evidence"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            assert_json(
                app.get(&tb, "/api/v1/me/self-reports").await,
                StatusCode::OK
            )
            .await,
            json!([])
        );

        // The responsible unit sees it (masked ID); another unit does not, and
        // cannot decide or read it.
        let queue = assert_json(
            app.get(&charity, "/api/v1/unit/self-reports?status=pending")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(queue.as_array().unwrap().len(), 1);
        assert_eq!(queue[0]["id"], rid);
        assert_eq!(
            queue[0]["id_number"],
            format!("{}********{}", &a[..6], &a[14..])
        );
        assert_eq!(
            assert_json(
                app.get(&civ, "/api/v1/unit/self-reports").await,
                StatusCode::OK
            )
            .await,
            json!([])
        );
        assert_problem(
            decide(&app, &civ, &rid, &json!({"decision": "verified"})).await,
            StatusCode::NOT_FOUND,
            "self_report_not_found",
        )
        .await;
        let path = format!("/api/v1/unit/self-reports/{rid}/evidence/{sha}");
        assert_problem(
            app.get(&civ, &path).await,
            StatusCode::NOT_FOUND,
            "evidence_not_found",
        )
        .await;
        assert_problem(
            decide(
                &app,
                &charity,
                &json!(987_654),
                &json!({"decision": "verified"}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "self_report_not_found",
        )
        .await;
        assert_problem(
            decide(
                &app,
                &charity,
                &json!("x1"),
                &json!({"decision": "verified"}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "self_report_not_found",
        )
        .await;
        assert_problem(
            app.get(&charity, "/api/v1/unit/self-reports?status=active")
                .await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        // A resident's token is not a unit's key.
        assert_problem(
            app.get(&ta, "/api/v1/unit/self-reports").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;

        let res = app.get(&charity, &path).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

        // Bad decisions change nothing.
        assert_problem(
            decide(&app, &charity, &rid, &json!({"decision": "maybe"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_enum",
        )
        .await;
        assert_problem(
            decide(&app, &charity, &rid, &json!({"decision": "rejected"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        )
        .await;
        assert_problem(
            decide(
                &app,
                &charity,
                &rid,
                &json!({"decision": "rejected", "reason": "x".repeat(501)}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        )
        .await;

        let d = assert_json(
            decide(&app, &charity, &rid, &json!({"decision": "verified"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(d, json!({"id": rid, "status": "verified"}));
        assert_eq!(
            app.stored_score(&a).await,
            Some(610),
            "{}: +2 per full 1,000 CNY, at once",
            app.backend
        );
        assert_eq!(app.explained_score(&a).await, Some(610));
        assert_problem(
            decide(
                &app,
                &charity,
                &rid,
                &json!({"decision": "rejected", "reason": "late"}),
            )
            .await,
            StatusCode::CONFLICT,
            "self_report_already_decided",
        )
        .await;

        // A second report, rejected with its reason; it never counts.
        let r2 = assert_json(submit(&app, &ta, &parts[..3]).await, StatusCode::CREATED).await;
        let d = assert_json(
            decide(
                &app,
                &charity,
                &r2["id"],
                &json!({"decision": "rejected", "reason": "重复申报"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(d["status"], "rejected");
        assert_eq!(app.stored_score(&a).await, Some(610));
        let mine = assert_json(
            app.get(&ta, "/api/v1/me/self-reports").await,
            StatusCode::OK,
        )
        .await;
        let got: Vec<(Value, Value)> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["status"].clone(), m["reason"].clone()))
            .collect();
        assert_eq!(
            got,
            [
                (json!("verified"), Value::Null),
                (json!("rejected"), json!("重复申报"))
            ]
        );
        let rejected = assert_json(
            app.get(&charity, "/api/v1/unit/self-reports?status=rejected")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(rejected[0]["id"], r2["id"]);
        assert_eq!(
            assert_json(
                app.get(&tb, "/api/v1/me/self-reports").await,
                StatusCode::OK
            )
            .await,
            json!([])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_self_reports_are_refused_with_their_codes_and_store_nothing() {
    on_each_backend(|app| async move {
        let a = id(73);
        let (_, gov) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(app.push(&gov, &b03("h1", &a)).await, StatusCode::CREATED).await;
        let ta = app.resident_token(&a);
        let hours = r#"{"hours": "12", "served_on": "2026-01-05", "organisation": "志愿者协会"}"#;
        let html = b"<!DOCTYPE html><html><body>not a pdf</body></html>";
        let pdf = || file("a.pdf", "application/pdf", PDF);
        let mut big = PDF.to_vec();
        big.resize(10 * MIB + 1, b' ');
        let cases: Vec<(Vec<Part<'_>>, StatusCode, &str)> = vec![
            (
                vec![
                    text("item", "O03"),
                    text("fields", hours),
                    file("proof.pdf", "application/pdf", html),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                "evidence_type_not_allowed",
            ),
            (
                vec![
                    text("item", "O03"),
                    text("fields", hours),
                    pdf(),
                    ("evidence", Some("big.pdf"), Some("application/pdf"), big),
                ],
                StatusCode::PAYLOAD_TOO_LARGE,
                "evidence_too_large",
            ),
            (
                [text("item", "O03"), text("fields", hours)]
                    .into_iter()
                    .chain((0..6).map(|_| pdf()))
                    .collect(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_evidence_files",
            ),
            (
                vec![text("item", "O03"), text("fields", hours)],
                StatusCode::UNPROCESSABLE_ENTITY,
                "evidence_required",
            ),
            (
                vec![
                    text("item", "O04"),
                    text(
                        "fields",
                        r#"{"donated_on": "2026-01-05", "volume_ml": 400}"#,
                    ),
                    pdf(),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                "item_not_self_reportable",
            ),
            (
                vec![
                    text("item", "O03"),
                    text(
                        "fields",
                        r#"{"hours": "-3", "served_on": "2026-01-05", "organisation": "x"}"#,
                    ),
                    pdf(),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                "out_of_range",
            ),
            (
                vec![
                    text("item", "O03"),
                    text("fields", r#"{"hours": "3", "served_on": "2026-01-05"}"#),
                    pdf(),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
            ),
            (
                vec![text("item", "O03"), text("fields", "{oops"), pdf()],
                StatusCode::UNPROCESSABLE_ENTITY,
                "malformed_json",
            ),
            (
                vec![text("item", "Z99"), text("fields", "{}"), pdf()],
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_item",
            ),
            (
                vec![text("fields", hours), pdf()],
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
            ),
            (
                vec![
                    text("item", "O03"),
                    text("fields", hours),
                    pdf(),
                    text("note", "hi"),
                ],
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
            ),
        ];
        for (parts, status, code) in cases {
            assert_problem(submit(&app, &ta, &parts).await, status, code).await;
        }
        let res = app
            .client
            .post(app.url("/api/v1/me/self-reports"))
            .header(AUTHORIZATION, format!("Bearer {ta}"))
            .json(&json!({"item": "O03", "fields": hours}))
            .send()
            .await
            .unwrap();
        assert_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = app
            .client
            .post(app.url("/api/v1/me/self-reports"))
            .header(AUTHORIZATION, format!("Bearer {ta}"))
            .header(CONTENT_TYPE, "multipart/form-data; boundary=xyz")
            .body("--xyz\r\nContent-Disposition: form-data; name=\"item\"\r\n\r\nO03")
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "malformed_multipart").await;
        let (ty, body) = form(&[text("item", "O03"), text("fields", hours), pdf()]);
        let res = app
            .client
            .post(app.url("/api/v1/me/self-reports"))
            .header(CONTENT_TYPE, ty)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        assert_eq!(
            assert_json(
                app.get(&ta, "/api/v1/me/self-reports").await,
                StatusCode::OK
            )
            .await,
            json!([])
        );
        assert_eq!(app.record_count(&a).await, 1, "only the B03");
        assert_eq!(app.stored_score(&a).await, Some(600));
        // The same form, valid, is taken.
        let ok = [
            text("item", "O03"),
            text("fields", hours),
            file("scan.pdf", "application/octet-stream", PDF),
        ];
        assert_json(submit(&app, &ta, &ok).await, StatusCode::CREATED).await;
    })
    .await;
}

/// The agency's side: a reviewer sees every reportable item's queue, reads
/// the evidence and decides (audited with their name), and the report
/// counts at once; an admin and an auditor are refused on each operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_decides_self_reports_and_other_roles_may_not() {
    use chengxin_domain::staff::Role;
    on_each_backend(|app| async move {
        let a = id(73);
        let (_, gov) = app.unit("SX-GOV", &["B03"]).await;
        assert_json(app.push(&gov, &b03("h1", &a)).await, StatusCode::CREATED).await;
        let ta = app.resident_token(&a);
        let parts = [
            text("item", "O02"),
            text("fields", DONATION),
            file("receipt.pdf", "application/pdf", PDF),
        ];
        let r = assert_json(submit(&app, &ta, &parts).await, StatusCode::CREATED).await;
        let rid = r["id"].clone();
        let reviewer = app.staff_token("zhao", Role::Reviewer).await;
        let decide_as = |token: String, body: Value| {
            let app = &app;
            let rid = rid.clone();
            async move {
                app.client
                    .post(app.url(&format!("/api/v1/staff/self-reports/{rid}/decision")))
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        for role in [Role::Admin, Role::Auditor] {
            let t = app.staff_token(role.as_str(), role).await;
            let q = app.get(&t, "/api/v1/staff/self-reports").await;
            assert_problem(q, StatusCode::FORBIDDEN, "role_forbidden").await;
            let d = decide_as(t.clone(), json!({"decision": "verified"})).await;
            assert_problem(d, StatusCode::FORBIDDEN, "role_forbidden").await;
        }
        let q = assert_json(
            app.get(&reviewer, "/api/v1/staff/self-reports").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
        assert_eq!(q[0]["id"], rid);
        let sha = q[0]["evidence"][0]["sha256"].as_str().unwrap().to_owned();
        let f = app
            .get(
                &reviewer,
                &format!("/api/v1/staff/self-reports/{rid}/evidence/{sha}"),
            )
            .await;
        assert_eq!(f.status(), StatusCode::OK);
        assert_eq!(f.bytes().await.unwrap().as_ref(), PDF);
        // A unit's key is no staff session.
        let d = decide_as(gov.clone(), json!({"decision": "verified"})).await;
        assert_eq!(d.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.stored_score(&a).await, Some(600));
        let d = assert_json(
            decide_as(reviewer.clone(), json!({"decision": "verified"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(d["status"], "verified");
        assert!(
            app.stored_score(&a).await > Some(600),
            "{}: counts at once",
            app.backend
        );
        let again = decide_as(
            reviewer.clone(),
            json!({"decision": "rejected", "reason": "重复"}),
        )
        .await;
        assert_problem(again, StatusCode::CONFLICT, "self_report_already_decided").await;
        let log = app
            .run(|ctx| {
                // Entries still pending are sealed into the chain first.
                ctx.store.seal_audit().unwrap();
                let mut tx = ctx.store.read().unwrap();
                tx.audit_entries(0, 100_000).unwrap()
            })
            .await;
        assert!(
            log.iter()
                .any(|e| e.event.actor == "staff:zhao" && e.event.action == "record.verified"),
            "{}: the decision is audited with the reviewer: {:?}",
            app.backend,
            log.iter()
                .map(|e| (&e.event.actor, &e.event.action))
                .collect::<Vec<_>>()
        );
    })
    .await;
}
