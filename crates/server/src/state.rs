//! What every handler can reach: the jobs context (store, catalogue, engine)
//! and the request limits.

use std::sync::Arc;
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
    /// Verifies residents' ID tokens; `None`: resident sign-in is off.
    pub oidc: Option<Arc<crate::oidc::Verifier>>,
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
            limits: Arc::new(limits),
            oidc: None,
        }
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
        let permit = Arc::clone(&self.permits)
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
