//! The `chengxin` binary as an operator uses it: exit codes, one-line errors,
//! the import → score path, model commands, and the `--json` explanation.

use std::path::Path;
use std::process::{Command, Output};

fn chengxin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(dir)
        .env_remove("CHENGXIN_DATABASE_URL")
        .env_remove("CHENGXIN_DATA_KEY")
        .env_remove("CHENGXIN_DATA_KEY_FILE")
        .env_remove("CHENGXIN_DATA_KEY_NEXT_FILE")
        .env("CHENGXIN_AUDIT_KEY_FILE", dir.join("audit.key"))
        .args(args)
        .output()
        .expect("run chengxin")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Fails with a single `error:` line, no panic.
fn assert_clean_failure(o: &Output) {
    assert!(!o.status.success(), "expected failure: {}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.trim_end().lines().count() <= 2, "{err}");
}

const PERSON: &str = r#"{"unit":"ZJ-CREDIT","source_id":"e1","item":"B01","id_number":"11010519491231002X","name":"测试甲","fields":{"score":870,"evaluated_on":"2026-01-10"}}
{"unit":"SX-PSB","source_id":"h1","item":"B03","id_number":"11010519491231002X","name":"测试甲","fields":{"region_code":"330602","registered_on":"2001-05-01","active":true}}
{"unit":"SX-TAX","source_id":"p1","item":"P01","id_number":"11010519491231002X","name":"测试甲","fields":{"level":"general","decided_on":"2026-03-01","authority":"绍兴市税务局","case_no":"绍税罚〔2026〕12号","domain":"tax"}}
{"unit":"SX-DRC","source_id":"c1","item":"C01","id_number":"11010519491231002X","name":"测试甲","fields":{"template":"T02","signed_on":"2025-06-01"}}
{"unit":"SX-VOL","source_id":"v1","item":"O03","id_number":"11010519491231002X","name":"测试甲","fields":{"hours":"25.5","served_on":"2026-02-01","organisation":"绍兴市志愿者协会"}}
not json at all
{"unit":"SX-TAX","source_id":"p2","item":"P01","id_number":"110105194912310021","fields":{}}
"#;

#[test]
fn import_then_explain_as_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rows.jsonl"), PERSON).unwrap();
    let o = chengxin(
        dir.path(),
        &[
            "import",
            "rows.jsonl",
            "--errors",
            "bad.jsonl",
            "--as-of",
            "2026-06-01",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("accepted 5  duplicate 0  corrected 0  rejected 2"),
        "{out}"
    );
    let bad = std::fs::read_to_string(dir.path().join("bad.jsonl")).unwrap();
    let codes: Vec<String> = bad
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(codes, ["malformed_json", "id_check_digit"]);
    assert!(dir.path().join("chengxin.db.key").exists());

    let o = chengxin(
        dir.path(),
        &[
            "score",
            "11010519491231002x",
            "--as-of",
            "2026-06-01",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "eligible",
        "reasons",
        "score",
        "grade",
        "model_version",
        "as_of",
        "contributions",
        "factors",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    // 620 provincial − 20 penalty (in publicity) − 30 breach (T02, tax) + 4 volunteering;
    // the commitment's term [2025-06-01, 2026-06-01) no longer covers the date.
    assert_eq!(v["score"], 574);
    assert_eq!(v["grade"], "B");
    let sum: i64 = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["points"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 574);
    insta::assert_json_snapshot!("explanation", v);

    // As of a date before the penalty, the same stored records give another score.
    let o = chengxin(
        dir.path(),
        &[
            "score",
            "11010519491231002X",
            "--as-of",
            "2026-02-15",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["score"], 620 + 4 + 5);

    let o = chengxin(
        dir.path(),
        &["score", "11010519491231002X", "--as-of", "2026-06-01"],
    );
    let human = text(&o.stdout);
    assert!(
        human.contains("诚信分 Score 574") && human.contains("110105********002X"),
        "{human}"
    );
    assert!(!human.contains("11010519491231002X"));
}

#[test]
fn bad_input_gives_one_line_and_a_failure_code() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    assert_clean_failure(&chengxin(p, &["score", "12345"]));
    assert_clean_failure(&chengxin(p, &["score", "110105194912310021"]));
    assert_clean_failure(&chengxin(p, &["import", "missing.jsonl"]));
    assert_clean_failure(&chengxin(p, &["import", "rows.txt"]));
    assert_clean_failure(&chengxin(p, &["--db", "mysql://x", "recompute"]));
    assert_clean_failure(&chengxin(p, &["recompute", "--as-of", "2026-02-30"]));
    assert_clean_failure(&chengxin(p, &["generate", "--residents", "10"]));
    std::fs::write(p.join("cols.csv"), "unit,source_id,item\nA,1,P01\n").unwrap();
    let o = chengxin(p, &["import", "cols.csv"]);
    assert_clean_failure(&o);
    assert!(text(&o.stderr).contains("id_number"));
    // Unknown person: a clear message, not a crash.
    assert_clean_failure(&chengxin(p, &["score", "11010519491231002X"]));
}

#[test]
fn model_commands() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let good = include_str!("../../../models/2026.1.toml");
    std::fs::write(p.join("good.toml"), good).unwrap();
    let o = chengxin(p, &["model", "validate", "good.toml"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).starts_with("ok: model 2026.1"));
    let bad = good
        .replace("cap = 20", "cap = -20")
        .replace("min = 700\nmax = 749", "min = 710\nmax = 749")
        .replace("item = \"O04\"", "item = \"O09\"");
    std::fs::write(p.join("bad.toml"), bad).unwrap();
    let o = chengxin(p, &["model", "validate", "bad.toml"]);
    assert!(!o.status.success());
    let out = text(&o.stdout);
    assert!(out.contains("indicators[1].cap"), "{out}");
    assert!(out.contains("grades[") && out.contains("gap"), "{out}");
    assert!(
        out.contains("indicators[9].item") && out.contains("O09"),
        "{out}"
    );

    std::fs::write(p.join("rows.jsonl"), PERSON).unwrap();
    assert!(
        chengxin(p, &["import", "rows.jsonl", "--as-of", "2026-06-01"])
            .status
            .success()
    );
    let next = good
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("points = 620", "points = 640");
    std::fs::write(p.join("next.toml"), next).unwrap();
    let o = chengxin(
        p,
        &[
            "model",
            "simulate",
            "next.toml",
            "--as-of",
            "2026-06-01",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let sim: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sim["movers"][0]["delta"], 20);

    // A reader that stops reading (`| head`) ends the command without a panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(p)
        .env_remove("CHENGXIN_DATABASE_URL")
        .env("CHENGXIN_AUDIT_KEY_FILE", p.join("audit.key"))
        .args(["model", "simulate", "next.toml", "--as-of", "2026-06-01"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(141), "{err}");
    assert_eq!(sim["grades"]["B"], serde_json::json!([1, 1]));
    let o = chengxin(
        p,
        &[
            "model",
            "publish",
            "next.toml",
            "--effective",
            "2026-07-01",
            "--as-of",
            "2026-06-01",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let list = text(&chengxin(p, &["model", "list"]).stdout);
    assert!(
        list.contains("2026.1")
            && list.contains("retired")
            && list.contains("2027.1")
            && list.contains("active"),
        "{list}"
    );
    let v: serde_json::Value = serde_json::from_slice(
        &chengxin(
            p,
            &[
                "score",
                "11010519491231002X",
                "--as-of",
                "2026-06-01",
                "--json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(
        (v["score"].as_i64(), v["model_version"].as_str()),
        (Some(594), Some("2027.1"))
    );
    // Every record version and score change of import, publish and score
    // is covered by the log.
    let o = chengxin(p, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// `audit checkpoint` writes a signed checkpoint into the log and prints it;
/// a witness co-signs it with its own key (no database); `audit verify
/// --checkpoint` accepts the co-signed file and names a bad co-signature.
#[test]
fn checkpoint_witness_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("in.jsonl"), PERSON).unwrap();
    assert!(chengxin(p, &["import", "in.jsonl"]).status.success());
    let o = chengxin(p, &["audit", "checkpoint"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    std::fs::write(p.join("cp.json"), &o.stdout).unwrap();

    let witness = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(witness.path())
        .env_remove("CHENGXIN_AUDIT_KEY_FILE")
        .args(["audit", "witness", "--checkpoint"])
        .arg(p.join("cp.json"))
        .args(["--key", "witness.key"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cosigned: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cosigned["witnesses"].as_array().map(Vec::len), Some(1));
    std::fs::write(p.join("cosigned.json"), &o.stdout).unwrap();

    let o = chengxin(p, &["audit", "verify", "--checkpoint", "cosigned.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("1 witness co-signatures verified"),
        "{}",
        text(&o.stdout)
    );
    let mut bad = cosigned;
    bad["witnesses"][0]["signed_at"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(p.join("bad.json"), bad.to_string()).unwrap();
    let o = chengxin(p, &["audit", "verify", "--checkpoint", "bad.json"]);
    assert_clean_failure(&o);
    assert!(
        text(&o.stderr).contains("co-signature"),
        "{}",
        text(&o.stderr)
    );
}

/// The data key file gone: the command refuses, naming the file, and makes
/// no new key.
#[test]
fn a_missing_key_file_is_refused_by_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("in.jsonl"), PERSON).unwrap();
    assert!(chengxin(p, &["import", "in.jsonl"]).status.success());
    std::fs::rename(p.join("chengxin.db.key"), p.join("elsewhere.key")).unwrap();
    let o = chengxin(p, &["score", "11010519491231002X"]);
    assert_clean_failure(&o);
    let err = text(&o.stderr);
    assert!(
        err.contains("chengxin.db.key") && err.contains("missing"),
        "{err}"
    );
    assert!(!p.join("chengxin.db.key").exists());
}

/// `demo --file P` never deletes a file it did not create; it does clear
/// what an earlier demo made.
#[test]
fn demo_never_deletes_a_file_it_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("precious.db"), "not a demo").unwrap();
    std::fs::write(p.join("precious.db.key"), "someone's key").unwrap();
    let demo = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_chengxin"))
            .current_dir(p)
            .env_remove("CHENGXIN_AUDIT_KEY_FILE")
            .env_remove("CHENGXIN_DATA_KEY")
            .args(["demo", "--no-serve", "--residents", "30", "--file", file])
            .output()
            .unwrap()
    };
    let o = demo("precious.db");
    assert_clean_failure(&o);
    assert!(
        text(&o.stderr).contains("not made by"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(p.join("precious.db")).unwrap(),
        "not a demo"
    );
    assert_eq!(
        std::fs::read_to_string(p.join("precious.db.key")).unwrap(),
        "someone's key"
    );
    for _ in 0..2 {
        let o = demo("mine.db");
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    assert!(p.join("mine.db.demo").exists());
    // Its certificate signing key, beside it like its audit key: the second
    // run replaced the first's.
    let keys = std::fs::read_dir(p.join("mine.db.cert-keys"))
        .unwrap()
        .count();
    assert_eq!(keys, 1);
}

/// A running service signs a checkpoint of what was appended since the last
/// one on a timer (`CHENGXIN_AUDIT_CHECKPOINT_SECONDS`, here 1 s).
#[test]
fn a_running_service_signs_checkpoints_on_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let o = chengxin(
        p,
        &["unit", "add", "SX-TAX", "--name", "税务", "--items", "P01"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = chengxin(p, &["audit", "verify"]);
    assert!(
        text(&o.stdout).contains(" 0 signed checkpoints"),
        "{}",
        text(&o.stdout)
    );
    let mut server = Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(p)
        .env_remove("CHENGXIN_DATABASE_URL")
        .env_remove("CHENGXIN_DATA_KEY")
        .env("CHENGXIN_AUDIT_KEY_FILE", p.join("audit.key"))
        .env("CHENGXIN_AUDIT_CHECKPOINT_SECONDS", "1")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    server.kill().unwrap();
    server.wait().unwrap();
    let o = chengxin(p, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(" 1 signed checkpoints"),
        "{}",
        text(&o.stdout)
    );
}

/// `chengxin` with `stdin` piped in.
fn chengxin_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(dir)
        .env_remove("CHENGXIN_DATABASE_URL")
        .env_remove("CHENGXIN_DATA_KEY")
        .env_remove("CHENGXIN_DATA_KEY_FILE")
        .env("CHENGXIN_AUDIT_KEY_FILE", dir.join("audit.key"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run chengxin");
    // A command that refuses its arguments exits before reading: its
    // closed stdin is then no failure of the test's own.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// `staff add|list|disable` through the binary on SQLite (the same jobs run
/// on PostgreSQL in `chengxin-jobs`' tests).
#[test]
fn staff_accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let dbs = vec![("sqlite://staff.db".to_owned(), String::new())];
    for (db, suffix) in dbs {
        let name = format!("wang{suffix}");
        let pw = "a long enough password\n";
        let o = chengxin_stdin(
            p,
            &[
                "--db",
                &db,
                "staff",
                "add",
                &name,
                "--role",
                "reviewer",
                "--password-stdin",
            ],
            pw,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = text(&o.stdout) + &text(&o.stderr);
        assert!(
            !out.contains("long enough"),
            "the password is echoed: {out}"
        );
        // Taken name, short password, no --password-stdin, unknown role.
        let o = chengxin_stdin(
            p,
            &[
                "--db",
                &db,
                "staff",
                "add",
                &name,
                "--role",
                "admin",
                "--password-stdin",
            ],
            pw,
        );
        assert_clean_failure(&o);
        let short = format!("x{suffix}");
        let o = chengxin_stdin(
            p,
            &[
                "--db",
                &db,
                "staff",
                "add",
                &short,
                "--role",
                "admin",
                "--password-stdin",
            ],
            "short\n",
        );
        assert_clean_failure(&o);
        assert!(text(&o.stderr).contains("12"), "{}", text(&o.stderr));
        let o = chengxin(p, &["--db", &db, "staff", "add", &short, "--role", "admin"]);
        assert!(!o.status.success());
        let o = chengxin_stdin(
            p,
            &[
                "--db",
                &db,
                "staff",
                "add",
                &short,
                "--role",
                "root",
                "--password-stdin",
            ],
            pw,
        );
        assert!(!o.status.success());

        let o = chengxin(p, &["--db", &db, "staff", "list", "--json"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let me = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name.as_str())
            .unwrap();
        assert_eq!(me["role"], "reviewer");
        assert_eq!(me["disabled"], false);
        assert!(me.get("password_hash").is_none());
        assert!(!o.stdout.windows(9).any(|w| w == b"$argon2id"));

        let o = chengxin(p, &["--db", &db, "staff", "disable", &name]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = chengxin(p, &["--db", &db, "staff", "list"]);
        let line = text(&o.stdout)
            .lines()
            .find(|l| l.starts_with(&name))
            .unwrap()
            .to_owned();
        assert!(
            line.contains("reviewer") && line.contains("disabled"),
            "{line}"
        );
        let o = chengxin(p, &["--db", &db, "staff", "disable", "nobody-here"]);
        assert_clean_failure(&o);
    }
}

/// `data-key rotate` moves the database to a new key file: afterwards
/// `score` works with the new key file only, and the old key is refused,
/// naming the new file.
#[test]
fn data_key_rotate_then_score_with_the_new_key_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rows.jsonl"), PERSON).unwrap();
    let o = chengxin(
        dir.path(),
        &["import", "rows.jsonl", "--as-of", "2026-06-01"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = chengxin(
        dir.path(),
        &[
            "data-key",
            "rotate",
            "--new-key-file",
            "new.key",
            "--batch",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("data key rotated"),
        "{}",
        text(&o.stdout)
    );

    let score = ["score", "11010519491231002X", "--as-of", "2026-06-01"];
    let o = chengxin(dir.path(), &score);
    assert_clean_failure(&o);
    let err = text(&o.stderr);
    assert!(
        err.contains("different key") && err.contains("new.key"),
        "{err}"
    );

    let o = Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(dir.path())
        .env_remove("CHENGXIN_DATABASE_URL")
        .env_remove("CHENGXIN_DATA_KEY")
        .env_remove("CHENGXIN_DATA_KEY_NEXT_FILE")
        .env("CHENGXIN_DATA_KEY_FILE", dir.path().join("new.key"))
        .env("CHENGXIN_AUDIT_KEY_FILE", dir.path().join("audit.key"))
        .args(score)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("Score 574"), "{}", text(&o.stdout));
}

#[path = "cli_certs/mod.rs"]
mod certs;

#[path = "cli_workflows/mod.rs"]
mod workflows;
