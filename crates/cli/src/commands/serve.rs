//! `chengxin serve`: the HTTP service until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chengxin_jobs::Context;
use chengxin_server::demo_idp::DemoIdp;
use chengxin_server::oidc::{KeySource, OidcConfig, Verifier, MIN_REFETCH};
use chengxin_server::state::AppState;

use crate::args::OidcArgs;

/// How `serve` runs besides its database.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub oidc: OidcArgs,
    /// Serve and trust the demo identity provider.
    pub demo: bool,
}

/// Serves until a shutdown signal. `ready` runs once the port is bound.
pub fn run(
    ctx: Arc<Context>,
    opts: ServeOptions,
    ready: Option<Box<dyn FnOnce(SocketAddr) + Send>>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("cannot listen on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        let mut state = AppState::new(Arc::clone(&ctx));
        let mut trusted: Vec<OidcConfig> = Vec::new();
        if let Some(issuer) = &opts.oidc.oidc_issuer {
            trusted.push(OidcConfig {
                issuer: issuer.clone(),
                audience: opts.oidc.oidc_audience.clone().unwrap_or_default(),
                jwks: KeySource::parse(opts.oidc.oidc_jwks.as_deref().unwrap_or_default()),
                id_claim: opts.oidc.oidc_id_claim.clone(),
            });
        }
        if opts.demo {
            let idp = Arc::new(DemoIdp::new(&format!("http://{addr}")));
            trusted.push(idp.trusted());
            eprintln!(
                "警告 WARNING: demo identity provider on at {} — anyone can sign in as any resident; demo data only",
                idp.issuer()
            );
            state = state.with_demo(idp);
        }
        if !trusted.is_empty() {
            let verifier = Verifier::new(trusted, MIN_REFETCH)
                .await
                .context("cannot load the identity provider's key set (--oidc-jwks)")?;
            state = state.with_oidc(Arc::new(verifier));
        }
        let owner = format!("serve pid {} on {addr}", std::process::id());
        chengxin_jobs::daily::spawn_schedule(Arc::clone(&ctx), owner)
            .context("cannot start the daily run's thread")?;
        eprintln!("诚信分服务 chengxin serving on http://{addr}/api/v1 (Ctrl-C to stop)");
        if let Some(ready) = ready {
            ready(addr);
        }
        chengxin_server::serve(state, listener, chengxin_server::shutdown_signal()).await?;
        eprintln!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
