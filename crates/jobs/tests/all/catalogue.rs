//! The catalogue and commitment templates as the agency's versioned data
//! (第十一条) on every backend: publishing a version that adds an item, the
//! versions refused for the records or the model they would break, files
//! with many errors, retired templates, and the audit of each publication.

use std::sync::Arc;

use chengxin_domain::commitment::CommitmentStatus;
use chengxin_domain::Catalogue;
use chengxin_jobs::catalogue::{self, DataError, Kind};
use chengxin_jobs::commitments::{self, SignError};
use chengxin_jobs::push::{push_record, Caller, PushError};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::units::{add_unit, Unit};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record, TestDb};
use jiff::civil::date;
use serde_json::json;

const ADMIN: &str = "staff:admin-li";

fn shipped() -> String {
    Catalogue::builtin_texts().0.to_owned()
}

fn shipped_templates() -> String {
    Catalogue::builtin_texts().1.to_owned()
}

/// The shipped catalogue relabelled `label`.
fn relabel(text: &str, label: &str) -> String {
    text.replacen("version = \"2026.1\"", &format!("version = \"{label}\""), 1)
}

/// The shipped catalogue as `2026.2` with a new item O05 (community service).
fn with_o05() -> String {
    relabel(&shipped(), "2026.2")
        + r#"
[[items]]
code = "O05"
category = "other"
name_zh = "社区服务"
name_en = "community service"
responsible = ["community office"]
self_reportable = true
repairable = false
fields = [
  { name = "hours", type = "decimal", required = true, min = 0, max = 1000 },
  { name = "served_on", type = "date", required = true },
]
"#
}

/// The shipped catalogue as `2026.2` without item O04.
fn without_o04() -> String {
    let text = relabel(&shipped(), "2026.2");
    let at = text.find("[[items]]\ncode = \"O04\"").unwrap();
    text[..at].to_owned()
}

fn person(n: u32) -> chengxin_domain::IdNumber {
    id_number("330602", "19850101", n)
}

fn setup(db: &TestDb) -> Context {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let row = record(
        "SX-PSB",
        "h1",
        person(1),
        "测试居民",
        "B03",
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
    );
    store_chunk(&ctx, &[row], &Change::bulk(Cause::Import, "test")).unwrap();
    ctx
}

fn unit(ctx: &Context, code: &str, items: &[&str]) -> Unit {
    let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    add_unit(ctx, code, "测试单位", &items, "test").unwrap().0
}

fn push(ctx: &Context, u: &Unit, body: serde_json::Value) -> Result<i64, PushError> {
    let caller = Caller {
        unit: u,
        request_id: None,
        client_request_id: None,
    };
    push_record(ctx, caller, body.to_string().as_bytes()).map(|r| r.record_id)
}

fn publish(ctx: &Context, kind: Kind, text: &str) -> Result<catalogue::Checked, DataError> {
    catalogue::publish(ctx, kind, text, date(2026, 12, 1), ADMIN)
}

fn refused(r: Result<catalogue::Checked, DataError>) -> Vec<(String, String)> {
    match r {
        Err(DataError::Refused(e)) => e.0.into_iter().map(|i| (i.path, i.message)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The published entries of the sealed audit log: (action, actor, subject).
fn publications(ctx: &Context) -> Vec<(String, String, String)> {
    ctx.store.seal_audit().unwrap();
    let mut tx = ctx.store.read().unwrap();
    tx.audit_entries(0, 1_000_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action.ends_with(".published"))
        .map(|e| {
            (
                e.event.action,
                e.event.actor,
                e.event.subject.unwrap_or_default(),
            )
        })
        .collect()
}

fn catalogue_versions(ctx: &Context) -> Vec<(String, i64)> {
    let mut tx = ctx.store.read().unwrap();
    tx.record_fields_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|r| (r.item, r.catalogue_version))
        .collect()
}

#[test]
fn a_published_item_can_be_pushed_by_its_unit_and_records_keep_their_version() {
    for db in backends() {
        let ctx = setup(&db);
        // Another process, started before the publication.
        let other = Context::new(Arc::from(db.open())).unwrap();
        let list = catalogue::list(&ctx, Kind::Catalogue).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].number, list[0].label.as_str()), (1, "2026.1"));
        assert!(list[0].in_force);
        assert!(ctx.catalogue().item("O05").is_none());
        let err = add_unit(&ctx, "SX-COMM", "社区", &["O05".to_owned()], "test");
        assert!(err.is_err(), "no O05 yet");

        let checked = catalogue::validate(&ctx, Kind::Catalogue, &with_o05()).unwrap();
        assert_eq!((checked.number, checked.records_checked), (2, 1));
        let published = publish(&ctx, Kind::Catalogue, &with_o05()).unwrap();
        assert_eq!(published.number, 2);
        assert_eq!(ctx.catalogue().number, 2);
        let list = catalogue::list(&ctx, Kind::Catalogue).unwrap();
        assert_eq!(list.len(), 2);
        assert!(!list[0].in_force && list[1].in_force);
        assert_eq!(list[1].effective_from, date(2026, 12, 1));
        assert_eq!(list[1].published_by, ADMIN);

        // The unit responsible for O05 pushes it, through the other process too.
        let comm = unit(&ctx, "SX-COMM", &["O05"]);
        let body = |id: &str| {
            json!({"source_id": id, "item": "O05", "id_number": person(1).as_str(),
                   "fields": {"hours": "3.5", "served_on": "2026-03-01"}})
        };
        push(&ctx, &comm, body("c1")).unwrap();
        push(&other, &comm, body("c2")).unwrap();
        assert_eq!(other.catalogue().number, 2, "{}", db.url);
        // A unit not responsible for it may not.
        let psb = unit(&ctx, "SX-PSB2", &["B03"]);
        assert!(matches!(
            push(&ctx, &psb, body("c3")),
            Err(PushError::Invalid(e)) if e.code == "item_not_permitted"
        ));
        assert_eq!(
            catalogue_versions(&ctx),
            [("B03".into(), 1), ("O05".into(), 2), ("O05".into(), 2)]
        );
        // The same label again is refused.
        assert!(matches!(
            publish(&ctx, Kind::Catalogue, &with_o05()),
            Err(DataError::Exists { .. })
        ));
        assert_eq!(
            publications(&ctx),
            [(
                "catalogue.published".to_owned(),
                ADMIN.to_owned(),
                "catalogue:2".to_owned()
            )]
        );
    }
}

#[test]
fn removing_an_item_with_records_is_refused_with_the_reason() {
    for db in backends() {
        let ctx = setup(&db);
        let blood = unit(&ctx, "SX-BLOOD", &["O04"]);
        push(
            &ctx,
            &blood,
            json!({"source_id": "b1", "item": "O04", "id_number": person(1).as_str(),
                   "fields": {"donated_on": "2026-02-01", "volume_ml": 400}}),
        )
        .unwrap();
        let issues = refused(publish(&ctx, Kind::Catalogue, &without_o04()));
        assert!(
            issues.iter().any(|(p, m)| p == "items"
                && m.contains("O04 is removed but has stored records")
                && m.starts_with("1 stored record")),
            "{issues:?}"
        );
        assert_eq!(ctx.catalogue().number, 1);
        assert_eq!(catalogue::list(&ctx, Kind::Catalogue).unwrap().len(), 1);
        assert!(publications(&ctx).is_empty());
    }
}

#[test]
fn a_schema_change_that_stored_records_fail_is_refused() {
    for db in backends() {
        let ctx = setup(&db);
        let vol = unit(&ctx, "SX-VOL", &["O03"]);
        for (id, hours) in [("v1", "8"), ("v2", "2"), ("v3", "12.5")] {
            push(
                &ctx,
                &vol,
                json!({"source_id": id, "item": "O03", "id_number": person(1).as_str(),
                       "fields": {"hours": hours, "served_on": "2026-02-01", "organisation": "志愿者协会"}}),
            )
            .unwrap();
        }
        let shipped = relabel(&shipped(), "2026.2");
        let o03 =
            "{ name = \"hours\", type = \"decimal\", required = true, min = 0, max = 100000 }";
        assert!(shipped.contains(o03));
        let tight = shipped.replace(o03, &o03.replace("max = 100000", "max = 5"));
        let issues = refused(publish(&ctx, Kind::Catalogue, &tight));
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].0, "items[9].fields.hours");
        assert!(
            issues[0].1.starts_with("2 stored record version(s)"),
            "{issues:?}"
        );
        // A compatible change (a higher ceiling) goes through.
        let wide = shipped.replace(o03, &o03.replace("max = 100000", "max = 200000"));
        let ok = publish(&ctx, Kind::Catalogue, &wide).unwrap();
        assert_eq!((ok.number, ok.records_checked), (2, 4));
        assert_eq!(
            ctx.catalogue().item("O03").unwrap().fields[0].max,
            Some(200000.into())
        );
    }
}

#[test]
fn an_item_the_model_in_force_reads_may_not_disappear() {
    for db in backends() {
        let ctx = setup(&db);
        let issues = refused(publish(&ctx, Kind::Catalogue, &without_o04()));
        assert!(!issues.is_empty());
        assert!(
            issues
                .iter()
                .all(|(p, m)| p == "(model 2026.1)" && m.contains("O04")),
            "{issues:?}"
        );
        // Records and scores still work under version 1.
        assert_eq!(ctx.catalogue().number, 1);
    }
}

#[test]
fn a_malformed_file_reports_every_error_with_its_path() {
    for db in backends() {
        let ctx = setup(&db);
        let bad = with_o05()
            .replacen("code = \"B01\"", "code = \"b-1\"", 1)
            .replacen(
                "name_en = \"honour\"",
                "name_en = \"\"\ncolour = \"red\"",
                1,
            )
            .replace(
                "max = 1000 },\n  { name = \"served_on\", type = \"date\"",
                "max = 1000 },\n  { name = \"hours\", type = \"int\"",
            );
        let err = publish(&ctx, Kind::Catalogue, &bad).unwrap_err();
        let DataError::Invalid(e) = err else {
            panic!("expected invalid, got {err:?}")
        };
        let paths: Vec<&str> = e.0.iter().map(|i| i.path.as_str()).collect();
        for want in [
            "items[0].code",
            "items[7].name_en",
            "items[7].colour",
            "items[11].fields[1].name",
            "items[11].fields",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        let syntax = catalogue::validate(&ctx, Kind::Catalogue, "version = ").unwrap_err();
        assert!(matches!(syntax, DataError::Invalid(e) if e.0[0].path == "(file)"));
        let templates = shipped_templates().replacen("term_months = 12", "term_months = 0", 1);
        let err = catalogue::validate(&ctx, Kind::Templates, &templates).unwrap_err();
        assert!(
            matches!(&err, DataError::Invalid(e) if e.0[0].path == "templates[0].term_months"),
            "{err:?}"
        );
        assert!(catalogue::list(&ctx, Kind::Catalogue).unwrap().len() == 1);
    }
}

#[test]
fn a_retired_template_takes_no_new_signatures_and_keeps_the_old_ones() {
    for db in backends() {
        let ctx = setup(&db);
        let me = Resident {
            id_number: &person(1),
            name: Some("测试居民"),
            request_id: None,
        };
        let signed = commitments::sign(&ctx, me, "T03").unwrap();
        let v2 = shipped_templates().replacen("version = \"2026.1\"", "version = \"2026.2\"", 1);
        // Removing a template is refused; so is changing a signed term.
        let at = v2.find("[[templates]]\ncode = \"T03\"").unwrap();
        let issues = refused(publish(&ctx, Kind::Templates, &v2[..at]));
        assert!(issues[0].1.contains("T03 may not be removed"), "{issues:?}");
        let longer = v2.replacen("term_months = 12", "term_months = 24", 1);
        let issues = refused(publish(&ctx, Kind::Templates, &longer));
        assert_eq!(issues[0].0, "templates[0].term_months");

        let retired = v2.replace(
            "monitors = [\n  { item = \"P01\", where = { level = [\"general\", \"serious\"], domain = [\"traffic\"] } },\n]",
            "retired = true\nmonitors = [\n  { item = \"P01\", where = { level = [\"general\", \"serious\"], domain = [\"traffic\"] } },\n]",
        );
        assert_ne!(retired, v2);
        assert_eq!(publish(&ctx, Kind::Templates, &retired).unwrap().number, 2);
        let offered: Vec<String> = commitments::templates(&ctx)
            .unwrap()
            .into_iter()
            .map(|t| t.code)
            .collect();
        assert_eq!(offered, ["T01", "T02"]);
        let me = Resident {
            id_number: &person(1),
            name: Some("测试居民"),
            request_id: None,
        };
        assert!(matches!(
            commitments::sign(&ctx, me, "T03"),
            Err(SignError::Retired(t)) if t == "T03"
        ));
        let mine = commitments::list(&ctx, me).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, signed.id);
        assert_eq!(mine[0].status, CommitmentStatus::Active);
        commitments::sign(&ctx, me, "T01").unwrap();
        let versions = catalogue::list(&ctx, Kind::Templates).unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(
            publications(&ctx),
            [(
                "templates.published".to_owned(),
                ADMIN.to_owned(),
                "templates:2".to_owned()
            )]
        );
    }
}
