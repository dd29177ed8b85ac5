//! Browser tests in a real headless Chromium, driven over WebDriver.
//!
//! One ChromeDriver and one browser session serve the whole test binary.
//! fantoccini's client lives on the tokio runtime it was created on, and a
//! `#[tokio::test]` runtime ends with its test, so the browser has its own
//! runtime, kept in a static with the session. [`run`] takes the browser
//! for one test at a time (tests wait for each other), resets it (cookies,
//! storage, viewport, log), and runs the test's future on that runtime; the
//! future may start a `TestApp` there too. Write browser tests as plain
//! `#[test]` functions (not `#[tokio::test]`):
//!
//! ```ignore
//! #[test]
//! fn the_score_page_on_a_phone() {
//!     browser::run(|b| async move {
//!         on_each_backend_demo(|app| { let b = b.clone(); async move {
//!             b.viewport_phone().await;
//!             b.goto(&app.url("/me")).await;
//!             b.screenshot("the_score_page_on_a_phone", "score").await;
//!             b.assert_clean("score").await;
//!             pages_check::assert_page_ok(&b.source().await.unwrap());
//!         }}).await;
//!     });
//! }
//! ```
//!
//! Without Chromium the tests print a line and pass, unless
//! `CHENGXIN_REQUIRE_BROWSER=1` (CI sets it), where they fail. Screenshots
//! go to `<target dir>/browser-artefacts/<test>/<nn>-<page>.png`, and
//! ChromeDriver's log to `<target dir>/browser-artefacts/chromedriver.log`.

mod demo_idp;
mod driver;
mod harness;
mod pdf;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use fantoccini::wd::{PrintConfiguration, PrintSize};
use fantoccini::Client;
use serde_json::{json, Value};

use driver::{Driver, NoBrowser, SessionCmd};
pub use pdf::{pdf_qr_codes, pdf_text};

/// A test that takes longer than this fails (a WebDriver wait can hang).
const TEST_TIMEOUT: Duration = Duration::from_secs(180);

/// The phone viewport: CSS pixels, drawn at twice the density.
const PHONE: (u32, u32, f64) = (360, 800, 2.0);
/// The desktop window.
const DESKTOP: (u32, u32) = (1280, 900);

/// The browser, its runtime, and the lock that gives it to one test at a time.
struct Shared {
    runtime: tokio::runtime::Runtime,
    driver: Driver,
    lock: Mutex<()>,
}

static SHARED: OnceLock<Result<Shared, NoBrowser>> = OnceLock::new();

/// Where screenshots and the driver's log go: `browser-artefacts` in the
/// target directory (`CARGO_TARGET_DIR`, or the workspace's `target`).
pub fn artefacts_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| workspace.join("target"), |t| workspace.join(t));
    target.join("browser-artefacts")
}

fn required() -> bool {
    std::env::var("CHENGXIN_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// The shared browser, started on first use; `None` means skip the test.
fn shared() -> Option<&'static Shared> {
    let shared = SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("browser")
            .enable_all()
            .build()
            .map_err(|e| NoBrowser::Failed(format!("cannot build the browser's runtime: {e}")))?;
        let driver = runtime.block_on(driver::start(&artefacts_dir()))?;
        eprintln!(
            "browser: chromedriver and Chromium session {} started in {} ms",
            driver.session,
            driver.startup.as_millis()
        );
        Ok(Shared {
            runtime,
            driver,
            lock: Mutex::new(()),
        })
    });
    match shared {
        Ok(s) => Some(s),
        Err(NoBrowser::Failed(why)) => panic!("the browser did not start: {why}"),
        Err(NoBrowser::Missing(why)) if required() => {
            panic!("CHENGXIN_REQUIRE_BROWSER=1 but {why}")
        }
        Err(NoBrowser::Missing(why)) => {
            eprintln!("browser test skipped: {why}");
            None
        }
    }
}

/// Runs one browser test: waits for the browser, resets it, then runs the
/// future `test` makes on the browser's runtime. A panic in the test is
/// the test's failure. Call from a plain `#[test]`.
pub fn run<F, Fut>(test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(shared) = shared() else { return };
    let _turn = shared.lock.lock().unwrap_or_else(PoisonError::into_inner);
    let browser = Browser {
        client: shared.driver.client.clone(),
        state: Arc::default(),
    };
    shared.runtime.block_on(async {
        browser.reset().await;
        tokio::time::timeout(TEST_TIMEOUT, test(browser.clone()))
            .await
            .unwrap_or_else(|_| panic!("the browser test took longer than {TEST_TIMEOUT:?}"));
    });
}

/// What a test did with the browser: for the reset, and screenshot numbers.
#[derive(Default)]
struct State {
    origins: BTreeSet<String>,
    shots: HashMap<String, usize>,
}

/// The shared browser, for one test. Derefs to fantoccini's [`Client`] for
/// everything else (`find`, `form`, `execute`, `current_url`, `source`...).
#[derive(Clone)]
pub struct Browser {
    client: Client,
    state: Arc<Mutex<State>>,
}

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn cmd(&self, cmd: SessionCmd) -> Value {
        let what = format!("{} {}", cmd.method, cmd.path);
        self.client
            .issue_cmd(cmd)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {what}: {e}"))
    }

    /// A Chrome DevTools Protocol command.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(SessionCmd::cdp(cmd, params)).await
    }

    /// Forgets what the previous test left: cookies, the storage of the
    /// origins it visited, the viewport, the page and the console log.
    async fn reset(&self) {
        let _ = self.client.goto("about:blank").await;
        self.cdp("Network.clearBrowserCookies", json!({})).await;
        let origins = std::mem::take(&mut self.state().origins);
        for origin in origins {
            self.cdp(
                "Storage.clearDataForOrigin",
                json!({ "origin": origin, "storageTypes": "all" }),
            )
            .await;
        }
        self.viewport_desktop().await;
        self.browser_log().await;
    }

    /// A 360 × 800 phone (mobile emulation: the page's viewport meta counts).
    pub async fn viewport_phone(&self) {
        let (width, height, scale) = PHONE;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": scale, "mobile": true }),
        )
        .await;
    }

    /// A 1280 × 900 desktop window (the default of every test).
    pub async fn viewport_desktop(&self) {
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        let (width, height) = DESKTOP;
        self.client
            .set_window_size(width, height)
            .await
            .expect("set the window size");
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        if let Ok(u) = url::Url::parse(url) {
            self.state()
                .origins
                .insert(u.origin().ascii_serialization());
        }
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Saves a screenshot of the viewport as
    /// `browser-artefacts/<test>/<nn>-<page>.png`; returns its path. The
    /// test's folder is emptied at its first screenshot of a run.
    pub async fn screenshot(&self, test: &str, page: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("take a screenshot");
        let dir = artefacts_dir().join(file_name(test));
        let n = {
            let mut state = self.state();
            let n = state.shots.entry(test.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        if n == 1 {
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).expect("create the screenshot folder");
        let path = dir.join(format!("{n:02}-{}.png", file_name(page)));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// The browser's log since it was last read (reading empties it).
    async fn browser_log(&self) -> Vec<Value> {
        match self.cmd(SessionCmd::browser_log()).await {
            Value::Array(entries) => entries,
            other => panic!("the browser log is not a list: {other}"),
        }
    }

    /// What went wrong on the page since the last check: console errors
    /// (uncaught exceptions, `console.error`, failed loads) and requests
    /// of the current document answered with a status of 400 or more.
    pub async fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .browser_log()
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| format!("console error: {}", e["message"].as_str().unwrap_or("?")))
            .collect();
        let failed = self
            .client
            .execute(
                "return performance.getEntriesByType('navigation')
                    .concat(performance.getEntriesByType('resource'))
                    .filter(e => e.responseStatus >= 400)
                    .map(e => e.name + ' answered ' + e.responseStatus);",
                vec![],
            )
            .await
            .expect("read the page's performance entries");
        for f in failed.as_array().into_iter().flatten() {
            problems.push(format!("failed request: {}", f.as_str().unwrap_or("?")));
        }
        problems
    }

    /// Fails the test if [`Browser::problems`] finds anything on `page`.
    pub async fn assert_clean(&self, page: &str) {
        let problems = self.problems().await;
        assert!(
            problems.is_empty(),
            "page {page} is not clean:\n  - {}",
            problems.join("\n  - ")
        );
    }

    /// The current page printed to PDF (A4, with backgrounds).
    pub async fn print_pdf(&self) -> Vec<u8> {
        let config = PrintConfiguration::builder()
            .size(PrintSize::A4)
            .background(true)
            .build()
            .expect("a valid print configuration");
        self.client.print(config).await.expect("print to PDF")
    }
}

/// A router served on 127.0.0.1 for one test (pages the app under test
/// does not have, e.g. an OIDC client's callback); stops when dropped.
pub struct Site {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on a free port of 127.0.0.1, on the current runtime.
pub async fn serve(router: axum::Router) -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("serve the test site");
    });
    Site { base, task }
}

/// `name` as a file name: letters, digits, `-` and `_` kept.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
