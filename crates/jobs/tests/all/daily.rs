//! The daily run on every backend: a penalty leaving publicity overnight
//! changes exactly its person's score, nobody else's score row or history is
//! touched, a date runs once, an earlier date is refused, a gap of days is
//! covered, and of two concurrent runs exactly one claims the date.

use std::sync::{Arc, Barrier};

use chengxin_jobs::daily::{daily, DailyOutcome, DailySummary};
use chengxin_jobs::uow::Change;
use chengxin_jobs::{store_chunk, Context, Target};
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record, TestDb};
use jiff::civil::{date, Date};
use serde_json::json;

fn local(who: u32) -> chengxin_domain::record::NewRecord {
    record(
        "SX-PSB",
        &format!("b03-{who}"),
        id_number("330602", "19800101", who),
        "某人",
        "B03",
        json!({"region_code": "330602", "registered_on": "2000-01-01", "active": true}),
    )
}

fn penalty(who: u32, decided_on: &str) -> chengxin_domain::record::NewRecord {
    record(
        "SX-MKT",
        &format!("p01-{who}"),
        id_number("330602", "19800101", who),
        "某人",
        "P01",
        json!({"level": "general", "decided_on": decided_on, "authority": "a", "case_no": "1", "domain": "market"}),
    )
}

fn evaluation(who: u32) -> chengxin_domain::record::NewRecord {
    record(
        "SX-CREDIT",
        &format!("b01-{who}"),
        id_number("330602", "19800101", who),
        "某人",
        "B01",
        json!({"score": 820, "evaluated_on": "2025-06-01"}),
    )
}

/// Person 1's penalty leaves publicity on 2026-03-01, person 4's on
/// 2026-03-02; persons 2 and 3 have nothing due for a year. Everyone is
/// scored as of 2026-02-28.
fn city(db: &TestDb) -> Context {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let rows = vec![
        local(1),
        penalty(1, "2025-03-01"),
        local(2),
        evaluation(2),
        local(3),
        evaluation(3),
        local(4),
        penalty(4, "2025-03-02"),
    ];
    store_chunk(&ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(
        &ctx,
        Target::Everyone,
        date(2026, 2, 28),
        Cause::Recompute,
        &(),
    )
    .unwrap();
    ctx
}

fn ran(outcome: DailyOutcome) -> DailySummary {
    match outcome {
        DailyOutcome::Ran(s) => s,
        other => panic!("expected a run, got {other:?}"),
    }
}

fn score(ctx: &Context, who: u32) -> i32 {
    let id = id_number("330602", "19800101", who);
    let x = chengxin_jobs::explain(ctx, &id, date(2026, 1, 1))
        .unwrap()
        .unwrap();
    x.stored.unwrap().state.score.unwrap()
}

fn rows_as_of(db: &TestDb, d: Date) -> i64 {
    db.query_i64(&format!("SELECT COUNT(*) FROM scores WHERE as_of = '{d}'"))
}

#[test]
fn a_penalty_leaving_publicity_rescores_its_person_and_nobody_else() {
    for db in backends() {
        let ctx = city(&db);
        let b = db.backend();
        // The first run finds nobody due yet.
        let first = ran(daily(&ctx, date(2026, 2, 28), "test").unwrap());
        assert_eq!(
            (first.touched, first.rescored, first.changed),
            (0, 0, 0),
            "{b}"
        );
        assert_eq!(first.previous, None, "{b}");
        let history = db.query_i64("SELECT COUNT(*) FROM score_history");
        assert_eq!(score(&ctx, 1), 580, "{b}");
        let others: Vec<i32> = [2, 3, 4].map(|w| score(&ctx, w)).to_vec();

        let s = ran(daily(&ctx, date(2026, 3, 1), "test").unwrap());
        assert_eq!((s.touched, s.rescored, s.changed), (1, 1, 1), "{b}");
        assert_eq!(s.previous, Some(date(2026, 2, 28)), "{b}");
        assert_eq!(score(&ctx, 1), 600, "{b}: the penalty left publicity");
        // Nobody else's score row or history moved.
        assert_eq!([2, 3, 4].map(|w| score(&ctx, w)).to_vec(), others, "{b}");
        assert_eq!(rows_as_of(&db, date(2026, 3, 1)), 1, "{b}");
        assert_eq!(rows_as_of(&db, date(2026, 2, 28)), 3, "{b}");
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history"),
            history + 1,
            "{b}"
        );
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history WHERE cause = 'window'"),
            1,
            "{b}"
        );
        // The resident is told why.
        let id = id_number("330602", "19800101", 1);
        let n = chengxin_jobs::own::notifications(&ctx, &id, None).unwrap();
        assert_eq!(n[0].kind, Cause::Window, "{b}");
        assert_eq!(
            (n[0].score_before, n[0].score_after),
            (Some(580), Some(600)),
            "{b}"
        );
        assert!(n[0].text_zh.contains("公示期届满"), "{}", n[0].text_zh);
        assert!(
            n[0].text_en.contains("publicity period ended"),
            "{}",
            n[0].text_en
        );

        // The same date again does nothing.
        match daily(&ctx, date(2026, 3, 1), "again").unwrap() {
            DailyOutcome::AlreadyClaimed { date: d, owner } => {
                assert_eq!((d, owner.as_str()), (date(2026, 3, 1), "test"), "{b}");
            }
            other => panic!("{b}: second run of a date ran: {other:?}"),
        }
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history"),
            history + 1,
            "{b}"
        );

        // An earlier date is refused, saying why.
        let e = daily(&ctx, date(2026, 2, 27), "test")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot go back before its last run on 2026-03-01"),
            "{b}: {e}"
        );
        assert_eq!(db.query_i64("SELECT COUNT(*) FROM daily_runs"), 2, "{b}");
    }
}

#[test]
fn a_gap_of_days_covers_every_day_between() {
    for db in backends() {
        let ctx = city(&db);
        let b = db.backend();
        ran(daily(&ctx, date(2026, 2, 27), "test").unwrap());
        // Skipping 28 February to 4 March: both penalties' dates came.
        let s = ran(daily(&ctx, date(2026, 3, 5), "test").unwrap());
        assert_eq!((s.touched, s.rescored, s.changed), (2, 2, 2), "{b}");
        assert_eq!((score(&ctx, 1), score(&ctx, 4)), (600, 600), "{b}");
        assert_eq!(rows_as_of(&db, date(2026, 3, 5)), 2, "{b}");
        // Nothing is due the next day.
        let s = ran(daily(&ctx, date(2026, 3, 6), "test").unwrap());
        assert_eq!((s.touched, s.rescored, s.changed), (0, 0, 0), "{b}");
        let finished = db.query_i64(
            "SELECT COUNT(*) FROM daily_runs WHERE finished_at IS NOT NULL AND touched IS NOT NULL",
        );
        assert_eq!(finished, 3, "{b}");
    }
}

#[test]
fn two_concurrent_runs_claim_a_date_once() {
    for db in backends() {
        let ctx = city(&db);
        let b = db.backend();
        let barrier = Barrier::new(2);
        let outcomes: Vec<DailyOutcome> = std::thread::scope(|s| {
            let run = |owner: &'static str| {
                let (ctx, barrier) = (&ctx, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    daily(ctx, date(2026, 3, 1), owner).unwrap()
                })
            };
            let (x, y) = (run("server-a"), run("server-b"));
            vec![x.join().unwrap(), y.join().unwrap()]
        });
        let runs: Vec<&DailySummary> = outcomes
            .iter()
            .filter_map(|o| match o {
                DailyOutcome::Ran(s) => Some(s),
                DailyOutcome::AlreadyClaimed { .. } => None,
            })
            .collect();
        assert_eq!(runs.len(), 1, "{b}: {outcomes:?}");
        assert_eq!(runs[0].touched, 1, "{b}");
        assert_eq!(db.query_i64("SELECT COUNT(*) FROM daily_runs"), 1, "{b}");
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM score_history WHERE cause = 'window'"),
            1,
            "{b}"
        );
    }
}
