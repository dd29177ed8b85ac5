//! Import, recompute, explain and model publishing end to end, on every backend.

use std::io::Cursor;
use std::sync::Arc;

use chengxin_domain::IdNumber;
use chengxin_ingest::Format;
use chengxin_jobs::{
    explain, import, publish, recompute, simulate, Context, ImportOptions, Target,
};
use chengxin_store::{Cause, Store};
use chengxin_synth::{generate, GenerateOptions};
use chengxin_testkit::{backends, candidate_model, TestDb};
use jiff::civil::{date, Date};

const AS_OF: Date = date(2026, 11, 1);

fn population(residents: u64) -> Vec<u8> {
    let mut out = Vec::new();
    generate(
        &GenerateOptions {
            residents,
            seed: 7,
            as_of: AS_OF,
        },
        &mut out,
    )
    .unwrap();
    out
}

fn ctx(db: &TestDb) -> Context {
    Context::new(Arc::from(db.open())).unwrap()
}

fn run_import(ctx: &Context, data: &[u8], format: Format) -> chengxin_jobs::ImportSummary {
    let opts = ImportOptions {
        format,
        chunk: 97,
        errors: None,
        as_of: AS_OF,
    };
    import(ctx, Cursor::new(data.to_vec()), opts, &()).unwrap()
}

fn ids(data: &[u8]) -> Vec<IdNumber> {
    ids_and_names(data)
        .iter()
        .map(|(id, _)| IdNumber::parse(id).unwrap())
        .collect()
}

fn ids_and_names(data: &[u8]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let j: serde_json::Value = serde_json::from_slice(l).unwrap();
            (
                j["id_number"].as_str().unwrap().to_owned(),
                j["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn import_is_idempotent_and_scores_everyone() {
    let data = population(300);
    let people = ids_and_names(&data).len() as u64;
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    for db in backends() {
        let c = ctx(&db);
        let s = run_import(&c, &data, Format::Jsonl);
        assert_eq!(
            (s.accepted, s.duplicate, s.corrected, s.rejected),
            (lines, 0, 0, 0),
            "{}",
            c.store.backend()
        );
        assert_eq!(s.rescored, people);
        assert_eq!(
            c.store.read().unwrap().counts("2026.1").unwrap(),
            (people, 0)
        );
        let again = run_import(&c, &data, Format::Jsonl);
        assert_eq!(
            (again.accepted, again.duplicate, again.rescored),
            (0, lines, 0)
        );
        // Everyone has a stored score; a full recompute changes nothing.
        let total: u64 = c
            .store
            .read()
            .unwrap()
            .grade_counts("2026.1")
            .unwrap()
            .iter()
            .map(|g| g.1)
            .sum();
        assert_eq!(total, people);
        let r = recompute(&c, Target::Everyone, AS_OF, Cause::Recompute, &()).unwrap();
        assert_eq!((r.persons, r.changed), (people, 0));
    }
}

#[test]
fn bad_rows_are_reported_and_the_rest_stored() {
    let good = r#"{"unit":"SX-TAX","source_id":"t1","item":"P01","id_number":"11010519491231002X","name":"张三","fields":{"level":"general","decided_on":"2026-03-01","authority":"绍兴市税务局","case_no":"1","domain":"tax"}}"#;
    let data = format!(
        "{good}\n{{broken\n{}\n{}\n",
        good.replace("t1", "t2").replace("P01", "X99"),
        good.replace("t1", "t3")
    );
    for db in backends() {
        let c = ctx(&db);
        let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let opts = ImportOptions {
            format: Format::Jsonl,
            chunk: 2,
            errors: Some(Box::new(Sink(errors.clone()))),
            as_of: AS_OF,
        };
        let s = import(&c, Cursor::new(data.clone().into_bytes()), opts, &()).unwrap();
        assert_eq!((s.accepted, s.rejected), (2, 2));
        let text = String::from_utf8(errors.lock().unwrap().clone()).unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[0]["line"], 2);
        assert_eq!(rows[0]["code"], "malformed_json");
        assert_eq!(rows[1]["line"], 3);
        assert_eq!(rows[1]["code"], "unknown_item");
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let x = explain(&c, &id, AS_OF).unwrap().unwrap();
        assert_eq!(x.records.len(), 2);
    }
}

#[test]
fn csv_and_jsonl_give_the_same_scores() {
    let csv = "unit,source_id,item,id_number,name,fields.score,fields.evaluated_on,fields.region_code,fields.registered_on,fields.active\n\
ZJ-CREDIT,e1,B01,11010519491231002X,张三,870,2026-01-01,,,\n\
SX-PSB,h1,B03,11010519491231002X,张三,,,330602,2000-01-01,true\n";
    for db in backends() {
        let c = ctx(&db);
        let s = run_import(&c, csv.as_bytes(), Format::Csv);
        assert_eq!((s.accepted, s.rejected), (2, 0));
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let x = explain(&c, &id, AS_OF).unwrap().unwrap();
        assert_eq!(x.evaluation().score, Some(620));
        assert_eq!(x.stored.unwrap().state.score, Some(620));
    }
}

#[test]
fn explain_as_of_an_earlier_date_ignores_later_records() {
    let base = r#"{"unit":"SX-PSB","source_id":"h1","item":"B03","id_number":"11010519491231002X","name":"张三","fields":{"region_code":"330602","registered_on":"2000-01-01","active":true}}"#;
    let pen = r#"{"unit":"SX-TAX","source_id":"p1","item":"P01","id_number":"11010519491231002X","name":"张三","fields":{"level":"serious","decided_on":"2026-10-01","authority":"a","case_no":"1","domain":"tax"}}"#;
    for db in backends() {
        let c = ctx(&db);
        run_import(&c, format!("{base}\n{pen}\n").as_bytes(), Format::Jsonl);
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            explain(&c, &id, AS_OF).unwrap().unwrap().evaluation().score,
            Some(550)
        );
        assert_eq!(
            explain(&c, &id, date(2026, 9, 30))
                .unwrap()
                .unwrap()
                .evaluation()
                .score,
            Some(600)
        );
        assert!(explain(
            &c,
            &IdNumber::parse("110105194912310021").unwrap_or(id),
            AS_OF
        )
        .is_ok());
    }
}

#[test]
fn simulate_then_publish_switches_model_and_rescoring() {
    let data = population(200);
    for db in backends() {
        let c = ctx(&db);
        run_import(&c, &data, Format::Jsonl);
        let model = chengxin_domain::Model::parse(&candidate_model(), &c.catalogue()).unwrap();
        let sim = simulate(&c, &model, AS_OF, 5).unwrap();
        let (old, new): (u64, u64) = sim
            .grades
            .values()
            .fold((0, 0), |a, g| (a.0 + g.0, a.1 + g.1));
        assert_eq!((old, new), (sim.persons, sim.persons));
        assert!(sim.new.mean > sim.old.mean);
        assert_eq!(sim.movers.len(), 5);
        assert!(sim.movers[0].masked_id.contains("********"));
        // Simulation stores nothing.
        assert_eq!(c.store.read().unwrap().models().unwrap().len(), 1);

        let s = publish(&c, &candidate_model(), date(2027, 1, 1), AS_OF, &()).unwrap();
        assert!(s.changed > 0);
        let active = c.store.read().unwrap().active_model().unwrap().unwrap();
        assert_eq!(active.version, "2027.1");
        let c2 = Context::new(c.store.clone()).unwrap();
        assert_eq!(
            chengxin_jobs::model_in_force(&c2).unwrap().version,
            "2027.1"
        );
        let total: u64 = c
            .store
            .read()
            .unwrap()
            .grade_counts("2027.1")
            .unwrap()
            .iter()
            .map(|g| g.1)
            .sum();
        assert_eq!(total, sim.persons);
        // Publishing the same version again is refused.
        assert!(publish(&c2, &candidate_model(), date(2027, 1, 1), AS_OF, &()).is_err());
    }
}

#[test]
fn a_publish_that_dies_midway_leaves_the_old_model_in_force() {
    let data = population(100);
    for db in backends() {
        let c = ctx(&db);
        run_import(&c, &data, Format::Jsonl);
        let before = c.store.read().unwrap().grade_counts("2026.1").unwrap();
        // Publishing dies after staging and scoring everyone, before the
        // model is put in force.
        chengxin_jobs::stage_and_score(&c, &candidate_model(), AS_OF, AS_OF, &()).unwrap();
        // "Restart": the old model is fully in force and its scores untouched.
        let again = Context::new(c.store.clone()).unwrap();
        assert_eq!(
            chengxin_jobs::model_in_force(&again).unwrap().version,
            "2026.1"
        );
        let mut tx = again.store.read().unwrap();
        assert_eq!(tx.grade_counts("2026.1").unwrap(), before);
        let pid = tx.marked_people("2026.1", 1).unwrap();
        assert!(pid.is_empty());
        let explained = explain(&again, &ids(&data)[0], AS_OF).unwrap().unwrap();
        assert!(explained
            .history
            .iter()
            .all(|h| h.model_version == "2026.1"));
        drop(tx);
        // Publishing again completes cleanly.
        publish(&again, &candidate_model(), AS_OF, AS_OF, &()).unwrap();
        let total: u64 = c
            .store
            .read()
            .unwrap()
            .grade_counts("2027.1")
            .unwrap()
            .iter()
            .map(|g| g.1)
            .sum();
        assert_eq!(total, c.store.read().unwrap().counts("2027.1").unwrap().0);
    }
}

#[test]
fn no_id_number_or_name_is_stored_in_plaintext_in_sqlite() {
    let data = population(150);
    let db = TestDb::sqlite();
    let c = ctx(&db);
    run_import(&c, &data, Format::Jsonl);
    let path = db.path.clone().unwrap();
    let mut files = vec![std::fs::read(&path).unwrap()];
    let wal = path.with_extension("db-wal");
    if let Ok(w) = std::fs::read(&wal) {
        files.push(w);
    }
    assert!(files.iter().map(Vec::len).sum::<usize>() > 10_000);
    let people = ids_and_names(&data);
    assert!(people.len() > 100);
    for (id, name) in &people {
        for f in &files {
            for needle in [id.as_bytes(), name.as_bytes()] {
                assert!(
                    !f.windows(needle.len()).any(|w| w == needle),
                    "found {} in the database files",
                    String::from_utf8_lossy(needle)
                );
            }
        }
    }
    drop(c);
    let _: &dyn Store = &*db.open();
}
