//! Pushes score under the models the store has, not the one a long-running
//! process loaded at start: a push while a model is being published reaches
//! the staged model too, and after the publish a server that was started
//! before it scores under the new model.

use std::sync::Arc;

use chengxin_domain::IdNumber;
use chengxin_jobs::push::{push_record, withdraw, Caller};
use chengxin_jobs::units::{self, Unit};
use chengxin_jobs::{explain, recompute, Context, Target};
use chengxin_store::{Cause, ModelStatus, StoredModel};
use chengxin_testkit::{backends, candidate_model, id_number};

fn push(ctx: &Context, unit: &Unit, body: String) {
    let caller = Caller {
        unit,
        request_id: Some("req"),
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

/// The stored score under `version`, and the one computed afresh by a new
/// process (which loads the model in force).
fn stored_and_fresh(ctx: &Context, id: IdNumber, version: &str) -> (Option<i32>, Option<i32>) {
    let fresh = Context::new(ctx.store.clone()).unwrap();
    assert_eq!(fresh.engine.model().version(), version);
    let e = explain(&fresh, &id, chengxin_jobs::today())
        .unwrap()
        .unwrap();
    let stored = ctx
        .store
        .score(e.person_id, version)
        .unwrap()
        .and_then(|s| s.state.score);
    (stored, e.evaluation.score)
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

        // The operator publishes from another process: stage, score everyone...
        let model = chengxin_domain::Model::parse(&candidate_model(), &server.catalogue).unwrap();
        let next =
            Context::with_model(server.store.clone(), server.catalogue.clone(), &model).unwrap();
        server
            .store
            .stage_model(&StoredModel {
                version: "2027.1".into(),
                hash: model.hash.clone(),
                content: candidate_model(),
                effective_from: chengxin_jobs::today(),
                status: ModelStatus::Staged,
            })
            .unwrap();
        recompute(
            &next,
            Target::Everyone,
            chengxin_jobs::today(),
            Cause::ModelPublish,
            &(),
        )
        .unwrap();
        let pid = server.store.find_person(&id).unwrap().unwrap();
        let staged_before = server
            .store
            .score(pid, "2027.1")
            .unwrap()
            .and_then(|s| s.state.score);
        assert!(staged_before.is_some());
        // ...a unit pushes a penalty before the model is put in force...
        penalty(&server, &unit, id, 1);
        // ...and the model is put in force.
        server.store.activate_model("2027.1").unwrap();

        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert!(fresh.is_some());
        assert_eq!(
            stored, fresh,
            "{}: the staged score missed the push",
            db.url
        );
        assert!(stored < staged_before, "{}: the penalty counts", db.url);

        // The server, still holding the old engine, now scores under the new model.
        let old_before = server
            .store
            .score(pid, "2026.1")
            .unwrap()
            .and_then(|s| s.state.score);
        penalty(&server, &unit, id, 2);
        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert_eq!(stored, fresh, "{}: a push after the publish", db.url);
        let old_after = server
            .store
            .score(pid, "2026.1")
            .unwrap()
            .and_then(|s| s.state.score);
        assert_eq!(
            old_before, old_after,
            "{}: the retired model is not written",
            db.url
        );

        let caller = Caller {
            unit: &unit,
            request_id: None,
        };
        withdraw(&server, caller, "p2", "entered in error").unwrap();
        let (stored, fresh) = stored_and_fresh(&server, id, "2027.1");
        assert_eq!(stored, fresh, "{}: a withdrawal after the publish", db.url);
    }
}
