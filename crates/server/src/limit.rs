//! Bounds on requests in flight: in all (more get 503 `server_busy`) and per
//! API key (more get 429 `too_many_requests`), checked before anything else
//! runs, so one principal's slow or repeated requests cannot fill the queue
//! for the store that every other request, authentication included, waits in.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Seconds a refused request is told to wait.
const RETRY_AFTER: u64 = 1;

/// Requests in flight.
#[derive(Debug, Default)]
pub struct InFlight {
    total: AtomicUsize,
    /// By a hash of the `Authorization` header (0: none). Keys are not
    /// looked up here: an unknown key is bounded like a known one.
    per_key: Mutex<HashMap<u64, usize>>,
}

/// A request's place in both counts; freed when dropped.
struct Admitted {
    in_flight: Arc<InFlight>,
    key: u64,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.in_flight.total.fetch_sub(1, Ordering::Relaxed);
        let mut per_key = self
            .in_flight
            .per_key
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_key.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                per_key.remove(&self.key);
            }
        }
    }
}

fn key_of(req: &Request) -> u64 {
    match req.headers().get(AUTHORIZATION) {
        None => 0,
        Some(v) => {
            let mut h = DefaultHasher::new();
            v.as_bytes().hash(&mut h);
            h.finish().max(1)
        }
    }
}

/// The middleware: admits the request or refuses it at once.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let in_flight = Arc::clone(&state.in_flight);
    let limits = &state.limits;
    if in_flight.total.fetch_add(1, Ordering::Relaxed) >= limits.max_in_flight.max(1) {
        in_flight.total.fetch_sub(1, Ordering::Relaxed);
        return ApiError::new(
            ErrorCode::ServerBusy,
            format!(
                "the server has {} requests in flight, its limit; retry shortly",
                limits.max_in_flight
            ),
        )
        .retry_after(RETRY_AFTER)
        .into_response();
    }
    let key = key_of(&req);
    {
        let mut per_key = in_flight.per_key.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_key.entry(key).or_insert(0);
        if *n >= limits.per_key.max(1) {
            drop(per_key);
            in_flight.total.fetch_sub(1, Ordering::Relaxed);
            return ApiError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "this API key has {} requests in flight, the most one key may; retry when one is answered",
                    limits.per_key
                ),
            )
            .retry_after(RETRY_AFTER)
            .into_response();
        }
        *n += 1;
    }
    let _admitted = Admitted { in_flight, key };
    next.run(req).await
}
