//! Bulk inserts with `COPY … FROM STDIN` in text format: the cheapest way
//! to add many rows, and ids are drawn beforehand so nothing needs to come
//! back.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::{Result, StoreError};

use super::conn::Conn;

/// Rows in PostgreSQL's COPY text format, built in memory.
pub(super) struct CopyRows {
    buf: String,
    at_start: bool,
    rows: usize,
}

impl CopyRows {
    pub(super) fn new() -> CopyRows {
        CopyRows {
            buf: String::new(),
            at_start: true,
            rows: 0,
        }
    }

    fn sep(&mut self) {
        if !self.at_start {
            self.buf.push('\t');
        }
        self.at_start = false;
    }

    /// A text value, escaped.
    pub(super) fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        if !value.contains(['\\', '\n', '\r', '\t']) {
            self.buf.push_str(value);
            return self;
        }
        for c in value.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                '\t' => self.buf.push_str("\\t"),
                c => self.buf.push(c),
            }
        }
        self
    }

    /// A value whose text form needs no escaping (numbers, dates, booleans).
    pub(super) fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.sep();
        // Writing to a String cannot fail.
        let _ = write!(self.buf, "{value}");
        self
    }

    /// A `bytea` value, as hex.
    pub(super) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.sep();
        self.buf.push_str("\\\\x");
        self.buf.push_str(&hex::encode(value));
        self
    }

    pub(super) fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    pub(super) fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    pub(super) fn opt_plain(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    pub(super) fn end_row(&mut self) {
        self.buf.push('\n');
        self.at_start = true;
        self.rows += 1;
    }

    /// Sends the rows with `COPY {target} FROM STDIN`; `target` is a table and
    /// column list.
    pub(super) fn send(self, conn: &mut Conn, target: &str) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut w = conn
            .client()?
            .copy_in(&format!("COPY {target} FROM STDIN"))?;
        w.write_all(self.buf.as_bytes()).map_err(|e| {
            let text = e.to_string();
            match e
                .into_inner()
                .map(|inner| inner.downcast::<postgres::Error>())
            {
                Some(Ok(pg)) => StoreError::from(*pg),
                _ => StoreError::Corrupt(format!("COPY into {target}: {text}")),
            }
        })?;
        w.finish().map_err(StoreError::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_encodes_values() {
        let mut rows = CopyRows::new();
        rows.plain(7)
            .text("a\tb\\c\nd\re")
            .bytes(&[0x00, 0xab])
            .null()
            .opt_plain(None::<i32>)
            .opt_text(Some("张三"))
            .plain(true)
            .plain(jiff::civil::date(2026, 3, 1))
            .end_row();
        rows.text("").end_row();
        assert_eq!(rows.rows, 2);
        assert_eq!(
            rows.buf,
            "7\ta\\tb\\\\c\\nd\\re\t\\\\x00ab\t\\N\t\\N\t张三\ttrue\t2026-03-01\n\n"
        );
    }
}
