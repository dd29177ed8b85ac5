//! `keys rotate`, `cert verify` and `partner add|list` through the binary,
//! on every backend. One table of certificates (valid, altered, expired,
//! signed by rotated-out keys, `alg: none`) goes through `chengxin cert
//! verify` and through `POST /api/v1/certificates/verify` of a server on
//! the same database: their answers are equal, field for field.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use chengxin_domain::certificate::Refusal;
use chengxin_jobs::certificates::{issue, rotate, Ask, CertConfig};
use chengxin_jobs::Context;
use chengxin_testkit::certs as alter;
use chengxin_testkit::TestDb;

const DAY: i64 = 86_400;
const CITY: &str = "https://sx.example";
const ROWS: &str = r#"{"unit":"ZJ-CREDIT","source_id":"e1","item":"B01","id_number":"11010519491231002X","name":"测试甲","fields":{"score":870,"evaluated_on":"2026-01-10"}}
{"unit":"SX-PSB","source_id":"h1","item":"B03","id_number":"11010519491231002X","name":"测试甲","fields":{"region_code":"330602","registered_on":"2001-05-01","active":true}}
"#;

struct Env {
    dir: tempfile::TempDir,
    url: String,
    _db: TestDb,
}

impl Env {
    fn new(db: TestDb) -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            url: db.url.clone(),
            _db: db,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_chengxin"))
            .current_dir(self.dir.path())
            .env_remove("CHENGXIN_DATA_KEY")
            .env("CHENGXIN_DATABASE_URL", &self.url)
            .env("CHENGXIN_DATA_KEY_FILE", self.path("data.key"))
            .env("CHENGXIN_AUDIT_KEY_FILE", self.path("audit.key"))
            .env("CHENGXIN_CERT_KEYS_DIR", self.path("cert-keys"))
            .env("CHENGXIN_CITY_URL", CITY)
            .env("CHENGXIN_CITY_CODE", "shaoxing")
            .args(args)
            .output()
            .expect("run chengxin")
    }

    /// The same database, keys and certificate settings, in this process.
    fn context(&self) -> Context {
        let keys = chengxin_store::KeyConfig {
            data_key_file: Some(self.path("data.key")),
            audit_key_file: Some(self.path("audit.key")),
            ..Default::default()
        };
        let store = chengxin_store::open_configured(&self.url, &keys).unwrap();
        Context::new(Arc::from(store))
            .unwrap()
            .with_certificates(CertConfig {
                city_url: CITY.into(),
                city_code: "shaoxing".into(),
                keys_dir: Some(self.path("cert-keys")),
            })
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The table: keys rotated at past times so that one retired key has
/// dropped out of the key set and another is still published.
fn cases(ctx: &Context, pid: i64) -> Vec<(&'static str, String, Option<Refusal>)> {
    let t = now();
    rotate(ctx, t - 40 * DAY).unwrap();
    let dropped = issue(ctx, pid, "bank-1", Ask::Grade, t - 40 * DAY).unwrap();
    rotate(ctx, t - 35 * DAY).unwrap();
    let retired = issue(ctx, pid, "bank-1", Ask::Grade, t - 20 * DAY).unwrap();
    rotate(ctx, t - 10 * DAY).unwrap();
    let valid = issue(ctx, pid, "bank-1", Ask::Grade, t).unwrap().jws;
    let threshold = issue(ctx, pid, "bank-1", Ask::Threshold(900), t)
        .unwrap()
        .jws;
    let expired = issue(ctx, pid, "bank-1", Ask::Grade, t - 31 * DAY)
        .unwrap()
        .jws;
    vec![
        ("valid", valid.clone(), None),
        ("threshold", threshold, None),
        (
            "payload byte",
            alter::payload_byte_changed(&valid),
            Some(Refusal::BadSignature),
        ),
        (
            "signature byte",
            alter::signature_byte_changed(&valid),
            Some(Refusal::BadSignature),
        ),
        (
            "wrong kid",
            alter::with_kid(&valid, "nope"),
            Some(Refusal::UnknownKey),
        ),
        ("expired", expired, Some(Refusal::Expired)),
        (
            "rotated out, expired",
            dropped.jws,
            Some(Refusal::UnknownKey),
        ),
        ("rotated out, unexpired", retired.jws, None),
        (
            "alg none",
            alter::alg_none(&valid),
            Some(Refusal::AlgNotAllowed),
        ),
        (
            "garbage",
            "not a certificate".into(),
            Some(Refusal::Malformed),
        ),
    ]
}

/// POST over plain HTTP/1.1; the status and body.
fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

#[test]
fn cert_verify_and_the_http_verifier_agree_on_every_case() {
    for db in chengxin_testkit::backends() {
        let env = Env::new(db);
        let p = env.dir.path();
        write(p, "rows.jsonl", ROWS);
        let o = env.run(&["import", "rows.jsonl"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let ctx = Arc::new(env.context());
        let index = ctx.store.keys().blind_index(b"11010519491231002X");
        let pid = ctx
            .store
            .read()
            .unwrap()
            .find_person(&index)
            .unwrap()
            .unwrap();
        let table = cases(&ctx, pid);

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = chengxin_server::AppState::new(Arc::clone(&ctx));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = runtime.spawn(chengxin_server::serve(state, listener, async {
            let _ = stopped.await;
        }));

        for (i, (name, jws, want)) in table.iter().enumerate() {
            let file = write(p, &format!("cert-{i}.jws"), jws);
            let o = env.run(&["cert", "verify", &file, "--json"]);
            assert_eq!(
                o.status.success(),
                want.is_none(),
                "{name}: {}",
                text(&o.stderr)
            );
            let cli: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let body = serde_json::json!({ "jws": jws }).to_string();
            let (status, http) = post(addr, "/api/v1/certificates/verify", &body);
            assert_eq!(status, 200, "{name}: {http}");
            let http: serde_json::Value = serde_json::from_str(&http).unwrap();
            assert_eq!(cli, http, "{name}: CLI and HTTP disagree");
            let reason = want.map(|r| r.code());
            assert_eq!(cli["reason"].as_str(), reason, "{name}");
            if let Some(code) = reason {
                assert!(
                    text(&o.stderr).contains(code),
                    "{name}: {}",
                    text(&o.stderr)
                );
            }
        }
        // Without --json: the claims and a verdict a person reads.
        let o = env.run(&["cert", "verify", "cert-0.jws"]);
        let out = text(&o.stdout);
        let city = out
            .lines()
            .find(|l| l.starts_with("city "))
            .unwrap_or_default();
        assert!(
            city.ends_with(" shaoxing") && out.contains("valid"),
            "{out}"
        );

        // Offline against a key set file: no database needed.
        let jwks = write(p, "jwks.json", &get(addr, "/.well-known/jwks.json"));
        let offline = |file: &str| {
            Command::new(env!("CARGO_BIN_EXE_chengxin"))
                .current_dir(p)
                .env("CHENGXIN_DATABASE_URL", "sqlite:///nonexistent/dir/db")
                .args(["cert", "verify", file, "--jwks", &jwks])
                .output()
                .unwrap()
        };
        let o = offline("cert-0.jws");
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = offline("cert-5.jws");
        assert!(!o.status.success());
        assert!(text(&o.stderr).contains("expired"), "{}", text(&o.stderr));

        // A rotation from the command line: the new key signs, the old stays published.
        let o = env.run(&["keys", "rotate", "--json"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let rotated: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let set: serde_json::Value =
            serde_json::from_str(&get(addr, "/.well-known/jwks.json")).unwrap();
        let kids: Vec<&str> = set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids.len(), 3, "{kids:?}");
        assert!(kids.contains(&rotated["kid"].as_str().unwrap()));
        let o = env.run(&["cert", "verify", "cert-0.jws"]);
        assert!(
            o.status.success(),
            "signed by the retired key: {}",
            text(&o.stderr)
        );

        let _ = stop.send(());
        runtime.block_on(server).unwrap().unwrap();
        drop(runtime);
        drop(ctx);
    }
}

#[test]
fn partner_add_checks_the_grade_map_and_partner_list_shows_it() {
    let env = Env::new(TestDb::sqlite());
    let p = env.dir.path();
    let o = env.run(&["keys", "rotate"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seed = [9u8; 32];
    let x = {
        use base64::Engine as _;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.as_bytes())
    };
    let jwks = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "nb-1", "alg": "EdDSA", "use": "sig"}]});
    write(p, "nb.jwks", &jwks.to_string());
    write(
        p,
        "bad.toml",
        "issuer = \"https://nb.example\"\n[grades]\nA1 = \"S\"\n",
    );
    write(
        p,
        "map.toml",
        "issuer = \"https://nb.example\"\n[grades]\nA1 = \"AAA\"\nA2 = \"AA\"\n",
    );
    let add = |map: &str| {
        env.run(&[
            "partner",
            "add",
            "ningbo",
            "--name",
            "宁波",
            "--jwks",
            "nb.jwks",
            "--grade-map",
            map,
        ])
    };
    let o = add("bad.toml");
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("`S`") && !err.contains("panicked"), "{err}");
    let o = add("map.toml");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("ningbo added"),
        "{}",
        text(&o.stdout)
    );
    let o = env.run(&["partner", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["issuer"], "https://nb.example");
    assert_eq!(list[0]["kids"], serde_json::json!(["nb-1"]));
    assert_eq!(list[0]["grades"]["A1"], "AAA");
}
