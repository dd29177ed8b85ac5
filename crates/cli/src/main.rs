//! `chengxin`: the operators' command line and the HTTP service of the
//! Shaoxing personal integrity score platform. Kept thin: parsing arguments
//! and printing; the work is in `chengxin-jobs`.

mod args;
mod commands;
mod progress;

use clap::Parser as _;

/// A reader that stops reading (`chengxin model simulate … | head`) ends the
/// command quietly with status 141 (128 + SIGPIPE, as a shell reports a tool
/// its pipe ended), as it would end other Unix tools, instead of with a
/// panic from `println!` (Rust ignores SIGPIPE, so the write fails instead).
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> std::process::ExitCode {
    quiet_on_broken_pipe();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line, not clap's paragraph: operators script this.
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see --help)");
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHENGXIN_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
