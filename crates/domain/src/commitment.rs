//! Credit commitment templates (信用承诺, 第八条) and the breach / fulfilment rules.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::dates::add_months;
use crate::record::Record;

/// Which records a template monitors: an item, optionally narrowed by field values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Monitor {
    pub item: String,
    /// Field name → accepted values; every listed field must match.
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Vec<String>>,
}

/// A commitment template such as T01 遵纪守法.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    pub code: String,
    pub title_zh: String,
    pub title_en: String,
    pub text_zh: String,
    pub text_en: String,
    pub term_months: i32,
    pub monitors: Vec<Monitor>,
    /// Retired: no new signatures; those signed stay valid to their term.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// The set of templates a catalogue offers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Templates {
    pub templates: Vec<Template>,
}

impl Templates {
    /// The template with this code.
    pub fn get(&self, code: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.code == code)
    }
}

impl Template {
    /// The term `[signed_on, end)`; returns `end`.
    pub fn term_end(&self, signed_on: Date) -> Date {
        add_months(signed_on, self.term_months)
    }
}

/// What became of a signed commitment as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentOutcome {
    /// The term covers the date and nothing breached it so far.
    Running,
    /// A monitored record fell inside the term; `on` is the first such record's date.
    Breached { on: Date, record: i64 },
    /// The term ended (on `ended_on`) with no breach.
    Fulfilled { ended_on: Date },
}

/// Decides a commitment's outcome as of `as_of` from the dates and ids of the
/// monitored records (already filtered to those that count and match).
pub fn outcome(
    signed_on: Date,
    term_end: Date,
    as_of: Date,
    monitored: impl IntoIterator<Item = (Date, i64)>,
) -> CommitmentOutcome {
    let first_breach = monitored
        .into_iter()
        .filter(|(d, _)| *d >= signed_on && *d < term_end && *d <= as_of)
        .min();
    match first_breach {
        Some((on, record)) => CommitmentOutcome::Breached { on, record },
        None if term_end <= as_of => CommitmentOutcome::Fulfilled { ended_on: term_end },
        None => CommitmentOutcome::Running,
    }
}

/// A signed commitment as its signer sees it (`GET /me/commitments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStatus {
    /// The signature stands, its term covers the date and nothing breached it.
    Active,
    /// The term ended without a breach.
    Fulfilled,
    /// A monitored record fell inside the term.
    Breached,
    /// The signature no longer stands (失效): its record stopped counting
    /// (withdrawn, corrected away, or never verified), so it is neither
    /// monitored nor credited.
    Expired,
}

impl CommitmentStatus {
    /// The lowercase name shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Active => "active",
            CommitmentStatus::Fulfilled => "fulfilled",
            CommitmentStatus::Breached => "breached",
            CommitmentStatus::Expired => "expired",
        }
    }
}

/// Where one signed commitment stands as of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The C01 record of the signature.
    pub record: i64,
    pub template: String,
    pub signed_on: Date,
    /// The last day of the term (the term is `[signed_on, signed_on + term)`).
    pub valid_until: Date,
    pub status: CommitmentStatus,
    /// The first monitored record inside the term, when breached.
    pub breached_by: Option<i64>,
}

/// Where the signature `signature` (a C01 record, in any state) stands as of
/// `as_of`, judged against the person's `records` by the same rules the
/// engine scores with: only counting records dated by `as_of` are
/// monitored. `None` when the record is not a signature of a known template.
pub fn standing(
    catalogue: &Catalogue,
    signature: &Record,
    records: &[Record],
    as_of: Date,
) -> Option<Standing> {
    let item = catalogue.items.get(signature.item)?;
    let template = catalogue
        .templates
        .get(signature.fields.text(item.field_index("template")?)?)?;
    let end = template.term_end(signature.date);
    let mut s = Standing {
        record: signature.id,
        template: template.code.clone(),
        signed_on: signature.date,
        valid_until: end.yesterday().unwrap_or(end),
        status: CommitmentStatus::Expired,
        breached_by: None,
    };
    if !signature.status.counts() {
        return Some(s);
    }
    let monitored = records
        .iter()
        .filter(|r| r.status.counts() && template.monitors_record(catalogue, r))
        .map(|r| (r.date, r.id));
    (s.status, s.breached_by) = match outcome(signature.date, end, as_of, monitored) {
        CommitmentOutcome::Running => (CommitmentStatus::Active, None),
        CommitmentOutcome::Breached { record, .. } => (CommitmentStatus::Breached, Some(record)),
        CommitmentOutcome::Fulfilled { .. } => (CommitmentStatus::Fulfilled, None),
    };
    Some(s)
}

impl Template {
    /// Whether `record` is one this template monitors: its item, with every
    /// listed field holding one of the accepted values.
    pub fn monitors_record(&self, catalogue: &Catalogue, record: &Record) -> bool {
        let Some(item) = catalogue.items.get(record.item) else {
            return false;
        };
        self.monitors.iter().any(|m| {
            m.item == item.code
                && m.conditions.iter().all(|(field, accepted)| {
                    item.field_index(field)
                        .and_then(|i| record.fields.text(i))
                        .is_some_and(|v| accepted.iter().any(|a| a == v))
                })
        })
    }
}

/// Whether a new signature of `template` may be made: not while another
/// signature of the same template is active (signing it again would only
/// add points for the same promise).
pub fn may_sign(template: &str, standings: &[Standing]) -> Result<(), i64> {
    match standings
        .iter()
        .find(|s| s.template == template && s.status == CommitmentStatus::Active)
    {
        Some(s) => Err(s.record),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Raw;
    use crate::record::RecordStatus;
    use jiff::civil::date;

    fn rec(
        c: &Catalogue,
        id: i64,
        item: &str,
        status: RecordStatus,
        f: serde_json::Value,
    ) -> Record {
        let it = c.item(item).unwrap();
        let map = f.as_object().unwrap();
        let fields = c
            .validate(it, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .unwrap();
        Record {
            id,
            item: c.items.iter().position(|i| i.code == item).unwrap(),
            date: it.record_date(&fields),
            status,
            fields,
        }
    }

    #[test]
    fn standings_follow_the_engine_rules() {
        let c = Catalogue::builtin();
        let sig = |id, t: &str, status| {
            rec(
                &c,
                id,
                "C01",
                status,
                serde_json::json!({"template": t, "signed_on": "2026-01-10"}),
            )
        };
        let penalty = |id, level: &str, domain: &str, on: &str, status| {
            rec(
                &c,
                id,
                "P01",
                status,
                serde_json::json!({"level": level, "decided_on": on, "authority": "a", "case_no": "1", "domain": domain}),
            )
        };
        let t02 = sig(1, "T02", RecordStatus::Active);
        let mut records = vec![
            t02.clone(),
            // Not monitored by T02: the wrong domain, a minor level, withdrawn, before the term.
            penalty(2, "general", "traffic", "2026-03-01", RecordStatus::Active),
            penalty(3, "minor", "tax", "2026-03-01", RecordStatus::Active),
            penalty(4, "serious", "tax", "2026-03-01", RecordStatus::Withdrawn),
            penalty(5, "serious", "tax", "2026-01-09", RecordStatus::Active),
        ];
        let s = standing(&c, &t02, &records, date(2026, 6, 1)).unwrap();
        assert_eq!(s.status, CommitmentStatus::Active);
        assert_eq!(s.valid_until, date(2027, 1, 9));
        assert_eq!(may_sign("T02", std::slice::from_ref(&s)), Err(1));
        assert_eq!(may_sign("T01", std::slice::from_ref(&s)), Ok(()));
        let s = standing(&c, &t02, &records, date(2027, 1, 10)).unwrap();
        assert_eq!(s.status, CommitmentStatus::Fulfilled);
        assert_eq!(may_sign("T02", &[s]), Ok(()));
        records.push(penalty(
            6,
            "general",
            "tax",
            "2026-04-01",
            RecordStatus::Disputed,
        ));
        records.push(penalty(
            7,
            "general",
            "tax",
            "2026-03-01",
            RecordStatus::Active,
        ));
        let s = standing(&c, &t02, &records, date(2026, 6, 1)).unwrap();
        assert_eq!(
            (s.status, s.breached_by),
            (CommitmentStatus::Breached, Some(7))
        );
        // T01 (any general penalty) is breached by the traffic one.
        let t01 = sig(8, "T01", RecordStatus::Active);
        let s = standing(&c, &t01, &records, date(2026, 6, 1)).unwrap();
        assert_eq!(s.breached_by, Some(2));
        let gone = sig(9, "T03", RecordStatus::Withdrawn);
        let s = standing(&c, &gone, &records, date(2026, 6, 1)).unwrap();
        assert_eq!((s.status, s.breached_by), (CommitmentStatus::Expired, None));
        assert!(standing(&c, &records[1], &records, date(2026, 6, 1)).is_none());
    }

    #[test]
    fn breach_inside_the_term_only() {
        let s = date(2025, 1, 10);
        let end = add_months(s, 12);
        assert_eq!(end, date(2026, 1, 10));
        let d = date(2026, 6, 1);
        assert_eq!(
            outcome(s, end, d, [(date(2026, 1, 10), 1)]),
            CommitmentOutcome::Fulfilled { ended_on: end }
        );
        assert_eq!(
            outcome(s, end, d, [(date(2026, 1, 9), 7), (date(2025, 3, 1), 8)]),
            CommitmentOutcome::Breached {
                on: date(2025, 3, 1),
                record: 8
            }
        );
        assert_eq!(
            outcome(s, end, date(2025, 6, 1), [(date(2025, 7, 1), 1)]),
            CommitmentOutcome::Running
        );
        assert_eq!(
            outcome(s, end, d, [(date(2025, 1, 9), 1)]),
            CommitmentOutcome::Fulfilled { ended_on: end }
        );
    }
}
