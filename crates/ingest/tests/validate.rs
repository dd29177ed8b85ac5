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
        (GOOD.replace("2026-000123", "2026-\\u0000"), "invalid_field"),
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
