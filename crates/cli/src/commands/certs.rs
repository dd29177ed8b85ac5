//! `keys rotate`, `cert verify` and `partner add|list`: this city's score
//! certificate keys, verifying certificates offline, and partner cities.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chengxin_jobs::certificates::{self, CertConfig, Verdict};
use chengxin_jobs::Context;

use crate::args::{CertArgs, KeysCommand, PartnerCommand};

/// The certificate settings the command line and environment give.
pub fn config(a: &CertArgs) -> CertConfig {
    CertConfig {
        city_url: a.city_url.clone(),
        city_code: a.city_code.clone(),
        keys_dir: a.cert_keys.clone(),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// `keys rotate`.
pub fn keys(ctx: &Context, k: KeysCommand) -> anyhow::Result<ExitCode> {
    let KeysCommand::Rotate { json } = k;
    let r = certificates::rotate(ctx, now())?;
    if json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "new certificate signing key 新证书签名密钥 {} ({}); {} older key(s) retired, published until their certificates expire",
            r.kid,
            r.file.display(),
            r.retired
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read(file: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    Ok(text)
}

/// `cert verify FILE` with the local database's key sets.
pub fn verify(ctx: &Context, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let jws = read(file)?;
    let verdict = certificates::verify(ctx, jws.trim(), now())?;
    report(&verdict, json)
}

/// `cert verify FILE --jwks FILE`: no database.
pub fn verify_offline(file: &Path, jwks: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let jws = read(file)?;
    let keys = read(jwks)?;
    let verdict = certificates::verify_offline(jws.trim(), &keys, now())
        .map_err(|e| anyhow::anyhow!("{}: {e}", jwks.display()))?;
    report(&verdict, json)
}

fn report(v: &Verdict, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string(v)?);
    } else {
        let show = |k: &str, val: Option<String>| {
            if let Some(val) = val {
                println!("{k:<14} {val}");
            }
        };
        show("city", v.city.clone());
        show("iss", v.issuer.clone());
        show("sub", v.subject.clone());
        show("grade", v.grade.clone());
        show("local_grade", v.local_grade.clone());
        show("threshold", v.threshold.map(|t| t.to_string()));
        show("met", v.met.map(|m| m.to_string()));
        show("model_version", v.model_version.clone());
        show("iat", v.issued_at.clone());
        show("exp", v.expires_at.clone());
    }
    match v.reason {
        None if v.valid => {
            if !json {
                println!("证书有效 valid");
            }
            Ok(ExitCode::SUCCESS)
        }
        reason => {
            let reason = reason.map_or("invalid", |r| r.code());
            let text = v.reason.map(|r| r.to_string()).unwrap_or_default();
            eprintln!("error: certificate invalid ({reason}): {text}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `partner add|list`.
pub fn partner(ctx: &Context, p: PartnerCommand) -> anyhow::Result<ExitCode> {
    match p {
        PartnerCommand::Add {
            city,
            name,
            jwks,
            grade_map,
        } => {
            let (partner, created) = certificates::add_partner(
                ctx,
                &city,
                &name,
                &read(&jwks)?,
                &read(&grade_map)?,
                now(),
            )?;
            println!(
                "partner city 互认城市 {} {} ({}): {} key(s), {} grade(s) mapped",
                partner.code,
                if created { "added" } else { "updated" },
                partner.issuer,
                partner.kids.len(),
                partner.grades.len()
            );
        }
        PartnerCommand::List { json } => {
            let partners = certificates::list_partners(ctx)?;
            if json {
                println!("{}", serde_json::to_string(&partners)?);
            } else {
                for p in partners {
                    let grades: Vec<String> =
                        p.grades.iter().map(|(t, o)| format!("{t}→{o}")).collect();
                    println!(
                        "{:<12} {:<12} {} keys {} grades {}",
                        p.code,
                        p.name,
                        p.issuer,
                        p.kids.join(","),
                        grades.join(" ")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
