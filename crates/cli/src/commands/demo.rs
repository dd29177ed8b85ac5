//! `chengxin demo`: a synthetic city end to end on the embedded SQLite store,
//! then the HTTP service with demo units, a live push and its effect.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chengxin_domain::IdNumber;
use chengxin_ingest::Format;
use chengxin_jobs::{units, Context, ImportOptions, Target};
use chengxin_store::Cause;
use chengxin_synth::GenerateOptions;

use crate::args::DemoArgs;
use crate::progress::Bar;

/// Demo units: code, name, items.
const UNITS: &[(&str, &str, &str)] = &[
    ("SX-TAX", "绍兴市税务局", "P01,S01"),
    ("SX-AMR", "绍兴市市场监督管理局", "P01,S01"),
    ("SX-COURT", "绍兴市中级人民法院", "S01,B02"),
    ("SX-CIV", "绍兴市文明办", "O01"),
    ("SX-VOL", "绍兴市志愿者联合会", "O03"),
];

/// Files beside the demo database that the demo's store makes.
const SUFFIXES: &[&str] = &[
    "",
    "-wal",
    "-shm",
    ".key",
    "-reads",
    "-reads-wal",
    "-reads-shm",
    ".audit-key",
    ".cert-keys",
];

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut p = file.to_path_buf().into_os_string();
    p.push(suffix);
    PathBuf::from(p)
}

/// The files a demo at `file` makes: the database and its companions, the
/// generated data, and the marker that lists them.
fn demo_files(file: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = SUFFIXES.iter().map(|s| with_suffix(file, s)).collect();
    out.push(file.with_extension("jsonl"));
    out
}

/// Clears what an earlier demo at `file` made, and only that: the marker
/// `FILE.demo` lists the files the demo created. A file in the way that no
/// demo made is refused, never deleted. Then writes a new marker.
fn prepare(file: &Path) -> anyhow::Result<()> {
    let marker = with_suffix(file, ".demo");
    if let Ok(listed) = std::fs::read_to_string(&marker) {
        for line in listed.lines().filter(|l| !l.is_empty()) {
            // The certificate key directory holds only the demo's keys.
            let removed = if Path::new(line).is_dir() {
                std::fs::remove_dir_all(line)
            } else {
                std::fs::remove_file(line)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot remove {line}")),
            }
        }
        std::fs::remove_file(&marker)?;
    }
    let files = demo_files(file);
    if let Some(taken) = files.iter().find(|p| p.exists()) {
        anyhow::bail!(
            "{} exists and was not made by `chengxin demo`: the demo never deletes a file it did not create; choose another --file or move it away",
            taken.display()
        );
    }
    let list: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .and_then(|mut f| f.write_all(list.as_bytes()))
        .with_context(|| format!("cannot create {}", marker.display()))?;
    Ok(())
}

/// Runs the demo. Its audit key is `--audit-key` if given, else
/// `FILE.audit-key` beside the demo database (a demo convenience a
/// deployment must not copy: there the audit key is kept elsewhere).
pub fn run(
    a: &DemoArgs,
    actor: &str,
    audit_key: Option<&Path>,
    mut certs: chengxin_jobs::certificates::CertConfig,
) -> anyhow::Result<ExitCode> {
    let as_of = chengxin_jobs::today();
    prepare(&a.file)?;
    let url = format!("sqlite://{}", a.file.display());
    let mut keys = chengxin_store::KeyConfig::from_env();
    keys.audit_key_file = Some(
        audit_key
            .map(Path::to_path_buf)
            .or(keys.audit_key_file)
            .unwrap_or_else(|| with_suffix(&a.file, ".audit-key")),
    );
    // Like the audit key: beside the demo database unless given.
    if certs.keys_dir.is_none() {
        certs.keys_dir = Some(with_suffix(&a.file, ".cert-keys"));
    }
    let ctx = super::open(&url, &keys)?
        .with_actor(actor)
        .with_certificates(certs);
    let kid = chengxin_jobs::certificates::rotate(&ctx, jiff::Timestamp::now().as_second())?.kid;
    println!(
        "诚信分演示 Chengxin demo: {} synthetic residents into {}",
        a.residents,
        a.file.display()
    );

    let data = a.file.with_extension("jsonl");
    let opts = GenerateOptions {
        residents: a.residents,
        seed: 2026,
        as_of,
    };
    let file = std::fs::File::create(&data)
        .with_context(|| format!("cannot create {}", data.display()))?;
    let stats = chengxin_synth::generate(&opts, file)?;
    println!(
        "1. generated {} records → {}",
        stats.records,
        data.display()
    );

    let input = std::io::BufReader::new(std::fs::File::open(&data)?);
    let bar = Bar::spinner("import");
    let opts = ImportOptions {
        format: Format::Jsonl,
        chunk: 20_000,
        errors: None,
        as_of,
    };
    let s = chengxin_jobs::import(&ctx, input, opts, &bar)?;
    bar.finish();
    println!(
        "2. imported: accepted {} duplicate {} corrected {} rejected {} in {:.1} s",
        s.accepted, s.duplicate, s.corrected, s.rejected, s.seconds
    );

    let bar = Bar::new("recompute");
    let r = chengxin_jobs::recompute(&ctx, Target::Everyone, as_of, Cause::Recompute, &bar)?;
    bar.finish();
    println!(
        "3. recomputed {} people as of {as_of} in {:.2} s",
        r.persons, r.seconds
    );

    println!("   certificate signing key 证书签名密钥: {kid}");

    let (model, counts) = chengxin_jobs::grade_distribution(&ctx)?;
    println!(
        "\n诚信分等级分布 Grade distribution (model {}):",
        model.version
    );
    super::print_grades(ctx.scorer(model)?.engine.model(), &counts);
    if a.no_serve {
        return Ok(ExitCode::SUCCESS);
    }

    println!("\n4. demo units (协同单位) and their API keys:");
    let mut tax_key = String::new();
    for (code, name, items) in UNITS {
        let items: Vec<String> = items.split(',').map(str::to_owned).collect();
        let (_, key) = units::add_unit(&ctx, code, name, &items, ctx.actor())?;
        println!("   {code:<9} {:<10} {key}", items.join(","));
        if *code == "SX-TAX" {
            tax_key = key;
        }
    }
    let staff = super::demo_web::set_up(&ctx)?;
    let (id, name) = pick_person(&ctx, &data, as_of)?;
    let ctx = Arc::new(ctx);
    let watcher = Arc::clone(&ctx);
    let db = a.file.display().to_string();
    let ready = Box::new(move |addr: SocketAddr| {
        std::thread::spawn(move || {
            if let Err(e) = show_push(&watcher, addr, &tax_key, &id, &name, &db) {
                eprintln!("demo push failed: {e:#}");
            }
            super::demo_web::print_pages(addr, id.as_str(), &staff);
            println!(
                "\n(The ID numbers above are synthetic, from the demo generator.) Ctrl-C stops the server."
            );
        });
    });
    let opts = super::serve::ServeOptions {
        listen: a.listen,
        oidc: crate::args::OidcArgs::default(),
        demo: true,
    };
    super::serve::run(ctx, opts, Some(ready))
}

/// An eligible resident without penalties, from the generated file.
fn pick_person(
    ctx: &Context,
    data: &std::path::Path,
    as_of: jiff::civil::Date,
) -> anyhow::Result<(IdNumber, String)> {
    let file = std::io::BufReader::new(std::fs::File::open(data)?);
    for line in file.lines().take(5000) {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let Some(id) = v["id_number"]
            .as_str()
            .and_then(|s| IdNumber::parse(s).ok())
        else {
            continue;
        };
        if let Some(x) = chengxin_jobs::explain(ctx, &id, as_of)? {
            let penalised = x.evaluation().contributions.iter().any(|c| c.points < 0);
            if x.evaluation().eligible && !penalised && x.evaluation().score.unwrap_or(0) >= 600 {
                return Ok((id, v["name"].as_str().unwrap_or_default().to_owned()));
            }
        }
    }
    anyhow::bail!("no suitable demo resident found")
}

fn penalty_json(source_id: &str, id: &IdNumber, name: &str, on: jiff::civil::Date) -> String {
    serde_json::json!({
        "source_id": source_id, "item": "P01", "id_number": id.as_str(), "name": name,
        "fields": {"level": "serious", "decided_on": on.to_string(), "authority": "绍兴市税务局",
                   "case_no": format!("绍税罚〔{}〕{}号", on.year(), source_id.len()), "domain": "tax"}
    })
    .to_string()
}

/// Pushes a penalty through the running server and shows the score before and after.
fn show_push(
    ctx: &Context,
    addr: SocketAddr,
    key: &str,
    id: &IdNumber,
    name: &str,
    db: &str,
) -> anyhow::Result<()> {
    let today = chengxin_jobs::today();
    let score_of = || -> anyhow::Result<i32> {
        let x = chengxin_jobs::explain(ctx, id, today)?.context("demo person vanished")?;
        Ok(x.stored.and_then(|s| s.state.score).unwrap_or_default())
    };
    let before = score_of()?;
    let body = penalty_json("DEMO-PENALTY-1", id, name, today);
    let (status, response) = request(
        addr,
        "POST /api/v1/records",
        &[
            ("Authorization", &format!("Bearer {key}")),
            ("Content-Type", "application/json"),
        ],
        &body,
    )?;
    let after = score_of()?;
    println!(
        "\n5. the demo pushed a serious tax penalty for {} over HTTP:",
        id.masked()
    );
    println!("   HTTP {status} {response}");
    println!("   诚信分 score {before} → {after}");
    println!("\nTry it yourself (another penalty for the same resident), then see the score fall again:\n");
    let body = penalty_json("DEMO-PENALTY-2", id, name, today);
    println!(
        "curl -s -X POST http://{addr}/api/v1/records -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' -d '{body}'\n"
    );
    println!("chengxin --db sqlite://{db} score {}\n", id.as_str());
    show_sign_in(addr, id)?;
    Ok(())
}

/// Signs in as the resident through the demo identity provider, reads
/// `GET /api/v1/me` with the token, and prints the commands that do it.
fn show_sign_in(addr: SocketAddr, id: &IdNumber) -> anyhow::Result<()> {
    let form = format!("grant_type=urn:chengxin:demo&id_number={}", id.as_str());
    let (status, body) = request(
        addr,
        "POST /demo-idp/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )?;
    anyhow::ensure!(status == 200, "demo token: HTTP {status} {body}");
    let token: serde_json::Value = serde_json::from_str(&body)?;
    let token = token["id_token"].as_str().context("no id_token")?;
    let auth = format!("Bearer {token}");
    let (status, me) = request(addr, "GET /api/v1/me", &[("Authorization", &auth)], "")?;
    println!("6. 居民实名登录 the resident signed in with the demo identity provider (demo mode only) and read GET /api/v1/me:");
    println!("   HTTP {status} {me}");
    println!("\nSign in as that resident yourself and read your own data:\n");
    println!(
        "TOKEN=$(curl -s -X POST http://{addr}/demo-idp/token -d grant_type=urn:chengxin:demo -d id_number={} | sed -E 's/.*\"id_token\":\"([^\"]+)\".*/\\1/')",
        id.as_str()
    );
    println!("curl -s http://{addr}/api/v1/me -H \"Authorization: Bearer $TOKEN\"\n");
    println!("(The login page for browsers is http://{addr}/demo-idp/authorize, reached through an OIDC client with PKCE.)");
    Ok(())
}

/// A minimal HTTP/1.1 request, so the demo needs no HTTP client library.
/// `line` is the method and path, e.g. `GET /api/v1/me`.
fn request(
    addr: SocketAddr,
    line: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    let mut head = format!("{line} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(
        s,
        "{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok((status, body))
}
