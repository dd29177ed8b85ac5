//! Credit repair (信用修复) over HTTP on every backend: the options with
//! their dates, each refusal (too early by one day, no commitment, a minor
//! penalty, an honour, another person's record, a second pending
//! application), a reviewer's approval moving the score at once with the
//! cause `repaired` in the history and notifications, a rejection's reason
//! shown to the resident, an auditor refused, and a correction of the
//! repaired case staying repaired.

use chengxin_domain::dates::add_months;
use chengxin_domain::staff::Role;
use chengxin_jobs::staff;
use jiff::civil::Date;
use jiff::ToSpan;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_json, assert_problem, b03, id, on_each_backend, TestApp};

const PW: &str = "correct horse battery";

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
    let body = assert_json(res, StatusCode::CREATED).await;
    body["token"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A decision date whose repair opens `months` later on `target` — or, on
/// the few days month ends make unreachable, the nearest date opening on
/// or before it (`on_or_before`) or after it.
fn decided_for(months: i32, target: Date, on_or_before: bool) -> Date {
    let today = chengxin_jobs::today();
    let days = (0..800).map(|n| today.checked_sub(n.days()).unwrap());
    let mut fitting: Vec<Date> = days
        .filter(|d| {
            let from = add_months(*d, months);
            if on_or_before {
                from <= target
            } else {
                from >= target
            }
        })
        .collect();
    fitting.sort();
    if on_or_before {
        *fitting.last().unwrap()
    } else {
        *fitting.first().unwrap()
    }
}

fn p01(source: &str, who: &str, level: &str, on: Date) -> Value {
    json!({"source_id": source, "item": "P01", "id_number": who, "name": "张三",
           "fields": {"level": level, "decided_on": on.to_string(), "authority": "绍兴市税务局",
                      "case_no": source, "domain": "tax"}})
}

/// The resident's record ids by source case number (`case_no` or `title`).
async fn record_ids(app: &TestApp, token: &str) -> Vec<(String, i64, String)> {
    let list = assert_json(app.get(token, "/api/v1/me/records").await, StatusCode::OK).await;
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let key = r["fields"]["case_no"]
                .as_str()
                .or(r["fields"]["title"].as_str())?;
            Some((
                key.to_owned(),
                r["id"].as_i64().unwrap(),
                r["state"].as_str().unwrap().to_owned(),
            ))
        })
        .collect()
}

fn id_for(ids: &[(String, i64, String)], key: &str) -> i64 {
    ids.iter().rev().find(|(k, ..)| k == key).unwrap().1
}

async fn score(app: &TestApp, token: &str) -> i64 {
    let s = assert_json(app.get(token, "/api/v1/me/score").await, StatusCode::OK).await;
    s["score"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_end_to_end_with_every_refusal() {
    on_each_backend(|app| async move {
        let (a, b) = (id(81), id(82));
        let (_, gov) = app.unit("SX-GOV", &["B03", "P01", "O01"]).await;
        let today = chengxin_jobs::today();
        let tomorrow = today.tomorrow().unwrap();
        let general_day = decided_for(3, today, true);
        let general_early = decided_for(3, tomorrow, false);
        let serious_day = decided_for(12, today, true);
        let serious_early = decided_for(12, tomorrow, false);
        let pushes = [
            b03("h1", &a),
            b03("h2", &b),
            p01("g-day", &a, "general", general_day),
            p01("g-early", &a, "general", general_early),
            p01("s-day", &a, "serious", serious_day),
            p01("s-early", &a, "serious", serious_early),
            p01("minor", &a, "minor", general_day),
            p01("b-g", &b, "general", general_day),
            json!({"source_id": "honour", "item": "O01", "id_number": a, "name": "张三",
                   "fields": {"level": "city", "title": "honour", "awarded_on": general_day.to_string()}}),
        ];
        for p in &pushes {
            assert_json(app.push(&gov, p).await, StatusCode::CREATED).await;
        }
        let (ta, tb) = (app.resident_token(&a), app.resident_token(&b));
        let ids = record_ids(&app, &ta).await;
        let (g_day, g_early, s_day, s_early) = (
            id_for(&ids, "g-day"),
            id_for(&ids, "g-early"),
            id_for(&ids, "s-day"),
            id_for(&ids, "s-early"),
        );
        let (minor, honour) = (id_for(&ids, "minor"), id_for(&ids, "honour"));
        let others = id_for(&record_ids(&app, &tb).await, "b-g");

        // Options: the four general and serious penalties with their dates,
        // none eligible yet (no commitment); not the minor one nor the honour.
        let opts = assert_json(app.get(&ta, "/api/v1/me/repairs/options").await, StatusCode::OK).await;
        let expect = |rid: i64, level: &str, on: Date, months: i32| {
            json!({"record_id": rid, "item": "P01", "level": level,
                   "repairable_from": add_months(on, months).to_string(),
                   "needs_commitment": true, "eligible_now": false})
        };
        assert_eq!(
            opts,
            json!([
                expect(g_day, "general", general_day, 3),
                expect(g_early, "general", general_early, 3),
                expect(s_day, "serious", serious_day, 12),
                expect(s_early, "serious", serious_early, 12),
            ]),
            "{}",
            app.backend
        );
        eprintln!("general on the day: decided {general_day}, repairable {}", add_months(general_day, 3));

        let apply = |rid: i64| json!({"record_id": rid, "statement": "已缴清罚款并完成整改"});
        let repairs = "/api/v1/me/repairs";
        // Too early (the day before) comes before the missing commitment.
        for rid in [g_early, s_early] {
            assert_problem(post(&app, &ta, repairs, &apply(rid)).await, StatusCode::UNPROCESSABLE_ENTITY, "repair_too_early").await;
        }
        assert_problem(post(&app, &ta, repairs, &apply(g_day)).await, StatusCode::UNPROCESSABLE_ENTITY, "repair_needs_commitment").await;
        for rid in [minor, honour] {
            assert_problem(post(&app, &ta, repairs, &apply(rid)).await, StatusCode::UNPROCESSABLE_ENTITY, "record_not_repairable").await;
        }
        assert_problem(post(&app, &ta, repairs, &apply(others)).await, StatusCode::NOT_FOUND, "record_not_found").await;
        assert_problem(post(&app, &ta, repairs, &json!({"record_id": g_day})).await, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
        assert_problem(post(&app, &ta, repairs, &json!({"record_id": "x", "statement": "s"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;

        // A commitment: on the day, the application is accepted.
        assert_json(post(&app, &ta, "/api/v1/me/commitments", &json!({"template": "T01"})).await, StatusCode::CREATED).await;
        let opts = assert_json(app.get(&ta, "/api/v1/me/repairs/options").await, StatusCode::OK).await;
        assert_eq!(opts[0]["eligible_now"], true, "{opts}");
        assert_eq!(opts[1]["eligible_now"], false, "{opts}");
        let g = assert_json(post(&app, &ta, repairs, &apply(g_day)).await, StatusCode::CREATED).await;
        assert_eq!(g["status"], "pending");
        assert_eq!(g.as_object().unwrap().len(), 2, "{g}");
        assert_problem(post(&app, &ta, repairs, &apply(g_day)).await, StatusCode::CONFLICT, "repair_already_pending").await;
        let s = assert_json(post(&app, &ta, repairs, &apply(s_day)).await, StatusCode::CREATED).await;
        let (g, s) = (g["id"].as_i64().unwrap(), s["id"].as_i64().unwrap());
        assert_problem(post(&app, &tb, repairs, &apply(g_day)).await, StatusCode::NOT_FOUND, "record_not_found").await;

        // Staff: an auditor may neither list nor decide; a reviewer may.
        let li = staff_token(&app, "li", Role::Auditor).await;
        let wang = staff_token(&app, "wang", Role::Reviewer).await;
        let decide = |id: i64| format!("/api/v1/staff/repairs/{id}/decision");
        assert_problem(app.get(&li, "/api/v1/staff/repairs").await, StatusCode::FORBIDDEN, "role_forbidden").await;
        assert_problem(post(&app, &li, &decide(g), &json!({"decision": "approved"})).await, StatusCode::FORBIDDEN, "role_forbidden").await;
        let queue = assert_json(app.get(&wang, "/api/v1/staff/repairs?status=pending").await, StatusCode::OK).await;
        let queued: Vec<i64> = queue.as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
        assert_eq!(queued, [g, s]);
        assert!(queue[0]["id_number"].as_str().unwrap().contains('*'));
        assert_problem(app.get(&wang, "/api/v1/staff/repairs?status=maybe").await, StatusCode::BAD_REQUEST, "bad_request").await;

        // Approval: −20 stops counting at once; the history says why.
        let before = score(&app, &ta).await;
        let d = assert_json(post(&app, &wang, &decide(g), &json!({"decision": "approved"})).await, StatusCode::OK).await;
        assert_eq!(d, json!({"id": g, "status": "approved"}));
        assert_eq!(score(&app, &ta).await, before + 20, "{}", app.backend);
        assert_eq!(app.stored_score(&a).await, Some(i32::try_from(before + 20).unwrap()));
        let history = assert_json(app.get(&ta, "/api/v1/me/history").await, StatusCode::OK).await;
        let last = history.as_array().unwrap().last().unwrap();
        assert_eq!((last["cause"].as_str(), last["score"].as_i64()), (Some("repaired"), Some(before + 20)));
        let notes = assert_json(app.get(&ta, "/api/v1/me/notifications").await, StatusCode::OK).await;
        assert_eq!(notes[0]["kind"], "repaired");
        assert!(notes[0]["text_zh"].as_str().unwrap().contains("信用修复"), "{notes}");
        assert!(notes[0]["text_en"].as_str().unwrap().contains("credit repair"), "{notes}");
        let ids = record_ids(&app, &ta).await;
        assert!(ids.iter().any(|(k, r, st)| k == "g-day" && *r == g_day && st == "repaired"), "{ids:?}");

        // Rejection: a reason is required, and shown to the resident.
        assert_problem(post(&app, &wang, &decide(s), &json!({"decision": "rejected"})).await, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
        let d = assert_json(post(&app, &wang, &decide(s), &json!({"decision": "rejected", "reason": "整改材料不全"})).await, StatusCode::OK).await;
        assert_eq!(d["status"], "rejected");
        assert_eq!(score(&app, &ta).await, before + 20);
        assert_problem(post(&app, &wang, &decide(s), &json!({"decision": "approved"})).await, StatusCode::CONFLICT, "repair_already_decided").await;
        assert_problem(post(&app, &wang, &decide(999_999), &json!({"decision": "approved"})).await, StatusCode::NOT_FOUND, "repair_not_found").await;
        let mine = assert_json(app.get(&ta, repairs).await, StatusCode::OK).await;
        let shown: Vec<(i64, &str, Option<&str>)> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["id"].as_i64().unwrap(), m["status"].as_str().unwrap(), m["reason"].as_str()))
            .collect();
        assert_eq!(shown, [(g, "approved", None), (s, "rejected", Some("整改材料不全"))]);
        let theirs = assert_json(app.get(&tb, repairs).await, StatusCode::OK).await;
        assert_eq!(theirs, json!([]));
        let export = assert_json(app.get(&ta, "/api/v1/me/export").await, StatusCode::OK).await;
        assert_eq!(export["repairs"].as_array().map(Vec::len), Some(2), "{export}");

        // The unit's later correction of the repaired case stays repaired.
        let mut corrected = p01("g-day", &a, "general", general_day);
        corrected["fields"]["authority"] = json!("绍兴市税务局（更正）");
        let r = assert_json(app.push(&gov, &corrected).await, StatusCode::CREATED).await;
        assert_eq!(r["outcome"], "corrected");
        let ids = record_ids(&app, &ta).await;
        let newest = ids.iter().filter(|(k, ..)| k == "g-day").max_by_key(|(_, r, _)| *r).unwrap();
        assert!(newest.1 != g_day && newest.2 == "repaired", "{ids:?}");
        assert_eq!(score(&app, &ta).await, before + 20);
    })
    .await;
}
