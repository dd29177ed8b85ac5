//! Who has a score (第三条): adults with full civil capacity who live in the city.

use jiff::civil::Date;
use serde::Serialize;

use crate::catalogue::Catalogue;
use crate::dates::{add_years, age_on};
use crate::record::Record;

/// Why a person has no score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ineligibility {
    #[serde(rename = "UNDER_18")]
    Under18,
    LimitedCapacity,
    NotResident,
}

impl Ineligibility {
    /// The stable reason code, e.g. `UNDER_18`.
    pub fn code(self) -> &'static str {
        match self {
            Ineligibility::Under18 => "UNDER_18",
            Ineligibility::LimitedCapacity => "LIMITED_CAPACITY",
            Ineligibility::NotResident => "NOT_RESIDENT",
        }
    }

    /// The reason in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Ineligibility::Under18 => "未满18周岁",
            Ineligibility::LimitedCapacity => "不具有完全民事行为能力",
            Ineligibility::NotResident => "非本市常住人口（无本市有效户籍或有效居住证）",
        }
    }

    /// The reason in English.
    pub fn en(self) -> &'static str {
        match self {
            Ineligibility::Under18 => "Under 18 years of age",
            Ineligibility::LimitedCapacity => "Does not have full civil capacity",
            Ineligibility::NotResident => {
                "Not a resident of the city (no active household registration or valid residence permit)"
            }
        }
    }
}

/// Positions of the catalogue fields that eligibility reads.
#[derive(Debug, Clone)]
pub struct EligibilityRules {
    capacity: (usize, usize),
    household: (usize, usize, usize),
    permit: (usize, usize, usize),
    b02: usize,
    b03: usize,
}

/// The catalogue lacks an item or field that eligibility needs.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the catalogue lacks {0}, which eligibility (第三条) needs")]
pub struct MissingForEligibility(String);

/// The age from which a person may have a score.
pub const ADULT_AGE: i32 = 18;

/// Prefix of region codes within the city (绍兴市).
pub const CITY_REGION_PREFIX: &str = "3306";

impl EligibilityRules {
    /// Binds the rules to a catalogue (B02, B03, B04 and their fields).
    pub fn new(c: &Catalogue) -> Result<Self, MissingForEligibility> {
        let idx = |code: &str| {
            c.items
                .iter()
                .position(|i| i.code == code)
                .ok_or_else(|| MissingForEligibility(code.to_owned()))
        };
        let field = |code: &str, name: &str| {
            c.item(code)
                .and_then(|i| i.field_index(name))
                .ok_or_else(|| MissingForEligibility(format!("{code}.{name}")))
        };
        Ok(EligibilityRules {
            b02: idx("B02")?,
            b03: idx("B03")?,
            capacity: (field("B02", "capacity")?, field("B02", "decided_on")?),
            household: (
                field("B03", "region_code")?,
                field("B03", "registered_on")?,
                field("B03", "active")?,
            ),
            permit: (
                idx("B04")?,
                field("B04", "valid_from")?,
                field("B04", "valid_until")?,
            ),
        })
    }

    /// The first day on which someone born on `birth` is old enough.
    pub fn adult_from(&self, birth: Date) -> Date {
        let mut d = add_years(birth, ADULT_AGE);
        while age_on(birth, d) < ADULT_AGE {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        d
    }

    /// The dates on which `record` can change what [`EligibilityRules::check`]
    /// says: the dates it reads, and the day after a residence permit ends.
    pub fn change_dates(&self, record: &Record, f: &mut dyn FnMut(Date)) {
        let (_, cap_date) = self.capacity;
        let (_, reg_date, _) = self.household;
        let (b04, from_f, until_f) = self.permit;
        let fields: &[usize] = match record.item {
            i if i == self.b02 => &[cap_date],
            i if i == self.b03 => &[reg_date],
            i if i == b04 => &[from_f],
            _ => &[],
        };
        fields
            .iter()
            .filter_map(|&i| record.fields.date(i))
            .for_each(&mut *f);
        if record.item == b04 {
            let end = record.fields.date(until_f).and_then(|d| d.tomorrow().ok());
            end.into_iter().for_each(f);
        }
    }

    /// The reasons a person is not eligible on `on`; empty means eligible.
    /// `records` must already be those that count.
    pub fn check(&self, birth: Date, records: &[&Record], on: Date) -> Vec<Ineligibility> {
        let mut reasons = Vec::new();
        if age_on(birth, on) < ADULT_AGE {
            reasons.push(Ineligibility::Under18);
        }
        let latest = |item: usize, date_field: usize| {
            records
                .iter()
                .filter(|r| r.item == item)
                .filter_map(|r| r.fields.date(date_field).map(|d| (d, r.id, *r)))
                .filter(|(d, _, _)| *d <= on)
                .max_by_key(|(d, id, _)| (*d, *id))
                .map(|(_, _, r)| r)
        };
        let (cap_f, cap_date) = self.capacity;
        if let Some(r) = latest(self.b02, cap_date) {
            if r.fields.text(cap_f) != Some("full") {
                reasons.push(Ineligibility::LimitedCapacity);
            }
        }
        let (region_f, reg_date, active_f) = self.household;
        let household = latest(self.b03, reg_date).is_some_and(|r| {
            r.fields.bool(active_f) == Some(true)
                && r.fields
                    .text(region_f)
                    .is_some_and(|c| c.starts_with(CITY_REGION_PREFIX))
        });
        let (b04, from_f, until_f) = self.permit;
        let permit = records.iter().filter(|r| r.item == b04).any(|r| {
            matches!((r.fields.date(from_f), r.fields.date(until_f)),
                (Some(a), Some(b)) if a <= on && on <= b)
        });
        if !household && !permit {
            reasons.push(Ineligibility::NotResident);
        }
        reasons
    }
}
