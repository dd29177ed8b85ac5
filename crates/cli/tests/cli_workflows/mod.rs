//! The agency's and parties' commands through the binary: the daily run,
//! parties, 信易+ scenarios, and catalogue and template versions.

use std::path::Path;
use std::process::{Command, Output};

use super::{assert_clean_failure, chengxin, text};

const WINDOW_CITY: &str = r#"{"unit":"SX-PSB","source_id":"h1","item":"B03","id_number":"11010519491231002X","name":"测试甲","fields":{"region_code":"330602","registered_on":"2001-05-01","active":true}}
{"unit":"SX-MKT","source_id":"p1","item":"P01","id_number":"11010519491231002X","name":"测试甲","fields":{"level":"general","decided_on":"2025-03-01","authority":"绍兴市市场监管局","case_no":"绍市监罚〔2025〕1号","domain":"market"}}
{"unit":"SX-PSB","source_id":"h2","item":"B03","id_number":"330602199001011231","name":"测试乙","fields":{"region_code":"330602","registered_on":"2001-05-01","active":true}}
{"unit":"ZJ-CREDIT","source_id":"e2","item":"B01","id_number":"330602199001011231","name":"测试乙","fields":{"score":820,"evaluated_on":"2025-06-01"}}
"#;

/// `chengxin daily` on both backends: the penalty of 测试甲 leaves publicity
/// on 2026-03-01 and only that person is rescored; a date runs once; an
/// earlier date is refused with one clear line.
#[test]
fn daily_rescores_only_the_person_whose_penalty_left_publicity() {
    for db in chengxin_testkit::backends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("rows.jsonl"), WINDOW_CITY).unwrap();
        let run = |args: &[&str]| {
            let mut all = vec!["--db", db.url.as_str()];
            all.extend_from_slice(args);
            Command::new(env!("CARGO_BIN_EXE_chengxin"))
                .current_dir(p)
                .env_remove("CHENGXIN_DATABASE_URL")
                .env_remove("CHENGXIN_DATA_KEY")
                .env_remove("CHENGXIN_DATA_KEY_NEXT_FILE")
                .env("CHENGXIN_DATA_KEY_FILE", p.join("data.key"))
                .env("CHENGXIN_AUDIT_KEY_FILE", p.join("audit.key"))
                .args(&all)
                .output()
                .expect("run chengxin")
        };
        let json = |o: Output| -> serde_json::Value {
            assert!(o.status.success(), "{}", text(&o.stderr));
            serde_json::from_slice(&o.stdout).unwrap()
        };
        let b = db.backend();
        let o = run(&["import", "rows.jsonl", "--as-of", "2026-02-28"]);
        assert!(o.status.success(), "{b}: {}", text(&o.stderr));
        let first = json(run(&["daily", "--as-of", "2026-02-28", "--json"]));
        assert_eq!(first["touched"], 0, "{b}: {first}");
        let history = db.query_i64("SELECT COUNT(*) FROM score_history");

        let s = json(run(&["daily", "--as-of", "2026-03-01", "--json"]));
        assert_eq!(
            (&s["ran"], &s["touched"], &s["rescored"], &s["changed"]),
            (&true.into(), &1.into(), &1.into(), &1.into()),
            "{b}: {s}"
        );
        assert_eq!(s["previous"], "2026-02-28", "{b}: {s}");
        assert!(s["seconds"].as_f64().is_some(), "{b}: {s}");
        // Only 测试甲's score row and history moved.
        let window = "SELECT COUNT(*) FROM score_history WHERE cause = 'window' AND score = 600";
        assert_eq!(db.query_i64(window), 1, "{b}");
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history"),
            history + 1,
            "{b}"
        );
        let untouched = "SELECT COUNT(*) FROM scores WHERE as_of = '2026-02-28'";
        assert_eq!(db.query_i64(untouched), 1, "{b}");

        // Again: nothing; the text says so.
        let o = run(&["daily", "--as-of", "2026-03-01"]);
        assert!(o.status.success(), "{b}: {}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("already claimed"),
            "{}",
            text(&o.stdout)
        );
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history"),
            history + 1,
            "{b}"
        );

        // Back in time: refused in one line.
        let o = run(&["daily", "--as-of", "2026-02-20"]);
        assert_clean_failure(&o);
        assert!(
            text(&o.stderr).contains("cannot go back before its last run on 2026-03-01"),
            "{}",
            text(&o.stderr)
        );
        let o = run(&["daily", "--as-of", "2026-03-09"]);
        assert!(
            text(&o.stdout).contains("0 people touched"),
            "{b}: {}",
            text(&o.stdout)
        );
    }
}
/// `chengxin party …`: the key shown once as JSON, government parties
/// limited to incentive purposes (第十九条), rotation and disabling.
#[test]
fn parties_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let add = [
        "party",
        "add",
        "SX-BANK",
        "--name",
        "绍兴银行",
        "--kind",
        "bank",
    ];
    let o = chengxin(
        p,
        &[
            &add[..],
            &["--purposes", "loan_discount,deposit_waiver", "--json"],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let key = v["key"].as_str().unwrap().to_owned();
    assert_eq!(
        (v["code"].as_str(), key.starts_with("cxp_")),
        (Some("SX-BANK"), true)
    );
    assert_clean_failure(&chengxin(
        p,
        &[&add[..], &["--purposes", "loan_discount"]].concat(),
    ));
    let gov = [
        "party",
        "add",
        "SX-GOV",
        "--name",
        "某局",
        "--kind",
        "government",
        "--purposes",
    ];
    let o = chengxin(p, &[&gov[..], &["loan_discount"]].concat());
    assert_clean_failure(&o);
    assert!(text(&o.stderr).contains("第十九条"), "{}", text(&o.stderr));
    assert_clean_failure(&chengxin(p, &[&gov[..], &["no_such_purpose"]].concat()));
    let o = chengxin(p, &[&gov[..], &["government_incentive"]].concat());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = chengxin(p, &["party", "rotate-key", "SX-BANK", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_ne!(v["key"].as_str(), Some(key.as_str()));
    assert!(chengxin(p, &["party", "disable", "SX-BANK"])
        .status
        .success());
    assert_clean_failure(&chengxin(p, &["party", "disable", "NOPE"]));
    let o = chengxin(p, &["party", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["code"].clone(),
                x["disabled"].clone(),
                x["purposes"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                serde_json::json!("SX-BANK"),
                serde_json::json!(true),
                serde_json::json!(["loan_discount", "deposit_waiver"])
            ),
            (
                serde_json::json!("SX-GOV"),
                serde_json::json!(false),
                serde_json::json!(["government_incentive"])
            ),
        ]
    );
}
#[test]
fn scenarios_from_the_command_line_are_benefits_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let good = r#"{"code":"BUS","provider":"绍兴公交集团","sector":"transport",
        "description_zh":"诚信分达标者乘坐公交享受八折优惠","description_en":"20% off bus fares",
        "benefit":{"kind":"discount","percent":20},"min_grade":"AA",
        "valid_from":"2026-01-01","valid_until":"2099-12-31"}"#;
    std::fs::write(p.join("good.json"), good).unwrap();
    let bad = good
        .replace("\"percent\":20", "\"percent\":-5")
        .replace("八折优惠", "八折优惠，未达标者加收附加费");
    std::fs::write(p.join("bad.json"), bad).unwrap();
    let db = "sqlite://scenarios.db";
    let o = chengxin(p, &["--db", db, "scenario", "add", "good.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = chengxin(p, &["--db", db, "scenario", "add", "bad.json"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("description_zh: ") && err.contains("penalty_wording"),
        "{err}"
    );
    assert!(
        err.contains("benefit.percent: ") && err.contains("not_positive"),
        "{err}"
    );
    assert!(err.contains("not an incentive"), "{err}");
    let o = chengxin(p, &["--db", db, "scenario", "retire", "BUS"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_clean_failure(&chengxin(p, &["--db", db, "scenario", "retire", "BUS"]));
    let o = chengxin(p, &["--db", db, "scenario", "list", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["code"], "BUS");
    assert_eq!(list[0]["retired"], true);
}

/// `chengxin --db DB …` with a data key file of its own (PostgreSQL needs one).
fn chengxin_db(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(dir)
        .env_remove("CHENGXIN_DATABASE_URL")
        .env_remove("CHENGXIN_DATA_KEY")
        .env_remove("CHENGXIN_DATA_KEY_NEXT_FILE")
        .env("CHENGXIN_DATA_KEY_FILE", dir.join("data.key"))
        .env("CHENGXIN_AUDIT_KEY_FILE", dir.join("audit.key"))
        .args(["--db", db, "--actor", "admin-li"])
        .args(args)
        .output()
        .expect("run chengxin")
}

#[test]
fn catalogue_and_templates_versions_from_the_command_line() {
    let next_catalogue = include_str!("../../../domain/data/catalogue/example-2026.2.toml");
    let next_templates = include_str!("../../../domain/data/templates/example-2026.2.toml");
    for db in chengxin_testkit::backends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let run = |args: &[&str]| chengxin_db(p, &db.url, args);
        let o = run(&["catalogue", "list"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = text(&o.stdout);
        assert!(
            out.contains("2026.1") && out.contains("(in force)"),
            "{out}"
        );

        // A file with several errors: each printed with its path, exit 1.
        let bad = next_catalogue
            .replacen("code = \"B01\"", "code = \"B1\"", 1)
            .replacen("name_en = \"honour\"", "name_en = \"\"", 1)
            .replacen(
                "type = \"enum\", required = true, values = [\"full\"",
                "type = \"enum\", required = true, valuez = [\"full\"",
                1,
            );
        std::fs::write(p.join("bad.toml"), bad).unwrap();
        let o = run(&["catalogue", "validate", "bad.toml"]);
        assert!(!o.status.success());
        let out = text(&o.stdout);
        for path in ["items[0].code", "items[7].name_en", "items[1].fields"] {
            assert!(out.contains(&format!("bad.toml: {path}")), "{path}: {out}");
        }
        let o = run(&[
            "catalogue",
            "publish",
            "bad.toml",
            "--effective",
            "2026-12-01",
        ]);
        assert!(!o.status.success());

        std::fs::write(p.join("next.toml"), next_catalogue).unwrap();
        let o = run(&["catalogue", "validate", "next.toml"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(text(&o.stdout).starts_with("ok: catalogue 2026.2 would be version 2"));
        let o = run(&[
            "catalogue",
            "publish",
            "next.toml",
            "--effective",
            "2026-12-01",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(text(&o.stdout).starts_with("published catalogue 2026.2 as version 2"));
        // Publishing the same label again: one clean line.
        assert_clean_failure(&run(&[
            "catalogue",
            "publish",
            "next.toml",
            "--effective",
            "2026-12-01",
        ]));
        let o = run(&["catalogue", "list", "--json"]);
        let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[1]["label"], "2026.2");
        assert_eq!(list[1]["in_force"], true);
        assert_eq!(list[1]["published_by"], "operator:admin-li");
        assert_eq!(list[1]["effective_from"], "2026-12-01");

        std::fs::write(p.join("templates.toml"), next_templates).unwrap();
        let o = run(&[
            "templates",
            "publish",
            "templates.toml",
            "--effective",
            "2026-12-01",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        // Removing a template is refused with the reason.
        let at = next_templates
            .find("[[templates]]\ncode = \"T04\"")
            .unwrap();
        let removed = next_templates[..at].replace("version = \"2026.2\"", "version = \"2026.3\"");
        std::fs::write(p.join("removed.toml"), removed).unwrap();
        let o = run(&["templates", "validate", "removed.toml"]);
        assert!(!o.status.success());
        assert!(
            text(&o.stdout).contains("T04 may not be removed"),
            "{}",
            text(&o.stdout)
        );
        let o = run(&["templates", "list"]);
        let out = text(&o.stdout);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.lines().nth(1).unwrap().contains("2026.2"), "{out}");
    }
}
