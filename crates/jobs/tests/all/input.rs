//! Issue 7, findings 6–8, on every backend: implausible rows are refused one
//! by one and the rest of the chunk is stored (PostgreSQL never aborts a
//! chunk on input SQLite accepts); names follow the newest household
//! registration; reads are audited and name the operator.

use std::io::Cursor;
use std::sync::Arc;

use chengxin_domain::audit::AuditEntry;
use chengxin_ingest::Format;
use chengxin_jobs::push::{push_record, Caller};
use chengxin_jobs::{audit, explain, import, simulate, units, Context, ImportOptions};
use chengxin_testkit::{backends, candidate_model, id_number, TestDb};
use jiff::civil::{date, Date};
use serde_json::json;

const AS_OF: Date = date(2026, 6, 1);

fn ctx(db: &TestDb) -> Context {
    Context::new(Arc::from(db.open()))
        .unwrap()
        .with_actor("operator:wang")
}

fn import_lines(ctx: &Context, lines: &[String]) -> chengxin_jobs::ImportSummary {
    let data = lines.join("\n");
    let opts = ImportOptions {
        format: Format::Jsonl,
        chunk: 2000,
        errors: None,
        as_of: AS_OF,
    };
    import(ctx, Cursor::new(data.into_bytes()), opts, &()).unwrap()
}

fn b03(source: &str, id: &str, name: &str, on: &str) -> String {
    json!({"unit": "SX-PSB", "source_id": source, "item": "B03", "id_number": id, "name": name,
           "fields": {"region_code": "330602", "registered_on": on, "active": true}})
    .to_string()
}

fn p01(source: &str, id: &str, name: &str, on: &str) -> String {
    json!({"unit": "SX-TAX", "source_id": source, "item": "P01", "id_number": id, "name": name,
           "fields": {"level": "general", "decided_on": on, "authority": "绍兴市税务局", "case_no": source, "domain": "tax"}})
    .to_string()
}

fn name_of(ctx: &Context, id: &str) -> Option<String> {
    let idn = chengxin_domain::IdNumber::parse(id).unwrap();
    let index = ctx.store.keys().blind_index(id.as_bytes());
    let mut tx = ctx.store.read().unwrap();
    let pid = tx.find_person(&index).unwrap().unwrap();
    let identity = tx.identity(pid).unwrap().unwrap();
    assert_eq!(identity.id_number, idn);
    identity.name
}

fn entries(ctx: &Context) -> Vec<AuditEntry> {
    ctx.store.seal_audit().unwrap();
    ctx.store.read().unwrap().audit_entries(0, 100_000).unwrap()
}

#[test]
fn implausible_rows_are_refused_alone_and_the_chunk_is_stored() {
    for db in backends() {
        let c = ctx(&db);
        let id = |n| id_number("330602", "19900101", n).as_str().to_owned();
        let lines = vec![
            p01("ok-1", &id(1), "张三", "2026-03-01"),
            p01("year-0", &id(2), "李四", "0000-01-01"),
            p01("nul\u{0}id", &id(3), "王五", "2026-03-01"),
            p01("nul-name", &id(4), "王\u{0}五", "2026-03-01"),
            p01("bidi-name", &id(5), "王\u{202E}五", "2026-03-01"),
            p01("after-as-of", &id(6), "赵六", "2026-06-02"),
            json!({"unit": "SX-COURT", "source_id": "s01", "item": "S01", "id_number": id(7),
                   "fields": {"list_type": "court", "listed_on": "2026-02-01", "removed_on": "2026-01-01"}})
            .to_string(),
            p01("ok-2", &id(8), "孙八", "2026-03-02"),
        ];
        let s = import_lines(&c, &lines);
        assert_eq!(
            (s.accepted, s.rejected),
            (2, 6),
            "{}: {:?}",
            db.url,
            s.first_errors
        );
        let codes: Vec<&str> = s.first_errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "date_out_of_range",
                "invalid_character",
                "invalid_character",
                "invalid_character",
                "date_out_of_range",
                "inconsistent_fields"
            ],
            "{}",
            db.url
        );
        assert!(explain(&c, &id_number("330602", "19900101", 8), AS_OF)
            .unwrap()
            .is_some());
    }
}

#[test]
fn names_follow_the_newest_household_registration() {
    for db in backends() {
        let c = ctx(&db);
        let id = id_number("330602", "19900101", 11).as_str().to_owned();
        // The first push names the person, whatever its item.
        import_lines(&c, &[p01("p", &id, "甲", "2026-03-01")]);
        assert_eq!(name_of(&c, &id).as_deref(), Some("甲"), "{}", db.url);
        // A household registration renames them; within one chunk the
        // latest-dated registration wins, not the last line.
        import_lines(
            &c,
            &[
                b03("r2010", &id, "乙", "2010-01-01"),
                b03("r2005", &id, "丙", "2005-01-01"),
            ],
        );
        assert_eq!(name_of(&c, &id).as_deref(), Some("乙"), "{}", db.url);
        // An older registration arriving later does not; a newer one does.
        import_lines(&c, &[b03("r2008", &id, "丁", "2008-01-01")]);
        assert_eq!(name_of(&c, &id).as_deref(), Some("乙"), "{}", db.url);
        // A later penalty with another name changes nothing.
        import_lines(&c, &[p01("p2", &id, "戊", "2026-03-02")]);
        assert_eq!(name_of(&c, &id).as_deref(), Some("乙"), "{}", db.url);
        // A single push (the HTTP path's use case) renames too, NFC-normalised.
        let (unit, _) = units::add_unit(&c, "SX-PSB", "公安", &["B03".into()], "test").unwrap();
        let body = json!({"source_id": "r2020", "item": "B03", "id_number": id, "name": "Jose\u{301}",
                          "fields": {"region_code": "330602", "registered_on": "2020-01-01", "active": true}});
        let caller = Caller {
            unit: &unit,
            request_id: None,
            client_request_id: None,
        };
        push_record(&c, caller, body.to_string().as_bytes()).unwrap();
        assert_eq!(name_of(&c, &id).as_deref(), Some("Jos\u{e9}"), "{}", db.url);
        let renames = entries(&c)
            .into_iter()
            .filter(|e| e.event.action == "person.renamed")
            .count();
        assert_eq!(renames, 1, "the push's rename is audited: {}", db.url);
        assert!(!entries(&c)
            .iter()
            .any(|e| e.event.detail.to_string().contains("Jos")));
    }
}

#[test]
fn reads_are_audited_and_name_the_operator() {
    for db in backends() {
        let c = ctx(&db);
        let lines: Vec<String> = (0..6)
            .flat_map(|n| {
                let id = id_number("330602", "19900101", 20 + n).as_str().to_owned();
                [
                    b03(&format!("r{n}"), &id, "居民", "2000-01-01"),
                    p01(&format!("p{n}"), &id, "居民", "2026-03-01"),
                ]
            })
            .collect();
        import_lines(&c, &lines);
        // A probe for someone unknown is audited under their blind index.
        let stranger = id_number("330602", "19900101", 99);
        assert!(explain(&c, &stranger, AS_OF).unwrap().is_none());
        audit::record_not_found(&c, c.actor(), &stranger, None, "score explanation").unwrap();
        let model = chengxin_domain::Model::parse(&candidate_model(), &c.catalogue()).unwrap();
        let sim = simulate(&c, &model, AS_OF, 3).unwrap();
        let log = entries(&c);
        let index = c.store.keys().blind_index(stranger.as_str().as_bytes());
        let probe = log
            .iter()
            .find(|e| e.event.person.as_deref() == Some(&chengxin_store::person_ref(&index)))
            .expect("the probe is audited");
        assert_eq!(probe.event.detail["found"], false);
        let movers = log
            .iter()
            .filter(|e| e.event.detail["what"] == "model simulation mover")
            .count();
        assert_eq!(movers, sim.movers.len(), "{}", db.url);
        assert!(movers > 0);
        // Everything this context did names its operator; nothing is anonymous.
        assert!(
            log.iter().all(|e| e.event.actor == "operator:wang"),
            "{}",
            db.url
        );
        assert!(log.iter().any(|e| e.event.action == "records.ingested"));
    }
}
