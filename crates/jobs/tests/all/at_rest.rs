//! ID numbers and names are never stored in plaintext in PostgreSQL: after
//! storing records and scores, no row of any table contains them, neither as
//! text nor as the hex of their bytes. Skipped without a PostgreSQL server
//! unless `CHENGXIN_REQUIRE_POSTGRES=1`.

use std::sync::Arc;

use chengxin_jobs::uow::Change;
use chengxin_jobs::{recompute, store_chunk, Context, Target};
use chengxin_store::Cause;
use chengxin_testkit::{id_number, record, TestDb};
use jiff::civil::date;
use serde_json::json;

#[test]
fn no_identity_in_plaintext() {
    let Some(db) = TestDb::postgres() else { return };
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let people = [
        (id_number("330602", "19900101", 123), "张三丰"),
        (id_number("330681", "19851231", 7), "李四光"),
        (id_number("330603", "20000229", 999), "Wang Wu"),
    ];
    let rows: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            record(
                "SX-VOL",
                &format!("v{i}"),
                *id,
                name,
                "O03",
                json!({"hours": "12.5", "served_on": "2026-01-01", "organisation": "o"}),
            )
        })
        .collect();
    store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    let r = recompute(&ctx, Target::Changed, date(2026, 6, 1), Cause::Import, &()).unwrap();
    assert_eq!(r.persons, 3);

    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in ["persons", "records", "scores", "score_history", "models"] {
        assert!(
            tables.iter().any(|x| x == t),
            "table {t} missing from {tables:?}"
        );
    }
    let mut dump = Vec::new();
    for t in &tables {
        for r in client
            .query(&format!("SELECT x::text FROM public.\"{t}\" x"), &[])
            .unwrap()
        {
            dump.push(format!("{t}: {}", r.get::<_, String>(0)));
        }
    }
    assert!(dump.len() > 12, "too few rows dumped: {dump:#?}");

    for (id, name) in &people {
        let id = id.as_str();
        let secrets = [
            id.to_string(),
            id[..17].to_string(),
            hex(id),
            name.to_string(),
            hex(name),
        ];
        for row in &dump {
            for secret in &secrets {
                assert!(
                    !row.to_lowercase().contains(&secret.to_lowercase()),
                    "`{secret}` stored in plaintext: {row}"
                );
            }
        }
    }
    // The birth date is kept in clear on purpose (eligibility needs it).
    assert!(dump
        .iter()
        .any(|r| r.starts_with("persons:") && r.contains("2000-02-29")));
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}
