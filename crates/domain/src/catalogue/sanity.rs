//! Plausibility rules every record's fields obey: dates within the years
//! the platform can hold a fact for, dates that follow each other in the
//! order the catalogue names (`not_before`), no invisible characters in
//! text, and a record not dated after the day it is submitted (or the date
//! a historical import is made as of).

use jiff::civil::Date;

use super::{FieldError, FieldSpec, FieldType, Fields, Item};

/// No date before this is plausible for anything the platform records.
pub const EARLIEST_DATE: Date = Date::constant(1900, 1, 1);
/// No date after this is plausible either (a permit may end well after the
/// record is made, so the bound is generous; year 9999 is not).
pub const LATEST_DATE: Date = Date::constant(2199, 12, 31);

/// Checks an item's schema: each `not_before` names an earlier date field.
pub(super) fn check_item(item: &Item) -> Result<(), String> {
    for (i, spec) in item.fields.iter().enumerate() {
        let Some(other) = &spec.not_before else {
            continue;
        };
        let ok = spec.ty == FieldType::Date
            && item.fields[..i]
                .iter()
                .any(|f| &f.name == other && f.ty == FieldType::Date);
        if !ok {
            return Err(format!(
                "field `{}`: not_before must name an earlier date field, not `{other}`",
                spec.name
            ));
        }
    }
    Ok(())
}

pub(super) fn date_in_window(spec: &FieldSpec, d: Date) -> Result<(), FieldError> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&d) {
        return Ok(());
    }
    Err(FieldError::new(
        "date_out_of_range",
        &spec.name,
        format!(
            "field `{}` must be between {EARLIEST_DATE} and {LATEST_DATE}",
            spec.name
        ),
    ))
}

pub(super) fn text(spec: &FieldSpec, t: &str) -> Result<(), FieldError> {
    crate::text::check(t).map_err(|e| {
        FieldError::new(
            crate::text::TextError::CODE,
            &spec.name,
            format!("field `{}`: {e}", spec.name),
        )
    })
}

pub(super) fn cross_fields(item: &Item, fields: &Fields) -> Result<(), FieldError> {
    for (i, spec) in item.fields.iter().enumerate() {
        let Some(other) = &spec.not_before else {
            continue;
        };
        let Some(j) = item.field_index(other) else {
            continue;
        };
        if let (Some(late), Some(early)) = (fields.date(i), fields.date(j)) {
            if late < early {
                return Err(FieldError::new(
                    "inconsistent_fields",
                    &spec.name,
                    format!("field `{}` must not be before `{other}`", spec.name),
                ));
            }
        }
    }
    Ok(())
}

impl Item {
    /// Checks that the record's date (its first date field) is not after
    /// `latest`: today for pushes, the `--as-of` date of an import. A
    /// future-dated fact would wait silently and then count unannounced.
    pub fn check_record_date(&self, fields: &Fields, latest: Date) -> Result<(), FieldError> {
        let i = self.date_field();
        match fields.date(i) {
            Some(d) if d > latest => Err(FieldError::new(
                "date_out_of_range",
                &self.fields[i].name,
                format!(
                    "field `{}` must not be after {latest}: a record cannot be dated in the future",
                    self.fields[i].name
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalogue::Raw;
    use crate::Catalogue;
    use serde_json::json;

    fn check(item: &str, v: serde_json::Value) -> Result<(), &'static str> {
        let c = Catalogue::builtin();
        let item = c.item(item).unwrap();
        let map = v.as_object().unwrap().clone();
        c.validate(item, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .map(|_| ())
            .map_err(|e| e.code)
    }

    #[test]
    fn dates_outside_the_plausible_years_are_refused() {
        let b02 = |d: &str| check("B02", json!({"capacity": "full", "decided_on": d}));
        assert_eq!(b02("0000-01-01"), Err("date_out_of_range"));
        assert_eq!(b02("1899-12-31"), Err("date_out_of_range"));
        assert_eq!(b02("2200-01-01"), Err("date_out_of_range"));
        assert_eq!(b02("9999-12-31"), Err("date_out_of_range"));
        assert_eq!(b02("1900-01-01"), Ok(()));
    }

    #[test]
    fn dates_follow_each_other() {
        let s01 = |l: &str, r: &str| {
            check(
                "S01",
                json!({"list_type": "tax", "listed_on": l, "removed_on": r}),
            )
        };
        assert_eq!(s01("2020-05-01", "2020-04-30"), Err("inconsistent_fields"));
        assert_eq!(s01("2020-05-01", "2020-05-01"), Ok(()));
        let b04 = |f: &str, u: &str| check("B04", json!({"valid_from": f, "valid_until": u}));
        assert_eq!(b04("2024-01-01", "2023-12-31"), Err("inconsistent_fields"));
        assert_eq!(b04("2024-01-01", "2027-01-01"), Ok(()));
    }

    #[test]
    fn text_and_region_codes() {
        let p01 = |a: &str| {
            check(
                "P01",
                json!({"level": "general", "decided_on": "2026-01-01", "authority": a, "case_no": "1", "domain": "tax"}),
            )
        };
        assert_eq!(p01("税务局\u{202E}"), Err("invalid_character"));
        assert_eq!(p01("税务\u{0}局"), Err("invalid_character"));
        assert_eq!(p01("=HYPERLINK(\"x\")"), Ok(()));
        let b03 = |r: &str| {
            check(
                "B03",
                json!({"region_code": r, "registered_on": "2000-01-01", "active": true}),
            )
        };
        assert_eq!(b03("990602"), Err("invalid_field"));
        assert_eq!(b03("330602"), Ok(()));
    }

    #[test]
    fn a_future_record_date_is_refused() {
        let c = Catalogue::builtin();
        let item = c.item("P01").unwrap();
        let f = item
            .decode(
                r#"{"level":"general","decided_on":"2026-03-02","authority":"a","case_no":"1","domain":"tax"}"#,
                &c.templates,
            )
            .unwrap();
        let day = jiff::civil::date(2026, 3, 1);
        assert_eq!(
            item.check_record_date(&f, day).unwrap_err().code,
            "date_out_of_range"
        );
        assert!(item.check_record_date(&f, day.tomorrow().unwrap()).is_ok());
    }

    #[test]
    fn a_not_before_must_name_an_earlier_date() {
        let bad = include_str!("../../data/catalogue/2026.1.toml")
            .replace(r#"not_before = "listed_on""#, r#"not_before = "list_type""#);
        let e = super::super::versions::CatalogueDoc::parse(&bad).unwrap_err();
        assert!(e.0.iter().any(|i| i.message.contains("not_before")), "{e}");
    }
}
