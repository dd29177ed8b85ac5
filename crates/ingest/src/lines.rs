//! Splitting an input stream into numbered lines (JSONL) or CSV records, in
//! chunks of bounded size.

use std::io::BufRead;

/// The longest line accepted; a longer one is rejected on its own (`line_too_long`).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

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
        reader: csv::Reader<R>,
        record: csv::ByteRecord,
    },
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
                    .from_reader(reader);
                let header: Vec<String> = reader
                    .headers()
                    .map_err(|e| match e.kind() {
                        csv::ErrorKind::Io(_) => {
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
                Ok(ChunkReader {
                    inner: Inner::Csv {
                        reader,
                        record: csv::ByteRecord::new(),
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
            Inner::Csv { reader, .. } => reader.into_inner(),
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
            Inner::Csv { reader, record } => match reader.read_byte_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => {
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
