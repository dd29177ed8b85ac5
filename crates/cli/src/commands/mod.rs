//! One module per command.

mod admin;
mod calendar;
mod certs;
mod daily;
mod data;
mod demo;
mod demo_web;
mod model;
mod party;
mod scenario;
mod score;
mod serve;
mod staff;
mod versions;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chengxin_domain::Model;
use chengxin_jobs::catalogue::Kind;
use chengxin_jobs::Context;

use crate::args::{Cli, Command};

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let actor = chengxin_jobs::operator(&operator_name(cli.actor.as_deref())?);
    let keys = key_config(cli.audit_key.clone());
    let certs = certs::config(&cli.certs);
    let open = |url: &str| {
        open(url, &keys).map(|ctx| {
            ctx.with_actor(actor.clone())
                .with_certificates(certs.clone())
        })
    };
    match cli.command {
        Command::Demo(a) => demo::run(&a, &actor, cli.audit_key.as_deref(), certs.clone()),
        Command::Generate(a) => data::generate(&a),
        Command::Import(a) => data::import(&open(&cli.db)?, &a),
        Command::Recompute(a) => data::recompute(&open(&cli.db)?, &a),
        Command::Daily(a) => daily::run(&open(&cli.db)?, &a),
        Command::Score(a) => score::run(&open(&cli.db)?, &a),
        Command::Model(m) => model::run(&open(&cli.db)?, m),
        Command::Catalogue(c) => versions::run(&open(&cli.db)?, Kind::Catalogue, c),
        Command::Templates(c) => versions::run(&open(&cli.db)?, Kind::Templates, c),
        Command::Serve(a) => serve::run(
            Arc::new(open(&cli.db)?),
            serve::ServeOptions {
                listen: a.listen,
                oidc: a.oidc,
                demo: a.demo,
            },
            None,
        ),
        Command::Unit(u) => admin::unit(&open(&cli.db)?, u),
        Command::Party(p) => party::run(&open(&cli.db)?, p),
        Command::Staff(s) => staff::run(&open(&cli.db)?, s),
        Command::Scenario(s) => scenario::run(&open(&cli.db)?, s),
        Command::Audit(crate::args::AuditCommand::Witness { checkpoint, key }) => {
            admin::witness(&checkpoint, &key)
        }
        Command::Audit(a) => admin::audit(&open(&cli.db)?, a),
        Command::Calendar(c) => calendar::run(&open(&cli.db)?, c),
        Command::DataKey(k) => admin::data_key(&cli.db, &keys, &actor, k),
        Command::Keys(k) => certs::keys(&open(&cli.db)?, k),
        Command::Cert(crate::args::CertCommand::Verify { file, jwks, json }) => match jwks {
            Some(jwks) => certs::verify_offline(&file, &jwks, json),
            None => certs::verify(&open(&cli.db)?, &file, json),
        },
        Command::Partner(p) => certs::partner(&open(&cli.db)?, p),
    }
}

/// The operator's name for the audit log: `--actor`, else the OS user.
/// Refused when blank or when it holds characters that could forge a log
/// line; never silently replaced by a shared name.
fn operator_name(given: Option<&str>) -> anyhow::Result<String> {
    let name = match given {
        Some(n) => n.trim().to_owned(),
        None => match std::env::var("USER").ok().filter(|u| !u.trim().is_empty()) {
            Some(u) => u.trim().to_owned(),
            None => std::process::Command::new("id")
                .arg("-un")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default(),
        },
    };
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && chengxin_domain::text::check(&name).is_ok()
        && !name.contains(char::is_whitespace);
    if !ok {
        anyhow::bail!(
            "cannot tell who runs this command: give --actor NAME (1 to 64 characters, no spaces) \
             or set USER (无法确定操作员：请用 --actor 指定)"
        );
    }
    Ok(name)
}

/// The keys the environment names, with `--audit-key` if given.
pub fn key_config(audit_key: Option<std::path::PathBuf>) -> chengxin_store::KeyConfig {
    let mut keys = chengxin_store::KeyConfig::from_env();
    if audit_key.is_some() {
        keys.audit_key_file = audit_key;
    }
    keys
}

/// Opens the store with `keys` and binds the model in force.
pub fn open(url: &str, keys: &chengxin_store::KeyConfig) -> anyhow::Result<Context> {
    let store = chengxin_store::open_configured(url, keys)
        .with_context(|| format!("cannot open the database {}", redact(url)))?;
    Ok(Context::new(Arc::from(store))?)
}

/// A URL with any password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Prints a grade distribution table with the grades of `model`, highest first.
pub fn print_grades(model: &Model, rows: &[(Option<String>, u64)]) {
    print!("{}", grade_table(model, rows));
}

fn grade_table(model: &Model, rows: &[(Option<String>, u64)]) -> String {
    use std::fmt::Write as _;
    let total: u64 = rows.iter().map(|r| r.1).sum();
    let mut out = String::from("等级 Grade        人数 People     占比 Share\n");
    let mut bands: Vec<_> = model.doc.grades.iter().collect();
    bands.sort_by_key(|g| std::cmp::Reverse(g.min));
    let grades: Vec<&str> = bands.iter().map(|g| g.grade.as_str()).collect();
    // Rows under a grade the model does not have (none, if the counts are
    // the model's own) still show, so that the shares add up.
    let others = rows
        .iter()
        .filter_map(|r| r.0.as_deref())
        .filter(|g| !grades.contains(g))
        .collect::<Vec<_>>();
    for grade in grades.into_iter().chain(others) {
        let n = rows
            .iter()
            .find(|r| r.0.as_deref() == Some(grade))
            .map_or(0, |r| r.1);
        let _ = writeln!(out, "  {grade:<14} {n:>10}    {:>6.2}%", pct(n, total));
    }
    let none = rows.iter().find(|r| r.0.is_none()).map_or(0, |r| r.1);
    let _ = writeln!(
        out,
        "  {:<14} {none:>10}    {:>6.2}%",
        "无分 none",
        pct(none, total)
    );
    let _ = writeln!(out, "  {:<14} {total:>10}", "合计 total");
    out
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use chengxin_domain::{Catalogue, Model};

    #[test]
    fn the_grade_table_lists_the_model_grades() {
        let catalogue = Catalogue::builtin();
        let text = chengxin_domain::model::DEFAULT_MODEL
            .replace("grade = \"AAA\"", "grade = \"S\"")
            .replace("grade = \"C\"", "grade = \"D\"");
        let model = Model::parse(&text, &catalogue).unwrap();
        let rows = [
            (Some("S".to_owned()), 1),
            (Some("D".to_owned()), 3),
            (None, 4),
        ];
        let table = super::grade_table(&model, &rows);
        let firsts: Vec<&str> = table
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(
            firsts,
            ["S", "AA", "A", "B", "D", "无分", "合计"],
            "{table}"
        );
        assert!(
            table.contains("  S                       1     12.50%"),
            "{table}"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
