//! A resident's own data: score with what-if (checked by really repairing and
//! by really reaching the term's end), history, notifications, records, the
//! access log and the export — every read audited as the resident's.

use std::sync::Arc;

use chengxin_domain::record::{RecordEvent, RecordStatus};
use chengxin_domain::IdNumber;
use chengxin_jobs::audit::{record_read, verify};
use chengxin_jobs::own::{self, WhatIfAction};
use chengxin_jobs::push::{push_record, Caller};
use chengxin_jobs::units::add_unit;
use chengxin_jobs::uow::Change;
use chengxin_jobs::{decisions, explain, store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record};
use jiff::civil::Date;
use jiff::ToSpan;
use serde_json::json;

fn days_ago(n: i64) -> Date {
    chengxin_jobs::today().checked_sub(n.days()).unwrap()
}

/// A resident of Yuecheng with a general penalty 200 days old, a serious
/// one 30 days old, and a running commitment signed 10 days ago.
fn setup(ctx: &Context, id: IdNumber) {
    let rows = vec![
        record(
            "SX-PSB",
            &format!("{}-b03", id.as_str()),
            id,
            "测试甲",
            "B03",
            json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
        ),
        record(
            "SX-TAX",
            &format!("{}-p-general", id.as_str()),
            id,
            "测试甲",
            "P01",
            json!({"level": "general", "decided_on": days_ago(200).to_string(), "authority": "绍兴市税务局", "case_no": "1", "domain": "tax"}),
        ),
        record(
            "SX-TAX",
            &format!("{}-p-serious", id.as_str()),
            id,
            "测试甲",
            "P01",
            json!({"level": "serious", "decided_on": days_ago(30).to_string(), "authority": "绍兴市税务局", "case_no": "2", "domain": "tax"}),
        ),
        record(
            "SX-TAX",
            &format!("{}-p-minor", id.as_str()),
            id,
            "测试甲",
            "P01",
            json!({"level": "minor", "decided_on": days_ago(30).to_string(), "authority": "绍兴市税务局", "case_no": "3", "domain": "tax"}),
        ),
        record(
            "resident",
            &format!("{}-c1", id.as_str()),
            id,
            "测试甲",
            "C01",
            json!({"template": "T03", "signed_on": days_ago(10).to_string()}),
        ),
    ];
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    let today = chengxin_jobs::today();
    chengxin_jobs::recompute(
        ctx,
        chengxin_jobs::Target::Changed,
        today,
        Cause::Import,
        &(),
    )
    .unwrap();
}

fn score_of(ctx: &Context, id: &IdNumber, as_of: Date) -> Option<i32> {
    explain(ctx, id, as_of).unwrap().unwrap().evaluation().score
}

#[test]
fn what_if_equals_the_score_after_really_repairing_or_fulfilling() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let id = id_number("330602", "19800101", 1);
        setup(&ctx, id);
        let today = chengxin_jobs::today();
        let own = own::score(&ctx, &id, today, Some("r1")).unwrap();
        let json = own.json();
        assert_eq!(json["score"], json!(score_of(&ctx, &id, today)), "{json}");
        assert!(json["what_if"].is_array());
        let repairs: Vec<_> = own
            .what_if
            .iter()
            .filter(|w| w.action == WhatIfAction::Repair)
            .collect();
        // The minor penalty is not published and needs no repair.
        assert_eq!(repairs.len(), 2, "{:?}", own.what_if);
        for w in &repairs {
            assert!(w.repairable_from.is_some());
            assert_eq!(w.needs_commitment, Some(false), "a commitment is running");
        }
        let fulfil: Vec<_> = own
            .what_if
            .iter()
            .filter(|w| w.action == WhatIfAction::Fulfil)
            .collect();
        assert_eq!(fulfil.len(), 1, "{:?}", own.what_if);
        // Fulfilling: the score on the day the term ends.
        let end = fulfil[0].fulfilled_on.unwrap();
        assert_eq!(fulfil[0].score_after, score_of(&ctx, &id, end));

        // Repairing each line's record, for real (each on a person of its
        // own: repair is final), gives the score the what-if said.
        for k in 0..repairs.len() {
            let other = id_number("330602", "19800101", 100 + k as u32);
            setup(&ctx, other);
            let w = own::score(&ctx, &other, today, None)
                .unwrap()
                .what_if
                .into_iter()
                .filter(|w| w.action == WhatIfAction::Repair)
                .nth(k)
                .unwrap();
            let before = score_of(&ctx, &other, today);
            decisions::decide(
                &ctx,
                w.record_id,
                RecordEvent::Repair,
                Some("test"),
                "staff:test",
                None,
            )
            .unwrap()
            .unwrap();
            assert_eq!(score_of(&ctx, &other, today), w.score_after, "{w:?}");
            assert_ne!(before, w.score_after, "repair changes the score");
        }
    }
}

#[test]
fn history_notifications_records_and_access_log() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let (unit, _key) = add_unit(
            &ctx,
            "SX-TAX",
            "绍兴市税务局",
            &["P01".to_owned()],
            "operator:test",
        )
        .unwrap();
        let id = id_number("330602", "19800101", 2);
        setup(&ctx, id);
        let today = chengxin_jobs::today();
        let body = json!({"id_number": id.as_str(), "name": "测试甲", "item": "P01", "source_id": "p-new",
            "fields": {"level": "general", "decided_on": days_ago(1).to_string(), "authority": "绍兴市税务局", "case_no": "9", "domain": "tax"}});
        let receipt = push_record(
            &ctx,
            Caller {
                unit: &unit,
                request_id: Some("push-1"),
                client_request_id: None,
            },
            body.to_string().as_bytes(),
        )
        .unwrap();

        let history = own::history(&ctx, &id, None).unwrap();
        assert_eq!(history.len(), 2, "{history:?}");
        assert_eq!(history[1].cause, Cause::Push);
        assert!(history[1].score < history[0].score);

        let notes = own::notifications(&ctx, &id, None).unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].kind, Cause::Push, "newest first");
        assert_eq!(notes[1].score_before, None);
        assert_eq!(notes[0].score_before, history[0].score);
        assert_eq!(notes[0].score_after, history[1].score);
        let (b, a) = (history[0].score.unwrap(), history[1].score.unwrap());
        assert!(
            notes[0].text_zh.contains(&format!("由{b}分变为{a}分")),
            "{}",
            notes[0].text_zh
        );
        assert!(notes[0].text_en.contains(&format!("from {b} to {a}")));

        let records = own::records(&ctx, &id, today, None).unwrap();
        assert_eq!(records.len(), 6);
        let pushed = records.iter().find(|r| r.id == receipt.record_id).unwrap();
        assert_eq!(pushed.state, RecordStatus::Active);
        assert!(pushed.counts);
        assert_eq!(pushed.unit_name.as_deref(), Some("绍兴市税务局"));

        // An operator reads the person; the resident sees that and the push,
        // never their own reads.
        let x = explain(&ctx, &id, today).unwrap().unwrap();
        record_read(
            &ctx,
            "operator:wang",
            &x.index,
            x.person_id,
            None,
            "score explanation",
        )
        .unwrap();
        let log = own::access_log(&ctx, &id, 100, None).unwrap();
        assert!(
            log.iter().all(|a| !a.actor.starts_with("resident:")),
            "{log:?}"
        );
        let kinds: Vec<(&str, &str)> = log
            .iter()
            .map(|a| (a.actor_kind.as_str(), a.action.as_str()))
            .collect();
        assert_eq!(kinds[0], ("operator", "person.read"), "{log:?}");
        assert!(log[0].purpose.contains("score explanation"));
        // The resident's own reads, however many, never crowd others out of
        // a short answer.
        for _ in 0..5 {
            own::score(&ctx, &id, today, None).unwrap();
        }
        let newest = own::access_log(&ctx, &id, 1, None).unwrap();
        assert_eq!(newest.len(), 1, "{newest:?}");
        assert_eq!(newest[0].actor_kind, "operator");
        let push = log
            .iter()
            .find(|a| a.action == "record.accepted")
            .expect("the push");
        assert_eq!(push.actor_kind, "unit");
        assert!(push.actor.contains("绍兴市税务局"), "{push:?}");

        let export = own::export(&ctx, &id, today, None).unwrap();
        assert_eq!(export["id_number"], json!(id.as_str()));
        assert_eq!(export["name"], json!("测试甲"));
        assert_eq!(export["records"].as_array().unwrap().len(), 6);
        assert_eq!(export["history"].as_array().unwrap().len(), 2);
        assert_eq!(
            export["commitments"].as_array().unwrap().len(),
            1,
            "{export}"
        );
        assert_eq!(export["self_reports"], json!([]));
        assert!(!export["access_log"].as_array().unwrap().is_empty());
        verify(&ctx, None).unwrap();
    }
}

#[test]
fn every_own_read_is_one_audit_entry_also_for_an_unknown_person() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let known = id_number("330602", "19800101", 3);
        setup(&ctx, known);
        let unknown = id_number("330602", "19900101", 4);
        let today = chengxin_jobs::today();
        for id in [known, unknown] {
            let before = verify(&ctx, None).unwrap().entries;
            own::score(&ctx, &id, today, Some("req")).unwrap();
            own::history(&ctx, &id, None).unwrap();
            own::notifications(&ctx, &id, None).unwrap();
            own::records(&ctx, &id, today, None).unwrap();
            own::access_log(&ctx, &id, 10, None).unwrap();
            own::export(&ctx, &id, today, None).unwrap();
            assert_eq!(
                verify(&ctx, None).unwrap().entries,
                before + 6,
                "{}",
                id.masked()
            );
        }
        let s = own::score(&ctx, &unknown, today, None).unwrap();
        assert!(s.explained.is_none());
        assert_eq!(s.json()["eligible"], json!(false));
        assert_eq!(
            s.json()["reasons"][0]["code"],
            json!("NOT_RESIDENT"),
            "{}",
            s.json()
        );
        let e = own::export(&ctx, &unknown, today, None).unwrap();
        assert_eq!(e["held"], json!(false));
    }
}

/// The answer of `GET /me/score` is written straight from the evaluation
/// (no `serde_json::Value` tree): byte for byte what the tree gave, the
/// explanation of `chengxin score --json` plus `what_if`, for a synthetic
/// population, a resident with repairable records and a running
/// commitment, and a person the platform does not know.
#[test]
fn the_score_answer_is_byte_for_byte_the_explanation_plus_what_if() {
    let as_of = chengxin_jobs::today();
    let mut data = Vec::new();
    chengxin_synth::generate(
        &chengxin_synth::GenerateOptions {
            residents: 150,
            seed: 11,
            as_of: days_ago(30),
        },
        &mut data,
    )
    .unwrap();
    let mut ids: Vec<IdNumber> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let j: serde_json::Value = serde_json::from_slice(l).unwrap();
            IdNumber::parse(j["id_number"].as_str().unwrap()).unwrap()
        })
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let opts = chengxin_jobs::ImportOptions {
            format: chengxin_ingest::Format::Jsonl,
            chunk: 97,
            errors: None,
            as_of: days_ago(30),
        };
        chengxin_jobs::import(&ctx, std::io::Cursor::new(data.clone()), opts, &()).unwrap();
        let mine = id_number("330602", "19800101", 7);
        setup(&ctx, mine);
        let unknown = id_number("330602", "19900101", 9);
        let mut with_what_if = 0;
        for id in ids.iter().chain([&mine, &unknown]) {
            let (own, _) = own::evaluate(&ctx, id, as_of).unwrap();
            let tree = match explain(&ctx, id, as_of).unwrap() {
                Some(x) => {
                    let mut v = x.json(id);
                    v["what_if"] = serde_json::to_value(own::what_if(&ctx, &x)).unwrap();
                    v
                }
                None => {
                    let scorer = ctx.active(&mut *ctx.store.read().unwrap()).unwrap();
                    let input = chengxin_domain::record::PersonInput {
                        birth_date: id.birth_date(),
                        records: Vec::new(),
                    };
                    let mut v =
                        serde_json::to_value(scorer.engine.evaluate(&input, as_of)).unwrap();
                    v["id_number_masked"] = json!(id.masked());
                    v["stored"] = serde_json::Value::Null;
                    v["what_if"] = json!([]);
                    v
                }
            };
            if tree["what_if"].as_array().is_some_and(|w| !w.is_empty()) {
                with_what_if += 1;
            }
            let expected = serde_json::to_vec(&tree).unwrap();
            assert_eq!(
                String::from_utf8_lossy(own.body()),
                String::from_utf8_lossy(&expected),
                "{}",
                id.masked()
            );
        }
        assert!(with_what_if >= 1, "some answer has what-if lines");
    }
}
