//! Splitting an input stream into numbered lines (JSONL) or CSV records, in
//! chunks of bounded size.

use std::io::BufRead;

/// The longest line accepted; a longer one is rejected on its own (`line_too_long`).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The CSV parser's read buffer.
const CSV_BUFFER: usize = 8 * 1024;
/// Bytes the CSV parser may read for one record before reading stops: a
/// record over [`MAX_LINE_BYTES`] is normally rejected alone, but one that
/// never ends (an unclosed quote) would otherwise be buffered whole. The
/// slack covers what the parser reads ahead of the record it is on.
const CSV_RECORD_BUDGET: usize = MAX_LINE_BYTES + 2 * CSV_BUFFER;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    /// Picks the format from a file name's extension.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Parses `jsonl` / `csv`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// One input line (or CSV record) with its 1-based line number.
#[derive(Debug, Clone)]
pub enum Line {
    /// A JSONL line's bytes.
    Json { line: u64, bytes: Vec<u8> },
    /// A CSV record's cells, aligned with the header.
    Csv { line: u64, cells: Vec<Vec<u8>> },
    /// A line that could not even be split out (too long, broken CSV quoting).
    Broken {
        line: u64,
        code: &'static str,
        message: String,
    },
}

impl Line {
    /// The line number.
    pub fn number(&self) -> u64 {
        match self {
            Line::Json { line, .. } | Line::Csv { line, .. } | Line::Broken { line, .. } => *line,
        }
    }
}

/// A chunk of lines, plus the CSV header when the input is CSV.
pub type Chunk = Vec<Line>;

/// The input cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("the CSV header lacks the required column `{0}`")]
    MissingColumn(String),
    #[error("the CSV header is unreadable: {0}")]
    BadHeader(String),
}

impl ReadError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Io(_) => "unreadable_input",
            ReadError::MissingColumn(_) => "missing_column",
            ReadError::BadHeader(_) => "malformed_csv",
        }
    }
}

/// Reads an input in chunks of at most `chunk` lines.
pub struct ChunkReader<R: BufRead> {
    inner: Inner<R>,
    chunk: usize,
    /// CSV header names, when the input is CSV.
    pub header: Option<Vec<String>>,
}

enum Inner<R: BufRead> {
    Jsonl {
        reader: R,
        line: u64,
        buf: Vec<u8>,
    },
    Csv {
        reader: csv::Reader<Budget<R>>,
        record: csv::ByteRecord,
        /// The rest of the input was abandoned (a record over budget).
        done: bool,
        /// The line the next record starts on.
        next_line: u64,
    },
}

/// Counts the bytes the CSV parser reads since its last complete record,
/// and fails the read once they exceed [`CSV_RECORD_BUDGET`].
struct Budget<R> {
    inner: R,
    read: usize,
    over: bool,
}

impl<R: BufRead> std::io::Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read > CSV_RECORD_BUDGET {
            self.over = true;
            return Err(std::io::Error::other(format!(
                "a CSV record is longer than {MAX_LINE_BYTES} bytes"
            )));
        }
        let n = self.inner.read(buf)?;
        self.read += n;
        Ok(n)
    }
}

impl<R: BufRead> Budget<R> {
    /// Reads and drops the rest of the input (so it is still hashed, and
    /// the upload completes) without keeping any of it.
    fn drain(&mut self) -> std::io::Result<()> {
        loop {
            let n = match self.inner.fill_buf() {
                Ok(b) => b.len(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(());
            }
            self.inner.consume(n);
        }
    }
}

impl<R: BufRead> ChunkReader<R> {
    /// Starts reading. For CSV the header is read now; `required` columns must be in it.
    pub fn new(
        reader: R,
        format: Format,
        chunk: usize,
        required: &[&str],
    ) -> Result<Self, ReadError> {
        let chunk = chunk.max(1);
        match format {
            Format::Jsonl => Ok(ChunkReader {
                inner: Inner::Jsonl {
                    reader,
                    line: 0,
                    buf: Vec::new(),
                },
                chunk,
                header: None,
            }),
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .buffer_capacity(CSV_BUFFER)
                    .from_reader(Budget {
                        inner: reader,
                        read: 0,
                        over: false,
                    });
                let header: Vec<String> = reader
                    .headers()
                    .map_err(|e| match e.kind() {
                        csv::ErrorKind::Io(_) if !reader_over(e.kind()) => {
                            ReadError::Io(std::io::Error::other(e.to_string()))
                        }
                        _ => ReadError::BadHeader(e.to_string()),
                    })?
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                    .collect();
                for col in required {
                    if !header.iter().any(|h| h == col) {
                        return Err(ReadError::MissingColumn((*col).to_owned()));
                    }
                }
                let next_line = reader.position().line();
                Ok(ChunkReader {
                    inner: Inner::Csv {
                        reader,
                        record: csv::ByteRecord::new(),
                        done: false,
                        next_line,
                    },
                    chunk,
                    header: Some(header),
                })
            }
        }
    }

    /// The underlying reader (for CSV, whatever the parser has not buffered).
    pub fn into_inner(self) -> R {
        match self.inner {
            Inner::Jsonl { reader, .. } => reader,
            Inner::Csv { reader, .. } => reader.into_inner().inner,
        }
    }

    /// The next chunk, or `None` at the end of input.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ReadError> {
        let mut out = Vec::with_capacity(self.chunk.min(65_536));
        while out.len() < self.chunk {
            match self.next_line()? {
                Some(l) => out.push(l),
                None => break,
            }
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    fn next_line(&mut self) -> Result<Option<Line>, ReadError> {
        match &mut self.inner {
            Inner::Jsonl { reader, line, buf } => loop {
                buf.clear();
                *line += 1;
                let (n, too_long) = read_line_bounded(reader, buf)?;
                if n == 0 {
                    return Ok(None);
                }
                if too_long {
                    return Ok(Some(Line::Broken {
                        line: *line,
                        code: "line_too_long",
                        message: format!("the line is longer than {MAX_LINE_BYTES} bytes"),
                    }));
                }
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue; // blank lines are not rows
                }
                return Ok(Some(Line::Json {
                    line: *line,
                    bytes: std::mem::take(buf),
                }));
            },
            Inner::Csv { done: true, .. } => Ok(None),
            Inner::Csv {
                reader,
                record,
                done,
                next_line,
            } => match reader.read_byte_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => {
                    reader.get_mut().read = 0;
                    *next_line = reader.position().line();
                    let line = record.position().map_or(0, |p| p.line());
                    if record.as_slice().len() > MAX_LINE_BYTES {
                        return Ok(Some(Line::Broken {
                            line,
                            code: "line_too_long",
                            message: format!("the record is longer than {MAX_LINE_BYTES} bytes"),
                        }));
                    }
                    Ok(Some(Line::Csv {
                        line,
                        cells: record.iter().map(<[u8]>::to_vec).collect(),
                    }))
                }
                Err(e) if reader.get_ref().over => {
                    // The record never ended within the budget: nothing after
                    // its start can be split into records reliably.
                    let line = *next_line;
                    reader.get_mut().drain()?;
                    *done = true;
                    drop(e);
                    Ok(Some(Line::Broken {
                        line,
                        code: "record_too_long",
                        message: format!(
                            "the CSV record starting on this line is longer than {MAX_LINE_BYTES} \
                             bytes (an unclosed quote?); the rest of the input was not read"
                        ),
                    }))
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    match e.kind() {
                        csv::ErrorKind::Io(_) => {
                            Err(ReadError::Io(std::io::Error::other(e.to_string())))
                        }
                        _ => Ok(Some(Line::Broken {
                            line,
                            code: "malformed_csv",
                            message: e.to_string(),
                        })),
                    }
                }
            },
        }
    }
}

/// Whether a CSV error is the record budget running out (the header alone
/// over budget is a bad header, not a broken upload).
fn reader_over(kind: &csv::ErrorKind) -> bool {
    matches!(kind, csv::ErrorKind::Io(e) if e.to_string().starts_with("a CSV record is longer"))
}

/// Reads one line into `buf` but keeps at most `MAX_LINE_BYTES`; the rest of
/// an overlong line is consumed and dropped. Returns bytes consumed and
/// whether the line was too long.
fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, too_long));
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + take > MAX_LINE_BYTES + 2 {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..take]);
            }
        }
        reader.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_lines_are_numbered_and_blank_lines_skipped() {
        let input = b"{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";
        let mut r = ChunkReader::new(&input[..], Format::Jsonl, 2, &[]).unwrap();
        let c1 = r.next_chunk().unwrap().unwrap();
        assert_eq!(c1.iter().map(Line::number).collect::<Vec<_>>(), [1, 3]);
        let c2 = r.next_chunk().unwrap().unwrap();
        assert_eq!(c2.iter().map(Line::number).collect::<Vec<_>>(), [4]);
        assert!(r.next_chunk().unwrap().is_none());
    }

    #[test]
    fn an_overlong_line_is_rejected_alone() {
        let mut input = b"{\"a\":1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1 << 20));
        input.extend(b"\n{\"b\":2}\n");
        let mut r = ChunkReader::new(&input[..], Format::Jsonl, 10, &[]).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        assert_eq!(c.len(), 3);
        assert!(matches!(
            c[1],
            Line::Broken {
                line: 2,
                code: "line_too_long",
                ..
            }
        ));
        assert!(matches!(&c[2], Line::Json { line: 3, .. }));
    }

    #[test]
    fn an_unclosed_csv_quote_stops_at_the_record_budget() {
        let mut input = b"source_id,item\n1,P01\n\"2,P01\n".to_vec();
        // A megabyte of rows swallowed by the quote that never closes.
        while input.len() < 1 << 20 {
            input.extend_from_slice(b"3,P01\n");
        }
        let mut r = ChunkReader::new(&input[..], Format::Csv, 1_000_000, &[]).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        assert_eq!(c.len(), 2);
        assert!(matches!(&c[0], Line::Csv { line: 2, .. }));
        assert!(
            matches!(
                &c[1],
                Line::Broken {
                    line: 3,
                    code: "record_too_long",
                    ..
                }
            ),
            "{:?}",
            c[1]
        );
        assert!(r.next_chunk().unwrap().is_none());
        // Everything was consumed (a batch's body hash covers it all).
        let rest = r.into_inner();
        assert!(rest.is_empty());
    }

    #[test]
    fn a_long_but_closed_csv_record_is_rejected_alone() {
        let mut input = b"source_id,item\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 100));
        input.extend_from_slice(b"\",P01\n4,P01\n");
        let mut r = ChunkReader::new(&input[..], Format::Csv, 10, &[]).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        assert_eq!(c.len(), 2);
        assert!(matches!(
            &c[0],
            Line::Broken {
                code: "line_too_long",
                ..
            }
        ));
        assert!(matches!(&c[1], Line::Csv { line: 3, .. }));
    }

    #[test]
    fn csv_header_is_checked() {
        let input = b"unit,source_id,item\nA,1,P01\n";
        let err = ChunkReader::new(&input[..], Format::Csv, 10, &["id_number"])
            .err()
            .unwrap();
        assert_eq!(err.code(), "missing_column");
        let mut r = ChunkReader::new(&input[..], Format::Csv, 10, &["item"]).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        assert!(matches!(&c[0], Line::Csv { line: 2, cells } if cells.len() == 3));
    }
}
