//! The working-day calendar: shipped years, years an admin loads (stored, so
//! every process sees them, overriding the shipped ones, audited), and bad
//! files refused with nothing stored. Both backends.

use std::sync::Arc;

use chengxin_jobs::calendar::{self, Origin};
use chengxin_jobs::Context;
use chengxin_testkit::backends;
use jiff::civil::date;

const Y2027: &str = r#"
year = 2027
source = "测试通知 synthetic test notice"

[[holidays]]
name_zh = "元旦"
name_en = "New Year's Day"
from = "2027-01-01"
to = "2027-01-03"

[[working_days]]
date = "2027-01-09"
for = "元旦"
"#;

#[test]
fn loaded_years_extend_and_override_the_shipped_ones() {
    for db in backends() {
        let b = db.backend();
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        // 2027 undescribed: Friday 1 January counts, provisionally.
        let d = calendar::add_working_days(&ctx, date(2026, 12, 31), 1).unwrap();
        assert_eq!((d.date, d.provisional), (date(2027, 1, 1), true), "{b}");
        assert_eq!(calendar::year(&ctx, 2027).unwrap().origin, Origin::None);

        let l = calendar::load(&ctx, Y2027, "operator:admin").unwrap();
        assert!(!l.replaced_loaded && !l.overrides_shipped, "{b}");

        // Another process (a second store on the same database) sees it.
        let other = Context::new(Arc::from(db.open())).unwrap();
        let d = calendar::add_working_days(&other, date(2026, 12, 31), 1).unwrap();
        assert_eq!((d.date, d.provisional), (date(2027, 1, 4), false), "{b}");
        let d = calendar::add_working_days(&other, date(2027, 1, 8), 1).unwrap();
        assert_eq!(d.date, date(2027, 1, 9), "{b}: make-up Saturday counts");
        let v = calendar::year(&other, 2027).unwrap();
        assert_eq!(v.origin, Origin::Loaded, "{b}");
        assert_eq!(v.data.unwrap().holidays[0].name_en, "New Year's Day");

        // Overriding a shipped year: 2025 without its National Day.
        let y2025 = "year = 2025\nsource = \"测试 override\"\n";
        let l = calendar::load(&ctx, y2025, "operator:admin").unwrap();
        assert!(l.overrides_shipped && !l.replaced_loaded, "{b}");
        let d = calendar::add_working_days(&other, date(2025, 9, 30), 1).unwrap();
        assert_eq!(d.date, date(2025, 10, 1), "{b}");
        assert_eq!(
            calendar::year(&other, 2026).unwrap().origin,
            Origin::Shipped
        );
        // Loading again replaces the loaded one.
        let again = Y2027.replace("2027-01-09", "2027-01-10");
        assert!(
            calendar::load(&ctx, &again, "operator:admin")
                .unwrap()
                .replaced_loaded
        );
        let d = calendar::add_working_days(&other, date(2027, 1, 8), 1).unwrap();
        assert_eq!(d.date, date(2027, 1, 10), "{b}");

        // Audited, and the log still verifies.
        let loads: Vec<_> = chengxin_jobs::audit::entries_after(&ctx, 0, 100_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == "calendar.loaded")
            .collect();
        let subjects: Vec<_> = loads
            .iter()
            .map(|e| e.event.subject.clone().unwrap())
            .collect();
        assert_eq!(
            subjects,
            ["calendar:2027", "calendar:2025", "calendar:2027"],
            "{b}"
        );
        assert!(
            loads.iter().all(|e| e.event.actor == "operator:admin"),
            "{b}"
        );
        assert_eq!(loads[2].event.detail["replaced_loaded"], true, "{b}");
        assert_eq!(loads[1].event.detail["overrides_shipped"], true, "{b}");
        chengxin_jobs::audit::verify(&ctx, None).unwrap();
    }
}

#[test]
fn bad_files_and_counts_are_refused_and_nothing_is_stored() {
    for db in backends() {
        let b = db.backend();
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let overlapping = format!(
            "{Y2027}\n[[holidays]]\nname_zh = \"春节\"\nname_en = \"Spring Festival\"\nfrom = \"2027-01-03\"\nto = \"2027-01-05\"\n"
        );
        for bad in [overlapping.as_str(), "year = 2027", "{\"year\": 2027, \"source\": \"x\", \"holidays\": [{\"name_zh\": \"甲\", \"name_en\": \"A\", \"from\": \"2027-13-01\", \"to\": \"2027-01-01\"}]}"] {
            let e = calendar::load(&ctx, bad, "operator:admin").unwrap_err();
            assert!(e.to_string().contains("calendar file"), "{b}: {e}");
        }
        let e = calendar::load(&ctx, &overlapping, "operator:admin").unwrap_err();
        assert!(
            e.to_string()
                .contains("holidays[1]: 2027-01-03 is also in holidays[0]"),
            "{b}: {e}"
        );
        assert_eq!(
            db.query_i64("SELECT count(*) FROM calendar_years"),
            0,
            "{b}"
        );
        let loads = chengxin_jobs::audit::entries_after(&ctx, 0, 100_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == "calendar.loaded")
            .count();
        assert_eq!(loads, 0, "{b}");
        let e = calendar::add_working_days(&ctx, date(2025, 1, 1), 0).unwrap_err();
        assert!(e.to_string().contains("1 to 10000"), "{b}: {e}");
    }
}
