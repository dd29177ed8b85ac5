//! Parsing and validation of record batches (JSON Lines or CSV) against the
//! catalogue. Streaming: input is read in bounded chunks of lines, each line
//! validated on its own, so one bad row never affects another. No storage.

mod lines;
mod validate;

pub use lines::{Chunk, ChunkReader, Format, Line, ReadError, MAX_LINE_BYTES};
pub use validate::{RowError, Validator, MAX_NAME, MAX_SOURCE_ID, MAX_SOURCE_VERSION};
