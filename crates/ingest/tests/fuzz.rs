//! Fuzzing the row parsers and the validator (issue 7): arbitrary bytes and
//! arbitrary values in every position never panic, every refusal carries a
//! stable code, and every accepted row validates again to the same record
//! when written back in the import format.
//!
//! Bounded for the normal test suite: `PROPTEST_CASES` (default 256) cases
//! per property; CI may raise it for a longer run.

use std::sync::Arc;

use chengxin_domain::record::NewRecord;
use chengxin_domain::Catalogue;
use chengxin_ingest::{ChunkReader, Format, Line, RowError, Validator};
use proptest::prelude::*;

/// Every code a row may be refused with.
const CODES: &[&str] = &[
    "malformed_json",
    "invalid_utf8",
    "invalid_field",
    "invalid_character",
    "unknown_field",
    "missing_field",
    "unknown_item",
    "item_not_permitted",
    "unit_mismatch",
    "invalid_id_number",
    "id_check_digit",
    "invalid_date",
    "date_out_of_range",
    "inconsistent_fields",
    "invalid_enum",
    "out_of_range",
    "unknown_template",
    "line_too_long",
    "malformed_csv",
];

const GOOD: &str = r#"{"unit":"SX-TAX","source_id":"2026-000123","item":"P01","id_number":"11010519491231002X","name":"张三","fields":{"level":"general","decided_on":"2026-03-01","authority":"绍兴市税务局","case_no":"绍税罚〔2026〕12号","domain":"tax"}}"#;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn validator() -> Validator {
    Validator::any_unit(Arc::new(Catalogue::builtin())).with_latest(jiff::civil::date(2026, 12, 31))
}

/// The import-format line for an accepted record.
fn write_back(r: &NewRecord) -> Vec<u8> {
    let fields: serde_json::Value = serde_json::from_str(&r.fields).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "unit": r.unit, "source_id": r.source_id, "item": r.item,
        "id_number": r.id_number.as_str(), "name": r.name, "fields": fields,
    }))
    .unwrap()
}

/// Runs every line of `input` through the validator and checks the properties.
fn check_all(v: &Validator, input: &[u8], format: Format) -> Result<(), TestCaseError> {
    let Ok(mut reader) = ChunkReader::new(input, format, 64, &v.required_columns()) else {
        return Ok(()); // an unreadable header is refused as a whole, with a code
    };
    let header = reader.header.clone();
    while let Ok(Some(chunk)) = reader.next_chunk() {
        for line in &chunk {
            check_one(v, line, header.as_deref())?;
        }
    }
    Ok(())
}

fn check_one(v: &Validator, line: &Line, header: Option<&[String]>) -> Result<(), TestCaseError> {
    match v.validate(line, header) {
        Err(RowError { code, message, .. }) => {
            prop_assert!(CODES.contains(&code), "unknown code {code}");
            prop_assert!(!message.is_empty());
        }
        Ok(rec) => {
            let again = v
                .validate(
                    &Line::Json {
                        line: 1,
                        bytes: write_back(&rec),
                    },
                    None,
                )
                .map_err(|e| TestCaseError::fail(format!("accepted, then refused: {e:?}")))?;
            prop_assert_eq!(&again, &rec);
            for t in [&rec.unit, &rec.source_id]
                .into_iter()
                .chain(rec.name.as_ref())
            {
                prop_assert!(chengxin_domain::text::check(t).is_ok());
            }
            prop_assert!(rec.record_date >= chengxin_domain::catalogue::EARLIEST_DATE);
        }
    }
    Ok(())
}

/// A value for any position: arbitrary text, dates (plausible or not),
/// numbers, nulls, nested values.
fn any_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    prop_oneof![
        any::<String>().prop_map(J::String),
        "[ -~\u{0}-\u{1f}\u{200b}-\u{200f}\u{202a}-\u{202e}]{0,12}".prop_map(J::String),
        (0i32..=9999, 0u8..=13, 0u8..=32)
            .prop_map(|(y, m, d)| J::String(format!("{y:04}-{m:02}-{d:02}"))),
        any::<i64>().prop_map(J::from),
        any::<f64>().prop_map(J::from),
        any::<bool>().prop_map(J::Bool),
        Just(J::Null),
        Just(serde_json::json!({"a": [1, "x"]})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes_as_jsonl(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_all(&validator(), &bytes, Format::Jsonl)?;
    }

    #[test]
    fn arbitrary_bytes_as_csv(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut input = b"unit,source_id,item,id_number,name,fields.level,fields.decided_on,fields.authority,fields.case_no,fields.domain,fields.listed_on,fields.removed_on\n".to_vec();
        input.extend_from_slice(&bytes);
        check_all(&validator(), &input, Format::Csv)?;
    }

    #[test]
    fn arbitrary_values_in_every_position(
        path in prop::sample::select(vec![
            "unit", "source_id", "item", "id_number", "name", "fields",
            "fields.level", "fields.decided_on", "fields.authority", "fields.case_no",
            "fields.domain", "fields.extra",
        ]),
        value in any_value(),
    ) {
        let mut row: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        match path.split_once('.') {
            Some((_, f)) => row["fields"][f] = value,
            None => row[path] = value,
        }
        let line = Line::Json { line: 1, bytes: serde_json::to_vec(&row).unwrap() };
        check_one(&validator(), &line, None)?;
    }

    #[test]
    fn arbitrary_cells_in_every_csv_column(cells in proptest::collection::vec(any::<String>(), 12)) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(["unit", "source_id", "item", "id_number", "name", "fields.level",
            "fields.decided_on", "fields.authority", "fields.case_no", "fields.domain",
            "fields.listed_on", "fields.removed_on"]).unwrap();
        w.write_record(&cells).unwrap();
        let input = w.into_inner().unwrap();
        check_all(&validator(), &input, Format::Csv)?;
    }
}
