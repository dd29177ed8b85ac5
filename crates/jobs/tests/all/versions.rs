//! A unit's own version numbers (`source_version`), on every backend:
//! replaying input after a correction reports the older version `stale` and
//! never stores it over the newer one (it used to: v1, v2, v1, v2).

use std::io::Cursor;
use std::sync::Arc;

use chengxin_ingest::Format;
use chengxin_jobs::{import, Context, ImportOptions, ImportSummary};
use chengxin_testkit::{backends, id_number};
use jiff::civil::date;
use serde_json::json;

fn b03(source_id: &str, who: u32, active: bool, version: Option<i64>) -> String {
    let mut row = json!({
        "unit": "SX-PSB", "source_id": source_id, "item": "B03",
        "id_number": id_number("330602", "19800101", who).as_str(), "name": "某人",
        "fields": {"region_code": "330602", "registered_on": "2000-01-01", "active": active},
    });
    if let Some(v) = version {
        row["source_version"] = json!(v);
    }
    row.to_string() + "\n"
}

fn run(ctx: &Context, input: &str) -> ImportSummary {
    let opts = ImportOptions {
        format: Format::Jsonl,
        chunk: 2,
        errors: None,
        as_of: date(2026, 11, 1),
    };
    import(ctx, Cursor::new(input.as_bytes().to_vec()), opts, &()).unwrap()
}

/// (newest version number, its `active` field).
fn head(ctx: &Context, source_id: &str) -> (i32, bool) {
    let mut tx = ctx.store.read().unwrap();
    let h = tx
        .record_heads(&[("SX-PSB", source_id)])
        .unwrap()
        .pop()
        .flatten()
        .unwrap();
    let who = tx.person_records(h.person_id).unwrap();
    let fields = &who.iter().find(|r| r.id == h.id).unwrap().fields;
    (h.version, fields["active"].as_bool().unwrap())
}

#[test]
fn a_replay_after_a_correction_is_stale() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let input = [
            b03("R-1", 1, true, Some(1)),
            b03("R-2", 2, true, Some(1)),
            b03("R-1", 1, false, Some(2)),
        ]
        .concat();
        let first = run(&ctx, &input);
        assert_eq!(
            (first.accepted, first.corrected, first.stale),
            (2, 1, 0),
            "{}",
            db.url
        );
        assert_eq!(head(&ctx, "R-1"), (2, false), "{}", db.url);

        // The whole input again (a crashed import re-run): v1 is older than
        // the stored v2, so nothing is stored; v2 is a duplicate.
        let again = run(&ctx, &input);
        assert_eq!(
            (
                again.accepted,
                again.corrected,
                again.stale,
                again.duplicate
            ),
            (0, 0, 1, 2),
            "{}",
            db.url
        );
        assert_eq!(head(&ctx, "R-1"), (2, false), "{}", db.url);

        // v1 alone, even in a chunk of its own, is stale; a newer one applies.
        assert_eq!(run(&ctx, &b03("R-1", 1, true, Some(1))).stale, 1);
        assert_eq!(head(&ctx, "R-1"), (2, false), "{}", db.url);
        assert_eq!(run(&ctx, &b03("R-1", 1, true, Some(3))).corrected, 1);
        assert_eq!(head(&ctx, "R-1"), (3, true), "{}", db.url);

        // Without numbers the arrival order decides, as before.
        assert_eq!(run(&ctx, &b03("R-2", 2, false, None)).corrected, 1);
        assert_eq!(head(&ctx, "R-2"), (2, false), "{}", db.url);
    }
}

#[test]
fn a_bad_source_version_is_rejected_per_row() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let mut bad =
            serde_json::from_str::<serde_json::Value>(&b03("R-9", 9, true, None)).unwrap();
        let mut input = String::new();
        for v in [json!(-1), json!("2"), json!(1.5), json!(1u64 << 60)] {
            bad["source_version"] = v;
            input += &(bad.to_string() + "\n");
        }
        let s = run(&ctx, &input);
        assert_eq!((s.rejected, s.accepted), (4, 0), "{}", db.url);
        assert!(s.first_errors.iter().all(|e| e.code == "invalid_field"));
    }
}
