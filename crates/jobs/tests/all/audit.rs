//! The audit log catches editing, deleting, reordering and truncating
//! entries; the database refuses changes to it; a rewrite by an insider who
//! holds the database and its data key (but not the audit key) is caught by
//! the signed checkpoints in the log, and a cut tail by a witnessed one.
//! Every test runs on both backends.

use std::sync::Arc;

use chengxin_domain::audit::{
    chain, checkpoint_of, AuditEntry, AuditEvent, Checkpoint, CheckpointError, CHECKPOINT_ACTION,
    CHECKPOINT_EVERY, GENESIS,
};
use chengxin_jobs::audit::{checkpoint, verify, witness, AuditFailure, VerifyReport};
use chengxin_jobs::push::{push_record, Caller};
use chengxin_jobs::{units, Context};
use chengxin_testkit::{backends, id_number, TestDb};

/// A database with a unit, a few pushes, a signed checkpoint in the log,
/// and a few more pushes.
fn populated(db: &TestDb) -> Context {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let (unit, _) =
        units::add_unit(&ctx, "SX-TAX", "绍兴市税务局", &["P01".into()], "test").unwrap();
    for i in 0..6 {
        if i == 4 {
            checkpoint(&ctx).unwrap();
        }
        let id = id_number("330602", "19900101", i);
        let body = format!(
            r#"{{"source_id":"p{i}","item":"P01","id_number":"{}","fields":{{"level":"general","decided_on":"2026-03-01","authority":"a","case_no":"{i}","domain":"tax"}}}}"#,
            id.as_str()
        );
        push_record(
            &ctx,
            Caller {
                unit: &unit,
                request_id: Some("req"),
                client_request_id: None,
            },
            body.as_bytes(),
        )
        .unwrap();
    }
    ctx.store.seal_audit().unwrap();
    ctx
}

fn entries(ctx: &Context) -> Vec<AuditEntry> {
    ctx.store.seal_audit().unwrap();
    ctx.store
        .snapshot()
        .unwrap()
        .audit_entries(0, 1_000_000)
        .unwrap()
}

fn drop_triggers(db: &TestDb) {
    db.execute_sql(match db.backend() {
        "sqlite" => "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;",
        _ => "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log; DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;",
    });
}

fn lit(s: Option<&str>) -> String {
    s.map_or_else(|| "NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

/// Replaces the whole log with `log` and moves the head, with direct SQL.
fn replace_log(db: &TestDb, log: &[AuditEntry]) {
    drop_triggers(db);
    let mut sql = String::from("BEGIN; DELETE FROM audit_log;\n");
    for e in log {
        sql.push_str(&format!(
            "INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
            e.seq,
            lit(Some(&e.at)),
            lit(Some(&e.event.actor)),
            lit(Some(&e.event.action)),
            lit(e.event.subject.as_deref()),
            lit(e.event.person.as_deref()),
            lit(e.event.request_id.as_deref()),
            lit(Some(&e.event.detail.to_string())),
            lit(Some(&e.prev_hash)),
            lit(Some(&e.hash)),
        ));
    }
    let (seq, hash) = log
        .last()
        .map_or((0, GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
    let cp = log
        .iter()
        .rev()
        .find(|e| e.event.action == CHECKPOINT_ACTION)
        .map_or(0, |e| e.seq);
    sql.push_str(&format!(
        "UPDATE audit_head SET seq = {seq}, hash = '{hash}', checkpoint_seq = {cp}; COMMIT;"
    ));
    db.execute_sql(&sql);
}

/// Renumbers and rehashes `log` into a consistent chain, re-signing every
/// checkpoint with `resign` (as an insider would with a key of their own).
fn rechain(log: Vec<AuditEntry>, resign: &ed25519_dalek::SigningKey) -> Vec<AuditEntry> {
    let (mut seq, mut hash) = (0, GENESIS.to_owned());
    let mut out = Vec::new();
    for e in log {
        let mut event = e.event;
        if event.action == CHECKPOINT_ACTION {
            let cp = Checkpoint::sign(resign, seq, &hash, e.at.clone());
            event.detail = serde_json::to_value(&cp).unwrap();
        }
        let c = chain(seq, &hash, e.at, event);
        seq = c.seq;
        hash.clone_from(&c.hash);
        out.push(c);
    }
    out
}

/// The audit key as it was derived from the data key before this change:
/// what an insider holding the data key could compute.
fn key_derived_the_old_way() -> ed25519_dalek::SigningKey {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, &[7u8; 32]);
    let mut seed = [0u8; 32];
    hkdf.expand(b"chengxin v1 ed25519 audit checkpoint key", &mut seed)
        .unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

fn broken_at(r: Result<VerifyReport, AuditFailure>) -> i64 {
    match r {
        Err(AuditFailure::Broken(b)) => b.seq,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_log_verifies_with_and_without_its_checkpoint() {
    for db in backends() {
        let ctx = populated(&db);
        let report = verify(&ctx, None).unwrap();
        assert!(report.entries >= 12, "{report:?}");
        assert_eq!(report.signed_checkpoints, 1, "{report:?}");
        let cp = checkpoint(&ctx).unwrap();
        assert_eq!(cp.size, report.entries, "the checkpoint follows the log");
        let again = verify(&ctx, Some(&cp)).unwrap();
        assert_eq!(again.checkpoint_size, Some(report.entries));
        assert_eq!(again.signed_checkpoints, 2);
    }
}

#[test]
fn the_database_refuses_to_update_or_delete_audit_entries() {
    for db in backends() {
        let _ctx = populated(&db);
        for sql in [
            "UPDATE audit_log SET actor = 'unit:SX-AMR' WHERE seq = 3",
            "DELETE FROM audit_log WHERE seq = 4",
            "DELETE FROM audit_log",
        ] {
            let err = db
                .try_execute_sql(sql)
                .expect_err(&format!("{}: {sql} was allowed", db.backend()));
            assert!(err.contains("append-only"), "{}: {err}", db.backend());
        }
        if db.backend() == "postgres" {
            let err = db.try_execute_sql("TRUNCATE audit_log").unwrap_err();
            assert!(err.contains("append-only"), "{err}");
        }
        assert_eq!(
            db.query_i64("SELECT count(*) FROM audit_log WHERE seq = 4"),
            1
        );
    }
}

#[test]
fn editing_deleting_and_reordering_are_named() {
    for db in backends() {
        let ctx = populated(&db);
        drop_triggers(&db);
        db.execute_sql("UPDATE audit_log SET actor = 'unit:SX-AMR' WHERE seq = 3");
        assert_eq!(broken_at(verify(&ctx, None)), 3, "{}", db.backend());
    }
    for db in backends() {
        let ctx = populated(&db);
        drop_triggers(&db);
        db.execute_sql("DELETE FROM audit_log WHERE seq = 4");
        assert_eq!(broken_at(verify(&ctx, None)), 5, "{}", db.backend());
    }
    for db in backends() {
        let ctx = populated(&db);
        drop_triggers(&db);
        db.execute_sql("UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1;");
        assert_eq!(broken_at(verify(&ctx, None)), 2, "{}", db.backend());
    }
}

/// The attack of issue 7: delete an entry, renumber, rehash the chain and
/// the head, and re-sign the checkpoints with the key derived from the data
/// key as it used to be. `audit verify` alone catches it.
#[test]
fn a_rewritten_middle_is_caught_by_the_checkpoints_in_the_log() {
    for db in backends() {
        let ctx = populated(&db);
        let mut log = entries(&ctx);
        let cp_seq = log
            .iter()
            .find(|e| e.event.action == CHECKPOINT_ACTION)
            .expect("a checkpoint in the log")
            .seq;
        log.remove(1);
        replace_log(&db, &rechain(log, &key_derived_the_old_way()));
        assert_eq!(
            broken_at(verify(&ctx, None)),
            cp_seq - 1,
            "{}: the re-signed checkpoint is named",
            db.backend()
        );
    }
}

/// Removing the checkpoints too does not help: no more than
/// CHECKPOINT_EVERY entries may follow the last signed one.
#[test]
fn a_rewrite_that_strips_the_checkpoints_is_caught() {
    for db in backends() {
        let ctx = populated(&db);
        let mut tx = ctx.store.write().unwrap();
        tx.append_audit(test_events(CHECKPOINT_EVERY + 50));
        tx.commit().unwrap();
        let report = verify(&ctx, None).unwrap();
        assert!(report.signed_checkpoints >= 2, "{report:?}");

        let mut log = entries(&ctx);
        log.remove(1);
        log.retain(|e| e.event.action != CHECKPOINT_ACTION);
        replace_log(&db, &rechain(log, &key_derived_the_old_way()));
        match verify(&ctx, None) {
            Err(AuditFailure::Broken(b)) => {
                assert!(b.reason.contains("no signed checkpoint"), "{b}");
            }
            other => panic!("{}: expected a failure, got {other:?}", db.backend()),
        }
    }
}

fn test_events(n: i64) -> Vec<AuditEvent> {
    (0..n)
        .map(|i| AuditEvent {
            actor: "test".into(),
            action: "test.event".into(),
            subject: Some(format!("n:{i}")),
            person: None,
            request_id: None,
            detail: serde_json::json!({}),
        })
        .collect()
}

/// A checkpoint handed to a witness, co-signed, catches a cut tail even
/// when the head was moved back to match and the entries cut cover no data
/// (a cut of entries that cover data is also caught by the data check).
#[test]
fn a_cut_tail_is_caught_by_a_witnessed_checkpoint() {
    for db in backends() {
        let ctx = populated(&db);
        let mut tx = ctx.store.write().unwrap();
        tx.append_audit(test_events(5));
        tx.commit().unwrap();
        let mut cp = checkpoint(&ctx).unwrap();
        witness(&mut cp, &[42u8; 32]).unwrap();
        assert_eq!(cp.witnesses.len(), 1);
        // The published JSON round-trips and verifies.
        let cp: Checkpoint = serde_json::from_str(&serde_json::to_string(&cp).unwrap()).unwrap();
        assert_eq!(verify(&ctx, Some(&cp)).unwrap().witnesses, 1);

        let mut forged = cp.clone();
        forged.witnesses[0].signed_at = "2020-01-01T00:00:00Z".into();
        assert!(matches!(
            verify(&ctx, Some(&forged)),
            Err(AuditFailure::Checkpoint(CheckpointError::BadCosignature(_)))
        ));

        let log = entries(&ctx);
        replace_log(&db, &log[..(cp.size - 8) as usize]);
        assert!(
            matches!(verify(&ctx, None), Err(AuditFailure::Uncovered(_))),
            "{}",
            db.backend()
        );
        replace_log(&db, &log[..(cp.size - 3) as usize]);
        verify(&ctx, None).expect("the shortened log is consistent in itself");
        assert!(matches!(
            verify(&ctx, Some(&cp)),
            Err(AuditFailure::Checkpoint(CheckpointError::Truncated { .. }))
        ));
    }
}

#[test]
fn a_checkpoint_of_another_key_is_refused_and_a_witness_checks_the_signature() {
    for db in backends() {
        let ctx = populated(&db);
        let cp = checkpoint(&ctx).unwrap();
        let other = Checkpoint::sign(&key_derived_the_old_way(), cp.size, &cp.head, cp.signed_at);
        assert!(matches!(
            verify(&ctx, Some(&other)),
            Err(AuditFailure::Checkpoint(CheckpointError::WrongKey))
        ));
        let mut altered = checkpoint(&ctx).unwrap();
        altered.size -= 1;
        assert!(witness(&mut altered, &[42u8; 32]).is_err());
        let last = entries(&ctx).pop().unwrap();
        assert_eq!(checkpoint_of(&last).unwrap().size, last.seq - 1);
    }
}

/// Every record version and score change in the data tables is covered by
/// an entry; one written or removed behind the log's back is named.
#[test]
fn the_data_tables_are_checked_against_the_log() {
    use chengxin_jobs::uow::Change;
    use chengxin_jobs::{recompute, store_chunk, Target};
    use chengxin_store::Cause;
    for db in backends() {
        let ctx = populated(&db);
        let rows: Vec<_> = (10..15)
            .map(|n| {
                chengxin_testkit::record(
                    "SX-VOL",
                    &format!("v{n}"),
                    id_number("330602", "19800101", n),
                    "王五",
                    "O03",
                    serde_json::json!({"hours": "12.5", "served_on": "2026-01-01", "organisation": "o"}),
                )
            })
            .collect();
        store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
        recompute(
            &ctx,
            Target::Changed,
            jiff::civil::date(2026, 6, 1),
            Cause::Import,
            &(),
        )
        .unwrap();
        let report = verify(&ctx, None).unwrap();
        assert_eq!(report.records_covered, 11, "{}: {report:?}", db.backend());
        assert!(report.changes_covered >= 11, "{}: {report:?}", db.backend());

        db.execute_sql(
            "INSERT INTO score_history (person_id, model_version, model_hash, as_of, eligible, score, grade, cause, changed_at)
             SELECT person_id, model_version, model_hash, as_of, eligible, 999, grade, cause, changed_at
             FROM score_history WHERE person_id = 1",
        );
        match verify(&ctx, None) {
            Err(AuditFailure::Uncovered(what)) => assert!(what.contains("person 1"), "{what}"),
            other => panic!("{}: {other:?}", db.backend()),
        }
        db.execute_sql("DELETE FROM score_history WHERE score = 999");
        verify(&ctx, None).unwrap();

        db.execute_sql(
            "INSERT INTO records (person_id, unit, source_id, version, item, record_date, fields, content_hash, status, received_at)
             SELECT person_id, unit, source_id, version + 1, item, record_date, fields, content_hash, status, received_at
             FROM records WHERE source_id = 'v10'",
        );
        match verify(&ctx, None) {
            Err(AuditFailure::Uncovered(what)) => {
                assert!(what.contains("record version"), "{what}");
            }
            other => panic!("{}: {other:?}", db.backend()),
        }
    }
}
