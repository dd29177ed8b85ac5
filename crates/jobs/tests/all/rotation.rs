//! Key rotation (issue 7, "Keys cannot fork"): a database with people,
//! records and scores moves to a new data key and blind index in batches,
//! working with both keys loaded meanwhile; after the switch-over only the
//! new key opens it, everyone decrypts and is found again (no forked
//! identity), and a rotation stopped midway resumes. Both backends.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use chengxin_domain::record::Outcome;
use chengxin_jobs::keys::{rotate, RotateOptions};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{explain, recompute, store_chunk, Context, Target};
use chengxin_store::{Cause, KeyConfig, Store};
use chengxin_testkit::{backends, id_number, record, TestDb};
use jiff::civil::date;
use serde_json::json;

const PEOPLE: u32 = 7;

fn cfg(dir: &Path, next: Option<&Path>) -> KeyConfig {
    KeyConfig {
        data_key: None,
        data_key_file: Some(dir.join("old.key")),
        audit_key_file: Some(dir.join("audit.key")),
        data_key_next_file: next.map(Path::to_path_buf),
    }
}

fn row(i: u32, hours: &str) -> chengxin_domain::record::NewRecord {
    record(
        "SX-VOL",
        &format!("v{i}"),
        id_number("330602", "19900101", i),
        &format!("张{i}"),
        "O03",
        json!({"hours": hours, "served_on": "2026-01-01", "organisation": "o"}),
    )
}

fn ctx(store: Box<dyn Store>) -> Context {
    Context::new(Arc::from(store)).unwrap()
}

fn push(ctx: &Context, rows: &[chengxin_domain::record::NewRecord]) -> Vec<Outcome> {
    store_chunk(ctx, rows, &Change::bulk(Cause::Import, "test"))
        .unwrap()
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

/// People 0..PEOPLE with a record each, scored.
fn populated(db: &TestDb, dir: &Path) {
    let c = ctx(chengxin_store::open_configured(&db.url, &cfg(dir, None)).unwrap());
    let rows: Vec<_> = (0..PEOPLE).map(|i| row(i, "12.5")).collect();
    push(&c, &rows);
    recompute(&c, Target::Everyone, date(2026, 6, 1), Cause::Import, &()).unwrap();
}

fn open_err(db: &TestDb, cfg: &KeyConfig) -> String {
    match chengxin_store::open_configured(&db.url, cfg) {
        Ok(_) => panic!("{}: opened with the wrong keys", db.backend()),
        Err(e) => e.to_string(),
    }
}

/// Every person found by ID number, with their name and their score.
fn everyone_found(db: &TestDb, c: &Context, people: u32) {
    for i in 0..people {
        let id = id_number("330602", "19900101", i);
        let x = explain(c, &id, date(2026, 6, 1))
            .unwrap()
            .unwrap_or_else(|| panic!("{}: person {i} not found", db.backend()));
        let who = c
            .store
            .read()
            .unwrap()
            .identity(x.person_id)
            .unwrap()
            .unwrap();
        assert_eq!(who.id_number, id, "{}", db.backend());
        assert_eq!(
            who.name.as_deref(),
            Some(&*format!("张{i}")),
            "{}",
            db.backend()
        );
        assert!(!x.records.is_empty(), "{}: person {i}", db.backend());
    }
}

#[test]
fn rotation_in_batches_switches_to_the_new_key_and_forks_no_one() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        let new_key = dir.path().join("new.key");
        populated(&db, dir.path());
        let (persons, scores) = (
            db.query_i64("SELECT count(*) FROM persons"),
            db.query_i64("SELECT count(*) FROM scores"),
        );
        assert_eq!(persons, PEOPLE as i64);
        assert!(scores >= PEOPLE as i64, "{}", db.backend());

        // Two batches of 3, then stop: a crash after them loses nothing.
        let store =
            chengxin_store::open_rotating(&db.url, &cfg(dir.path(), None), &new_key).unwrap();
        let mode = std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", db.backend());
        let s = rotate(
            &*store,
            Some("new.key"),
            "operator:alice",
            RotateOptions {
                batch: 3,
                max_batches: Some(2),
            },
        )
        .unwrap();
        assert!(!s.switched);
        assert_eq!(s.people, 6, "{}", db.backend());
        drop(store);
        assert_eq!(
            db.query_i64("SELECT count(*) FROM persons WHERE id_index_next IS NOT NULL"),
            6
        );

        // Midway, only the old key is refused: the database names the next one.
        let err = open_err(&db, &cfg(dir.path(), None));
        assert!(err.contains("being rotated"), "{err}");
        assert!(err.contains("new.key"), "{err}");

        // With both keys loaded: look-ups, pushes, new people, renames.
        let both = ctx(
            chengxin_store::open_configured(&db.url, &cfg(dir.path(), Some(&new_key))).unwrap(),
        );
        everyone_found(&db, &both, PEOPLE);
        assert_eq!(push(&both, &[row(0, "12.5")]), [Outcome::Duplicate]);
        assert_eq!(push(&both, &[row(1, "20")]), [Outcome::Corrected]);
        assert_eq!(push(&both, &[row(PEOPLE, "3")]), [Outcome::Accepted]);
        let mut renamed = row(2, "12.5");
        renamed.source_id = "v2-b".into();
        push(&both, &[renamed]);
        assert_eq!(
            db.query_i64("SELECT count(*) FROM persons WHERE id_index_next IS NOT NULL"),
            7,
            "{}: the new person got both indexes",
            db.backend()
        );
        drop(both);

        // Resume to completion.
        let store =
            chengxin_store::open_rotating(&db.url, &cfg(dir.path(), None), &new_key).unwrap();
        let s = rotate(
            &*store,
            Some("new.key"),
            "operator:alice",
            RotateOptions::default(),
        )
        .unwrap();
        assert!(s.switched, "{}", db.backend());
        assert_eq!(s.people, 1, "{}", db.backend());
        drop(store);

        // The old key is refused as a different key, naming the new file.
        let err = open_err(&db, &cfg(dir.path(), None));
        assert!(err.contains("different key"), "{err}");
        assert!(err.contains("new.key"), "{err}");
        assert!(err.contains(&s.new_key_id), "{err}");

        // The new key alone opens it; everyone is found, nobody twice.
        std::fs::rename(dir.path().join("old.key"), dir.path().join("retired.key")).unwrap();
        std::fs::copy(&new_key, dir.path().join("old.key")).unwrap();
        std::fs::set_permissions(
            dir.path().join("old.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let c = ctx(chengxin_store::open_configured(&db.url, &cfg(dir.path(), None)).unwrap());
        everyone_found(&db, &c, PEOPLE + 1);
        let x = explain(&c, &id_number("330602", "19900101", 3), date(2026, 6, 1))
            .unwrap()
            .unwrap();
        assert!(x.stored.is_some(), "{}: score kept", db.backend());
        assert_eq!(
            push(&c, &[row(3, "12.5")]),
            [Outcome::Duplicate],
            "{}",
            db.backend()
        );
        assert_eq!(push(&c, &[row(4, "12.5")]), [Outcome::Duplicate]);
        assert_eq!(
            db.query_i64("SELECT count(*) FROM persons"),
            PEOPLE as i64 + 1,
            "{}: no forked identity",
            db.backend()
        );
        assert_eq!(
            db.query_i64(
                "SELECT count(*) FROM persons WHERE id_index_next IS NOT NULL OR id_cipher_next IS NOT NULL"
            ),
            0
        );
        assert_eq!(
            db.query_i64(
                "SELECT count(*) FROM audit_log WHERE action IN ('data_key.rotation_started', 'data_key.rotation_completed') AND actor = 'operator:alice'"
            ),
            2,
            "{}",
            db.backend()
        );
        // The log still verifies, data tables against it included.
        chengxin_jobs::audit::verify(&c, None)
            .unwrap_or_else(|e| panic!("{}: {e:?}", db.backend()));
    }
}

#[test]
fn rotating_to_the_current_key_or_another_next_key_is_refused() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        populated(&db, dir.path());
        let same = open_rotating_err(&db, dir.path(), &dir.path().join("old.key"));
        assert!(same.contains("current data key"), "{same}");

        let first = dir.path().join("first.key");
        let store = chengxin_store::open_rotating(&db.url, &cfg(dir.path(), None), &first).unwrap();
        rotate(
            &*store,
            None,
            "operator:bob",
            RotateOptions {
                batch: 2,
                max_batches: Some(1),
            },
        )
        .unwrap();
        drop(store);
        // A second, different next key mid-rotation: refused, not started over.
        let other = dir.path().join("other.key");
        std::fs::write(&other, format!("{}\n", "ab".repeat(32))).unwrap();
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = open_rotating_err(&db, dir.path(), &other);
        assert!(err.contains("being rotated"), "{err}");
        // A missing next key file mid-rotation is not created.
        let err = open_rotating_err(&db, dir.path(), &dir.path().join("missing.key"));
        assert!(err.contains("missing"), "{err}");
        assert!(!dir.path().join("missing.key").exists());
    }
}

fn open_rotating_err(db: &TestDb, dir: &Path, next: &Path) -> String {
    match chengxin_store::open_rotating(&db.url, &cfg(dir, None), next) {
        Ok(_) => panic!("{}: opened", db.backend()),
        Err(e) => e.to_string(),
    }
}

/// Evidence files are sealed with the data key and not re-sealed by a
/// rotation, so a rotation is refused while self-reports are stored, and
/// nothing changes: the old key still opens the database alone.
#[test]
fn rotation_is_refused_while_evidence_is_stored() {
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        populated(&db, dir.path());
        {
            let c = ctx(chengxin_store::open_configured(&db.url, &cfg(dir.path(), None)).unwrap());
            let id = id_number("330602", "19900101", 1);
            let me = chengxin_jobs::resident::Resident {
                id_number: &id,
                name: None,
                request_id: None,
            };
            chengxin_jobs::self_reports::submit(
                &c,
                me,
                "O03",
                r#"{"hours":"2","served_on":"2026-01-01","organisation":"o"}"#,
                &[PDF.to_vec()],
            )
            .unwrap();
        }
        let next = dir.path().join("new.key");
        let store = chengxin_store::open_rotating(&db.url, &cfg(dir.path(), None), &next).unwrap();
        let err = rotate(
            &*store,
            None,
            "operator:bob",
            RotateOptions {
                batch: 2,
                max_batches: None,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("evidence"), "{err}");
        drop(store);
        // Not started: the old key alone still opens the database.
        chengxin_store::open_configured(&db.url, &cfg(dir.path(), None)).unwrap();
    }
}
