//! JSON Schemas that state exactly what the server's validation accepts, so
//! that a request valid under the document is never refused (and the API
//! fuzzer in `scripts/ci-checks/schemathesis.sh` can hold us to that).
//!
//! The record schemas are derived from the built-in catalogue, one per item,
//! so a catalogue change changes the document (and its snapshot).

use chengxin_domain::catalogue::{FieldSpec, FieldType, Item};
use chengxin_domain::Catalogue;
use chengxin_ingest::{MAX_NAME, MAX_SOURCE_ID, MAX_SOURCE_VERSION};
use serde_json::{json, Value};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, Discriminator, Object, ObjectBuilder, OneOfBuilder, Schema,
};
use utoipa::openapi::{RefOr, Type};

/// The characters `str::trim` removes (Unicode `White_Space`), as ranges.
const TRIMMED: [(char, char); 10] = [
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// [`TRIMMED`] as the body of a regex character class that ECMA-262 (JSON
/// Schema) and Python (the fuzzer) read alike: `\xHH` and `\uHHHH` escapes.
fn ws() -> String {
    let escape = |c: char| match u32::from(c) {
        0x20 => " ".to_owned(),
        n if n <= 0xff => format!("\\x{n:02x}"),
        n => format!("\\u{n:04x}"),
    };
    TRIMMED
        .iter()
        .map(|&(a, b)| {
            if a == b {
                escape(a)
            } else {
                format!("{}-{}", escape(a), escape(b))
            }
        })
        .collect()
}

/// The `format` of a resident ID number: 18 characters (`^[0-9]{17}[0-9Xx]$`)
/// starting with a GB/T 2260 province code, encoding an existing birth date
/// (years 1900–2100, not in the future), with the right ISO 7064 MOD 11-2
/// check character (GB 11643).
pub const ID_NUMBER_FORMAT: &str = "gb11643";

/// The ID number every example uses (its check character is right).
pub const EXAMPLE_ID_NUMBER: &str = "330602199001011231";

/// Pattern of a string that is not blank and, once surrounding whitespace
/// is trimmed, is at most `max` characters long (any length when `None`).
pub fn non_blank(max: Option<usize>) -> String {
    bounded(max, &ws(), r"[\s\S]")
}

/// The characters `chengxin_domain::text::forbidden` refuses inside a text
/// (controls, U+0000 among them; bidirectional controls; zero-width
/// characters), as the body of a regex character class.
fn forbidden() -> &'static str {
    r"\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
}

/// [`non_blank`], and without any forbidden character inside (whitespace
/// around it is trimmed before the check).
pub fn non_blank_without_nul(max: Option<usize>) -> String {
    let not = format!("{}{}", ws(), forbidden());
    let inner = format!("[^{}]", forbidden());
    match max {
        None => format!("^[{ws}]*[^{not}](?:{inner}*[^{not}])?[{ws}]*$", ws = ws()),
        Some(_) => bounded(max, &not, &inner),
    }
}

/// `^[ws]*[^not](?:any{0,max-2}[^not])?[ws]*$`: one character outside `not`,
/// then up to `max - 1` more, the last also outside `not`, with only
/// whitespace around. `not` is the whitespace class plus anything excluded.
fn bounded(max: Option<usize>, not: &str, any: &str) -> String {
    let ws = ws();
    match max {
        None => format!("[^{not}]"),
        Some(0 | 1) => format!("^[{ws}]*[^{not}][{ws}]*$"),
        Some(n) => format!("^[{ws}]*[^{not}](?:{any}{{0,{}}}[^{not}])?[{ws}]*$", n - 2),
    }
}

/// Pattern of a string that may be blank (it then counts as absent) and is at
/// most `max` characters long once trimmed.
pub fn blank_or_up_to(max: usize) -> String {
    let ws = ws();
    let bad = forbidden();
    format!(
        r"^[{ws}]*(?:[^{ws}{bad}](?:[^{bad}]{{0,{}}}[^{ws}{bad}])?)?[{ws}]*$",
        max.saturating_sub(2)
    )
}

/// A schema without composition, written as JSON.
pub fn leaf(schema: Value) -> RefOr<Schema> {
    let object: Object = serde_json::from_value(schema)
        .unwrap_or_else(|e| panic!("a leaf schema written in this module is invalid: {e}"));
    RefOr::T(Schema::Object(object))
}

/// The schema of a resident ID number.
pub fn id_number() -> RefOr<Schema> {
    leaf(json!({
        "type": "string",
        "minLength": 18,
        "maxLength": 18,
        "pattern": "^[0-9]{17}[0-9Xx]$",
        "format": ID_NUMBER_FORMAT,
        "description": "The person's 18-character resident ID number (GB 11643): 17 digits, the \
                        first two a GB/T 2260 province code (11–15, 21–23, 31–37, 41–46, 50–54, \
                        61–65, 71, 81, 82), characters 7–14 an existing birth date (years \
                        1900–2100, not in the future), then the \
                        ISO 7064 MOD 11-2 check character (`X` may be lowercase; surrounding \
                        whitespace is ignored). A wrong check character is `id_check_digit`; \
                        anything else wrong is `invalid_id_number`.",
        "example": EXAMPLE_ID_NUMBER,
    }))
}

/// The component name of the record schema for `item`.
pub fn record_schema_name(item: &str) -> String {
    format!("Record{item}")
}

/// One schema per catalogue item: a record of that item in the push format.
pub fn record_schemas(catalogue: &Catalogue) -> Vec<(String, RefOr<Schema>)> {
    catalogue
        .items
        .iter()
        .map(|item| {
            (
                record_schema_name(&item.code),
                record_schema(catalogue, item),
            )
        })
        .collect()
}

/// A record of any item: one of the per-item schemas, told apart by `item`.
pub fn record_input(catalogue: &Catalogue) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new().description(Some(
        "One record in the import format without `unit` (the key says which unit): one schema \
         per catalogue item, chosen by `item`. The unit must be responsible for the item \
         (`403 item_not_permitted`). A record that still carries `unit` (an import line sent \
         unchanged) is accepted only when it names the calling unit (`422 unit_mismatch`).",
    ));
    let mut mapping = Vec::new();
    for item in &catalogue.items {
        let name = record_schema_name(&item.code);
        one_of = one_of.item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(&name)));
        mapping.push((item.code.clone(), format!("#/components/schemas/{name}")));
    }
    let p01 = catalogue.item("P01").map(|i| record_example(catalogue, i));
    one_of
        .discriminator(Some(Discriminator::with_mapping("item", mapping)))
        .examples(p01)
        .into()
}

fn record_schema(catalogue: &Catalogue, item: &Item) -> RefOr<Schema> {
    let mut fields = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "The fields of item {} ({}). A `null` field counts as absent.",
            item.code, item.name_en
        )))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let record_date = item.fields.get(item.date_field()).map(|f| f.name.as_str());
    for spec in &item.fields {
        let mut schema = field_schema(catalogue, spec);
        if Some(spec.name.as_str()) == record_date {
            // The record's date may not be after today, which a pattern
            // cannot say: a format of its own names the rule.
            if let RefOr::T(Schema::Object(o)) = &mut schema {
                o.format = Some(utoipa::openapi::SchemaFormat::Custom(PAST_DATE.to_owned()));
            }
        }
        fields = fields.property(&spec.name, schema);
        if spec.required {
            fields = fields.required(&spec.name);
        }
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(format!("{} {}", item.code, item.name_en)))
        .description(Some(format!(
            "A record of catalogue item {} {} ({}).",
            item.code, item.name_zh, item.name_en
        )))
        .property(
            "source_id",
            leaf(json!({
                "type": "string",
                "pattern": non_blank_without_nul(Some(MAX_SOURCE_ID)),
                "description": format!(
                    "The unit's own id of the record; with the unit it identifies the record. \
                     Not blank, no control (U+0000 among them), bidirectional or zero-width character; at most {MAX_SOURCE_ID} characters once surrounding \
                     whitespace is trimmed (it is stored trimmed)."
                ),
            })),
        )
        .required("source_id")
        .property(
            "item",
            leaf(json!({
                "type": "string",
                "enum": [item.code],
                "description": "The catalogue item code.",
            })),
        )
        .required("item")
        .property("id_number", id_number())
        .required("id_number")
        .property(
            "name",
            leaf(json!({
                "type": ["string", "null"],
                "pattern": blank_or_up_to(MAX_NAME),
                "description": format!(
                    "The person's name: at most {MAX_NAME} characters once trimmed; \
                     blank or `null` means not given."
                ),
            })),
        )
        .property("fields", fields)
        .required("fields")
        .property(
            "source_version",
            leaf(json!({
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": MAX_SOURCE_VERSION,
                "description": "Optional: the unit's own version number of the record (a revision \
                                counter, or a timestamp as a number). A version lower than the one \
                                stored for this `source_id` is reported `stale` and not applied, so \
                                replaying old input never undoes a correction. Absent or `null`: \
                                the arrival order decides.",
            })),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .examples([record_example(catalogue, item)])
        .into()
}

/// An existing date from 1900-01-01 to 2199-12-31, `YYYY-MM-DD`: months'
/// lengths and leap years (1900 and 2100 are not, 2000 is) included, so the
/// pattern holds even where the format is not `date`.
pub const DATE_PATTERN: &str = "^(?:(?:19|20|21)[0-9]{2}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26])|21(?:0[48]|[2468][048]|[13579][26]))-02-29)$";

/// The format of a record's own date: an existing `YYYY-MM-DD` date from
/// 1900-01-01 up to today (Asia/Shanghai).
pub const PAST_DATE: &str = "past-date";

fn field_schema(catalogue: &Catalogue, spec: &FieldSpec) -> RefOr<Schema> {
    let ty = |t: &str| -> Value {
        if spec.required {
            json!(t)
        } else {
            json!([t, "null"])
        }
    };
    let mut s = match spec.ty {
        FieldType::Int => json!({"type": ty("integer")}),
        FieldType::Decimal => return decimal_schema(spec),
        FieldType::Date => json!({
            "type": ty("string"),
            "format": "date",
            "pattern": DATE_PATTERN,
            "description": match &spec.not_before {
                Some(other) => format!("An existing date, `YYYY-MM-DD`, from 1900-01-01 to 2199-12-31, not before `{other}`."),
                None => "An existing date, `YYYY-MM-DD`, from 1900-01-01 to 2199-12-31; the record's date (format `past-date`: its item's first date field) not after today.".to_owned(),
            },
        }),
        FieldType::Bool => json!({"type": ty("boolean")}),
        FieldType::Enum => json!({"type": ty("string"), "enum": spec.values}),
        FieldType::String => json!({
            "type": ty("string"),
            "pattern": non_blank_without_nul(spec.max_len),
            "description": match spec.max_len {
                Some(n) => format!("Not blank; at most {n} characters once surrounding whitespace is trimmed; no control, bidirectional or zero-width character."),
                None => "Not blank; no control, bidirectional or zero-width character.".to_owned(),
            },
        }),
        FieldType::RegionCode => json!({
            "type": ty("string"),
            "pattern": "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|81|82)[0-9]{4}$",
            "minLength": 6,
            "maxLength": 6,
            "description": "A 6-digit administrative division code (GB/T 2260) under a province code.",
        }),
        FieldType::Template => json!({
            "type": ty("string"),
            "enum": catalogue.templates.templates.iter().map(|t| t.code.as_str()).collect::<Vec<_>>(),
            "description": "A commitment template code.",
        }),
    };
    if !spec.required {
        if let Some(values) = s.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
    bounds(&mut s, spec);
    leaf(s)
}

/// Sets `minimum` / `maximum` as JSON numbers (a `Decimal` serializes as a string).
fn bounds(schema: &mut Value, spec: &FieldSpec) {
    let number = |d: rust_decimal::Decimal| {
        d.normalize()
            .to_string()
            .parse::<serde_json::Number>()
            .map_or(Value::Null, Value::Number)
    };
    if let Some(min) = spec.min {
        schema["minimum"] = number(min);
    }
    if let Some(max) = spec.max {
        schema["maximum"] = number(max);
    }
}

/// A decimal: a JSON number, or a string holding the number (exact, no float).
fn decimal_schema(spec: &FieldSpec) -> RefOr<Schema> {
    let mut number = json!({"type": "number"});
    bounds(&mut number, spec);
    let string = json!({
        "type": "string",
        "pattern": decimal_pattern(spec),
        "description": "The number as a string, without exponent, e.g. `\"12.5\"`.",
    });
    let mut any = AnyOfBuilder::new()
        .item(leaf(number))
        .item(leaf(string))
        .description(Some(format!(
            "A decimal number{}: a JSON number or a string.",
            match (spec.min, spec.max) {
                (Some(lo), Some(hi)) => format!(" from {lo} to {hi}"),
                (Some(lo), None) => format!(" of at least {lo}"),
                (None, Some(hi)) => format!(" of at most {hi}"),
                (None, None) => String::new(),
            }
        )));
    if !spec.required {
        any = any.item(leaf(json!({"type": "null"})));
    }
    any.into()
}

/// The decimal strings inside the field's range. Exact for the ranges the
/// catalogue uses (`0` to a power of ten); otherwise any unsigned decimal.
fn decimal_pattern(spec: &FieldSpec) -> String {
    let digits = spec.max.and_then(|max| {
        let s = max.normalize().to_string();
        let zeros = s.strip_prefix('1')?;
        (spec.min.is_some_and(|m| m.is_zero()) && zeros.bytes().all(|b| b == b'0'))
            .then_some(zeros.len())
    });
    match digits {
        Some(k) => {
            // At most 28 significant digits survive in a decimal.
            let frac = 28usize.saturating_sub(k + 1).max(1);
            format!(
                r"^(?:[0-9]{{1,{k}}}(?:\.[0-9]{{1,{frac}}})?|1{zeros}(?:\.0{{1,{frac}}})?)$",
                zeros = "0".repeat(k)
            )
        }
        None => r"^[0-9]{1,20}(?:\.[0-9]{1,8})?$".to_owned(),
    }
}

/// A valid record of `item`: the first allowed value of each field.
pub fn record_example(catalogue: &Catalogue, item: &Item) -> Value {
    let mut fields = serde_json::Map::new();
    for spec in &item.fields {
        let v = match spec.ty {
            FieldType::Int => json!(example_int(&item.code, &spec.name)),
            FieldType::Decimal => json!("12.5"),
            FieldType::Date => json!("2026-03-01"),
            FieldType::Bool => json!(true),
            FieldType::Enum => json!(spec.values.get(1).or(spec.values.first())),
            FieldType::String => json!(example_text(&item.code, &spec.name)),
            FieldType::RegionCode => json!("330602"),
            FieldType::Template => json!(catalogue.templates.templates.first().map(|t| &t.code)),
        };
        fields.insert(spec.name.clone(), v);
    }
    let source_id = if item.code == "P01" {
        "2026-000123".to_owned()
    } else {
        format!("2026-{}-0001", item.code)
    };
    json!({
        "source_id": source_id,
        "item": item.code,
        "id_number": EXAMPLE_ID_NUMBER,
        "name": "张三",
        "fields": fields,
    })
}

fn example_int(item: &str, field: &str) -> i64 {
    match (item, field) {
        ("B01", "score") => 850,
        ("O04", "volume_ml") => 200,
        _ => 1,
    }
}

fn example_text(item: &str, field: &str) -> &'static str {
    match (item, field) {
        ("P01", "authority") => "绍兴市税务局",
        ("P01", "case_no") => "绍税罚〔2026〕12号",
        ("P01" | "S01", "domain" | "list_type") => "tax",
        ("O01", "title") => "绍兴市道德模范",
        ("O02", "recipient") => "绍兴市慈善总会",
        ("O03", "organisation") => "越城区志愿者协会",
        _ => "示例",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chengxin_domain::IdNumber;

    #[test]
    fn the_example_id_number_is_valid() {
        IdNumber::parse(EXAMPLE_ID_NUMBER).unwrap();
    }

    #[test]
    fn the_whitespace_class_is_what_trim_removes() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let listed = TRIMMED.iter().any(|&(a, b)| (a..=b).contains(&c));
            assert_eq!(listed, c.is_whitespace(), "U+{:04X}", u32::from(c));
        }
        assert_eq!(
            ws(),
            r"\x09-\x0d \x85\xa0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000"
        );
    }

    #[test]
    fn patterns_bound_the_trimmed_length() {
        assert_eq!(non_blank(None), format!("[^{}]", ws()));
        assert!(non_blank(Some(128)).contains("{0,126}"));
        assert!(blank_or_up_to(64).contains("{0,62}"));
    }

    #[test]
    fn decimal_patterns_follow_the_range() {
        let spec = |max: &str| FieldSpec {
            name: "x".into(),
            ty: FieldType::Decimal,
            required: true,
            min: Some(rust_decimal::Decimal::ZERO),
            max: Some(max.parse().unwrap()),
            values: vec![],
            max_len: None,
            not_before: None,
        };
        assert_eq!(
            decimal_pattern(&spec("100000")),
            r"^(?:[0-9]{1,5}(?:\.[0-9]{1,22})?|100000(?:\.0{1,22})?)$"
        );
    }
}
