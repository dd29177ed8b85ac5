//! What `chengxin demo` sets up for the web pages: staff accounts for the
//! console (one per role, each with a fresh random password printed once),
//! two parties residents can authorise, and two 信易+ benefits — so every
//! page has something real to show — and the addresses it prints.

use std::net::SocketAddr;

use chengxin_domain::staff::Role;
use chengxin_jobs::Context;

/// A demo staff account: name, role, password.
pub struct DemoStaff {
    pub name: &'static str,
    pub role: Role,
    pub password: String,
}

/// Creates the demo's staff accounts, parties and benefits.
pub fn set_up(ctx: &Context) -> anyhow::Result<Vec<DemoStaff>> {
    let actor = ctx.actor().to_owned();
    let now = chengxin_jobs::staff::now();
    let mut staff = Vec::new();
    for (name, role) in [
        ("demo-admin", Role::Admin),
        ("demo-reviewer", Role::Reviewer),
        ("demo-auditor", Role::Auditor),
    ] {
        // A random password (shown once below), never a fixed one: even a
        // demo server listens on a network.
        let password = random_password();
        chengxin_jobs::staff::add_staff(ctx, name, role, &password, &actor, now)?;
        staff.push(DemoStaff {
            name,
            role,
            password,
        });
    }
    let parties: [(&str, &str, &str, &[&str]); 2] = [
        (
            "DEMO-BANK",
            "绍兴诚信银行（演示）",
            "bank",
            &["loan_discount", "deposit_waiver"],
        ),
        (
            "DEMO-BUS",
            "绍兴公交集团（演示）",
            "transport",
            &["transport_discount"],
        ),
    ];
    for (code, name, kind, purposes) in parties {
        let purposes: Vec<String> = purposes.iter().map(|p| (*p).to_owned()).collect();
        chengxin_jobs::parties::add_party(ctx, code, name, kind, &purposes, &actor)?;
    }
    let today = chengxin_jobs::today();
    let until = today.saturating_add(jiff::Span::new().years(1));
    let benefits = [
        serde_json::json!({
            "code": "DEMO-BUS-20", "provider": "绍兴公交集团（演示）", "sector": "transport",
            "description_zh": "诚信分600分以上乘坐公交享受八折优惠", "description_en": "20% off bus fares from 600 points",
            "benefit": {"kind": "discount", "percent": 20}, "min_score": 600,
            "valid_from": today.to_string(), "valid_until": until.to_string(),
        }),
        serde_json::json!({
            "code": "DEMO-HOTEL-FREE", "provider": "绍兴诚信酒店（演示）", "sector": "hotel_catering",
            "description_zh": "AA级及以上免押金入住", "description_en": "No deposit at check-in from grade AA",
            "benefit": {"kind": "deposit_waiver"}, "min_grade": "AA",
            "valid_from": today.to_string(), "valid_until": until.to_string(),
        }),
    ];
    for b in &benefits {
        let input = chengxin_jobs::scenarios::parse_input(b)
            .map_err(|e| anyhow::anyhow!("demo benefit: {e:?}"))?;
        chengxin_jobs::scenarios::create(ctx, &input, &actor, None, now)
            .map_err(|e| anyhow::anyhow!("demo benefit: {e:?}"))?;
    }
    Ok(staff)
}

/// Prints the pages' addresses and how to sign in to each.
pub fn print_pages(addr: SocketAddr, resident: &str, staff: &[DemoStaff]) {
    println!("\n7. 网页 Web pages (open them in a browser):");
    println!("   公开信息 public rules    http://{addr}/");
    println!("   居民门户 resident portal http://{addr}/portal");
    println!("            sign in on the demo identity provider's page as {resident} (or any listed resident)");
    println!("   管理台   agency console  http://{addr}/console");
    for s in staff {
        println!(
            "            {:<14} {:<9} password {}",
            s.name, s.role, s.password
        );
    }
}

/// 16 random letters and digits.
fn random_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY3479";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}
