//! Keys cannot fork: a database remembers its data key (id and check value)
//! and its audit key, and a process with a missing or different key is
//! refused, naming the key file it expected, with nothing written. A key is
//! created only for a new, empty database. Both backends.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::crypto::{CryptoError, Kind};
use chengxin_store::{Cause, KeyConfig};
use chengxin_testkit::{backends, id_number, record, TestDb};
use serde_json::json;

/// Key files in `dir`: the data key beside a SQLite database (its default),
/// or named by `CHENGXIN_DATA_KEY_FILE` for PostgreSQL (which has none).
fn config(db: &TestDb, dir: &Path) -> KeyConfig {
    KeyConfig {
        data_key: None,
        data_key_file: db.path.is_none().then(|| dir.join("data.key")),
        audit_key_file: Some(dir.join("audit.key")),
        data_key_next_file: None,
    }
}

fn data_key_file(db: &TestDb, dir: &Path) -> std::path::PathBuf {
    match &db.path {
        Some(p) => chengxin_store::crypto::key_file_path(Some(p)),
        None => dir.join("data.key"),
    }
}

fn write_key(path: &Path, byte: u8) {
    std::fs::write(path, format!("{}\n", hex_of(&[byte; 32]))).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn open_err(db: &TestDb, cfg: &KeyConfig) -> String {
    match chengxin_store::open_configured(&db.url, cfg) {
        Ok(_) => panic!("{}: opened with the wrong keys", db.backend()),
        Err(e) => e.to_string(),
    }
}

fn counts(db: &TestDb) -> (i64, i64) {
    (
        db.query_i64("SELECT count(*) FROM persons"),
        db.query_i64("SELECT count(*) FROM audit_log"),
    )
}

/// A new database: both key files created (0600), one person stored.
fn created(db: &TestDb, dir: &Path) {
    let cfg = config(db, dir);
    let store = chengxin_store::open_configured(&db.url, &cfg).unwrap();
    let ctx = Context::new(Arc::from(store)).unwrap();
    let row = record(
        "SX-VOL",
        "v1",
        id_number("330602", "19900101", 1),
        "张三",
        "O03",
        json!({"hours": "12.5", "served_on": "2026-01-01", "organisation": "o"}),
    );
    store_chunk(&ctx, &[row], &Change::bulk(Cause::Import, "test")).unwrap();
    for f in [data_key_file(db, dir), dir.join("audit.key")] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

#[test]
fn a_missing_data_key_is_refused_not_replaced() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        created(&db, dir.path());
        let before = counts(&db);
        let key = data_key_file(&db, dir.path());
        let kept = dir.path().join("kept.key");
        std::fs::rename(&key, &kept).unwrap();

        let err = open_err(&db, &config(&db, dir.path()));
        assert!(err.contains(&key.display().to_string()), "{err}");
        assert!(err.contains("missing"), "{err}");
        assert!(!key.exists(), "{}: a new key was created", db.backend());
        assert_eq!(
            counts(&db),
            before,
            "{}: something was written",
            db.backend()
        );

        if db.backend() == "postgres" {
            // No default file for PostgreSQL: never the current directory.
            let mut unset = config(&db, dir.path());
            unset.data_key_file = None;
            let err = open_err(&db, &unset);
            assert!(err.contains("CHENGXIN_DATA_KEY_FILE"), "{err}");
            assert!(!std::path::Path::new("chengxin.key").exists());
        }
        std::fs::rename(&kept, &key).unwrap();
        chengxin_store::open_configured(&db.url, &config(&db, dir.path())).unwrap();
    }
}

#[test]
fn a_different_data_key_is_refused() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        created(&db, dir.path());
        let before = counts(&db);
        let key = data_key_file(&db, dir.path());
        let original = std::fs::read(&key).unwrap();
        write_key(&key, 0x5a);
        let err = open_err(&db, &config(&db, dir.path()));
        assert!(err.contains("belongs to data key"), "{err}");
        assert!(err.contains(&key.display().to_string()), "{err}");
        // The same through CHENGXIN_DATA_KEY.
        let mut by_value = config(&db, dir.path());
        by_value.data_key = Some(hex_of(&[0x5b; 32]).into());
        let err = open_err(&db, &by_value);
        assert!(err.contains("CHENGXIN_DATA_KEY"), "{err}");
        assert_eq!(
            counts(&db),
            before,
            "{}: something was written",
            db.backend()
        );
        std::fs::write(&key, original).unwrap();
        chengxin_store::open_configured(&db.url, &config(&db, dir.path())).unwrap();
    }
}

#[test]
fn a_missing_or_different_audit_key_is_refused() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        created(&db, dir.path());
        let before = counts(&db);
        let audit = dir.path().join("audit.key");
        let original = std::fs::read(&audit).unwrap();
        std::fs::remove_file(&audit).unwrap();
        let err = open_err(&db, &config(&db, dir.path()));
        assert!(err.contains(&audit.display().to_string()), "{err}");
        assert!(
            !audit.exists(),
            "{}: a new audit key was created",
            db.backend()
        );

        write_key(&audit, 0x77);
        let err = open_err(&db, &config(&db, dir.path()));
        assert!(err.contains("audit key"), "{err}");

        let mut none = config(&db, dir.path());
        none.audit_key_file = None;
        let err = open_err(&db, &none);
        assert!(err.contains("CHENGXIN_AUDIT_KEY_FILE"), "{err}");
        assert_eq!(
            counts(&db),
            before,
            "{}: something was written",
            db.backend()
        );
        std::fs::write(&audit, original).unwrap();
        chengxin_store::open_configured(&db.url, &config(&db, dir.path())).unwrap();
    }
}

/// Encrypted ID numbers and names swapped between two persons with direct
/// SQL are detected when read.
#[test]
fn ciphertexts_swapped_between_persons_are_detected() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let rows: Vec<_> = [("张三", 1), ("李四", 2)]
            .into_iter()
            .map(|(name, n)| {
                record(
                    "SX-VOL",
                    &format!("v{n}"),
                    id_number("330602", "19900101", n),
                    name,
                    "O03",
                    json!({"hours": "12.5", "served_on": "2026-01-01", "organisation": "o"}),
                )
            })
            .collect();
        store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
        let ids = |ctx: &Context| -> Vec<Result<String, String>> {
            let mut tx = ctx.store.read().unwrap();
            [1, 2]
                .into_iter()
                .map(|p| {
                    tx.identity(p)
                        .map(|i| i.unwrap().name.unwrap())
                        .map_err(|e| e.to_string())
                })
                .collect()
        };
        assert_eq!(ids(&ctx), vec![Ok("张三".into()), Ok("李四".into())]);

        for column in ["name_cipher", "id_cipher"] {
            let swap = format!(
                "CREATE TEMP TABLE sw AS SELECT 3 - id AS id, {column} AS c FROM persons;
                 UPDATE persons SET {column} = (SELECT c FROM sw WHERE sw.id = persons.id);
                 DROP TABLE sw;"
            );
            db.execute_sql(&swap);
            for r in ids(&ctx) {
                let err = r.expect_err(&format!("{}: swapped {column} read", db.backend()));
                assert!(err.contains("altered"), "{err}");
            }
            db.execute_sql(&swap); // swap back
            assert_eq!(ids(&ctx), vec![Ok("张三".into()), Ok("李四".into())]);
        }
        let keys = chengxin_testkit::test_keys();
        let sealed = keys.encrypt(Kind::Name, b"a", b"x");
        assert!(matches!(
            keys.decrypt(Kind::Name, b"b", &sealed),
            Err(CryptoError::Tampered)
        ));
    }
}

/// A database from before keys were recorded (simulated by removing the
/// record): the right keys are recorded again and its log gets a signed
/// checkpoint; a wrong data key is refused because it does not open the
/// stored identities.
#[test]
fn a_database_without_recorded_keys_is_bound_only_to_keys_that_open_it() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        created(&db, dir.path());
        let unbind = match db.backend() {
            "sqlite" => "DROP TRIGGER key_binding_no_delete; DELETE FROM key_binding;",
            _ => "DROP TRIGGER key_binding_fixed ON key_binding; DELETE FROM key_binding;",
        };
        db.execute_sql(unbind);
        let key = data_key_file(&db, dir.path());
        let original = std::fs::read(&key).unwrap();
        write_key(&key, 0x5c);
        let err = open_err(&db, &config(&db, dir.path()));
        assert!(err.contains("does not open this database"), "{err}");
        assert_eq!(db.query_i64("SELECT count(*) FROM key_binding"), 0);

        std::fs::write(&key, original).unwrap();
        let before = db.query_i64("SELECT count(*) FROM audit_log");
        let store = chengxin_store::open_configured(&db.url, &config(&db, dir.path())).unwrap();
        let ctx = Context::new(Arc::from(store)).unwrap();
        let report = chengxin_jobs::audit::verify(&ctx, None).unwrap();
        assert_eq!(report.entries, before + 1, "{}: {report:?}", db.backend());
        assert_eq!(report.signed_checkpoints, 1);
        assert_eq!(db.query_i64("SELECT count(*) FROM key_binding"), 1);
    }
}
