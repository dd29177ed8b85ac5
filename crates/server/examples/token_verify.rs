//! Cost of verifying one resident ID token with the key set cached: the
//! whole `Verifier::verify` (header parse, key look-up, signature, claims,
//! ID-number check), per algorithm.
//!
//! `cargo run --release -p chengxin-server --example token_verify [N]`

use std::time::Instant;

use chengxin_server::oidc::{KeySource, OidcConfig, Verifier, DEFAULT_ID_CLAIM, MIN_REFETCH};
use chengxin_testkit::oidc::TestIdp;
use jsonwebtoken::Algorithm;

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let idp = TestIdp::new();
    let config = OidcConfig {
        issuer: idp.issuer.clone(),
        audience: idp.audience.clone(),
        jwks: KeySource::File(idp.jwks_path.clone()),
        id_claim: DEFAULT_ID_CLAIM.to_owned(),
    };
    let verifier = rt
        .block_on(Verifier::new(vec![config], MIN_REFETCH))
        .unwrap();
    let id = chengxin_testkit::id_number("330602", "19900101", 1);
    println!("token verification, key set cached, {n} tokens per algorithm, one thread:");
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
        let token = idp.token_with(alg, &idp.claims(id.as_str()));
        rt.block_on(async {
            for _ in 0..100 {
                verifier.verify(&token).await.unwrap();
            }
            let start = Instant::now();
            for _ in 0..n {
                std::hint::black_box(verifier.verify(&token).await.unwrap());
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            println!(
                "  {alg:?}: {us:.1} µs per token ({:.0} per second)",
                1e6 / us
            );
        });
    }
}
