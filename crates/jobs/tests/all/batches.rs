//! Batches applied exactly once, on every backend: a chunk that fails leaves
//! a receipt saying which lines were applied and the retry under the same key
//! resumes after them; a retry with another body is refused; a unit disabled
//! mid-batch stops at the next chunk.

use std::io::{BufRead, Cursor, Read};
use std::sync::Arc;

use chengxin_ingest::Format;
use chengxin_jobs::batches::{submit_batch, BatchControl, BatchError, BatchStatus};
use chengxin_jobs::push::Caller;
use chengxin_jobs::units::{self, Unit};
use chengxin_jobs::Context;
use chengxin_testkit::{backends, id_number, TestDb};
use serde_json::json;

/// Rows per chunk in a batch (`CHUNK` in `batches.rs`).
const CHUNK: usize = 2000;

fn body(rows: usize, boom_at: Option<usize>) -> Vec<u8> {
    (1..=rows)
        .map(|n| {
            let source = if Some(n) == boom_at {
                "BOOM".to_owned()
            } else {
                format!("L-{n}")
            };
            json!({
                "source_id": source, "item": "B03",
                "id_number": id_number("330602", "19800101", n as u32).as_str(),
                "fields": {"region_code": "330602", "registered_on": "2000-01-01", "active": true},
            })
            .to_string()
                + "\n"
        })
        .collect::<String>()
        .into_bytes()
}

fn setup(db: &TestDb) -> (Context, Unit, String) {
    let ctx = Context::new(Arc::from(db.open())).unwrap();
    let (unit, key) = units::add_unit(&ctx, "SX-PSB", "公安", &["B03".into()], "test").unwrap();
    (ctx, unit, key)
}

fn submit(
    ctx: &Context,
    unit: &Unit,
    key: &str,
    body: impl BufRead + Send,
) -> Result<chengxin_jobs::batches::BatchReceipt, BatchError> {
    let caller = Caller {
        unit,
        request_id: None,
        client_request_id: None,
    };
    submit_batch(
        ctx,
        caller,
        Format::Jsonl,
        body,
        "k-1",
        &BatchControl::new(key),
    )
}

fn stored_rows(ctx: &Context) -> usize {
    let cases: Vec<String> = (1..=3 * CHUNK).map(|n| format!("L-{n}")).collect();
    let refs: Vec<(&str, &str)> = cases.iter().map(|c| ("SX-PSB", c.as_str())).collect();
    let heads = ctx.store.read().unwrap().record_heads(&refs).unwrap();
    assert!(
        heads.iter().flatten().all(|h| h.version == 1),
        "a row stored twice"
    );
    heads.iter().flatten().count()
}

/// Makes storing the row with source_id `BOOM` fail, as a database error would.
fn break_boom(db: &TestDb, on: bool) {
    if let Some(path) = &db.path {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch(if on {
            "CREATE TRIGGER boom BEFORE INSERT ON records WHEN NEW.source_id = 'BOOM'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        } else {
            "DROP TRIGGER boom;"
        })
        .unwrap();
    } else {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        c.batch_execute(if on {
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.source_id = 'BOOM' THEN RAISE EXCEPTION 'injected failure'; END IF;
             RETURN NEW; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION boom();"
        } else {
            "DROP TRIGGER boom ON records; DROP FUNCTION boom();"
        })
        .unwrap();
    }
}

#[test]
fn a_failed_chunk_leaves_a_receipt_and_the_retry_resumes_after_it() {
    for db in backends() {
        let (ctx, unit, key) = setup(&db);
        let rows = CHUNK * 2 + 500;
        let input = body(rows, Some(CHUNK + 100));
        break_boom(&db, true);
        let err = submit(&ctx, &unit, &key, Cursor::new(input.clone())).unwrap_err();
        let BatchError::Interrupted(r) = err else {
            panic!("{}: {err:?}", db.url)
        };
        assert_eq!(r.status, BatchStatus::Interrupted);
        assert_eq!(r.interrupted_by.as_deref(), Some("chunk_failed"));
        assert_eq!(
            (r.applied_through_line, r.accepted),
            (CHUNK as u64, CHUNK as u64)
        );
        assert_eq!(stored_rows(&ctx), CHUNK, "{}", db.url);
        // The stored receipt says the same.
        let stored = chengxin_jobs::batches::batch_receipt(
            &ctx,
            Caller {
                unit: &unit,
                request_id: None,
                client_request_id: None,
            },
            &r.id,
        )
        .unwrap()
        .unwrap();
        assert_eq!(stored.status, BatchStatus::Interrupted);
        assert_eq!(stored.applied_through_line, CHUNK as u64);

        // Another body under the key (its first chunk differs) is refused,
        // and changes nothing; so is a shorter one.
        let other = body(rows, Some(7));
        assert!(matches!(
            submit(&ctx, &unit, &key, Cursor::new(other)),
            Err(BatchError::IdempotencyConflict)
        ));
        let short = body(10, None);
        assert!(matches!(
            submit(&ctx, &unit, &key, Cursor::new(short)),
            Err(BatchError::IdempotencyConflict)
        ));
        assert_eq!(stored_rows(&ctx), CHUNK);

        // Fixed, the same body resumes: nothing applied twice, all counted once.
        break_boom(&db, false);
        let done = submit(&ctx, &unit, &key, Cursor::new(input.clone())).unwrap();
        assert_eq!(done.status, BatchStatus::Completed);
        assert_eq!(done.id, r.id);
        assert_eq!(
            (done.accepted, done.duplicate, done.rejected),
            (rows as u64, 0, 0),
            "{}",
            db.url
        );
        assert_eq!(done.applied_through_line, rows as u64);
        assert_eq!(stored_rows(&ctx), rows - 1); // BOOM is not an L- case
                                                 // And again: the same receipt, nothing stored.
        let again = submit(&ctx, &unit, &key, Cursor::new(input)).unwrap();
        assert_eq!(again, done);
    }
}

/// A body that disables its unit once `after` bytes were read from it, as
/// an operator would while the batch streams.
struct DisablingBody {
    inner: Cursor<Vec<u8>>,
    ctx: Arc<Context>,
    after: u64,
    done: bool,
}

impl Read for DisablingBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for DisablingBody {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.done && self.inner.position() >= self.after {
            self.done = true;
            units::disable_unit(&self.ctx, "SX-PSB", "operator:test").unwrap();
        }
        // A little at a time, so the disabling happens mid-chunk.
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(512)])
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
    }
}

#[test]
fn a_unit_disabled_mid_batch_stops_at_the_next_chunk() {
    for db in backends() {
        let (ctx, unit, key) = setup(&db);
        let ctx = Arc::new(ctx);
        let input = body(CHUNK * 3, None);
        // Disabled while the second chunk is being read.
        let after = input.len() as u64 / 2;
        let reader = DisablingBody {
            inner: Cursor::new(input),
            ctx: Arc::clone(&ctx),
            after,
            done: false,
        };
        let err = submit(&ctx, &unit, &key, reader).unwrap_err();
        let BatchError::Interrupted(r) = err else {
            panic!("{}: {err:?}", db.url)
        };
        assert_eq!(r.interrupted_by.as_deref(), Some("unit_disabled"));
        assert_eq!(r.applied_through_line, CHUNK as u64, "{}", db.url);
        assert_eq!(stored_rows(&ctx), CHUNK, "{}", db.url);
    }
}
