//! The HTTP service: axum routes for cooperating units, Bearer-key
//! authentication, RFC 9457 problem errors from one code table, the layers
//! every request passes (request id, tracing, limits, timeouts, compression,
//! panic catching) and the OpenAPI document generated from the handlers.
//! Holds no SQL and no business rules: handlers call `chengxin-jobs` on the
//! blocking pool.

pub mod auth;
pub mod demo_idp;
pub mod error;
pub mod extract;
pub mod limit;
pub mod middleware;
pub mod oidc;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod web;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorCode, Problem};
pub use state::{AppState, Limits};

/// Where `chengxin serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The whole service as a router, ready to serve or to call in-process.
pub fn app(state: AppState) -> Router {
    let (mut router, _) = api(&state.limits).split_for_parts();
    if state.demo.is_some() {
        router = router.merge(demo_idp::routes());
    }
    router = router.merge(web::routes());
    let router = router
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::limit,
        ))
        .with_state(state);
    middleware::apply(router)
}

/// The OpenAPI document of every route [`app`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api(&Limits::default()).into_openapi();
    openapi::finish(&mut doc);
    doc
}

/// Every route, each registered with `routes!` so that it is in the document.
/// Batches get their own size limit (enforced while streaming) and timeout.
fn api(limits: &Limits) -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(routes::health::health))
        .routes(routes!(routes::audit::checkpoint))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(routes::records::push_record))
        .routes(routes!(routes::records::withdraw))
        .routes(routes!(routes::batches::get_batch))
        .routes(routes!(routes::me::get_me))
        .routes(routes!(routes::me_data::score))
        .routes(routes!(routes::me_data::history))
        .routes(routes!(routes::me_data::records))
        .routes(routes!(routes::me_data::notifications))
        .routes(routes!(routes::me_data::access_log))
        .routes(routes!(routes::me_data::export))
        .routes(routes!(routes::me_commitments::list_templates))
        .routes(routes!(routes::catalogue::get_catalogue))
        .routes(routes!(
            routes::me_commitments::sign,
            routes::me_commitments::list
        ))
        .routes(routes!(routes::me_self_reports::list))
        .routes(routes!(routes::unit_self_reports::queue))
        .routes(routes!(routes::unit_self_reports::decide))
        .routes(routes!(routes::unit_self_reports::evidence))
        .routes(routes!(routes::staff_self_reports::queue))
        .routes(routes!(routes::staff_self_reports::decide))
        .routes(routes!(routes::staff_self_reports::evidence))
        .routes(routes!(routes::staff::sign_in))
        .routes(routes!(routes::staff::sign_out))
        .routes(routes!(routes::staff::me))
        .routes(routes!(routes::staff_objections::list))
        .routes(routes!(routes::staff_objections::accept))
        .routes(routes!(routes::staff_objections::decide))
        .routes(routes!(routes::staff_objections::evidence))
        .routes(routes!(routes::unit_objections::list))
        .routes(routes!(routes::unit_objections::reply))
        .routes(routes!(routes::me_objections::list))
        .routes(routes!(routes::me_repairs::options))
        .routes(routes!(routes::me_repairs::apply, routes::me_repairs::list))
        .routes(routes!(routes::staff_repairs::queue))
        .routes(routes!(routes::staff_repairs::decide))
        .routes(routes!(
            routes::me_authorisations::grant,
            routes::me_authorisations::list
        ))
        .routes(routes!(routes::me_authorisations::revoke))
        .routes(routes!(routes::party::redeem))
        .routes(routes!(routes::party::result))
        .routes(routes!(routes::party_uses::certificate))
        .routes(routes!(routes::party_uses::scenario))
        .routes(routes!(routes::scenarios::list))
        .routes(routes!(routes::scenarios::mine))
        .routes(routes!(
            routes::staff_scenarios::create,
            routes::staff_scenarios::list
        ))
        .routes(routes!(routes::staff_scenarios::retire))
        .routes(routes!(routes::staff_statistics::statistics))
        .routes(routes!(routes::certificates::jwks))
        .routes(routes!(routes::certificates::verify))
        .layer(RequestBodyLimitLayer::new(limits.body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ));
    // Self-reports carry evidence files: a limit of their own, enforced as
    // the parts stream (axum's default 2 MB limit is lifted for it).
    let self_reports = OpenApiRouter::new()
        .routes(routes!(routes::me_self_reports::submit))
        .routes(routes!(routes::me_objections::submit))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            routes::me_self_reports::BODY_LIMIT,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ));
    let batches = OpenApiRouter::new()
        .routes(routes!(routes::batches::submit_batch))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.batch_timeout,
        ));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(small)
        .merge(self_reports)
        .merge(batches)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets
/// requests in flight finish.
///
/// Served with hyper's HTTP/1 connection builder rather than `axum::serve`,
/// which cannot bound how long a client may take to send a request head:
/// here a head not complete within [`Limits::header_read`] (counted from the
/// connection's start, or from the previous response on a keep-alive
/// connection, so idle connections are bounded too) closes the connection.
///
/// With PostgreSQL, create the context off the async threads too
/// (`spawn_blocking`): its synchronous client runs its own runtime.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    tracing::info!(addr = %listener.local_addr()?, "listening");
    let warning = state
        .demo
        .as_ref()
        .map(|idp| demo_idp::warn_while_running(idp.issuer().to_owned()));
    let last = state.clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.limits.header_read)
        .keep_alive(true);
    let app = app(state);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, then go on.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The peer's address, for the failed sign-in limit per address.
                let service = TowerToHyperService::new(tower::ServiceExt::map_request(
                    app.clone(),
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                        req
                    },
                ));
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    // The router holds the state too: it goes here, `last` below.
    drop(app);
    if let Some(w) = warning {
        w.abort();
    }
    // The store may hold synchronous PostgreSQL clients, which must not be
    // dropped on an async thread: let the last reference go on a blocking one.
    let _ = tokio::task::spawn_blocking(move || drop(last)).await;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
