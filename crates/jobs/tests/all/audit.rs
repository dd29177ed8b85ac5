//! The audit log catches editing, deleting, reordering and truncating
//! entries, and wholesale rewriting once a checkpoint was handed out.

use std::sync::Arc;

use chengxin_domain::audit::{chain, AuditEvent, GENESIS};
use chengxin_jobs::audit::{checkpoint, verify, AuditFailure};
use chengxin_jobs::push::{push_record, Caller};
use chengxin_jobs::{units, Context};
use chengxin_testkit::{id_number, TestDb};
use rusqlite::{params, Connection};

/// A database with a unit, a few pushes and their audit entries.
fn populated() -> (TestDb, Context) {
    let db = TestDb::sqlite();
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let (unit, _) =
        units::add_unit(&ctx, "SX-TAX", "绍兴市税务局", &["P01".into()], "test").unwrap();
    for i in 0..4 {
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
    (db, ctx)
}

fn sql(db: &TestDb) -> Connection {
    Connection::open(db.path.as_ref().unwrap()).unwrap()
}

fn broken_at(r: Result<chengxin_jobs::audit::VerifyReport, AuditFailure>) -> i64 {
    match r {
        Err(AuditFailure::Broken(b)) => b.seq,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_log_verifies_with_and_without_its_checkpoint() {
    let (_db, ctx) = populated();
    let report = verify(&ctx, None).unwrap();
    assert!(report.entries >= 9, "{report:?}");
    let cp = checkpoint(&ctx).unwrap();
    assert_eq!(
        verify(&ctx, Some(&cp)).unwrap().checkpoint_size,
        Some(report.entries)
    );
}

#[test]
fn editing_an_entry_is_named() {
    let (db, ctx) = populated();
    sql(&db)
        .execute(
            "UPDATE audit_log SET actor = 'unit:SX-AMR' WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(verify(&ctx, None)), 3);
}

#[test]
fn deleting_an_entry_is_named() {
    let (db, ctx) = populated();
    sql(&db)
        .execute("DELETE FROM audit_log WHERE seq = 4", [])
        .unwrap();
    assert_eq!(broken_at(verify(&ctx, None)), 5);
}

#[test]
fn reordering_entries_is_named() {
    let (db, ctx) = populated();
    let c = sql(&db);
    c.execute_batch("UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1;")
        .unwrap();
    assert_eq!(broken_at(verify(&ctx, None)), 2);
}

#[test]
fn truncation_is_caught_by_the_head_and_by_a_checkpoint() {
    let (db, ctx) = populated();
    let cp = checkpoint(&ctx).unwrap();
    let c = sql(&db);
    c.execute("DELETE FROM audit_log WHERE seq > 5", [])
        .unwrap();
    assert!(matches!(
        verify(&ctx, None),
        Err(AuditFailure::HeadMismatch { .. })
    ));
    // Cover the tracks: move the recorded head back too. Only the checkpoint catches it now.
    let hash: String = c
        .query_row("SELECT hash FROM audit_log WHERE seq = 5", [], |r| r.get(0))
        .unwrap();
    c.execute("UPDATE audit_head SET seq = 5, hash = ?1", params![hash])
        .unwrap();
    assert_eq!(verify(&ctx, None).unwrap().entries, 5);
    assert!(matches!(
        verify(&ctx, Some(&cp)),
        Err(AuditFailure::Checkpoint(
            chengxin_domain::audit::CheckpointError::Truncated { .. }
        ))
    ));
}

#[test]
fn a_wholesale_rewrite_is_caught_by_a_checkpoint() {
    let (db, ctx) = populated();
    let cp = checkpoint(&ctx).unwrap();
    // Rewrite every entry with a consistent chain, as an insider with database access could.
    let c = sql(&db);
    let n: i64 = c
        .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    c.execute("DELETE FROM audit_log", []).unwrap();
    let (mut seq, mut hash) = (0, GENESIS.to_owned());
    for _ in 0..n {
        let e = chain(
            seq,
            &hash,
            "2026-01-01T00:00:00Z".into(),
            AuditEvent {
                actor: "system".into(),
                action: "nothing.happened".into(),
                subject: None,
                person: None,
                request_id: None,
                detail: serde_json::json!({}),
            },
        );
        c.execute(
            "INSERT INTO audit_log (seq, at, actor, action, subject, person, request_id, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, NULL, NULL, NULL, '{}', ?5, ?6)",
            params![e.seq, e.at, e.event.actor, e.event.action, e.prev_hash, e.hash],
        )
        .unwrap();
        seq = e.seq;
        hash = e.hash;
    }
    c.execute(
        "UPDATE audit_head SET seq = ?1, hash = ?2",
        params![seq, hash],
    )
    .unwrap();
    assert_eq!(verify(&ctx, None).unwrap().entries, n);
    assert!(matches!(
        verify(&ctx, Some(&cp)),
        Err(AuditFailure::Checkpoint(
            chengxin_domain::audit::CheckpointError::Rewritten { .. }
        ))
    ));
    // A forged checkpoint (signed by another key) is refused outright.
    let mut forged = cp;
    forged.public_key = "AAAA".into();
    assert!(matches!(
        verify(&ctx, Some(&forged)),
        Err(AuditFailure::Checkpoint(_))
    ));
}
