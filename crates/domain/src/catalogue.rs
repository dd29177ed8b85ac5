//! The information catalogue (信息目录, 第六条–第十二条): items, their field
//! schemas, and the validation that turns raw submitted fields into typed values.

use std::collections::BTreeMap;
use std::str::FromStr;

use jiff::civil::Date;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::commitment::Templates;

mod sanity;
mod stored;
pub mod versions;
use crate::dates::parse_date;
pub use sanity::{EARLIEST_DATE, LATEST_DATE};

/// The category of an item (第六条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Basic,
    Commitment,
    Serious,
    Other,
}

impl Category {
    /// The lowercase name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Basic => "basic",
            Category::Commitment => "commitment",
            Category::Serious => "serious",
            Category::Other => "other",
        }
    }
}

/// The type of one field of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Int,
    Decimal,
    Date,
    Bool,
    Enum,
    String,
    RegionCode,
    Template,
}

/// The schema of one field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// For a date: the date field of the same item it may not precede
    /// (`removed_on` not before `listed_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
}

/// One catalogue item, e.g. `P01` administrative penalty.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub category: Category,
    pub name_zh: String,
    pub name_en: String,
    pub responsible: Vec<String>,
    pub self_reportable: bool,
    pub repairable: bool,
    pub fields: Vec<FieldSpec>,
}

/// A typed field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Decimal(Decimal),
    Date(Date),
    Bool(bool),
    /// Strings, enum values, region codes and template codes.
    Text(Box<str>),
}

impl Value {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => serde_json::Value::from(*i),
            // Decimals travel as strings so that no float ever touches them.
            Value::Decimal(d) => serde_json::Value::String(d.normalize().to_string()),
            Value::Date(d) => serde_json::Value::String(d.to_string()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Text(s) => serde_json::Value::String(s.to_string()),
        }
    }
}

/// A record's validated fields, positionally aligned with its item's `fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields(pub Box<[Option<Value>]>);

/// A raw submitted value: typed JSON, or a CSV cell's text.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    Json(&'a serde_json::Value),
    Text(&'a str),
}

/// Why a record's fields were rejected; `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(code: &'static str, field: &str, message: String) -> Self {
        FieldError {
            code,
            field: field.to_owned(),
            message,
        }
    }
}

/// The whole catalogue: its version, items and commitment templates.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The label, e.g. `2026.1`; score models name the catalogue by it.
    pub version: String,
    pub items: Vec<Item>,
    pub templates: Templates,
    index: BTreeMap<String, usize>,
    /// The stored catalogue version (1: the one shipped in the binary).
    pub number: i64,
    /// The stored templates version (1: the ones shipped).
    pub templates_number: i64,
    /// Labels of the catalogue versions before this one: a score model
    /// written for one of them still loads if its indicators fit.
    pub lineage: Vec<String>,
}

const DEFAULT_CATALOGUE: &str = include_str!("../data/catalogue/2026.1.toml");
const DEFAULT_TEMPLATES: &str = include_str!("../data/templates/2026.1.toml");

impl Catalogue {
    /// The default catalogue `2026.1` (B01–O04) and templates T01–T03
    /// shipped in the binary: stored version 1 of each.
    pub fn builtin() -> Catalogue {
        // The shipped files are tested; failure here is a build defect.
        let built = versions::CatalogueDoc::parse_shape(DEFAULT_CATALOGUE).and_then(|doc| {
            let templates = versions::TemplatesDoc::parse(DEFAULT_TEMPLATES)?.templates();
            Catalogue::assemble(doc, templates, 1, 1, Vec::new())
        });
        built.unwrap_or_else(|e| panic!("built-in catalogue is invalid: {e}"))
    }

    /// The shipped catalogue and templates files, stored as version 1.
    pub fn builtin_texts() -> (&'static str, &'static str) {
        (DEFAULT_CATALOGUE, DEFAULT_TEMPLATES)
    }

    /// The index of the item with this code in `items`, if any.
    pub fn position(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// The item with this code, if any.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.index.get(code).map(|&i| &self.items[i])
    }

    /// Validates a record's raw fields against its item's schema.
    pub fn validate<'a>(
        &self,
        item: &Item,
        raw: impl IntoIterator<Item = (&'a str, Raw<'a>)>,
    ) -> Result<Fields, FieldError> {
        item.validate(raw, &self.templates)
    }
}

impl Item {
    /// Index of the record's date field: the first date field of the item.
    pub fn date_field(&self) -> usize {
        self.fields
            .iter()
            .position(|f| f.ty == FieldType::Date)
            .unwrap_or(0)
    }

    /// Index of the named field, if the item has it.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The record's date: its first date field.
    pub fn record_date(&self, fields: &Fields) -> Date {
        match fields.0.get(self.date_field()) {
            Some(Some(Value::Date(d))) => *d,
            _ => Date::default(),
        }
    }

    /// Validates raw fields: unknown fields, missing required fields, types,
    /// enums, ranges and lengths. Empty CSV cells count as absent.
    pub fn validate<'a>(
        &self,
        raw: impl IntoIterator<Item = (&'a str, Raw<'a>)>,
        templates: &Templates,
    ) -> Result<Fields, FieldError> {
        let mut out: Vec<Option<Value>> = vec![None; self.fields.len()];
        for (name, value) in raw {
            let Some(i) = self.field_index(name) else {
                return Err(FieldError::new(
                    "unknown_field",
                    name,
                    format!("item {} has no field `{name}`", self.code),
                ));
            };
            if matches!(value, Raw::Text("") | Raw::Json(serde_json::Value::Null)) {
                continue;
            }
            out[i] = Some(self.fields[i].parse(value, templates)?);
        }
        for (spec, v) in self.fields.iter().zip(&out) {
            if spec.required && v.is_none() {
                return Err(FieldError::new(
                    "missing_field",
                    &spec.name,
                    format!("item {} requires field `{}`", self.code, spec.name),
                ));
            }
        }
        let fields = Fields(out.into_boxed_slice());
        sanity::cross_fields(self, &fields)?;
        Ok(fields)
    }

    /// The canonical JSON text of validated fields: keys sorted, absent
    /// fields omitted, decimals normalised. Equal content gives equal text.
    pub fn canonical_json(&self, fields: &Fields) -> String {
        let mut map = serde_json::Map::new();
        for (spec, v) in self.fields.iter().zip(fields.0.iter()) {
            if let Some(v) = v {
                map.insert(spec.name.clone(), v.to_json());
            }
        }
        serde_json::Value::Object(map).to_string()
    }

    /// Decodes fields stored by this platform (canonical JSON written after
    /// validation) straight into typed values, without building a JSON tree.
    /// Types are still checked; a mismatch is an error, never a wrong value.
    pub fn decode_stored(&self, json: &str) -> Result<Fields, FieldError> {
        let mut de = serde_json::Deserializer::from_str(json);
        serde::de::DeserializeSeed::deserialize(stored::FieldsSeed(self), &mut de)
            .map_err(|e| FieldError::new("malformed_json", "fields", e.to_string()))
    }

    /// Decodes and fully validates fields given as JSON text.
    pub fn decode(&self, json: &str, templates: &Templates) -> Result<Fields, FieldError> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| FieldError::new("malformed_json", "fields", e.to_string()))?;
        let Some(map) = value.as_object() else {
            return Err(FieldError::new(
                "invalid_field",
                "fields",
                "fields must be an object".into(),
            ));
        };
        self.validate(
            map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))),
            templates,
        )
    }
}

/// A float with no fractional part, within the range where every integer is exact.
fn whole(f: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (f.fract() == 0.0 && f.abs() <= EXACT).then_some(f as i64)
}

impl FieldSpec {
    fn type_error(&self, expected: &str) -> FieldError {
        FieldError::new(
            "invalid_field",
            &self.name,
            format!("field `{}` must be {expected}", self.name),
        )
    }

    fn check_range(&self, v: Decimal) -> Result<(), FieldError> {
        let below = self.min.is_some_and(|m| v < m);
        let above = self.max.is_some_and(|m| v > m);
        if below || above {
            let lo = self.min.map_or("-∞".into(), |m| m.to_string());
            let hi = self.max.map_or("∞".into(), |m| m.to_string());
            return Err(FieldError::new(
                "out_of_range",
                &self.name,
                format!("field `{}` must be between {lo} and {hi}", self.name),
            ));
        }
        Ok(())
    }

    fn parse(&self, raw: Raw<'_>, templates: &Templates) -> Result<Value, FieldError> {
        use serde_json::Value as J;
        let text = match raw {
            Raw::Text(t) => Some(t),
            Raw::Json(J::String(s)) => Some(s.as_str()),
            Raw::Json(_) => None,
        };
        let value = match self.ty {
            FieldType::Int => {
                let n = match raw {
                    // `64.0` is the JSON number 64 (RFC 8259, JSON Schema `integer`).
                    Raw::Json(J::Number(n)) => n.as_i64().or_else(|| whole(n.as_f64()?)),
                    Raw::Text(t) => t.trim().parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| self.type_error("a whole number"))?;
                self.check_range(Decimal::from(n))?;
                Value::Int(n)
            }
            FieldType::Decimal => {
                let d = match raw {
                    // A float that prints with an exponent (`1e-7`) is read by
                    // value, rounded to the 28 decimal places a decimal holds.
                    Raw::Json(J::Number(n)) => Decimal::from_str(&n.to_string())
                        .ok()
                        .or_else(|| n.as_f64().and_then(Decimal::from_f64)),
                    _ => text.and_then(|t| Decimal::from_str(t.trim()).ok()),
                }
                .ok_or_else(|| self.type_error("a decimal number"))?;
                self.check_range(d)?;
                Value::Decimal(d)
            }
            FieldType::Date => {
                let d = text.and_then(parse_date).ok_or_else(|| {
                    FieldError::new(
                        "invalid_date",
                        &self.name,
                        format!("field `{}` must be a date YYYY-MM-DD", self.name),
                    )
                })?;
                sanity::date_in_window(self, d)?;
                Value::Date(d)
            }
            FieldType::Bool => match raw {
                Raw::Json(J::Bool(b)) => Value::Bool(*b),
                Raw::Text("true" | "1") => Value::Bool(true),
                Raw::Text("false" | "0") => Value::Bool(false),
                _ => return Err(self.type_error("true or false")),
            },
            FieldType::Enum => {
                let t = text.ok_or_else(|| self.type_error("a string"))?;
                if !self.values.iter().any(|v| v == t) {
                    return Err(FieldError::new(
                        "invalid_enum",
                        &self.name,
                        format!(
                            "field `{}` must be one of {}",
                            self.name,
                            self.values.join(", ")
                        ),
                    ));
                }
                Value::Text(t.into())
            }
            FieldType::String => {
                let t = text.ok_or_else(|| self.type_error("a string"))?;
                let t = t.trim();
                sanity::text(self, t)?;
                if t.is_empty() || self.max_len.is_some_and(|m| t.chars().count() > m) {
                    return Err(FieldError::new(
                        "out_of_range",
                        &self.name,
                        format!(
                            "field `{}` must be 1 to {} characters",
                            self.name,
                            self.max_len.unwrap_or(usize::MAX)
                        ),
                    ));
                }
                Value::Text(t.into())
            }
            FieldType::RegionCode => {
                let t = text.ok_or_else(|| self.type_error("a 6-digit region code"))?;
                if !crate::id::is_region_code(t) {
                    return Err(self.type_error(
                        "a 6-digit region code starting with a province code (GB/T 2260)",
                    ));
                }
                Value::Text(t.into())
            }
            FieldType::Template => {
                let t = text.ok_or_else(|| self.type_error("a template code"))?;
                if templates.get(t).is_none() {
                    return Err(FieldError::new(
                        "unknown_template",
                        &self.name,
                        format!("there is no commitment template `{t}`"),
                    ));
                }
                Value::Text(t.into())
            }
        };
        Ok(value)
    }
}

impl Fields {
    /// The value at `index`, if present.
    pub fn get(&self, index: usize) -> Option<&Value> {
        self.0.get(index).and_then(Option::as_ref)
    }

    /// The text value at `index`.
    pub fn text(&self, index: usize) -> Option<&str> {
        match self.get(index) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// The date value at `index`.
    pub fn date(&self, index: usize) -> Option<Date> {
        match self.get(index) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }

    /// A numeric value at `index` as a decimal (ints included).
    pub fn number(&self, index: usize) -> Option<Decimal> {
        match self.get(index) {
            Some(Value::Int(i)) => Some(Decimal::from(*i)),
            Some(Value::Decimal(d)) => Some(*d),
            _ => None,
        }
    }

    /// The boolean value at `index`.
    pub fn bool(&self, index: usize) -> Option<bool> {
        match self.get(index) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(item: &str, v: serde_json::Value) -> Result<Fields, FieldError> {
        let c = Catalogue::builtin();
        let item = c.item(item).unwrap();
        let map = v.as_object().unwrap().clone();
        c.validate(item, map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
    }

    #[test]
    fn builtin_has_every_design_item() {
        let c = Catalogue::builtin();
        let codes: Vec<_> = c.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(
            codes,
            ["B01", "B02", "B03", "B04", "C01", "P01", "S01", "O01", "O02", "O03", "O04"]
        );
        assert_eq!(c.version, "2026.1");
    }

    #[test]
    fn valid_penalty_round_trips_canonically() {
        let f = check(
            "P01",
            json!({"domain":"tax","level":"general","decided_on":"2026-03-01","authority":"绍兴市税务局","case_no":"1"}),
        )
        .unwrap();
        let c = Catalogue::builtin();
        let item = c.item("P01").unwrap();
        let text = item.canonical_json(&f);
        assert_eq!(
            text,
            r#"{"authority":"绍兴市税务局","case_no":"1","decided_on":"2026-03-01","domain":"tax","level":"general"}"#
        );
        assert_eq!(item.decode(&text, &c.templates).unwrap(), f);
        assert_eq!(item.record_date(&f), jiff::civil::date(2026, 3, 1));
    }

    #[test]
    fn json_numbers_are_read_by_value_not_spelling() {
        // 850.0 is the integer 850; a small float prints as `1e-7`.
        let f = check("B01", json!({"score": 850.0, "evaluated_on": "2026-01-01"})).unwrap();
        assert_eq!(f.0[0], Some(Value::Int(850)));
        assert_eq!(
            check("B01", json!({"score": 850.5, "evaluated_on": "2026-01-01"}))
                .unwrap_err()
                .code,
            "invalid_field"
        );
        let f = check(
            "O03",
            json!({"hours": 1e-7, "served_on": "2026-01-01", "organisation": "x"}),
        )
        .unwrap();
        assert_eq!(f.0[0], Some(Value::Decimal("0.0000001".parse().unwrap())));
        let f = check(
            "O03",
            json!({"hours": 9.77e-197, "served_on": "2026-01-01", "organisation": "x"}),
        )
        .unwrap();
        assert_eq!(f.0[0], Some(Value::Decimal(Decimal::ZERO)));
    }

    #[test]
    fn each_kind_of_bad_field_has_its_code() {
        let cases = [
            (
                "B01",
                json!({"score": "high", "evaluated_on": "2026-01-01"}),
                "invalid_field",
            ),
            (
                "B01",
                json!({"score": 1001, "evaluated_on": "2026-01-01"}),
                "out_of_range",
            ),
            ("B01", json!({"score": 800}), "missing_field"),
            (
                "B01",
                json!({"score": 800, "evaluated_on": "2026-02-30"}),
                "invalid_date",
            ),
            (
                "B01",
                json!({"score": 800, "evaluated_on": "2026-01-01", "x": 1}),
                "unknown_field",
            ),
            (
                "B02",
                json!({"capacity": "partial", "decided_on": "2026-01-01"}),
                "invalid_enum",
            ),
            (
                "C01",
                json!({"template": "T99", "signed_on": "2026-01-01"}),
                "unknown_template",
            ),
            (
                "B03",
                json!({"region_code": "33060", "registered_on": "2026-01-01", "active": true}),
                "invalid_field",
            ),
            (
                "O02",
                json!({"amount_cny": -5, "donated_on": "2026-01-01", "recipient": "x"}),
                "out_of_range",
            ),
        ];
        for (item, v, code) in cases {
            let err = check(item, v.clone()).unwrap_err();
            assert_eq!(err.code, code, "{item} {v}: {err}");
        }
    }

    #[test]
    fn stored_decoding_matches_full_validation() {
        let c = Catalogue::builtin();
        for (item, v) in [
            (
                "P01",
                json!({"level":"general","decided_on":"2026-03-01","authority":"局\"甲\"","case_no":"1","domain":"tax"}),
            ),
            (
                "O02",
                json!({"amount_cny":"1000.10","donated_on":"2026-01-01","recipient":"r"}),
            ),
            (
                "B03",
                json!({"region_code":"330602","registered_on":"2000-01-01","active":true}),
            ),
            ("S01", json!({"list_type":"tax","listed_on":"2020-01-01"})),
        ] {
            let it = c.item(item).unwrap();
            let f = check(item, v).unwrap();
            let text = it.canonical_json(&f);
            assert_eq!(it.decode_stored(&text).unwrap(), f, "{text}");
        }
        let b01 = c.item("B01").unwrap();
        assert!(b01
            .decode_stored(r#"{"score":"x","evaluated_on":"2026-01-01"}"#)
            .is_err());
        assert!(b01.decode_stored(r#"{"score":800}"#).is_err());
    }

    #[test]
    fn decimals_are_exact() {
        let f = check(
            "O02",
            json!({"amount_cny": "1000.10", "donated_on": "2026-01-01", "recipient": "x"}),
        )
        .unwrap();
        assert_eq!(f.number(0), Some(Decimal::new(100010, 2)));
    }
}
