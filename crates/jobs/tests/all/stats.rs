//! The dashboard's statistics on every backend, over a small known
//! population: exact counts per grade, score bucket, district and unit-day
//! (days in Asia/Shanghai, the boundary at 16:00 UTC), the open cases with
//! their ages and the overdue objection, the read audited with the staff
//! member and no person; and the region code, written with a fresh import
//! and back-filled for a person stored without it.

use std::sync::Arc;

use chengxin_domain::staff::Role;
use chengxin_domain::IdNumber;
use chengxin_jobs::objections::{self, Target};
use chengxin_jobs::resident::Resident;
use chengxin_jobs::staff::StaffMember;
use chengxin_jobs::stats::{self, Bucket, Viewer};
use chengxin_jobs::uow::{write, Change};
use chengxin_jobs::{explain, own, store_chunk, today, Context};
use chengxin_store::uow::NewRepair;
use chengxin_store::Cause;
use chengxin_testkit::{backends, id_number, record, TestDb};
use jiff::civil::Date;
use jiff::ToSpan;
use serde_json::json;

/// A unit, its total and its days with records.
type UnitLine<'a> = (&'a str, u64, Vec<(Date, u64)>);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn member(role: Role) -> StaffMember {
    StaffMember {
        name: "wang".into(),
        role,
        disabled: false,
        created_at: 0,
    }
}

fn me(id: &IdNumber) -> Resident<'_> {
    Resident {
        id_number: id,
        name: None,
        request_id: None,
    }
}

fn ago(t: Date, days: i64) -> Date {
    t.checked_sub(days.days()).unwrap()
}

/// Six people: three in 越城 (one with a tax penalty), one in 诸暨, one
/// issued outside the city (合肥) living in 柯桥, one child in 柯桥.
fn people() -> [IdNumber; 6] {
    [
        id_number("330602", "19800101", 1),
        id_number("330602", "19810101", 2),
        id_number("330602", "19820101", 3),
        id_number("330681", "19750101", 4),
        id_number("340104", "19900101", 5),
        id_number("330603", "20150101", 6),
    ]
}

fn populate(ctx: &Context, t: Date) {
    let mut rows: Vec<_> = people()
        .iter()
        .map(|id| {
            record(
                "SX-PSB",
                &format!("{}-b03", id.as_str()),
                *id,
                "测试",
                "B03",
                json!({"region_code": "330603", "registered_on": "2000-01-01", "active": true}),
            )
        })
        .collect();
    rows.push(record(
        "SX-TAX",
        "p1",
        people()[2],
        "测试",
        "P01",
        json!({"level": "general", "decided_on": ago(t, 40).to_string(), "authority": "绍兴市税务局", "case_no": "绍税罚〔2026〕1号", "domain": "tax"}),
    ));
    store_chunk(ctx, &rows, &Change::bulk(Cause::Import, "test")).unwrap();
    chengxin_jobs::recompute(ctx, chengxin_jobs::Target::Changed, t, Cause::Import, &()).unwrap();
}

fn score(ctx: &Context, id: &IdNumber, t: Date) -> Option<i32> {
    explain(ctx, id, t).unwrap().unwrap().evaluation().score
}

fn regions_missing(db: &TestDb) -> i64 {
    db.query_i64("SELECT count(*) FROM persons WHERE region IS NULL")
}

#[test]
fn the_dashboard_counts_a_known_population_exactly() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let t = today();
        populate(&ctx, t);
        let p = people();
        assert_eq!(
            regions_missing(&db),
            0,
            "{}: a fresh import has its regions",
            db.url
        );
        // The scores the histogram must bucket: 600 plain, 580 with the penalty.
        assert_eq!(score(&ctx, &p[0], t), Some(600), "{}", db.url);
        assert_eq!(score(&ctx, &p[2], t), Some(580), "{}", db.url);
        assert_eq!(
            score(&ctx, &p[5], t),
            None,
            "{}: a child is not scored",
            db.url
        );

        // Cases: an objection filed 30 days ago (its acceptance is overdue)
        // and one today; a self-report waiting 10 days; a repair waiting 40.
        let penalty = own::records(&ctx, &p[2], t, None)
            .unwrap()
            .into_iter()
            .find(|r| r.item == "P01")
            .unwrap()
            .id;
        objections::submit(
            &ctx,
            me(&p[2]),
            Target::Record(penalty),
            "有误",
            &[],
            ago(t, 30),
        )
        .unwrap();
        objections::submit(&ctx, me(&p[0]), Target::Score, "有误", &[], t).unwrap();
        let donation = format!(
            r#"{{"amount_cny": "5000", "donated_on": "{}", "recipient": "绍兴市慈善总会"}}"#,
            ago(t, 12)
        );
        chengxin_jobs::self_reports::submit(&ctx, me(&p[1]), "O02", &donation, &[PDF.to_vec()])
            .unwrap();
        let person = ctx
            .store
            .read()
            .unwrap()
            .submission(penalty)
            .unwrap()
            .unwrap()
            .person_id;
        write(&*ctx.store, |tx| {
            tx.insert_repair(&NewRepair {
                person_id: person,
                record_id: penalty,
                unit: "SX-TAX",
                source_id: "p1",
                statement: "已缴清",
            })?;
            Ok(())
        })
        .unwrap();
        // Move arrival times: the penalty to 23:59:59 yesterday in Shanghai,
        // one household record to 00:00:00 today (still today), one out of
        // the window; the self-report 10 days back, the repair 40.
        let at = |d: Date, time: &str| format!("{}T{time}Z", ago(d, 1));
        db.execute_sql(&format!(
            "UPDATE records SET received_at = '{}' WHERE unit = 'SX-TAX'",
            at(t, "15:59:59")
        ));
        let (first, second) = (
            format!("{}-b03", p[0].as_str()),
            format!("{}-b03", p[1].as_str()),
        );
        db.execute_sql(&format!(
            "UPDATE records SET received_at = '{}' WHERE source_id = '{first}'",
            at(t, "16:00:00")
        ));
        db.execute_sql(&format!(
            "UPDATE records SET received_at = '{}' WHERE source_id = '{second}'",
            at(ago(t, 20), "12:00:00")
        ));
        db.execute_sql(&format!(
            "UPDATE records SET received_at = '{}' WHERE unit = 'resident'",
            at(ago(t, 9), "12:00:00")
        ));
        db.execute_sql(&format!(
            "UPDATE repair_applications SET submitted_at = '{}'",
            at(ago(t, 39), "12:00:00")
        ));

        let staff = member(Role::Auditor);
        let viewer = Viewer {
            member: &staff,
            request_id: Some("req-stats"),
        };
        let s = stats::dashboard(&ctx, viewer, t).unwrap();
        let url = &db.url;
        assert_eq!(s.model_version, "2026.1");
        assert_eq!((s.people, s.scored, s.ineligible), (6, 6, 1), "{url}");
        let grades: Vec<(&str, u64)> = s
            .grades
            .iter()
            .map(|g| (g.grade.as_str(), g.count))
            .collect();
        assert_eq!(
            grades,
            [("AAA", 0), ("AA", 0), ("A", 4), ("B", 1), ("C", 0)],
            "{url}"
        );
        assert_eq!(s.histogram.bucket_width, 50);
        assert_eq!(s.histogram.buckets.len(), 20);
        assert_eq!(
            s.histogram.buckets[19],
            Bucket {
                from: 950,
                to: 1000,
                count: 0
            }
        );
        let filled: Vec<(i32, u64)> = s
            .histogram
            .buckets
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| (b.from, b.count))
            .collect();
        assert_eq!(filled, [(550, 1), (600, 4)], "{url}");
        let districts: Vec<(&str, u64)> = s.districts.iter().map(|d| (d.code, d.count)).collect();
        assert_eq!(
            districts,
            [
                ("330602", 3),
                ("330603", 1),
                ("330604", 0),
                ("330624", 0),
                ("330681", 1),
                ("330683", 0)
            ],
            "{url}"
        );
        assert_eq!((s.outside_city, s.region_unknown), (1, 0), "{url}");
        assert_eq!(s.districts[0].name_zh, "越城区");

        assert_eq!((s.received.from, s.received.to), (ago(t, 13), t));
        let got: Vec<UnitLine<'_>> = s
            .received
            .units
            .iter()
            .map(|u| {
                let days = u.days.iter().filter(|d| d.1 > 0).cloned().collect();
                (u.unit.as_str(), u.total, days)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("SX-PSB", 5, vec![(t, 5)]),
                ("SX-TAX", 1, vec![(ago(t, 1), 1)]),
                ("resident", 1, vec![(ago(t, 10), 1)]),
            ],
            "{url}"
        );
        assert!(s.received.units.iter().all(|u| u.days.len() == 14));

        let c = s.cases;
        assert_eq!(
            (
                c.objections.submitted,
                c.objections.accepted,
                c.objections.overdue
            ),
            (2, 0, 1),
            "{url}"
        );
        assert_eq!(
            (
                c.self_reports.pending,
                c.self_reports.up_to_30_days,
                c.self_reports.oldest_days
            ),
            (1, 1, Some(10)),
            "{url}"
        );
        assert_eq!(
            (
                c.repairs.pending,
                c.repairs.over_30_days,
                c.repairs.oldest_days
            ),
            (1, 1, Some(40)),
            "{url}"
        );

        // Audited: the staff member read statistics, naming no person.
        ctx.store.seal_audit().unwrap();
        let log = ctx
            .store
            .snapshot()
            .unwrap()
            .audit_entries(0, 100_000)
            .unwrap();
        let reads: Vec<_> = log
            .iter()
            .filter(|e| e.event.action == "statistics.read")
            .collect();
        assert_eq!(reads.len(), 1, "{url}");
        assert_eq!(reads[0].event.actor, "staff:wang");
        assert_eq!(reads[0].event.person, None);
        assert_eq!(reads[0].event.request_id.as_deref(), Some("req-stats"));

        // Every role may read them.
        for role in Role::ALL {
            let m = member(role);
            let v = Viewer {
                member: &m,
                request_id: None,
            };
            assert!(stats::dashboard(&ctx, v, t).is_ok(), "{role}");
        }
    }
}

#[test]
fn people_stored_before_the_region_existed_are_back_filled_on_start() {
    for db in backends() {
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        let t = today();
        populate(&ctx, t);
        // As a database migrated from before 0019 holds them.
        db.execute_sql("UPDATE persons SET region = NULL");
        assert_eq!(regions_missing(&db), 6);
        let staff = member(Role::Reviewer);
        let viewer = Viewer {
            member: &staff,
            request_id: None,
        };
        let s = stats::dashboard(&ctx, viewer, t).unwrap();
        assert_eq!((s.region_unknown, s.outside_city), (6, 0), "{}", db.url);
        assert!(s.districts.iter().all(|d| d.count == 0));

        // The next start fills them from the decrypted ID numbers.
        let ctx = Context::new(Arc::from(db.open())).unwrap();
        assert_eq!(regions_missing(&db), 0, "{}", db.url);
        let s = stats::dashboard(&ctx, viewer, t).unwrap();
        assert_eq!((s.region_unknown, s.outside_city), (0, 1), "{}", db.url);
        assert_eq!(s.districts[0].count, 3);
        assert_eq!(
            db.query_i64("SELECT count(*) FROM persons WHERE region = '340104'"),
            1
        );
        // Nothing left: a second run fills none.
        assert_eq!(stats::backfill_regions(&ctx).unwrap(), 0);
    }
}
