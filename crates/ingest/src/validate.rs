//! Turning one line into a validated record, or a rejection with a stable code.

use std::sync::Arc;

use chengxin_domain::catalogue::{Item, Raw};
use chengxin_domain::record::NewRecord;
use chengxin_domain::record::RecordStatus;
use chengxin_domain::{text, Catalogue, IdNumber};
use jiff::civil::Date;
use serde::Serialize;

use crate::lines::Line;

/// A rejected row: its line, a stable reason code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// Validates rows for one submitter.
#[derive(Debug, Clone)]
pub struct Validator {
    catalogue: Arc<Catalogue>,
    /// The authenticated unit: rows need not name it, and may not name another.
    unit: Option<String>,
    /// Items the submitter may push; `None` means any.
    permitted: Option<Vec<String>>,
    /// The latest date a record (or a birth) may carry: today, or the date
    /// a historical import is made as of.
    latest: Date,
}

/// What a CSV column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Unit,
    SourceId,
    Item,
    IdNumber,
    Name,
    SourceVersion,
    Field(String),
    Unknown(String),
}

/// The longest `source_id`, in characters once surrounding whitespace is trimmed.
pub const MAX_SOURCE_ID: usize = 128;
/// The longest `name`, in characters once trimmed.
pub const MAX_NAME: usize = 64;
/// The largest `source_version` (2^53 − 1: exact in every JSON reader).
pub const MAX_SOURCE_VERSION: i64 = (1 << 53) - 1;
const TOP_LEVEL: [&str; 7] = [
    "unit",
    "source_id",
    "item",
    "id_number",
    "name",
    "fields",
    "source_version",
];

impl Validator {
    /// A validator for the agency's bulk import: any unit, any item.
    pub fn any_unit(catalogue: Arc<Catalogue>) -> Validator {
        Validator {
            catalogue,
            unit: None,
            permitted: None,
            latest: today(),
        }
    }

    /// A validator for one unit, limited to the items it is responsible for.
    pub fn for_unit(catalogue: Arc<Catalogue>, unit: &str, permitted: Vec<String>) -> Validator {
        Validator {
            catalogue,
            unit: Some(unit.to_owned()),
            permitted: Some(permitted),
            latest: today(),
        }
    }

    /// Accepts records dated up to `latest` instead of today (a historical
    /// import made `--as-of` a past date, or one made ahead of time).
    /// The catalogue rows are validated against.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn with_latest(mut self, latest: Date) -> Validator {
        self.latest = latest;
        self
    }

    /// The CSV columns that must be present.
    pub fn required_columns(&self) -> Vec<&'static str> {
        let mut cols = vec!["source_id", "item", "id_number"];
        if self.unit.is_none() {
            cols.insert(0, "unit");
        }
        cols
    }

    /// Validates one line. `header` is the CSV header for CSV lines.
    pub fn validate(&self, line: &Line, header: Option<&[String]>) -> Result<NewRecord, RowError> {
        match line {
            Line::Broken {
                line,
                code,
                message,
            } => Err(err(*line, code, message.clone(), None)),
            Line::Json { line, bytes } => self.json(*line, bytes),
            Line::Csv { line, cells } => self.csv(*line, cells, header.unwrap_or_default()),
        }
    }

    fn json(&self, line: u64, bytes: &[u8]) -> Result<NewRecord, RowError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            err(
                line,
                "invalid_utf8",
                format!("the line is not valid UTF-8 ({e})"),
                None,
            )
        })?;
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            err(
                line,
                "malformed_json",
                format!("the line is not valid JSON: {e}"),
                None,
            )
        })?;
        let Some(obj) = value.as_object() else {
            return Err(err(
                line,
                "malformed_json",
                "each line must be a JSON object".into(),
                None,
            ));
        };
        let source_id = obj
            .get("source_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let fail = |code, message: String| err(line, code, message, source_id.clone());
        if let Some(k) = obj.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
            return Err(fail(
                "unknown_field",
                format!("unknown top-level field `{k}`"),
            ));
        }
        let text_of = |key: &str| -> Result<Option<&str>, RowError> {
            match obj.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(fail("invalid_field", format!("`{key}` must be a string"))),
            }
        };
        let unit = text_of("unit")?;
        let item_code = text_of("item")?;
        let id = text_of("id_number")?;
        let name = text_of("name")?;
        let source = text_of("source_id")?;
        let fields = match obj.get("fields") {
            Some(serde_json::Value::Object(m)) => m,
            None => return Err(fail("missing_field", "`fields` is required".into())),
            Some(_) => return Err(fail("invalid_field", "`fields` must be an object".into())),
        };
        let source_version = match obj.get("source_version") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                // JSON does not tell 2 from 2.0; JSON Schema calls both integers.
                v.as_i64()
                    .or_else(|| {
                        v.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_SOURCE_VERSION as f64)
                            .map(|f| f as i64)
                    })
                    .filter(|n| (0..=MAX_SOURCE_VERSION).contains(n))
                    .ok_or_else(|| fail("invalid_field", source_version_message()))?,
            ),
        };
        let (item, mut header) =
            self.header(line, unit, source, item_code, id, name, &source_id)?;
        header.source_version = source_version;
        let f = self
            .catalogue
            .validate(item, fields.iter().map(|(k, v)| (k.as_str(), Raw::Json(v))))
            .and_then(|f| item.check_record_date(&f, self.latest).map(|()| f))
            .map_err(|e| fail(e.code, e.message))?;
        Ok(finish(header, item, &f))
    }

    fn csv(&self, line: u64, cells: &[Vec<u8>], header: &[String]) -> Result<NewRecord, RowError> {
        if cells.len() != header.len() {
            return Err(err(
                line,
                "malformed_csv",
                format!(
                    "the row has {} cells but the header has {}",
                    cells.len(),
                    header.len()
                ),
                None,
            ));
        }
        let mut texts = Vec::with_capacity(cells.len());
        for c in cells {
            let t = std::str::from_utf8(c).map_err(|e| {
                err(
                    line,
                    "invalid_utf8",
                    format!("a cell is not valid UTF-8 ({e})"),
                    None,
                )
            })?;
            texts.push(t.trim());
        }
        let columns: Vec<Column> = header.iter().map(|h| column(h)).collect();
        let get = |want: &Column| {
            columns
                .iter()
                .position(|c| c == want)
                .map(|i| texts[i])
                .filter(|t| !t.is_empty())
        };
        let source_id = get(&Column::SourceId).map(str::to_owned);
        let fail = |code, message: String| err(line, code, message, source_id.clone());
        if let Some(Column::Unknown(name)) = columns
            .iter()
            .zip(&texts)
            .find(|(c, t)| matches!(c, Column::Unknown(_)) && !t.is_empty())
            .map(|(c, _)| c)
        {
            return Err(fail("unknown_field", format!("unknown column `{name}`")));
        }
        let source_version = match get(&Column::SourceVersion) {
            None => None,
            Some(t) => Some(
                t.parse::<i64>()
                    .ok()
                    .filter(|n| {
                        (0..=MAX_SOURCE_VERSION).contains(n)
                            && t.bytes().all(|b| b.is_ascii_digit())
                    })
                    .ok_or_else(|| fail("invalid_field", source_version_message()))?,
            ),
        };
        let (item, mut header) = self.header(
            line,
            get(&Column::Unit),
            get(&Column::SourceId),
            get(&Column::Item),
            get(&Column::IdNumber),
            get(&Column::Name),
            &source_id,
        )?;
        header.source_version = source_version;
        let raw = columns.iter().zip(&texts).filter_map(|(c, t)| match c {
            Column::Field(name) if !t.is_empty() || item.field_index(name).is_some() => {
                Some((name.as_str(), Raw::Text(t)))
            }
            _ => None,
        });
        let f = self
            .catalogue
            .validate(item, raw)
            .and_then(|f| item.check_record_date(&f, self.latest).map(|()| f))
            .map_err(|e| fail(e.code, e.message))?;
        Ok(finish(header, item, &f))
    }

    /// Checks the common columns; returns the item and a record without fields.
    #[allow(clippy::too_many_arguments)]
    fn header<'a>(
        &'a self,
        line: u64,
        unit: Option<&str>,
        source: Option<&str>,
        item: Option<&str>,
        id: Option<&str>,
        name: Option<&str>,
        source_id: &Option<String>,
    ) -> Result<(&'a Item, NewRecord), RowError> {
        let fail = |code, message: String| err(line, code, message, source_id.clone());
        let unit = match (&self.unit, unit) {
            (Some(mine), Some(u)) if u != mine => {
                return Err(fail(
                    "unit_mismatch",
                    format!("the row names unit `{u}` but the key belongs to `{mine}`"),
                ))
            }
            (Some(mine), _) => mine.clone(),
            (None, Some(u)) if !u.trim().is_empty() && u.len() <= 64 => {
                text::check(u.trim())
                    .map_err(|e| fail(text::TextError::CODE, format!("`unit`: {e}")))?;
                u.trim().to_owned()
            }
            (None, Some(_)) => {
                return Err(fail(
                    "invalid_field",
                    "`unit` must be 1 to 64 characters".into(),
                ))
            }
            (None, None) => return Err(fail("missing_field", "`unit` is required".into())),
        };
        let source = source.map(str::trim).filter(|s| !s.is_empty());
        let Some(source) = source else {
            return Err(fail("missing_field", "`source_id` is required".into()));
        };
        // PostgreSQL text cannot hold U+0000; refuse it (and every other
        // invisible character) on every backend alike.
        text::check(source)
            .map_err(|e| fail(text::TextError::CODE, format!("`source_id`: {e}")))?;
        if source.chars().count() > MAX_SOURCE_ID {
            return Err(fail(
                "invalid_field",
                format!("`source_id` is longer than {MAX_SOURCE_ID} characters"),
            ));
        }
        let Some(item_code) = item else {
            return Err(fail("missing_field", "`item` is required".into()));
        };
        let Some(item) = self.catalogue.item(item_code) else {
            return Err(fail(
                "unknown_item",
                format!("there is no catalogue item `{item_code}`"),
            ));
        };
        if let Some(p) = &self.permitted {
            if !p.iter().any(|c| c == item_code) {
                return Err(fail(
                    "item_not_permitted",
                    format!("this unit is not responsible for item {item_code}"),
                ));
            }
        }
        let Some(id) = id else {
            return Err(fail("missing_field", "`id_number` is required".into()));
        };
        let id_number = IdNumber::parse(id.trim()).map_err(|e| fail(e.code(), e.to_string()))?;
        if id_number.birth_date() > self.latest {
            return Err(fail(
                "invalid_id_number",
                "the birth date in the ID number lies in the future".into(),
            ));
        }
        let name = match name {
            Some(n) => {
                text::name(n).map_err(|e| fail(text::TextError::CODE, format!("`name`: {e}")))?
            }
            None => None,
        };
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
            return Err(fail(
                "invalid_field",
                format!("`name` is longer than {MAX_NAME} characters"),
            ));
        }
        Ok((
            item,
            NewRecord {
                unit,
                source_id: source.to_owned(),
                item: item.code.clone(),
                id_number,
                name,
                fields: String::new(),
                record_date: jiff::civil::Date::default(),
                // Records pushed by units are verified (DESIGN §3); self-reports
                // come through the resident's channel, not this one.
                status: RecordStatus::Active,
                source_version: None,
            },
        ))
    }
}

/// Today's civil date in Asia/Shanghai, the city's calendar.
fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

fn finish(mut rec: NewRecord, item: &Item, f: &chengxin_domain::catalogue::Fields) -> NewRecord {
    rec.fields = item.canonical_json(f);
    rec.record_date = item.record_date(f);
    rec
}

fn column(h: &str) -> Column {
    match h {
        "unit" => Column::Unit,
        "source_id" => Column::SourceId,
        "item" => Column::Item,
        "id_number" => Column::IdNumber,
        "name" => Column::Name,
        "source_version" => Column::SourceVersion,
        other => match other.strip_prefix("fields.") {
            Some(f) => Column::Field(f.to_owned()),
            None => Column::Unknown(other.to_owned()),
        },
    }
}

fn source_version_message() -> String {
    format!("`source_version` must be a whole number from 0 to {MAX_SOURCE_VERSION}")
}

fn err(line: u64, code: &'static str, message: String, source_id: Option<String>) -> RowError {
    RowError {
        line,
        code,
        message,
        source_id,
    }
}
