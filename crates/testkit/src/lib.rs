//! Test harness shared by every crate's tests: a fresh database per test on
//! each backend, fixed keys, and builders for valid records. Never used in
//! production code.
//!
//! PostgreSQL tests need `CHENGXIN_TEST_POSTGRES_URL` (set by
//! `scripts/pg-test-env.sh`). Without it they are skipped with a message,
//! unless `CHENGXIN_REQUIRE_POSTGRES=1`, as in CI, where they fail instead.

pub mod certs;
pub mod oidc;

use std::sync::atomic::{AtomicU32, Ordering};

use chengxin_domain::catalogue::Raw;
use chengxin_domain::id::check_character;
use chengxin_domain::record::NewRecord;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::{Catalogue, IdNumber};
use chengxin_store::{DataKeys, Store};

/// The seed of the fixed audit signing key of [`test_keys`].
pub const TEST_AUDIT_SEED: [u8; 32] = [8u8; 32];

/// A fixed master key and audit key so tests are reproducible.
pub fn test_keys() -> DataKeys {
    DataKeys::from_master([7u8; 32]).with_audit_key(TEST_AUDIT_SEED)
}

/// A database that exists for one test and is removed after it.
pub struct TestDb {
    /// `sqlite://…` or `postgres://…`.
    pub url: String,
    /// For SQLite: the database file.
    pub path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite database file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.db");
        TestDb {
            url: format!("sqlite://{}", path.display()),
            path: Some(path),
            _dir: Some(dir),
            drop_pg: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured
    /// (a panic instead when `CHENGXIN_REQUIRE_POSTGRES=1`).
    pub fn postgres() -> Option<TestDb> {
        let Ok(admin) = std::env::var("CHENGXIN_TEST_POSTGRES_URL") else {
            if std::env::var("CHENGXIN_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("CHENGXIN_REQUIRE_POSTGRES=1 but CHENGXIN_TEST_POSTGRES_URL is not set: run scripts/pg-test-env.sh");
            }
            eprintln!("skipping PostgreSQL: CHENGXIN_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "chengxin_t_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {admin}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let (base, _) = admin.rsplit_once('/').expect("URL has a database name");
        Some(TestDb {
            url: format!("{base}/{name}"),
            path: None,
            _dir: None,
            drop_pg: Some((admin, name)),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        if self.path.is_some() {
            "sqlite"
        } else {
            "postgres"
        }
    }

    /// Runs SQL statements directly, as an insider with database access
    /// could (bypassing the store).
    pub fn execute_sql(&self, sql: &str) {
        match &self.path {
            Some(path) => rusqlite::Connection::open(path)
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            None => postgres::Client::connect(&self.url, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Runs SQL directly; the error text if it fails.
    pub fn try_execute_sql(&self, sql: &str) -> Result<(), String> {
        match &self.path {
            Some(path) => rusqlite::Connection::open(path)
                .and_then(|c| c.execute_batch(sql))
                .map_err(|e| e.to_string()),
            None => {
                let mut c = postgres::Client::connect(&self.url, postgres::NoTls)
                    .map_err(|e| e.to_string())?;
                c.batch_execute(sql).map_err(|e| {
                    e.as_db_error()
                        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
                })
            }
        }
    }

    /// One integer from a query run directly.
    pub fn query_i64(&self, sql: &str) -> i64 {
        match &self.path {
            Some(path) => rusqlite::Connection::open(path)
                .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            None => postgres::Client::connect(&self.url, postgres::NoTls)
                .and_then(|mut c| c.query_one(sql, &[]))
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Opens the store for this database with the test keys.
    pub fn open(&self) -> Box<dyn Store> {
        chengxin_store::open_with_keys(&self.url, test_keys())
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_pg {
            if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Every backend available to this run: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite()];
    v.extend(TestDb::postgres());
    v
}

/// A valid ID number from a region code, birth date `YYYYMMDD` and sequence.
pub fn id_number(region: &str, birth: &str, seq: u32) -> IdNumber {
    let body = format!("{region}{birth}{:03}", seq % 1000);
    let c = check_character(body.as_bytes()) as char;
    IdNumber::parse(&format!("{body}{c}")).expect("valid test ID")
}

/// A validated record ready to ingest.
pub fn record(
    unit: &str,
    source_id: &str,
    id: IdNumber,
    name: &str,
    item: &str,
    fields: serde_json::Value,
) -> NewRecord {
    let c = Catalogue::builtin();
    let it = c.item(item).expect("known item");
    let map = fields.as_object().expect("object");
    let f = c
        .validate(it, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
        .expect("valid fields");
    NewRecord {
        unit: unit.into(),
        source_id: source_id.into(),
        item: item.into(),
        id_number: id,
        name: Some(name.into()),
        fields: it.canonical_json(&f),
        record_date: it.record_date(&f),
        status: RecordStatus::Active,
        source_version: None,
    }
}

/// A candidate model `2027.1`: the default model with 610 instead of 600
/// points for a provincial evaluation of 800–849.
pub fn candidate_model() -> String {
    chengxin_domain::model::DEFAULT_MODEL
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace(
            "{ min = 800, max = 849, points = 600 }",
            "{ min = 800, max = 849, points = 610 }",
        )
}
