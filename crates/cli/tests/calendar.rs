//! `chengxin calendar …` as an operator uses it: counting working days,
//! showing a year, loading one (stored, seen by the next process), and bad
//! input refused with one line. Storage on both backends.

use std::path::Path;
use std::process::{Command, Output};

use chengxin_testkit::{backends, TestDb};

fn chengxin(dir: &Path, db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chengxin"))
        .current_dir(dir)
        .env("CHENGXIN_DATABASE_URL", &db.url)
        .env_remove("CHENGXIN_DATA_KEY")
        // PostgreSQL has no key file beside it; SQLite ignores this one.
        .env("CHENGXIN_DATA_KEY_FILE", dir.join("data.key"))
        .env("CHENGXIN_AUDIT_KEY_FILE", dir.join("audit.key"))
        .env("CHENGXIN_ACTOR", "admin")
        .args(args)
        .output()
        .expect("run chengxin")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
}

/// Fails with a single line naming `needle`, no panic.
fn refused(o: &Output, needle: &str) {
    assert!(!o.status.success(), "expected failure: {}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

const Y2027: &str = r#"{"year": 2027, "source": "测试通知 synthetic test notice",
  "holidays": [{"name_zh": "元旦", "name_en": "New Year's Day", "from": "2027-01-01", "to": "2027-01-03"}],
  "working_days": [{"date": "2027-01-09", "for": "元旦"}]}"#;

#[test]
fn add_working_days_show_and_load() {
    for db in backends() {
        let b = db.backend();
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| chengxin(dir.path(), &db, args);

        assert_eq!(
            ok(&run(&["calendar", "add-working-days", "2025-09-30", "1"])),
            "2025-10-09\n",
            "{b}"
        );
        assert_eq!(
            ok(&run(&["calendar", "add-working-days", "2026-02-13", "2"])),
            "2026-02-24\n",
            "{b}"
        );
        assert_eq!(
            ok(&run(&["calendar", "add-working-days", "2026-12-31", "1"])),
            "2027-01-01 (provisional)\n",
            "{b}"
        );
        let v: serde_json::Value = serde_json::from_str(&ok(&run(&[
            "calendar",
            "add-working-days",
            "2026-12-31",
            "1",
            "--json",
        ])))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"date": "2027-01-01", "provisional": true}),
            "{b}"
        );

        let shown = ok(&run(&["calendar", "show", "2025"]));
        assert!(shown.contains("国办发明电〔2024〕12号"), "{shown}");
        assert!(
            shown.contains("2025-10-01 – 2025-10-08   8 天 days  国庆节、中秋节 National Day"),
            "{shown}"
        );
        assert!(
            shown.contains("2025-10-11  周六 Sat  国庆节、中秋节"),
            "{shown}"
        );
        assert!(
            ok(&run(&["calendar", "show", "2027"])).contains("Monday to Friday"),
            "{b}"
        );

        std::fs::write(dir.path().join("2027.json"), Y2027).unwrap();
        let loaded = ok(&run(&["calendar", "load", "2027.json"]));
        assert!(
            loaded.contains("loaded the calendar of 2027: 1 holidays, 1 make-up"),
            "{loaded}"
        );
        // A new process counts with the loaded year: no longer provisional.
        let v: serde_json::Value = serde_json::from_str(&ok(&run(&[
            "calendar",
            "add-working-days",
            "2026-12-31",
            "1",
            "--json",
        ])))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"date": "2027-01-04", "provisional": false}),
            "{b}"
        );
        assert_eq!(
            ok(&run(&["calendar", "add-working-days", "2027-01-08", "1"])),
            "2027-01-09\n"
        );
        let shown = ok(&run(&["calendar", "show", "2027", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(v["origin"], "loaded", "{b}");
        assert_eq!(v["data"]["working_days"][0]["date"], "2027-01-09", "{b}");
        assert!(ok(&run(&["calendar", "show", "2027"])).contains("载入 loaded"));
        // The load is in the audit log, and the log verifies.
        ok(&run(&["audit", "verify"]));
    }
}

#[test]
fn bad_calendar_input_is_refused_with_one_line() {
    for db in backends() {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| chengxin(dir.path(), &db, args);
        refused(
            &run(&["calendar", "add-working-days", "2025-09-30", "0"]),
            "must be 1 to 10000",
        );
        refused(
            &run(&["calendar", "add-working-days", "2025-09-30", "-3"]),
            "must be 1 to 10000",
        );
        refused(
            &run(&["calendar", "add-working-days", "2025-02-30", "1"]),
            "2025-02-30",
        );
        refused(
            &run(&["calendar", "add-working-days", "2025-09-30", "x"]),
            "'x'",
        );
        let overlapping = Y2027.replace("\"working_days\"", "\"holidays_x\"");
        std::fs::write(dir.path().join("unknown.json"), overlapping).unwrap();
        refused(
            &run(&["calendar", "load", "unknown.json"]),
            "malformed calendar file",
        );
        let overlap = r#"year = 2027
source = "测试"
[[holidays]]
name_zh = "甲"
name_en = "A"
from = "2027-02-01"
to = "2027-02-05"
[[holidays]]
name_zh = "乙"
name_en = "B"
from = "2027-02-04"
to = "2027-02-06"
[[working_days]]
date = "2027-02-08"
for = "甲"
"#;
        std::fs::write(dir.path().join("overlap.toml"), overlap).unwrap();
        let o = run(&["calendar", "load", "overlap.toml"]);
        refused(&o, "holidays[1]: 2027-02-04 is also in holidays[0]");
        let err = text(&o.stderr);
        assert!(
            err.contains("working_days[0].date: 2027-02-08 is a Monday"),
            "{err}"
        );
        refused(
            &run(&["calendar", "load", "missing.toml"]),
            "cannot read missing.toml",
        );
        // Nothing was stored: 2027 is still undescribed.
        assert!(ok(&run(&["calendar", "show", "2027"])).contains("Monday to Friday"));
    }
}
