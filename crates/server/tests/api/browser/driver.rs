//! Starting ChromeDriver and one headless Chromium session for the whole
//! test binary, and the WebDriver commands fantoccini has no method for.
//!
//! The driver runs in its own process group. A small `bash` watchdog holds
//! the read end of a pipe whose write end lives in this process: when the
//! test binary exits (however it exits), the pipe closes, and the watchdog
//! deletes the session (Chromium closes) and then ends the process group.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::NewSessionError;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// Chromium as Debian installs it (override with `CHENGXIN_CHROMIUM`).
const CHROMIUM: &str = "/usr/bin/chromium";
/// ChromeDriver as Debian installs it (override with `CHENGXIN_CHROMEDRIVER`).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The running driver and the session: kept for the life of the process.
pub struct Driver {
    pub client: Client,
    pub session: String,
    /// How long the driver and the browser took to start.
    pub startup: Duration,
    _driver: Child,
    _watchdog: Child,
    /// Closed only when the process exits; that wakes the watchdog.
    _lifeline: ChildStdin,
}

/// Why there is no browser: missing programs (a test may skip) or a failed
/// start (always a failure).
pub enum NoBrowser {
    Missing(String),
    Failed(String),
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> NoBrowser {
    NoBrowser::Failed(format!("{what}: {e}"))
}

fn program(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Starts ChromeDriver and a session, on the runtime of the caller.
pub async fn start(artefacts: &Path) -> Result<Driver, NoBrowser> {
    let chromium = program("CHENGXIN_CHROMIUM", CHROMIUM);
    let chromedriver = program("CHENGXIN_CHROMEDRIVER", CHROMEDRIVER);
    for p in [&chromium, &chromedriver] {
        if !p.exists() {
            return Err(NoBrowser::Missing(format!(
                "{} is not installed (run scripts/browser-test-env.sh as root, or \
                 apt-get install chromium chromium-driver fonts-noto-cjk poppler-utils)",
                p.display()
            )));
        }
    }
    let began = Instant::now();
    std::fs::create_dir_all(artefacts)
        .map_err(|e| failed("creating the artefacts directory", &e))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| failed("finding a free port", &e))?
        .port();
    let mut driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .arg(format!(
            "--log-path={}",
            artefacts.join("chromedriver.log").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| failed("starting chromedriver", &e))?;
    match session(port, &chromium, driver.id()).await {
        Ok((client, session, watchdog, lifeline)) => Ok(Driver {
            client,
            session,
            startup: began.elapsed(),
            _driver: driver,
            _watchdog: watchdog,
            _lifeline: lifeline,
        }),
        Err(e) => {
            // The driver this function started must not outlive it.
            let _ = driver.kill();
            let _ = driver.wait();
            Err(e)
        }
    }
}

/// Opens the session on the driver listening on `port`, and the watchdog.
async fn session(
    port: u16,
    chromium: &Path,
    group: u32,
) -> Result<(Client, String, Child, ChildStdin), NoBrowser> {
    let url = format!("http://127.0.0.1:{port}");
    let client = connect(&url, &capabilities(chromium)).await?;
    let session = client
        .session_id()
        .await
        .map_err(|e| failed("reading the session id", &e))?
        .ok_or_else(|| NoBrowser::Failed("the WebDriver session has no id".into()))?;
    let (watchdog, lifeline) =
        watchdog(port, &session, group).map_err(|e| failed("starting the watchdog", &e))?;
    Ok((client, session, watchdog, lifeline))
}

fn capabilities(chromium: &Path) -> Capabilities {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--lang=zh-CN",
                "--disable-dev-shm-usage", "--no-proxy-server", "--no-first-run",
                "--window-size=1280,900", "--hide-scrollbars",
            ],
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
        },
        "goog:loggingPrefs": { "browser": "ALL" },
        "timeouts": { "pageLoad": 30_000, "script": 30_000 },
    });
    match caps {
        Value::Object(m) => m,
        _ => unreachable!("an object"),
    }
}

/// Connects to the driver once it listens (it takes a moment to start).
async fn connect(url: &str, caps: &Capabilities) -> Result<Client, NoBrowser> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Client::with_capabilities_and_connector(url, caps, HttpConnector::new()).await {
            Ok(c) => return Ok(c),
            // Not listening yet.
            Err(
                NewSessionError::Failed(_) | NewSessionError::FailedC(_) | NewSessionError::Lost(_),
            ) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                return Err(NoBrowser::Failed(format!(
                    "starting a Chromium session through chromedriver: {e}"
                )))
            }
        }
    }
}

/// `bash` that waits for this process to exit, then deletes the session
/// (so ChromeDriver closes Chromium) and ends the driver's process group.
fn watchdog(port: u16, session: &str, group: u32) -> std::io::Result<(Child, ChildStdin)> {
    let script = r#"
        read -r _
        if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
            printf 'DELETE /session/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
            read -r -t 5 _ <&3
        fi
        kill -TERM -- "-$3" 2>/dev/null
        sleep 1
        kill -KILL -- "-$3" 2>/dev/null
        exit 0
    "#;
    let mut child = Command::new("bash")
        .args(["-c", script, "watchdog"])
        .arg(port.to_string())
        .arg(session)
        .arg(group.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lifeline = child.stdin.take().expect("piped stdin");
    // Nothing is written but this flush: the pipe's closing is the signal.
    lifeline.flush()?;
    Ok((child, lifeline))
}

/// A WebDriver command on the session: `method` to `session/{id}/{path}`.
#[derive(Debug)]
pub struct SessionCmd {
    pub method: http::Method,
    pub path: &'static str,
    pub body: Option<Value>,
}

impl SessionCmd {
    /// Chromium's own log of the page (console, failed loads), emptied by
    /// reading: chromedriver's `POST /session/{id}/se/log`.
    pub fn browser_log() -> Self {
        SessionCmd {
            method: http::Method::POST,
            path: "se/log",
            body: Some(json!({ "type": "browser" })),
        }
    }

    /// A Chrome DevTools Protocol command: chromedriver's
    /// `POST /session/{id}/goog/cdp/execute`.
    pub fn cdp(cmd: &str, params: Value) -> Self {
        SessionCmd {
            method: http::Method::POST,
            path: "goog/cdp/execute",
            body: Some(json!({ "cmd": cmd, "params": params })),
        }
    }
}

impl WebDriverCompatibleCommand for SessionCmd {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session.expect("a session");
        base.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}
