//! Which records credit repair (信用修复, 第二十四条; NDRC Order No. 36 of
//! 2025) can reach, from when, and whether an application may be made now:
//! the one rule the resident's what-if and the repair workflow share.
//!
//! Only items the catalogue marks `repairable` qualify (P01 penalties, S01
//! listings). A penalty's `level` decides the minimum publicity period: a
//! minor penalty is not published and needs no repair, a general one is
//! repairable three months after its decision, a serious one a year after.
//!
//! A listing (S01) counts as serious: 第二十四条 leaves repair of serious
//! dishonesty information to the national and provincial rules, and the
//! regulation itself names no period, so a listing is repairable one year
//! after `listed_on` (the minimum publicity period Order 36 sets for serious
//! information). A listing already removed (`removed_on` on or before the
//! day) no longer counts and needs no repair.
//!
//! Repair always needs a credit commitment: an active C01 signature of the
//! person's (its term covers the day and nothing breached it).
//! Only a record that still counts (active or disputed: the lifecycle's
//! `Repair` event is allowed) can be repaired.

use jiff::civil::Date;
use serde::Serialize;

use crate::catalogue::{Catalogue, Fields, Item};
use crate::commitment::{standing, CommitmentStatus};
use crate::dates::add_months;
use crate::record::{Record, RecordEvent};
use crate::self_report::MAX_REASON_CHARS;

/// How serious the record is, for repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    General,
    Serious,
}

impl Level {
    /// Months of publicity before the record may be repaired.
    pub fn minimum_months(self) -> i32 {
        match self {
            Level::General => 3,
            Level::Serious => 12,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::General => "general",
            Level::Serious => "serious",
        }
    }
}

/// How repair reaches one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub level: Level,
    /// The first day a repair application may be made.
    pub repairable_from: Date,
    /// Whether an active credit commitment is required (always, under Order 36).
    pub needs_commitment: bool,
}

/// Whether and from when repair reaches a record of `item` with these fields,
/// dated `date` (its item's first date field: the decision or listing date).
pub fn reach(item: &Item, fields: &Fields, date: Date) -> Option<Reach> {
    if !item.repairable {
        return None;
    }
    let level = match item.field_index("level").and_then(|i| fields.text(i)) {
        Some("minor") => return None,
        Some("general") => Level::General,
        // An unknown or absent level (a listing) is treated as serious.
        _ => Level::Serious,
    };
    Some(Reach {
        level,
        repairable_from: add_months(date, level.minimum_months()),
        needs_commitment: true,
    })
}

/// Where repair stands for one record of a person on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub reach: Reach,
    /// A credit commitment must be signed first (none is active).
    pub needs_commitment: bool,
    /// An application made today would be accepted.
    pub eligible_now: bool,
}

/// Why an application for repair is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a record repair reaches: not a P01 or S01, a minor penalty, a
    /// listing already removed, or a record that no longer counts.
    #[error("the record is not one credit repair applies to")]
    NotRepairable,
    /// Its minimum publicity period has not passed.
    #[error("the record may be repaired from {from}")]
    TooEarly { from: Date },
    /// No credit commitment of the person's is active.
    #[error("repair needs an active credit commitment")]
    NeedsCommitment,
}

/// Whether one of the person's credit commitments is active on `today`,
/// judged from their `records` (the newest version of each case).
pub fn commitment_active(catalogue: &Catalogue, records: &[Record], today: Date) -> bool {
    records
        .iter()
        .filter_map(|r| standing(catalogue, r, records, today))
        .any(|s| s.status == CommitmentStatus::Active)
}

/// Where repair stands for `record`, one of the person's `records`, on
/// `today`; `None` when repair does not reach it at all.
pub fn assess(
    catalogue: &Catalogue,
    record: &Record,
    records: &[Record],
    today: Date,
) -> Option<Assessment> {
    let item = catalogue.items.get(record.item)?;
    if record.status.apply(RecordEvent::Repair).is_err() {
        return None;
    }
    let removed = item
        .field_index("removed_on")
        .and_then(|i| record.fields.date(i));
    if removed.is_some_and(|d| d <= today) {
        return None;
    }
    let reach = reach(item, &record.fields, record.date)?;
    let needs_commitment = reach.needs_commitment && !commitment_active(catalogue, records, today);
    Some(Assessment {
        reach,
        needs_commitment,
        eligible_now: check(Some(reach), needs_commitment, today).is_ok(),
    })
}

fn check(reach: Option<Reach>, needs_commitment: bool, today: Date) -> Result<Reach, Refusal> {
    let reach = reach.ok_or(Refusal::NotRepairable)?;
    if today < reach.repairable_from {
        return Err(Refusal::TooEarly {
            from: reach.repairable_from,
        });
    }
    if needs_commitment {
        return Err(Refusal::NeedsCommitment);
    }
    Ok(reach)
}

/// Whether an application to repair `record` may be made on `today`, and
/// if not, the first reason (not repairable, then too early, then no
/// commitment).
pub fn may_apply(
    catalogue: &Catalogue,
    record: &Record,
    records: &[Record],
    today: Date,
) -> Result<Reach, Refusal> {
    match assess(catalogue, record, records, today) {
        Some(a) => check(Some(a.reach), a.needs_commitment, today),
        None => Err(Refusal::NotRepairable),
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Awaiting a reviewer's decision.
    Pending,
    /// Approved: the record was repaired and stopped counting.
    Approved,
    /// Rejected, with the reason shown to the resident.
    Rejected,
}

impl ApplicationStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        Some(match s {
            "pending" => ApplicationStatus::Pending,
            "approved" => ApplicationStatus::Approved,
            "rejected" => ApplicationStatus::Rejected,
            _ => return None,
        })
    }

    /// The status after `decision`; only a pending application is decided.
    pub fn decide(self, decision: RepairDecision) -> Option<ApplicationStatus> {
        match (self, decision) {
            (ApplicationStatus::Pending, RepairDecision::Approved) => {
                Some(ApplicationStatus::Approved)
            }
            (ApplicationStatus::Pending, RepairDecision::Rejected) => {
                Some(ApplicationStatus::Rejected)
            }
            _ => None,
        }
    }
}

/// A reviewer's decision on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairDecision {
    Approved,
    Rejected,
}

impl RepairDecision {
    /// The reason, trimmed: a rejection must say why (1 to
    /// [`MAX_REASON_CHARS`] characters, shown to the resident); an approval may.
    pub fn check_reason(self, reason: Option<&str>) -> Result<Option<String>, &'static str> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        match reason {
            Some(r) if r.chars().count() > MAX_REASON_CHARS || r.contains('\0') => {
                Err("the reason must be 1 to 500 characters")
            }
            None if self == RepairDecision::Rejected => Err("a rejection needs a `reason`"),
            r => Ok(r.map(str::to_owned)),
        }
    }
}

/// The longest statement a resident may give with an application.
pub const MAX_STATEMENT_CHARS: usize = 2000;

/// A resident's statement, trimmed: 1 to [`MAX_STATEMENT_CHARS`] characters,
/// no U+0000.
pub fn check_statement(statement: &str) -> Result<&str, &'static str> {
    let s = statement.trim();
    if s.is_empty() {
        Err("the statement must not be blank")
    } else if s.chars().count() > MAX_STATEMENT_CHARS || s.contains('\0') {
        Err("the statement must be at most 2000 characters, without U+0000")
    } else {
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Raw;
    use crate::record::RecordStatus;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn reach_of(code: &str, v: serde_json::Value) -> Option<Reach> {
        let c = Catalogue::builtin();
        let item = c.item(code).unwrap();
        let raw: Vec<(String, Raw<'_>)> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), Raw::Json(v)))
            .collect();
        let fields = item
            .validate(raw.iter().map(|(k, v)| (k.as_str(), *v)), &c.templates)
            .unwrap();
        let d = item.record_date(&fields);
        reach(item, &fields, d)
    }

    fn penalty(level: &str, on: &str) -> serde_json::Value {
        serde_json::json!({"level": level, "decided_on": on, "authority": "a", "case_no": "1", "domain": "tax"})
    }

    #[test]
    fn levels_follow_order_36() {
        assert_eq!(reach_of("P01", penalty("minor", "2026-01-31")), None);
        let g = reach_of("P01", penalty("general", "2026-01-31")).unwrap();
        assert_eq!(
            (g.level, g.repairable_from),
            (Level::General, date(2026, 4, 30))
        );
        let s = reach_of("P01", penalty("serious", "2024-02-29")).unwrap();
        assert_eq!(
            (s.level, s.repairable_from),
            (Level::Serious, date(2025, 2, 28))
        );
        let l = reach_of(
            "S01",
            serde_json::json!({"list_type": "tax", "listed_on": "2026-03-01"}),
        )
        .unwrap();
        assert_eq!(l.repairable_from, date(2027, 3, 1));
        assert!(l.needs_commitment);
        let b = serde_json::json!({"region_code": "330602", "registered_on": "2020-01-01", "active": true});
        assert_eq!(reach_of("B03", b), None);
    }

    fn rec(id: i64, code: &str, v: serde_json::Value, status: RecordStatus) -> Record {
        let c = Catalogue::builtin();
        let item = c.item(code).unwrap();
        let raw: Vec<(String, Raw<'_>)> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), Raw::Json(v)))
            .collect();
        let fields = item
            .validate(raw.iter().map(|(k, v)| (k.as_str(), *v)), &c.templates)
            .unwrap();
        Record {
            id,
            item: c.items.iter().position(|i| i.code == code).unwrap(),
            date: item.record_date(&fields),
            status,
            fields,
        }
    }

    fn signed(id: i64, on: &str) -> Record {
        let c = Catalogue::builtin();
        let t = c.templates.get("T01").unwrap();
        rec(
            id,
            "C01",
            serde_json::json!({"template": "T01", "signed_on": on, "text": t.text_zh,
                               "text_sha256": "00"}),
            RecordStatus::Active,
        )
    }

    #[test]
    fn applications_follow_the_rules_in_order() {
        let c = Catalogue::builtin();
        let p = rec(
            1,
            "P01",
            penalty("general", "2026-01-31"),
            RecordStatus::Active,
        );
        let commitment = signed(2, "2026-04-01");
        let with = vec![p.clone(), commitment];
        let without = vec![p.clone()];
        assert_eq!(
            may_apply(&c, &p, &with, date(2026, 4, 29)),
            Err(Refusal::TooEarly {
                from: date(2026, 4, 30)
            })
        );
        assert!(may_apply(&c, &p, &with, date(2026, 4, 30)).is_ok());
        assert_eq!(
            may_apply(&c, &p, &without, date(2026, 4, 30)),
            Err(Refusal::NeedsCommitment)
        );
        let a = assess(&c, &p, &without, date(2026, 4, 30)).unwrap();
        assert!(a.needs_commitment && !a.eligible_now);
        // Minor penalties, honours, repaired and withdrawn records: no repair.
        for r in [
            rec(
                3,
                "P01",
                penalty("minor", "2025-01-31"),
                RecordStatus::Active,
            ),
            rec(
                4,
                "O01",
                serde_json::json!({"level": "city", "title": "t", "awarded_on": "2025-01-01"}),
                RecordStatus::Active,
            ),
            rec(
                5,
                "P01",
                penalty("serious", "2024-01-31"),
                RecordStatus::Repaired,
            ),
            rec(
                6,
                "P01",
                penalty("serious", "2024-01-31"),
                RecordStatus::Withdrawn,
            ),
            rec(
                7,
                "S01",
                serde_json::json!({"list_type": "tax", "listed_on": "2024-03-01", "removed_on": "2026-01-01"}),
                RecordStatus::Active,
            ),
        ] {
            let mut all = with.clone();
            all.push(r.clone());
            assert_eq!(
                may_apply(&c, &r, &all, date(2026, 6, 1)),
                Err(Refusal::NotRepairable),
                "{r:?}"
            );
            assert_eq!(assess(&c, &r, &all, date(2026, 6, 1)), None);
        }
        // A disputed record still counts and may be repaired; a listing not
        // yet removed is repairable a year after it was made.
        let d = rec(
            8,
            "P01",
            penalty("serious", "2025-01-31"),
            RecordStatus::Disputed,
        );
        let l = rec(
            9,
            "S01",
            serde_json::json!({"list_type": "tax", "listed_on": "2025-03-01", "removed_on": "2027-01-01"}),
            RecordStatus::Active,
        );
        assert!(may_apply(&c, &d, &with, date(2026, 6, 1)).is_ok());
        assert_eq!(
            may_apply(&c, &l, &with, date(2026, 2, 28)),
            Err(Refusal::TooEarly {
                from: date(2026, 3, 1)
            })
        );
        assert!(may_apply(&c, &l, &with, date(2026, 3, 1)).is_ok());
    }

    #[test]
    fn a_breached_commitment_is_no_commitment() {
        let c = Catalogue::builtin();
        let commitment = signed(1, "2026-01-01");
        // Inside the term: T01 is breached by it.
        let p = rec(
            2,
            "P01",
            penalty("general", "2026-02-01"),
            RecordStatus::Active,
        );
        let all = vec![commitment, p.clone()];
        assert!(!commitment_active(&c, &all, date(2026, 6, 1)));
        assert_eq!(
            may_apply(&c, &p, &all, date(2026, 6, 1)),
            Err(Refusal::NeedsCommitment)
        );
    }

    #[test]
    fn decisions_and_reasons() {
        use ApplicationStatus as S;
        assert_eq!(
            S::Pending.decide(RepairDecision::Approved),
            Some(S::Approved)
        );
        assert_eq!(
            S::Pending.decide(RepairDecision::Rejected),
            Some(S::Rejected)
        );
        assert_eq!(S::Approved.decide(RepairDecision::Rejected), None);
        assert_eq!(S::Rejected.decide(RepairDecision::Approved), None);
        for s in [S::Pending, S::Approved, S::Rejected] {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert!(RepairDecision::Rejected.check_reason(Some("  ")).is_err());
        assert_eq!(RepairDecision::Approved.check_reason(None), Ok(None));
        assert!(check_statement(" ").is_err());
        assert_eq!(check_statement(" 已整改 "), Ok("已整改"));
    }

    proptest! {
        #[test]
        fn repair_is_never_open_before_the_record(days in 0i32..20_000, serious: bool) {
            let on = date(1990, 1, 1).checked_add(jiff::Span::new().days(days)).unwrap();
            let level = if serious { "serious" } else { "general" };
            let r = reach_of("P01", penalty(level, &on.to_string())).unwrap();
            prop_assert!(r.repairable_from > on);
            let months = if serious { 12 } else { 3 };
            prop_assert_eq!(r.repairable_from, add_months(on, months));
        }

        #[test]
        fn eligible_now_is_exactly_what_an_application_gets(
            days in 0i32..3_000, after in -400i32..800, serious: bool, committed: bool,
        ) {
            let c = Catalogue::builtin();
            let on = date(2020, 1, 1).checked_add(jiff::Span::new().days(days)).unwrap();
            let sign_on = on.tomorrow().unwrap();
            let today = sign_on.checked_add(jiff::Span::new().days(after.max(0))).unwrap();
            let level = if serious { "serious" } else { "general" };
            let p = rec(1, "P01", penalty(level, &on.to_string()), RecordStatus::Active);
            let mut all = vec![p.clone()];
            if committed {
                // Signed after the penalty, so the penalty does not breach it.
                all.push(signed(2, &sign_on.to_string()));
            }
            let a = assess(&c, &p, &all, today).unwrap();
            prop_assert_eq!(a.eligible_now, may_apply(&c, &p, &all, today).is_ok());
            let running = sign_on.checked_add(jiff::Span::new().months(12)).unwrap() > today;
            prop_assert_eq!(a.needs_commitment, !(committed && running));
            prop_assert_eq!(a.eligible_now, committed && running && today >= a.reach.repairable_from);
        }
    }
}
