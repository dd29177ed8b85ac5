//! Fail points for crash tests: `CHENGXIN_FAILPOINT=<name>:<n>` aborts the
//! process (`std::process::abort()`: no destructors, no flushing, like
//! `kill -9`) the n-th time the point `name` is reached, counted across all
//! threads from the start of the process. `CHENGXIN_FAILPOINT=count` aborts
//! nowhere and prints `failpoint: <name> <n>` on standard error at every hit,
//! to learn how often a workload reaches each point.
//!
//! Points: `commit.before` (a unit of work did its work, before its commit;
//! not for a batch lease renewed on a timer, whose count depends on time),
//! `commit.after` (right after a commit returned), `chunk.read` (the import
//! and batch loops read and validated a chunk, before storing it).
//!
//! The variable is read once; while it is unset, a point costs one atomic
//! load and a branch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable that arms the fail points.
pub const VAR: &str = "CHENGXIN_FAILPOINT";

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

struct Armed {
    /// The point and hit to abort at; `None` only counts.
    target: Option<(String, u64)>,
    hits: Mutex<HashMap<&'static str, u64>>,
}

/// Marks the fail point `name`; aborts the process if it is the armed one and
/// this is its n-th hit.
#[inline]
pub fn hit(name: &'static str) {
    if STATE.load(Ordering::Relaxed) == OFF {
        return;
    }
    slow(name);
}

#[cold]
#[inline(never)]
fn slow(name: &'static str) {
    let armed = ARMED.get_or_init(|| {
        let armed = std::env::var(VAR).ok().and_then(|v| parse(&v));
        STATE.store(if armed.is_some() { ON } else { OFF }, Ordering::Relaxed);
        armed
    });
    let Some(armed) = armed else { return };
    let n = {
        let mut hits = armed.hits.lock().unwrap_or_else(|e| e.into_inner());
        let n = hits.entry(name).or_insert(0);
        *n += 1;
        *n
    };
    match &armed.target {
        None => eprintln!("failpoint: {name} {n}"),
        Some((point, at)) if point == name && *at == n => {
            eprintln!("failpoint: {name}:{n} reached, aborting");
            std::process::abort();
        }
        Some(_) => {}
    }
}

fn parse(value: &str) -> Option<Armed> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let target = if value == "count" {
        None
    } else {
        match value.rsplit_once(':').map(|(p, n)| (p, n.parse::<u64>())) {
            Some((point, Ok(n))) if !point.is_empty() && n > 0 => Some((point.to_owned(), n)),
            _ => {
                // A typo must not quietly turn a crash test into a clean run.
                eprintln!("{VAR}={value}: expected <point>:<n> (n ≥ 1) or `count`");
                std::process::exit(2);
            }
        }
    };
    Some(Armed {
        target,
        hits: Mutex::new(HashMap::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_point_and_a_count() {
        let a = parse("commit.before:3").unwrap();
        assert_eq!(a.target, Some(("commit.before".to_owned(), 3)));
        assert!(parse("count").unwrap().target.is_none());
        assert!(parse("").is_none());
    }
}
