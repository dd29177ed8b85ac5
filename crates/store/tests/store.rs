//! The store contract, run against every backend (SQLite always, PostgreSQL
//! when configured; CI requires it).

use chengxin_domain::record::RecordStatus;
use chengxin_store::{
    Cause, Change, Inline, ModelStamp, ModelStatus, Outcome, RawPerson, Scan, ScoreRow, ScoreState,
    Store, StoredModel,
};
use chengxin_testkit::{backends, id_number, record};
use jiff::civil::date;
use serde_json::json;

fn stamp() -> ModelStamp {
    ModelStamp {
        version: "2026.1".into(),
        hash: "h".repeat(64),
        as_of: date(2026, 6, 1),
    }
}

/// A stand-in scorer: 500 + 10 per counting record.
fn fake_score(p: &RawPerson) -> ScoreRow {
    ScoreRow {
        person_id: p.id,
        rev: p.rev,
        state: ScoreState {
            eligible: true,
            score: Some(500 + 10 * p.records.len() as i32),
            grade: Some("C".into()),
        },
        reasons: String::new(),
    }
}

fn penalty(source: &str, level: &str, who: u32) -> chengxin_store::NewRecord {
    record(
        "SX-TAX",
        source,
        id_number("330602", "19900101", who),
        "张三",
        "P01",
        json!({"level": level, "decided_on": "2026-03-01", "authority": "绍兴市税务局", "case_no": "1", "domain": "tax"}),
    )
}

fn each(test: impl Fn(&dyn Store)) {
    for db in backends() {
        let store = db.open();
        test(store.as_ref());
    }
}

#[test]
fn accepted_duplicate_corrected() {
    each(|s| {
        let r = s
            .ingest(
                &[penalty("a", "general", 1), penalty("b", "general", 1)],
                &Change::bulk(Cause::Import, "test"),
                None,
            )
            .unwrap();
        assert_eq!(
            r.iter().map(|x| x.outcome).collect::<Vec<_>>(),
            [Outcome::Accepted, Outcome::Accepted]
        );
        assert_eq!(r[0].person_id, r[1].person_id);
        let again = s
            .ingest(
                &[penalty("a", "general", 1)],
                &Change::bulk(Cause::Import, "test"),
                None,
            )
            .unwrap();
        assert_eq!(
            (again[0].outcome, again[0].record_id),
            (Outcome::Duplicate, r[0].record_id)
        );
        let fixed = s
            .ingest(
                &[penalty("a", "serious", 1)],
                &Change::bulk(Cause::Import, "test"),
                None,
            )
            .unwrap();
        assert_eq!(fixed[0].outcome, Outcome::Corrected);
        let recs = s.person_records(r[0].person_id).unwrap();
        assert_eq!(recs.len(), 3);
        let a: Vec<_> = recs.iter().filter(|x| x.source_id == "a").collect();
        assert_eq!((a[0].version, a[0].status), (1, RecordStatus::Corrected));
        assert_eq!((a[1].version, a[1].status), (2, RecordStatus::Active));
        assert_eq!(a[1].fields["level"], "serious");
        // Only the newest version counts.
        let p = s.load_person(r[0].person_id, "2026.1").unwrap().unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.birth_date, date(1990, 1, 1));
        assert_eq!(s.counts().unwrap(), (1, 1));
    });
}

#[test]
fn inline_rescoring_writes_score_and_history() {
    each(|s| {
        s.stage_model(&model("2026.1")).unwrap();
        s.activate_model("2026.1").unwrap();
        let score = |_: &StoredModel, p: &RawPerson| Ok(fake_score(p));
        let inline = Inline {
            as_of: date(2026, 6, 1),
            score: &score,
        };
        let r = s
            .ingest(
                &[penalty("a", "general", 2)],
                &Change::bulk(Cause::Push, "test"),
                Some(&inline),
            )
            .unwrap();
        let pid = r[0].person_id;
        let sc = s.score(pid, "2026.1").unwrap().unwrap();
        assert_eq!(
            (sc.state.score, sc.model_hash.len(), sc.as_of),
            (Some(510), 64, date(2026, 6, 1))
        );
        s.ingest(
            &[penalty("b", "general", 2)],
            &Change::bulk(Cause::Push, "test"),
            Some(&inline),
        )
        .unwrap();
        // Duplicate: no change, no history.
        s.ingest(
            &[penalty("b", "general", 2)],
            &Change::bulk(Cause::Push, "test"),
            Some(&inline),
        )
        .unwrap();
        assert_eq!(
            s.score(pid, "2026.1").unwrap().unwrap().state.score,
            Some(520)
        );
        assert_eq!(s.counts().unwrap(), (1, 0));
        let h = s.score_history(pid).unwrap();
        assert_eq!(
            h.iter().map(|e| e.state.score).collect::<Vec<_>>(),
            [Some(510), Some(520)]
        );
        assert_eq!(h[0].cause, "push");
        // Scores under a staged model stay out of the history until it is published.
        s.stage_model(&model("2027.1")).unwrap();
        let p = s.load_person(pid, "2027.1").unwrap().unwrap();
        let next = ModelStamp {
            version: "2027.1".into(),
            ..stamp()
        };
        assert_eq!(
            s.save_scores(
                &[fake_score(&p)],
                &next,
                &Change::bulk(Cause::ModelPublish, "test")
            )
            .unwrap(),
            1
        );
        assert_eq!(s.score_history(pid).unwrap().len(), 2);
        s.activate_model("2027.1").unwrap();
        assert_eq!(s.score_history(pid).unwrap().len(), 3);
    });
}

#[test]
fn scans_batch_and_stale_scores_are_not_saved() {
    each(|s| {
        let rows: Vec<_> = (0..25)
            .map(|i| penalty(&format!("s{i}"), "general", i))
            .collect();
        s.ingest(&rows, &Change::bulk(Cause::Import, "test"), None)
            .unwrap();
        let mut seen = Vec::new();
        s.scan(
            Scan::Dirty {
                model_version: "2026.1",
            },
            10,
            &mut |batch| {
                assert!(batch.len() <= 10);
                seen.extend(batch);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen.len(), 25);
        assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
        let scores: Vec<ScoreRow> = seen.iter().map(fake_score).collect();
        // Person 0 gets a new record after being read: its score is stale.
        s.ingest(
            &[penalty("late", "general", 0)],
            &Change::bulk(Cause::Import, "test"),
            None,
        )
        .unwrap();
        let changed = s
            .save_scores(&scores, &stamp(), &Change::bulk(Cause::Recompute, "test"))
            .unwrap();
        assert_eq!(changed, 24);
        assert_eq!(s.counts().unwrap(), (25, 1));
        assert!(s.score(seen[0].id, "2026.1").unwrap().is_none());
        // Saving the same scores again changes nothing.
        assert_eq!(
            s.save_scores(
                &scores[1..],
                &stamp(),
                &Change::bulk(Cause::Recompute, "test")
            )
            .unwrap(),
            0
        );
        let mut all = 0;
        s.scan(
            Scan::All {
                model_version: "2026.1",
            },
            7,
            &mut |b| {
                all += b.len();
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(all, 25);
        assert_eq!(
            s.grade_counts("2026.1").unwrap(),
            vec![(Some("C".to_string()), 24)]
        );
    });
}

fn model(version: &str) -> StoredModel {
    StoredModel {
        version: version.into(),
        hash: "h".repeat(64),
        content: "c".into(),
        effective_from: date(2026, 1, 1),
        status: ModelStatus::Staged,
    }
}

#[test]
fn models_stage_then_activate() {
    each(|s| {
        assert!(s.active_model().unwrap().is_none());
        s.stage_model(&model("1")).unwrap();
        assert!(s.active_model().unwrap().is_none());
        s.activate_model("1").unwrap();
        assert_eq!(s.active_model().unwrap().unwrap().version, "1");
        assert!(s.stage_model(&model("1")).is_err());
        s.stage_model(&model("2")).unwrap();
        s.stage_model(&model("2")).unwrap(); // re-staging discards the partial one
        s.activate_model("2").unwrap();
        let all = s.models().unwrap();
        assert_eq!(
            all.iter().map(|m| m.status).collect::<Vec<_>>(),
            [ModelStatus::Retired, ModelStatus::Active]
        );
        assert!(s.activate_model("3").is_err());
    });
}

#[test]
fn identity_round_trips_and_finds() {
    each(|s| {
        let id = id_number("330681", "19851231", 42);
        let r = s
            .ingest(
                &[record(
                    "SX-VOL",
                    "v1",
                    id,
                    "李四",
                    "O03",
                    json!({"hours": "12.5", "served_on": "2026-01-01", "organisation": "o"}),
                )],
                &Change::bulk(Cause::Import, "test"),
                None,
            )
            .unwrap();
        assert_eq!(s.find_person(&id).unwrap(), Some(r[0].person_id));
        assert_eq!(
            s.find_person(&id_number("330681", "19851231", 43)).unwrap(),
            None
        );
        let (back, name) = s.person_identity(r[0].person_id).unwrap();
        assert_eq!((back, name.as_deref()), (id, Some("李四")));
    });
}

#[test]
fn inline_rescoring_scores_under_the_model_in_force_and_a_staged_one() {
    each(|s| {
        s.stage_model(&model("2026.1")).unwrap();
        s.activate_model("2026.1").unwrap();
        // The staged model scores 100 points higher; one that cannot score is skipped.
        let score = |m: &StoredModel, p: &RawPerson| {
            let mut row = fake_score(p);
            match m.version.as_str() {
                "2026.1" => Ok(row),
                "2027.1" => {
                    row.state.score = row.state.score.map(|v| v + 100);
                    Ok(row)
                }
                _ => Err("cannot load".to_owned()),
            }
        };
        let inline = Inline {
            as_of: date(2026, 6, 1),
            score: &score,
        };
        let push = |source: &str, seq| {
            s.ingest(
                &[penalty(source, "general", seq)],
                &Change::bulk(Cause::Push, "test"),
                Some(&inline),
            )
            .unwrap()[0]
                .person_id
        };
        let before = push("a", 2);
        assert!(s.score(before, "2027.1").unwrap().is_none());

        s.stage_model(&model("2027.1")).unwrap();
        let during = push("b", 3);
        let old = s.score(during, "2026.1").unwrap().unwrap();
        let new = s.score(during, "2027.1").unwrap().unwrap();
        assert_eq!((old.state.score, new.state.score), (Some(510), Some(610)));
        assert_eq!(new.model_version, "2027.1");
        assert_eq!(s.counts().unwrap(), (2, 0));

        // A withdrawal is rescored under both as well.
        s.withdraw(
            "SX-TAX",
            "b",
            "entered in error",
            &Change::bulk(Cause::Withdraw, "test"),
            Some(&inline),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            s.score(during, "2027.1").unwrap().unwrap().state.score,
            Some(600)
        );

        // After activation only the model in force (and any newer staged one) is scored.
        s.activate_model("2027.1").unwrap();
        s.stage_model(&model("broken")).unwrap();
        let after = push("c", 4);
        assert_eq!(
            s.score(after, "2027.1").unwrap().unwrap().state.score,
            Some(610)
        );
        assert!(s.score(after, "2026.1").unwrap().is_none());
        assert!(s.score(after, "broken").unwrap().is_none());
    });
}
