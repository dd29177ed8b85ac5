//! Scores never go stale silently: pushes score under the models the store
//! has (not one loaded at start), rescoring marks are kept per person and
//! model, so a publish that dies or an import that races a publish leaves
//! every stored score either current or marked.

use std::sync::Arc;

use chengxin_domain::record::NewRecord;
use chengxin_domain::IdNumber;
use chengxin_jobs::push::{push_record, withdraw, Caller};
use chengxin_jobs::units::{self, Unit};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{
    activate, explain, model_in_force, recompute, stage_and_score, store_chunk, Context, Target,
};
use chengxin_store::Cause;
use chengxin_testkit::{backends, candidate_model, id_number, record};
use jiff::civil::{date, Date};
use serde_json::json;

fn push(ctx: &Context, unit: &Unit, body: String) {
    let caller = Caller {
        unit,
        request_id: Some("req"),
        client_request_id: None,
    };
    push_record(ctx, caller, body.as_bytes()).unwrap();
}

fn penalty(ctx: &Context, unit: &Unit, id: IdNumber, case: u32) {
    push(
        ctx,
        unit,
        format!(
            r#"{{"source_id":"p{case}","item":"P01","id_number":"{}","fields":{{"level":"general","decided_on":"2026-03-01","authority":"a","case_no":"{case}","domain":"tax"}}}}"#,
            id.as_str()
        ),
    );
}

/// The stored score under the model in force (which must be `version`), and
/// the one computed afresh from the stored records.
fn stored_and_fresh(ctx: &Context, id: IdNumber, version: &str) -> (Option<i32>, Option<i32>) {
    let e = explain(ctx, &id, chengxin_jobs::today()).unwrap().unwrap();
    assert_eq!(e.model.version, version);
    (
        e.stored.as_ref().and_then(|s| s.state.score),
        e.evaluation().score,
    )
}

#[test]
fn a_push_during_a_publish_and_after_it_scores_under_the_new_model() {
    for db in backends() {
        // The server's context, made before anything is published.
        let server = Context::new(Arc::from(db.open())).unwrap();
        let items = ["B01", "B03", "P01"].map(String::from);
        let (unit, _) = units::add_unit(&server, "SX-TEST", "测试单位", &items, "test").unwrap();
        let id = id_number("330602", "19800101", 1);
        push(
            &server,
            &unit,
            format!(
                r#"{{"source_id":"h1","item":"B03","id_number":"{}","fields":{{"region_code":"330602","registered_on":"1980-01-01","active":true}}}}"#,
                id.as_str()
            ),
        );
        push(
            &server,
            &unit,
            format!(
                r#"{{"source_id":"e1","item":"B01","id_number":"{}","fields":{{"score":845,"evaluated_on":"2026-10-01"}}}}"#,
                id.as_str()
            ),
        );
        let (before, _) = stored_and_fresh(&server, id, "2026.1");

        // The operator publishes from another process: stage, score everyone...
        let today = chengxin_jobs::today();
        stage_and_score(&server, &candidate_model(), today, today, &()).unwrap();
        // ...a unit pushes a penalty before the model is put in force...
        penalty(&server, &unit, id, 1);
        // ...and the model is put in force.
        activate(&server, "2027.1", today).unwrap();

        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert!(fresh.is_some());
        assert_eq!(
            stored, fresh,
            "{}: the staged score missed the push",
            db.url
        );
        assert!(
            stored < before.map(|b| b + 10),
            "{}: the penalty counts",
            db.url
        );

        // The server's context, made before the publish, scores under the new model.
        penalty(&server, &unit, id, 2);
        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert_eq!(stored, fresh, "{}: a push after the publish", db.url);

        let caller = Caller {
            unit: &unit,
            request_id: None,
            client_request_id: None,
        };
        withdraw(&server, caller, "p2", "entered in error").unwrap();
        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert_eq!(stored, fresh, "{}: a withdrawal after the publish", db.url);
    }
}

const AS_OF: Date = date(2026, 11, 1);

/// People with a residence, a provincial evaluation and (odd ones) a penalty.
fn people(from: u32, n: u32, unit: &str) -> Vec<NewRecord> {
    let mut rows = Vec::new();
    for i in from..from + n {
        let id = id_number("330602", "19800101", i);
        rows.push(record(
            unit,
            &format!("h{i}"),
            id,
            "某人",
            "B03",
            json!({"region_code": "330602", "registered_on": "1990-01-01", "active": true}),
        ));
        rows.push(record(
            unit,
            &format!("e{i}"),
            id,
            "某人",
            "B01",
            json!({"score": 800 + i % 50, "evaluated_on": "2026-06-01"}),
        ));
        if i % 2 == 1 {
            rows.push(record(
                unit,
                &format!("p{i}"),
                id,
                "某人",
                "P01",
                json!({"level": "serious", "decided_on": "2026-03-01", "authority": "a", "case_no": "1", "domain": "tax"}),
            ));
        }
    }
    rows
}

fn bulk() -> Change<'static> {
    Change::bulk(Cause::Import, "test")
}

/// Every stored score under the model in force equals a fresh computation.
fn assert_current(ctx: &Context, what: &str) {
    let version = model_in_force(ctx).unwrap().version;
    let (_, marked) = ctx.store.read().unwrap().counts(&version).unwrap();
    assert_eq!(marked, 0, "{what}: people left marked under {version}");
    let r = recompute(ctx, Target::Everyone, AS_OF, Cause::Recompute, &()).unwrap();
    assert_eq!(r.changed, 0, "{what}: stored scores were stale");
}

#[test]
fn a_publish_that_dies_leaves_the_marks_the_model_in_force_needs() {
    for db in backends() {
        let c = Context::new(Arc::from(db.open())).unwrap();
        store_chunk(&c, &people(0, 20, "SX"), &bulk()).unwrap();
        recompute(&c, Target::Changed, AS_OF, Cause::Import, &()).unwrap();
        // New records arrive in bulk: their people are marked, not yet rescored.
        store_chunk(&c, &people(20, 10, "SX"), &bulk()).unwrap();
        let (_, marked) = c.store.read().unwrap().counts("2026.1").unwrap();
        assert_eq!(marked, 10);
        // A publish scores everyone under the new model, then dies.
        stage_and_score(&c, &candidate_model(), AS_OF, AS_OF, &()).unwrap();
        let (_, marked) = c.store.read().unwrap().counts("2026.1").unwrap();
        assert_eq!(
            marked, 10,
            "{}: the staged model's scoring took the marks",
            db.url
        );
        recompute(&c, Target::Changed, AS_OF, Cause::Recompute, &()).unwrap();
        assert_current(&c, &db.url);
    }
}

#[test]
fn an_import_racing_a_publish_leaves_no_stale_score() {
    for db in backends() {
        let c = Context::new(Arc::from(db.open())).unwrap();
        store_chunk(&c, &people(0, 20, "SX"), &bulk()).unwrap();
        recompute(&c, Target::Changed, AS_OF, Cause::Import, &()).unwrap();
        // The publish stages and scores everyone...
        stage_and_score(&c, &candidate_model(), AS_OF, AS_OF, &()).unwrap();
        // ...an import stores a chunk meanwhile (new people and corrections)...
        let mut rows = people(20, 10, "SX");
        rows.extend(people(0, 5, "SX2"));
        store_chunk(&c, &rows, &bulk()).unwrap();
        // ...the publish puts its model in force...
        activate(&c, "2027.1", AS_OF).unwrap();
        // ...and the import ends by rescoring what changed under the models
        // in play now, not the one it started with.
        recompute(&c, Target::Changed, AS_OF, Cause::Import, &()).unwrap();
        assert_current(&c, &db.url);
    }
}
