//! Hand-formatted import rows: one JSON object per line, written into a reused
//! buffer so that a million residents cost no per-line allocation.

use crate::calendar::Day;
use crate::person::Person;

/// The lines of one resident, built up record by record.
pub(crate) struct Lines {
    buf: Vec<u8>,
    /// Distinguishes this run's `source_id`s from another seed's or date's.
    tag: [u8; 8],
    records: u64,
    first_field: bool,
}

impl Lines {
    pub(crate) fn new(tag: [u8; 8]) -> Lines {
        Lines {
            buf: Vec::with_capacity(4096),
            tag,
            records: 0,
            first_field: true,
        }
    }

    /// Forgets the previous resident's lines (the record count is kept).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Rows written since this value was made.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// Starts a row up to the opening brace of `fields`. The `source_id` is
    /// `{item}-{tag}-{person index:08}-{n}`: unique per unit because it is
    /// unique per item, person and `n`, and every unit's items are distinct.
    pub(crate) fn begin(&mut self, person: &Person, unit: &str, item: &str, n: u32) {
        let b = &mut self.buf;
        b.extend_from_slice(b"{\"unit\":\"");
        b.extend_from_slice(unit.as_bytes());
        b.extend_from_slice(b"\",\"source_id\":\"");
        b.extend_from_slice(item.as_bytes());
        b.push(b'-');
        b.extend_from_slice(&self.tag);
        b.push(b'-');
        push_padded(b, person.index, 8);
        b.push(b'-');
        push_padded(b, u64::from(n), 1);
        b.extend_from_slice(b"\",\"item\":\"");
        b.extend_from_slice(item.as_bytes());
        b.extend_from_slice(b"\",\"id_number\":\"");
        b.extend_from_slice(&person.id);
        b.extend_from_slice(b"\",\"name\":");
        push_json_str(b, &[&person.name]);
        b.extend_from_slice(b",\"fields\":{");
        self.first_field = true;
    }

    fn key(&mut self, key: &str) {
        if !self.first_field {
            self.buf.push(b',');
        }
        self.first_field = false;
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// A string field.
    pub(crate) fn text(&mut self, key: &str, value: &str) {
        self.text_parts(key, &[value]);
    }

    /// A string field made of several pieces, so callers need not allocate.
    pub(crate) fn text_parts(&mut self, key: &str, parts: &[&str]) {
        self.key(key);
        push_json_str(&mut self.buf, parts);
    }

    /// A date field `YYYY-MM-DD`.
    pub(crate) fn date(&mut self, key: &str, day: Day) {
        self.key(key);
        self.buf.push(b'"');
        day.write(&mut self.buf);
        self.buf.push(b'"');
    }

    /// An integer field, as a JSON number.
    pub(crate) fn int(&mut self, key: &str, value: u64) {
        self.key(key);
        push_padded(&mut self.buf, value, 1);
    }

    /// A boolean field.
    pub(crate) fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// An exact decimal field as a JSON string: `units` scaled by
    /// 10^`scale`, e.g. (150000, 2) → `"1500.00"`.
    pub(crate) fn decimal(&mut self, key: &str, units: u64, scale: u32) {
        self.key(key);
        let div = 10u64.pow(scale);
        self.buf.push(b'"');
        push_padded(&mut self.buf, units / div, 1);
        if scale > 0 {
            self.buf.push(b'.');
            push_padded(&mut self.buf, units % div, scale as usize);
        }
        self.buf.push(b'"');
    }

    /// Closes the row and its line.
    pub(crate) fn end(&mut self) {
        self.buf.extend_from_slice(b"}}\n");
        self.records += 1;
    }
}

/// Appends `value` in decimal, left-padded with zeros to `width` digits.
fn push_padded(out: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(len)));
    out.extend_from_slice(&digits[i..]);
}

/// Appends the pieces as one JSON string literal, escaped.
fn push_json_str(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for part in parts {
        for &b in part.as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn padding_and_escaping() {
        assert_eq!(text_of(|b| push_padded(b, 123, 8)), "00000123");
        assert_eq!(text_of(|b| push_padded(b, 123_456_789, 8)), "123456789");
        assert_eq!(text_of(|b| push_padded(b, 0, 1)), "0");
        let s = text_of(|b| push_json_str(b, &["绍兴\"", "\\\n"]));
        assert_eq!(serde_json::from_str::<String>(&s).unwrap(), "绍兴\"\\\n");
    }

    #[test]
    fn fields_are_typed_json() {
        let mut lines = Lines::new(*b"0badcafe");
        lines.buf.push(b'{');
        lines.decimal("a", 150_000, 2);
        lines.decimal("b", 125, 1);
        lines.decimal("c", 7, 2);
        lines.int("d", 400);
        lines.boolean("e", false);
        lines.date("f", Day(0));
        lines.buf.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(lines.bytes()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "1500.00", "b": "12.5", "c": "0.07", "d": 400,
                               "e": false, "f": "1970-01-01"})
        );
    }
}
