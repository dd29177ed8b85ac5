//! Every kind of bad row gets its own stable code; good rows pass.

use std::sync::Arc;

use chengxin_domain::Catalogue;
use chengxin_ingest::{ChunkReader, Format, Line, RowError, Validator};

const GOOD: &str = r#"{"unit":"SX-TAX","source_id":"2026-000123","item":"P01","id_number":"11010519491231002X","name":"张三","fields":{"level":"general","decided_on":"2026-03-01","authority":"绍兴市税务局","case_no":"绍税罚〔2026〕12号","domain":"tax"}}"#;

fn run(v: &Validator, input: &[u8], format: Format) -> Vec<Result<String, RowError>> {
    let mut r = ChunkReader::new(input, format, 1000, &v.required_columns()).unwrap();
    let header = r.header.clone();
    let mut out = Vec::new();
    while let Some(chunk) = r.next_chunk().unwrap() {
        for l in &chunk {
            out.push(v.validate(l, header.as_deref()).map(|rec| rec.source_id));
        }
    }
    out
}

/// An ID number with the right check character (whatever else is wrong with it).
fn make_id(region: &str, birth: &str) -> String {
    let body = format!("{region}{birth}001");
    let c = chengxin_domain::id::check_character(body.as_bytes()) as char;
    format!("{body}{c}")
}

fn code(r: &Result<String, RowError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code,
    }
}

#[test]
fn jsonl_rejections_have_stable_codes_and_line_numbers() {
    let v = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let bad_digit = GOOD.replace("002X", "0021");
    let cases: Vec<(String, &str)> = vec![
        (GOOD.to_string(), "ok"),
        ("{not json".into(), "malformed_json"),
        ("[1,2]".into(), "malformed_json"),
        (GOOD.replace("\"general\"", "42"), "invalid_field"),
        (GOOD.replace("\"P01\"", "\"P99\""), "unknown_item"),
        (bad_digit, "id_check_digit"),
        (GOOD.replace("19491231", "19490231"), "invalid_id_number"),
        (
            GOOD.replace(r#""case_no":"绍税罚〔2026〕12号","#, ""),
            "missing_field",
        ),
        (
            GOOD.replace(r#""source_id":"2026-000123","#, ""),
            "missing_field",
        ),
        (GOOD.replace("2026-03-01", "2026-13-01"), "invalid_date"),
        (
            GOOD.replace(r#""name":"张三","#, r#""name":"张三","extra":1,"#),
            "unknown_field",
        ),
        (GOOD.replace("\"general\"", "\"huge\""), "invalid_enum"),
        (
            GOOD.replace("2026-000123", "2026-\\u0000"),
            "invalid_character",
        ),
        (
            GOOD.replace(r#","fields":{"#, r#","fields":{"colour":"red","#),
            "unknown_field",
        ),
    ];
    let mut input = Vec::new();
    for (line, _) in &cases {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{\"unit\":\"\xff\xfe\"}\n");
    let mut huge = vec![b'{'];
    huge.extend(std::iter::repeat_n(b' ', 1 << 20));
    input.extend_from_slice(&huge);
    input.push(b'\n');
    input.extend_from_slice(GOOD.as_bytes());
    let got = run(&v, &input, Format::Jsonl);
    let mut expected: Vec<&str> = cases.iter().map(|c| c.1).collect();
    expected.extend(["invalid_utf8", "line_too_long", "ok"]);
    assert_eq!(got.iter().map(code).collect::<Vec<_>>(), expected);
    // Line numbers are 1-based and survive the overlong line.
    let lines: Vec<u64> = got
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.line))
        .collect();
    assert_eq!(lines.first(), Some(&2));
    assert_eq!(lines.last(), Some(&(cases.len() as u64 + 2)));
}

#[test]
fn unit_validator_enforces_its_unit_and_items() {
    let c = Arc::new(Catalogue::builtin());
    let v = Validator::for_unit(c, "SX-TAX", vec!["P01".into()]);
    let no_unit = GOOD.replace(r#""unit":"SX-TAX","#, "");
    let other_unit = GOOD.replace("SX-TAX", "SX-AMR");
    let honour = r#"{"source_id":"h1","item":"O01","id_number":"11010519491231002X","fields":{"level":"city","title":"t","awarded_on":"2026-01-01"}}"#;
    let input = format!("{no_unit}\n{GOOD}\n{other_unit}\n{honour}\n");
    let got = run(&v, input.as_bytes(), Format::Jsonl);
    assert_eq!(
        got.iter().map(code).collect::<Vec<_>>(),
        ["ok", "ok", "unit_mismatch", "item_not_permitted"]
    );
}

#[test]
fn csv_rows_validate_like_jsonl() {
    let v = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let csv = "unit,source_id,item,id_number,name,fields.level,fields.decided_on,fields.authority,fields.case_no,fields.domain,fields.score,fields.evaluated_on\n\
SX-TAX,a1,P01,11010519491231002X,张三,general,2026-03-01,绍兴市税务局,1,tax,,\n\
ZJ,b1,B01,11010519491231002x,张三,,,,,,820,2026-01-01\n\
ZJ,b2,B01,11010519491231002X,张三,,,,,,abc,2026-01-01\n\
ZJ,b3,B01,11010519491231002X,张三,general,,,,,820,2026-01-01\n\
ZJ,b4,B01\n";
    let got = run(&v, csv.as_bytes(), Format::Csv);
    assert_eq!(
        got.iter().map(code).collect::<Vec<_>>(),
        [
            "ok",
            "ok",
            "invalid_field",
            "unknown_field",
            "malformed_csv"
        ]
    );
    let lines: Vec<u64> = got
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.line))
        .collect();
    assert_eq!(lines, [4, 5, 6]);
}

#[test]
fn csv_without_a_required_column_cannot_be_read() {
    let v = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let err = ChunkReader::new(
        &b"unit,source_id,item\n"[..],
        Format::Csv,
        10,
        &v.required_columns(),
    )
    .err()
    .unwrap();
    assert_eq!(err.code(), "missing_column");
    assert!(err.to_string().contains("id_number"));
}

#[test]
fn broken_lines_carry_their_number() {
    let v = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let l = Line::Broken {
        line: 9,
        code: "line_too_long",
        message: "x".into(),
    };
    assert_eq!(v.validate(&l, None).unwrap_err().line, 9);
}

/// Issue 7, finding 7: each class of implausible input has its own stable
/// code, and no message repeats the digits of an ID number.
#[test]
fn implausible_rows_are_refused_each_with_its_code() {
    let day = jiff::civil::date(2026, 3, 1);
    let v = Validator::any_unit(Arc::new(Catalogue::builtin())).with_latest(day);
    let s01 = |listed: &str, removed: &str| {
        format!(
            r#"{{"unit":"SX-COURT","source_id":"s","item":"S01","id_number":"11010519491231002X","fields":{{"list_type":"court","listed_on":"{listed}","removed_on":"{removed}"}}}}"#
        )
    };
    let b04 = r#"{"unit":"PSB","source_id":"b","item":"B04","id_number":"11010519491231002X","fields":{"valid_from":"2025-01-01","valid_until":"2024-12-31"}}"#;
    let future_birth = make_id("330602", "20260302");
    let bad_province = make_id("990602", "19900101");
    let cases: Vec<(String, &str)> = vec![
        (GOOD.to_string(), "ok"),
        (
            GOOD.replace("2026-03-01", "0000-01-01"),
            "date_out_of_range",
        ),
        (
            GOOD.replace("2026-03-01", "1899-12-31"),
            "date_out_of_range",
        ),
        (
            GOOD.replace("2026-03-01", "2026-03-02"),
            "date_out_of_range",
        ),
        (s01("2020-01-02", "2020-01-01"), "inconsistent_fields"),
        (s01("2020-01-01", "2020-01-02"), "ok"),
        (b04.to_string(), "inconsistent_fields"),
        (
            GOOD.replace("11010519491231002X", future_birth.as_str()),
            "invalid_id_number",
        ),
        (
            GOOD.replace("11010519491231002X", bad_province.as_str()),
            "invalid_id_number",
        ),
        (GOOD.replace("张三", "张\\u202e三"), "invalid_character"),
        (GOOD.replace("张三", "张\\u200b三"), "invalid_character"),
        (GOOD.replace("张三", "张\\u0007三"), "invalid_character"),
        (GOOD.replace("张三", "张\\u0000三"), "invalid_character"),
        (
            GOOD.replace("绍兴市税务局", "绍兴\\u2066市税务局"),
            "invalid_character",
        ),
        (
            GOOD.replace("绍兴市税务局", "绍兴\\u0000市税务局"),
            "invalid_character",
        ),
        (
            GOOD.replace("2026-000123", "a\\u200fb"),
            "invalid_character",
        ),
        (GOOD.replace("SX-TAX", "SX\\u0000TAX"), "invalid_character"),
    ];
    let input: String = cases.iter().map(|c| format!("{}\n", c.0)).collect();
    let mut r = ChunkReader::new(input.as_bytes(), Format::Jsonl, 100, &[]).unwrap();
    let chunk = r.next_chunk().unwrap().unwrap();
    let got: Vec<Result<_, RowError>> = chunk.iter().map(|l| v.validate(l, None)).collect();
    let codes: Vec<&str> = got
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.code, |_| "ok"))
        .collect();
    assert_eq!(codes, cases.iter().map(|c| c.1).collect::<Vec<_>>());
    for e in got.iter().filter_map(|r| r.as_ref().err()) {
        for digits in ["20260302", "19900101", "990602", "110105", "19491231"] {
            assert!(!e.message.contains(digits), "{}", e.message);
        }
    }
    // An invalid birth date is not echoed either.
    let bad = GOOD.replace("19491231", "19490231");
    let e = v
        .validate(
            &Line::Json {
                line: 1,
                bytes: bad.into_bytes(),
            },
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, "invalid_id_number");
    assert!(!e.message.contains("19490231"), "{}", e.message);
}

#[test]
fn names_are_stored_nfc_and_a_historical_import_takes_its_date() {
    let v = Validator::any_unit(Arc::new(Catalogue::builtin()));
    let line = |t: String| Line::Json {
        line: 1,
        bytes: t.into_bytes(),
    };
    let rec = v
        .validate(&line(GOOD.replace("张三", " Jose\\u0301 ")), None)
        .unwrap();
    assert_eq!(rec.name.as_deref(), Some("Jos\u{e9}"));
    // Dated before the import's as-of date: refused only when that is earlier.
    let early = v.clone().with_latest(jiff::civil::date(2026, 2, 28));
    assert_eq!(
        early
            .validate(&line(GOOD.to_owned()), None)
            .unwrap_err()
            .code,
        "date_out_of_range"
    );
    // The CSV path applies the same rules.
    let csv =
        "unit,source_id,item,id_number,name,fields.list_type,fields.listed_on,fields.removed_on\n\
               SX,a,S01,11010519491231002X,\u{202e}x,court,2020-02-01,2020-01-01\n\
               SX,b,S01,11010519491231002X,x,court,2020-02-01,2020-01-01\n\
               SX,c,S01,11010519491231002X,x,court,0000-01-01,\n";
    let got = run(&v, csv.as_bytes(), Format::Csv);
    assert_eq!(
        got.iter().map(code).collect::<Vec<_>>(),
        [
            "invalid_character",
            "inconsistent_fields",
            "date_out_of_range"
        ]
    );
}
