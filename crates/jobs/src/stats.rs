//! The agency dashboard's statistics: aggregates only, never a person
//! (第十八条: no page lists or ranks residents by score). Grade counts and
//! a score histogram under the model in force, people by district, record
//! versions received per unit per day, and the open cases with their ages.
//! Every role may read them (`Right::ViewStatistics`); each read is audited
//! as `statistics.read` with the staff member as actor and no person.
//!
//! Also the back-fill of `persons.region`. Migration 0019 added the clear
//! region code (the first 6 digits of the ID number: a district names
//! thousands, so it identifies no one), and every person stored since gets
//! it with their insert. People stored before have only the encrypted ID
//! number, which SQL cannot read, so [`backfill_regions`] decrypts it here
//! with the data key and writes the code, in batches of its own units of
//! work. It runs whenever a [`Context`] is made (every CLI command and the
//! server's start), so an upgraded database is filled on its first start
//! with no operator step; once filled it costs one indexed look-up that
//! finds nothing. A migration could not do it (migrations are SQL without
//! the key). Until it has run, those people are counted as
//! `region_unknown`; it is idempotent, and two processes filling at once
//! write the same values.

use chengxin_domain::audit::AuditEvent;
use chengxin_domain::district::SHAOXING;
use chengxin_domain::engine::MAX_SCORE;
use chengxin_domain::objection::{self as rules, ObjectionStatus};
use chengxin_domain::record::RecordStatus;
use chengxin_domain::repair::ApplicationStatus;
use chengxin_domain::staff::Right;
use chengxin_store::uow::{ObjectionFilter, ReceivedWindow, RepairFilter, SubmissionFilter};
use chengxin_store::ReadTx;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::objections::timeline;
use crate::resident::RESIDENT_SOURCE;
use crate::staff::StaffMember;
use crate::{Context, JobError};

/// Width of the score histogram's buckets, in points.
pub const BUCKET_WIDTH: u32 = 50;
/// Days of records received shown, ending on the day asked for.
pub const RECEIVED_DAYS: u32 = 14;
/// People whose region one back-fill unit of work writes.
const BACKFILL_BATCH: usize = 5_000;
/// Rows one page of a case queue reads.
const PAGE: usize = 1_000;
/// Asia/Shanghai's offset from UTC (no daylight saving time).
const SHANGHAI_OFFSET_SECONDS: i32 = 8 * 3600;

/// Why the statistics were not given.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("the role `{0}` does not have the right `view_statistics`")]
    Forbidden(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<chengxin_store::StoreError> for StatsError {
    fn from(e: chengxin_store::StoreError) -> Self {
        StatsError::Job(e.into())
    }
}

/// A staff member reading the statistics in a request.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub member: &'a StaffMember,
    pub request_id: Option<&'a str>,
}

/// Everything the dashboard shows, as of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub as_of: Date,
    /// The model in force, whose stored scores are counted.
    pub model_version: String,
    /// People stored.
    pub people: u64,
    /// People with a stored result under the model (eligible or not).
    pub scored: u64,
    /// Per grade of the model, in the model's order (zero counts included).
    pub grades: Vec<GradeCount>,
    /// Scored but ineligible (no score, no grade).
    pub ineligible: u64,
    pub histogram: Histogram,
    /// People per district of Shaoxing, in code order (zeros included).
    pub districts: Vec<DistrictCount>,
    /// People whose ID number was issued outside Shaoxing, grouped.
    pub outside_city: u64,
    /// People whose region is not yet back-filled.
    pub region_unknown: u64,
    pub received: Received,
    pub cases: Cases,
}

/// Stored scores in one grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeCount {
    pub grade: String,
    pub name_zh: String,
    pub name_en: String,
    pub min: i32,
    pub max: i32,
    pub count: u64,
}

/// Scores in buckets `[from, to]` covering 0–1000 (the last one takes 1000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    pub bucket_width: u32,
    pub buckets: Vec<Bucket>,
}

/// Scores from `from` to `to` points, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub from: i32,
    pub to: i32,
    pub count: u64,
}

/// People in one district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictCount {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub count: u64,
}

/// Record versions received per unit per day, `days` days up to `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: Date,
    pub to: Date,
    /// Units that sent anything in the window, by code; every day listed.
    pub units: Vec<UnitReceived>,
}

/// One unit's record versions per day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitReceived {
    pub unit: String,
    pub total: u64,
    /// `(day, count)` for every day of the window, oldest first.
    pub days: Vec<(Date, u64)>,
}

/// Open cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cases {
    pub objections: ObjectionCounts,
    pub self_reports: Waiting,
    pub repairs: Waiting,
}

/// Open objections by state, and those past a deadline now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObjectionCounts {
    pub submitted: u64,
    pub accepted: u64,
    pub awaiting_unit: u64,
    /// Open and past a deadline as of the day (the domain's rule).
    pub overdue: u64,
}

/// Cases awaiting a decision, by how many days they have waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Waiting {
    pub pending: u64,
    /// Filed 0–7 days before the day.
    pub up_to_7_days: u64,
    /// 8–30 days.
    pub up_to_30_days: u64,
    /// More than 30 days.
    pub over_30_days: u64,
    /// Days the oldest has waited.
    pub oldest_days: Option<i64>,
}

impl Waiting {
    fn add(&mut self, filed_on: Date, as_of: Date) {
        let days = i64::from((as_of - filed_on).get_days()).max(0);
        self.pending += 1;
        match days {
            0..=7 => self.up_to_7_days += 1,
            8..=30 => self.up_to_30_days += 1,
            _ => self.over_30_days += 1,
        }
        self.oldest_days = Some(self.oldest_days.map_or(days, |d| d.max(days)));
    }
}

/// The statistics as of `as_of`, read in one snapshot; audited.
pub fn dashboard(ctx: &Context, viewer: Viewer<'_>, as_of: Date) -> Result<Dashboard, StatsError> {
    if !viewer.member.may(Right::ViewStatistics) {
        return Err(StatsError::Forbidden(viewer.member.role.to_string()));
    }
    let mut tx = ctx.store.snapshot()?;
    let scorer = ctx.active(&mut *tx)?;
    let model = scorer.engine.model();
    let buckets = tx.score_buckets(&scorer.model.version, BUCKET_WIDTH)?;
    let mut grades: Vec<GradeCount> = model
        .doc
        .grades
        .iter()
        .map(|g| GradeCount {
            grade: g.grade.clone(),
            name_zh: g.name_zh.clone(),
            name_en: g.name_en.clone(),
            min: g.min,
            max: g.max,
            count: 0,
        })
        .collect();
    let mut histogram = empty_histogram(BUCKET_WIDTH);
    let (mut scored, mut ineligible) = (0, 0);
    for b in &buckets {
        scored += b.count;
        match &b.grade {
            Some(g) => match grades.iter_mut().find(|c| &c.grade == g) {
                Some(c) => c.count += b.count,
                None => {
                    return Err(JobError::Invalid(format!(
                        "stored grade `{g}` is not in model {}",
                        scorer.model.version
                    ))
                    .into())
                }
            },
            None => ineligible += b.count,
        }
        if let Some(i) = b.bucket {
            let last = histogram.buckets.len() - 1;
            let i = usize::try_from(i).unwrap_or(0).min(last);
            histogram.buckets[i].count += b.count;
        }
    }
    let (districts, outside_city, region_unknown, people) = regions(&mut *tx)?;
    let received = received(&mut *tx, as_of, RECEIVED_DAYS)?;
    let cases = cases(ctx, &mut *tx, as_of)?;
    drop(tx);
    ctx.store.append_reads(vec![AuditEvent {
        actor: viewer.member.actor(),
        action: "statistics.read".into(),
        subject: None,
        person: None,
        request_id: viewer.request_id.map(str::to_owned),
        detail: serde_json::json!({ "what": "dashboard", "as_of": as_of.to_string() }),
    }])?;
    Ok(Dashboard {
        as_of,
        model_version: scorer.model.version.clone(),
        people,
        scored,
        grades,
        ineligible,
        histogram,
        districts,
        outside_city,
        region_unknown,
        received,
        cases,
    })
}

/// Buckets of `width` points from 0; the last one ends at 1000 and takes it.
fn empty_histogram(width: u32) -> Histogram {
    let w = i32::try_from(width.max(1)).unwrap_or(MAX_SCORE);
    let n = (MAX_SCORE + w - 1) / w;
    let buckets = (0..n)
        .map(|i| Bucket {
            from: i * w,
            to: if i == n - 1 {
                MAX_SCORE
            } else {
                (i + 1) * w - 1
            },
            count: 0,
        })
        .collect();
    Histogram {
        bucket_width: width,
        buckets,
    }
}

type Regions = (Vec<DistrictCount>, u64, u64, u64);

/// People per district, outside the city, not yet filled, and in all.
fn regions(tx: &mut dyn ReadTx) -> Result<Regions, JobError> {
    let mut districts: Vec<DistrictCount> = SHAOXING
        .iter()
        .map(|d| DistrictCount {
            code: d.code,
            name_zh: d.name_zh,
            name_en: d.name_en,
            count: 0,
        })
        .collect();
    let (mut outside, mut unknown, mut people) = (0, 0, 0);
    for (region, count) in tx.region_counts()? {
        people += count;
        match region {
            None => unknown += count,
            Some(r) => match districts.iter_mut().find(|d| d.code == r) {
                Some(d) => d.count += count,
                None => outside += count,
            },
        }
    }
    Ok((districts, outside, unknown, people))
}

/// The instant a civil day starts in Asia/Shanghai.
fn day_start(day: Date) -> Result<Timestamp, JobError> {
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    day.to_zoned(tz)
        .map(|z| z.timestamp())
        .map_err(|e| JobError::Invalid(format!("day {day}: {e}")))
}

/// Record versions received per unit per day, `days` days up to `as_of`.
fn received(tx: &mut dyn ReadTx, as_of: Date, days: u32) -> Result<Received, JobError> {
    let back = i64::from(days.max(1)) - 1;
    let from = as_of
        .checked_sub(back.days())
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let next = as_of
        .tomorrow()
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let rows = tx.received_per_unit_day(ReceivedWindow {
        since: day_start(from)?,
        until: day_start(next)?,
        utc_offset_seconds: SHANGHAI_OFFSET_SECONDS,
    })?;
    let window: Vec<Date> = from.series(1.day()).take_while(|d| *d <= as_of).collect();
    let mut units: Vec<UnitReceived> = Vec::new();
    for r in rows {
        if units.last().is_none_or(|u| u.unit != r.unit) {
            units.push(UnitReceived {
                unit: r.unit.clone(),
                total: 0,
                days: window.iter().map(|d| (*d, 0)).collect(),
            });
        }
        let Some(u) = units.last_mut() else { continue };
        if let Some(slot) = u.days.iter_mut().find(|(d, _)| *d == r.day) {
            slot.1 += r.count;
            u.total += r.count;
        }
    }
    Ok(Received {
        from,
        to: as_of,
        units,
    })
}

/// Open objections, pending self-reports and pending repair applications,
/// read through the queues' own primitives.
fn cases(ctx: &Context, tx: &mut dyn ReadTx, as_of: Date) -> Result<Cases, JobError> {
    let mut out = Cases::default();
    let open = [
        ObjectionStatus::Submitted,
        ObjectionStatus::Accepted,
        ObjectionStatus::AwaitingUnit,
    ];
    let mut after = 0;
    loop {
        let page = tx.objections(&ObjectionFilter {
            person_id: None,
            unit: None,
            statuses: &open,
            after_id: after,
            limit: PAGE,
        })?;
        for o in &page {
            let c = &mut out.objections;
            match o.status {
                ObjectionStatus::Submitted => c.submitted += 1,
                ObjectionStatus::Accepted => c.accepted += 1,
                ObjectionStatus::AwaitingUnit => c.awaiting_unit += 1,
                _ => continue,
            }
            if rules::overdue(&timeline(o), as_of).is_some() {
                c.overdue += 1;
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.id,
            _ => break,
        }
    }
    let items = crate::self_reports::reportable_items(ctx);
    let mut after = 0;
    loop {
        let page = tx.submissions(&SubmissionFilter {
            unit: RESIDENT_SOURCE,
            person_id: None,
            items: &items,
            status: Some(RecordStatus::Pending),
            after_id: after,
            limit: PAGE,
        })?;
        for r in page.iter().filter(|r| r.status == RecordStatus::Pending) {
            out.self_reports.add(civil_day(&r.received_at)?, as_of);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.id,
            _ => break,
        }
    }
    let mut after = 0;
    loop {
        let page = tx.repairs(&RepairFilter {
            person_id: None,
            status: Some(ApplicationStatus::Pending),
            after_id: after,
            limit: PAGE,
        })?;
        for r in page
            .iter()
            .filter(|r| r.status == ApplicationStatus::Pending)
        {
            out.repairs.add(civil_day(&r.submitted_at)?, as_of);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.id,
            _ => break,
        }
    }
    Ok(out)
}

/// The civil day in Asia/Shanghai of a stored RFC 3339 instant.
fn civil_day(rfc3339: &str) -> Result<Date, JobError> {
    let t: Timestamp = rfc3339
        .parse()
        .map_err(|e| JobError::Invalid(format!("stored time `{rfc3339}`: {e}")))?;
    Ok(t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date())
}

/// Writes the region code of every person stored without one (see the
/// module's documentation); returns how many were filled.
pub fn backfill_regions(ctx: &Context) -> Result<u64, JobError> {
    if ctx.store.read()?.people_without_region(0, 1)?.is_empty() {
        return Ok(0);
    }
    let mut filled = 0u64;
    loop {
        let n = crate::uow::write(&*ctx.store, |tx| {
            let people = tx.people_without_region(0, BACKFILL_BATCH)?;
            let codes: Vec<(i64, &str)> = people
                .iter()
                .map(|(id, number)| (*id, number.region_code()))
                .collect();
            tx.set_regions(&codes)?;
            Ok(people.len())
        })?;
        filled += n as u64;
        if n < BACKFILL_BATCH {
            break;
        }
    }
    if filled > 0 {
        tracing::info!(
            filled,
            "back-filled the region code of people stored before it existed"
        );
    }
    Ok(filled)
}
