//! `chengxin serve`: the HTTP service until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chengxin_jobs::Context;
use chengxin_server::state::AppState;

/// Serves until a shutdown signal. `ready` runs once the port is bound.
pub fn run(
    ctx: Arc<Context>,
    listen: SocketAddr,
    ready: Option<Box<dyn FnOnce(SocketAddr) + Send>>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        eprintln!("诚信分服务 chengxin serving on http://{addr}/api/v1 (Ctrl-C to stop)");
        if let Some(ready) = ready {
            ready(addr);
        }
        chengxin_server::serve(
            AppState::new(ctx),
            listener,
            chengxin_server::shutdown_signal(),
        )
        .await?;
        eprintln!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
