//! Which records credit repair (信用修复, 第二十四条; NDRC Order No. 36 of
//! 2025) can reach, and from when.
//!
//! Only items the catalogue marks `repairable` qualify (P01 penalties, S01
//! listings). A penalty's `level` decides the minimum publicity period: a
//! minor penalty is not published and needs no repair, a general one is
//! repairable three months after its decision, a serious one a year after.
//! A listing counts as serious. Repair always needs a credit commitment.

use jiff::civil::Date;
use serde::Serialize;

use crate::catalogue::{Fields, Item};
use crate::dates::add_months;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Raw;
    use crate::Catalogue;
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
    }
}
