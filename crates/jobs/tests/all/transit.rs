//! `sslmode` on PostgreSQL URLs: `disable` connects in the clear, `require`
//! insists on TLS (refused clearly by a server without it), `verify-full`
//! checks the server's certificate (refused clearly when it cannot be
//! checked), and an unknown mode is named.

use chengxin_testkit::{test_keys, TestDb};

fn open(url: &str) -> Result<(), String> {
    chengxin_store::open_with_keys(url, test_keys())
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

fn server_has_tls(db: &TestDb) -> bool {
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    c.query_one("SHOW ssl", &[]).unwrap().get::<_, String>(0) == "on"
}

#[test]
fn sslmode_is_honoured() {
    let Some(db) = TestDb::postgres() else { return };
    open(&format!("{}?sslmode=disable", db.url)).unwrap();
    let require = open(&format!("{}?sslmode=require", db.url));
    if server_has_tls(&db) {
        require.unwrap();
    } else {
        let err = require.unwrap_err();
        assert!(
            err.to_lowercase().contains("tls") || err.contains("SSL"),
            "{err}"
        );
    }
    // The local server's certificate (self-signed, if any) is not trusted.
    let err = open(&format!("{}?sslmode=verify-full", db.url)).unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    let err = open(&format!(
        "{}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        db.url
    ))
    .unwrap_err();
    assert!(err.contains("sslrootcert=/nonexistent/ca.pem"), "{err}");
    let err = open(&format!("{}?sslmode=allow", db.url)).unwrap_err();
    assert!(err.contains("sslmode=allow"), "{err}");
}
