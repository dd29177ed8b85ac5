//! Server for read benchmarks: the whole service (`chengxin_server::app`,
//! its middleware and the resident sign-in) plus two comparison routes in
//! the same process, so one run compares them under the same load:
//!
//! - `GET /bench/bare`: a bare axum handler returning a small fixed JSON;
//! - `GET /bench/me/score-unaudited`: `GET /api/v1/me/score` without its
//!   audit entry (same extractor, same use case up to the audit write).
//!
//! `read_bench_server DB_URL LISTEN IDS_FILE TOKENS_OUT [N]`: mints ID tokens
//! from an in-process demo identity provider for the first N (default 2,000)
//! ID numbers of IDS_FILE, writes them to TOKENS_OUT; registers a party and
//! has each of those residents grant it a `score` authorisation, which it
//! redeems, and writes `KEY AUTHORISATION_ID` lines to TOKENS_OUT.party (for
//! `read_load` on `/api/v1/party/authorisations/{id}/result`); then serves
//! until killed. Keys as for every command (`CHENGXIN_DATA_KEY…`,
//! `CHENGXIN_AUDIT_KEY_FILE`). Never part of the product: only the
//! benchmark script starts it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chengxin_domain::IdNumber;
use chengxin_jobs::Context;
use chengxin_server::auth::AuthResident;
use chengxin_server::demo_idp::DemoIdp;
use chengxin_server::oidc::{Verifier, MIN_REFETCH};
use chengxin_server::{ApiError, AppState};

async fn bare() -> Json<serde_json::Value> {
    Json(serde_json::json!({"eligible": true, "score": 600, "grade": "B"}))
}

async fn unaudited(
    State(state): State<AppState>,
    resident: AuthResident,
) -> Result<impl IntoResponse, ApiError> {
    let own = state
        .reading_short(move |ctx| {
            chengxin_jobs::own::evaluate(ctx, &resident.id_number, chengxin_jobs::today())
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        own.0.into_body(),
    ))
}

/// A party and one redeemed `score` authorisation per resident of `ids`:
/// `KEY AUTHORISATION_ID` lines.
fn party_grants(ctx: &Context, ids: &[IdNumber]) -> anyhow::Result<String> {
    use chengxin_domain::authorisation::Scope;
    use chengxin_jobs::authorisations::{grant, redeem, GrantRequest};
    use chengxin_jobs::resident::Resident;
    let code = format!("BENCH-P{}", std::process::id());
    let (party, key) = chengxin_jobs::parties::add_party(
        ctx,
        &code,
        "基准测试银行",
        "bank",
        &["loan_discount".into()],
        "operator:bench",
    )?;
    let now = jiff::Timestamp::now();
    let valid_until = chengxin_jobs::today().saturating_add(jiff::Span::new().days(300));
    let req = GrantRequest {
        party: code,
        purpose: "loan_discount".into(),
        scope: Scope::Score,
        valid_until,
        max_uses: None,
    };
    let mut out = String::new();
    for id in ids {
        let resident = Resident {
            id_number: id,
            name: None,
            request_id: None,
        };
        let g = grant(ctx, resident, &req, now).map_err(|e| anyhow::anyhow!("{e}"))?;
        let r = redeem(ctx, &party, &g.code, None, now).map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push_str(&format!("{key} {}\n", r.authorisation_id));
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        anyhow::bail!("usage: read_bench_server DB_URL LISTEN IDS_FILE TOKENS_OUT [N]");
    }
    let n: usize = args.get(5).and_then(|v| v.parse().ok()).unwrap_or(2000);
    let store = chengxin_store::open_configured(&args[1], &chengxin_store::KeyConfig::from_env())?;
    let ctx = Arc::new(Context::new(Arc::from(store))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args[2]).await?;
        let addr = listener.local_addr()?;
        let idp = Arc::new(DemoIdp::new(&format!("http://{addr}")));
        let mut tokens = String::new();
        let mut ids = Vec::new();
        for line in std::fs::read_to_string(&args[3])?.lines().take(n) {
            let id = IdNumber::parse(line.trim()).map_err(|e| anyhow::anyhow!("{e}"))?;
            tokens.push_str(&idp.id_token(&id, None, None));
            tokens.push('\n');
            ids.push(id);
        }
        std::fs::write(&args[4], tokens)?;
        let grants = {
            let ctx = Arc::clone(&ctx);
            tokio::task::spawn_blocking(move || party_grants(&ctx, &ids)).await??
        };
        std::fs::write(format!("{}.party", args[4]), grants)?;
        let verifier = Verifier::new(vec![idp.trusted()], MIN_REFETCH).await?;
        let state = AppState::new(ctx).with_oidc(Arc::new(verifier));
        let bench = Router::new()
            .route("/bench/bare", get(bare))
            .route("/bench/me/score-unaudited", get(unaudited))
            .with_state(state.clone());
        let router = chengxin_server::middleware::apply(bench).merge(chengxin_server::app(state));
        eprintln!("read_bench_server on http://{addr}");
        axum::serve(listener, router).await?;
        anyhow::Ok(())
    })
}
