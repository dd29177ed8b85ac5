//! What every handler can reach: the jobs context (store, catalogue, engine)
//! and the request limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::FromRef;
use chengxin_jobs::Context;

use crate::error::ApiError;

/// Size and time limits on requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted by `POST /api/v1/batches`.
    pub batch_body: usize,
    /// Largest body accepted anywhere else.
    pub body: usize,
    /// Time allowed for a batch request, upload included.
    pub batch_timeout: Duration,
    /// Time allowed for any other request.
    pub timeout: Duration,
    /// Requests working on the store at once (batches aside); more wait
    /// their turn without holding a thread or a database session. Default
    /// four per core, or `CHENGXIN_CONCURRENCY`: on 2 cores, PostgreSQL took
    /// 821 pushes/s with 64 at once and 959–1,044/s with 4–8 (BENCHMARKS.md).
    pub concurrency: usize,
    /// Read-only requests working on the store at once (a resident's own
    /// data), apart from [`Limits::concurrency`]: each audited read spends
    /// most of its time waiting for its entry's group commit (an fsync
    /// shared by the readers waiting with it), not on a core, so more of
    /// them at once make larger groups. Default 16 per core, or
    /// `CHENGXIN_READ_CONCURRENCY` (BENCHMARKS.md, own-score reads).
    pub read_concurrency: usize,
    /// Requests in flight at once, whatever they do; more get 503
    /// `server_busy` at once rather than queueing without bound.
    pub max_in_flight: usize,
    /// Requests in flight at once under one API key (or without one); more
    /// get 429 `too_many_requests`, so one principal cannot fill the queue
    /// for [`Limits::concurrency`] that authentication also waits in.
    pub per_key: usize,
    /// Batches one unit may run at once; more get 429 `too_many_batches`.
    pub batches_per_unit: usize,
    /// How long a batch's claim lasts unless renewed (renewed every third of
    /// it while the batch runs). Default 15 s, or `CHENGXIN_BATCH_LEASE_SECONDS`.
    pub batch_lease: Duration,
    /// Time a client has to send a request head, counted from the
    /// connection's start or the end of its previous response, so it also
    /// bounds how long an idle keep-alive connection stays open.
    pub header_read: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_body: 100 * 1024 * 1024,
            body: 64 * 1024,
            batch_timeout: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(30),
            concurrency: std::env::var("CHENGXIN_CONCURRENCY")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| 4 * std::thread::available_parallelism().map_or(2, |n| n.get())),
            read_concurrency: std::env::var("CHENGXIN_READ_CONCURRENCY")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| {
                    16 * std::thread::available_parallelism().map_or(2, |n| n.get())
                }),
            max_in_flight: 1024,
            per_key: 64,
            batches_per_unit: 2,
            batch_lease: Duration::from_secs(
                chengxin_jobs::batches::default_lease_seconds().unsigned_abs(),
            ),
            header_read: Duration::from_secs(10),
        }
    }
}

/// Shared state of the service; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases' context. Its store blocks: use [`AppState::blocking`].
    pub ctx: Arc<Context>,
    /// Request limits.
    pub limits: Arc<Limits>,
    /// Permits for work on the store (see [`Limits::concurrency`]).
    permits: Arc<tokio::sync::Semaphore>,
    /// Permits for read-only work (see [`Limits::read_concurrency`]).
    read_permits: Arc<tokio::sync::Semaphore>,
    /// Verifies residents' ID tokens; `None`: resident sign-in is off.
    pub oidc: Option<Arc<crate::oidc::Verifier>>,
    /// The demo identity provider (`serve --demo` only).
    pub demo: Option<Arc<crate::demo_idp::DemoIdp>>,
    /// Batches running, per unit (see [`Limits::batches_per_unit`]).
    batches: Arc<Mutex<HashMap<String, usize>>>,
    /// Requests in flight, in all and per key (see [`crate::limit`]).
    pub(crate) in_flight: Arc<crate::limit::InFlight>,
    /// Failed staff sign-ins, per account and per address (in this process).
    pub staff_sign_ins: Arc<chengxin_jobs::staff::SignInLimiter>,
    /// The web portal's view of the identity provider (its endpoints).
    pub(crate) rp: Arc<crate::web::rp::RelyingParty>,
}

impl AppState {
    /// State over a context, with the default limits.
    pub fn new(ctx: Arc<Context>) -> AppState {
        AppState::with_limits(ctx, Limits::default())
    }

    /// State over a context with the given limits.
    pub fn with_limits(ctx: Arc<Context>, limits: Limits) -> AppState {
        AppState {
            ctx,
            permits: Arc::new(tokio::sync::Semaphore::new(limits.concurrency.max(1))),
            read_permits: Arc::new(tokio::sync::Semaphore::new(limits.read_concurrency.max(1))),
            batches: Arc::default(),
            in_flight: Arc::default(),
            staff_sign_ins: Arc::default(),
            rp: Arc::default(),
            limits: Arc::new(limits),
            oidc: None,
            demo: None,
        }
    }

    /// The same state, serving the demo identity provider. Its issuer must
    /// also be trusted by the verifier ([`crate::demo_idp::DemoIdp::trusted`]).
    pub fn with_demo(mut self, idp: Arc<crate::demo_idp::DemoIdp>) -> AppState {
        self.demo = Some(idp);
        self
    }

    /// The same state, verifying residents' tokens with `verifier`.
    pub fn with_oidc(mut self, verifier: Arc<crate::oidc::Verifier>) -> AppState {
        self.oidc = Some(verifier);
        self
    }

    /// Runs blocking work (anything touching the store) on the blocking pool,
    /// once one of the [`Limits::concurrency`] permits is free. A panic there
    /// becomes an internal error, logged, not a dropped connection.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Context) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.permitted(&self.permits, f).await
    }

    /// [`AppState::blocking`] for read-only use cases (a resident's own
    /// data), under the [`Limits::read_concurrency`] permits instead.
    pub async fn reading<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Context) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.permitted(&self.read_permits, f).await
    }

    /// [`AppState::reading`] for a short, bounded read of one person's data
    /// (their score): where the store reads in process
    /// ([`chengxin_store::Store::reads_in_process`], SQLite) it runs here,
    /// on the async worker, since handing ~40 µs of work to a blocking
    /// thread and back costs two thread switches (measured: the score read
    /// serves ~25 % more requests inline, BENCHMARKS.md); a store across a
    /// network (PostgreSQL) still reads on the blocking pool.
    pub async fn reading_short<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Context) -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.ctx.store.reads_in_process() {
            Ok(f(&self.ctx))
        } else {
            self.reading(f).await
        }
    }

    async fn permitted<T, F>(
        &self,
        permits: &Arc<tokio::sync::Semaphore>,
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&Context) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(permits)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(format_args!("store permits closed: {e}")))?;
        self.blocking_unlimited(move |ctx| {
            let out = f(ctx);
            drop(permit);
            out
        })
        .await
    }

    /// One of the unit's [`Limits::batches_per_unit`] batch slots, held
    /// until the guard is dropped; `None` when all are taken.
    pub fn batch_slot(&self, unit: &str) -> Option<BatchSlot> {
        let mut running = self.batches.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(unit.to_owned()).or_insert(0);
        if *n >= self.limits.batches_per_unit.max(1) {
            return None;
        }
        *n += 1;
        Some(BatchSlot {
            batches: Arc::clone(&self.batches),
            unit: unit.to_owned(),
        })
    }

    /// [`AppState::blocking`] without a permit: for a batch, which streams
    /// its upload for minutes and would starve short requests of permits.
    pub async fn blocking_unlimited<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Context) -> T + Send + 'static,
        T: Send + 'static,
    {
        let ctx = Arc::clone(&self.ctx);
        tokio::task::spawn_blocking(move || f(&ctx))
            .await
            .map_err(|e| ApiError::internal(format_args!("blocking task failed: {e}")))
    }
}

impl FromRef<AppState> for Arc<Context> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.ctx)
    }
}

impl FromRef<AppState> for Arc<Limits> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.limits)
    }
}

/// A running batch's place in its unit's limit; freed when dropped.
pub struct BatchSlot {
    batches: Arc<Mutex<HashMap<String, usize>>>,
    unit: String,
}

impl Drop for BatchSlot {
    fn drop(&mut self) {
        let mut running = self.batches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.unit) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.unit);
            }
        }
    }
}
