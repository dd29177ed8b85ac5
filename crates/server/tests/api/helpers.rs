//! A running server on a random port over a fresh database, and helpers to
//! call it.

use std::sync::Arc;

use chengxin_jobs::units::{self, Unit};
use chengxin_jobs::Context;
use chengxin_server::demo_idp::DemoIdp;
use chengxin_server::oidc::{KeySource, OidcConfig, Verifier};
use chengxin_server::{AppState, Limits};
use chengxin_testkit::oidc::TestIdp;
use chengxin_testkit::TestDb;
use jiff::civil::Date;
use jiff::ToSpan;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// An `Idempotency-Key` no other batch of this process used.
pub fn fresh_key() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("test-{}-{n}", std::process::id())
}

/// A server running in this process, reached over 127.0.0.1.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: &'static str,
    /// The identity provider the server trusts: mints residents' tokens.
    pub idp: &'static TestIdp,
    /// The server's token verifier (to look at its key sets).
    pub verifier: Arc<Verifier>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The context and database: PostgreSQL's synchronous clients must be
    /// dropped off the async threads, so [`Drop`] takes care of them.
    held: Option<(Arc<Context>, TestDb)>,
}

impl TestApp {
    /// Starts a server over `db` with the default limits.
    pub async fn spawn(db: TestDb) -> TestApp {
        TestApp::spawn_with(db, Limits::default()).await
    }

    /// Starts a server over `db` with the given limits, trusting the shared
    /// test identity provider.
    pub async fn spawn_with(db: TestDb, limits: Limits) -> TestApp {
        TestApp::spawn_trusting(db, limits, vec![test_issuer()]).await
    }

    /// Starts a server over `db` trusting these identity providers.
    pub async fn spawn_trusting(db: TestDb, limits: Limits, issuers: Vec<OidcConfig>) -> TestApp {
        TestApp::spawn_full(db, limits, issuers, false, None).await
    }

    /// Starts a server over `db` as the city `code` whose URL is the
    /// server's own, signing certificates with the keys in `keys_dir`.
    pub async fn spawn_city(db: TestDb, code: &str, keys_dir: std::path::PathBuf) -> TestApp {
        let city = Some((code.to_owned(), keys_dir));
        TestApp::spawn_full(db, Limits::default(), vec![test_issuer()], false, city).await
    }

    async fn spawn_full(
        db: TestDb,
        limits: Limits,
        mut issuers: Vec<OidcConfig>,
        demo: bool,
        city: Option<(String, std::path::PathBuf)>,
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let demo = demo.then(|| Arc::new(DemoIdp::new(&format!("http://{addr}"))));
        if let Some(idp) = &demo {
            issuers.push(idp.trusted());
        }
        let verifier = Arc::new(
            Verifier::new(issuers, chengxin_server::oidc::MIN_REFETCH)
                .await
                .expect("key sets load"),
        );
        let (ctx, db) = tokio::task::spawn_blocking(move || {
            let mut ctx = Context::new(Arc::from(db.open())).unwrap();
            if let Some((code, keys)) = city {
                ctx = ctx.with_certificates(chengxin_jobs::certificates::CertConfig {
                    city_url: format!("http://{addr}"),
                    city_code: code,
                    keys_dir: Some(keys),
                });
            }
            (Arc::new(ctx), db)
        })
        .await
        .unwrap();
        let backend = ctx.store.backend();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut state =
            AppState::with_limits(Arc::clone(&ctx), limits).with_oidc(Arc::clone(&verifier));
        if let Some(idp) = demo {
            state = state.with_demo(idp);
        }
        let server = tokio::spawn(chengxin_server::serve(state, listener, async {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            backend,
            idp: TestIdp::shared(),
            verifier,
            shutdown: Some(tx),
            server: Some(server),
            held: Some((ctx, db)),
        }
    }

    /// A valid ID token (EdDSA) for the resident with `id_number`: send it
    /// as the key of [`TestApp::get`].
    pub fn resident_token(&self, id_number: &str) -> String {
        self.idp.token(id_number)
    }

    /// The audit actor of the resident with `id_number`.
    pub fn idp_actor(&self, id_number: &str) -> String {
        let id = chengxin_domain::IdNumber::parse(id_number).unwrap();
        chengxin_jobs::me::resident_actor(&self.ctx(), &id)
    }

    /// Asks the server to stop and waits until it has.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let server = self.server.take().unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server stops within 10 s")
            .unwrap()
    }

    fn ctx(&self) -> Arc<Context> {
        Arc::clone(&self.held.as_ref().unwrap().0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs blocking code against the context (the store blocks).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Context) -> T + Send + 'static,
    ) -> T {
        let ctx = self.ctx();
        tokio::task::spawn_blocking(move || f(&ctx)).await.unwrap()
    }

    /// Creates a unit responsible for `items`; returns it and its key.
    pub async fn unit(&self, code: &str, items: &[&str]) -> (Unit, String) {
        let code = code.to_owned();
        let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        self.run(move |ctx| units::add_unit(ctx, &code, "测试单位", &items, "test").unwrap())
            .await
    }

    /// `POST /api/v1/records` with a JSON value.
    pub async fn push(&self, key: &str, record: &Value) -> reqwest::Response {
        self.push_raw(key, "application/json", serde_json::to_vec(record).unwrap())
            .await
    }

    /// `POST /api/v1/records` with raw bytes.
    pub async fn push_raw(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/records"))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/batches`; without an `idempotency_key`, a fresh one
    /// (every batch needs one), so each such call is a new batch.
    pub async fn batch(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/v1/batches"))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .header(CONTENT_TYPE, content_type)
            .body(body);
        let fresh = fresh_key();
        req = req.header("Idempotency-Key", idempotency_key.unwrap_or(&fresh));
        req.send().await.unwrap()
    }

    /// `POST /api/v1/records/{source_id}/withdraw`.
    pub async fn withdraw(&self, key: &str, source_id: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/records/{source_id}/withdraw")))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with a key.
    /// Adds a staff member `name` with `role` and signs them in: their
    /// session token.
    pub async fn staff_token(&self, name: &str, role: chengxin_domain::staff::Role) -> String {
        const PW: &str = "correct horse battery";
        let n = name.to_owned();
        self.run(move |ctx| {
            chengxin_jobs::staff::add_staff(
                ctx,
                &n,
                role,
                PW,
                "operator:test",
                chengxin_jobs::staff::now(),
            )
        })
        .await
        .unwrap();
        let res = self
            .client
            .post(self.url("/api/v1/staff/sessions"))
            .json(&serde_json::json!({"name": name, "password": PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        res.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(AUTHORIZATION, format!("Bearer {key}"))
            .send()
            .await
            .unwrap()
    }

    /// How many stored record versions the person with `id` has.
    pub async fn record_count(&self, id: &str) -> usize {
        let id = chengxin_domain::IdNumber::parse(id).unwrap();
        self.run(move |ctx| {
            match chengxin_jobs::explain(ctx, &id, chengxin_jobs::today()).unwrap() {
                Some(x) => x.records.len(),
                None => 0,
            }
        })
        .await
    }

    /// The stored score of the person with `id` under the model in force.
    pub async fn stored_score(&self, id: &str) -> Option<i32> {
        let id = chengxin_domain::IdNumber::parse(id).unwrap();
        self.run(move |ctx| {
            chengxin_jobs::explain(ctx, &id, chengxin_jobs::today())
                .unwrap()?
                .stored?
                .state
                .score
        })
        .await
    }

    /// The score computed now from the stored records, as the resident sees it.
    pub async fn explained_score(&self, id: &str) -> Option<i32> {
        let id = chengxin_domain::IdNumber::parse(id).unwrap();
        self.run(move |ctx| {
            chengxin_jobs::explain(ctx, &id, chengxin_jobs::today())
                .unwrap()
                .and_then(|e| e.evaluation().score)
        })
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let server = self.server.take();
        let held = self.held.take();
        off_runtime(move || {
            if let (Some(server), Ok(handle)) = (server, tokio::runtime::Handle::try_current()) {
                let _ = handle.block_on(server);
            }
            drop(held);
        });
    }
}

/// Runs `f` where blocking (and PostgreSQL's own runtime) is allowed.
fn off_runtime(f: impl FnOnce()) {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::task::block_in_place(f),
        Err(_) => f(),
    }
}

/// The shared test identity provider as the server's configuration.
pub fn test_issuer() -> OidcConfig {
    let idp = TestIdp::shared();
    OidcConfig {
        issuer: idp.issuer.clone(),
        audience: idp.audience.clone(),
        jwks: KeySource::File(idp.jwks_path.clone()),
        id_claim: chengxin_server::oidc::DEFAULT_ID_CLAIM.to_owned(),
    }
}

/// Test databases, dropped off the async threads.
struct Dbs(Vec<TestDb>);

impl Drop for Dbs {
    fn drop(&mut self) {
        let dbs = std::mem::take(&mut self.0);
        off_runtime(move || drop(dbs));
    }
}

/// Runs `test` against a fresh server on every backend.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    each_backend(false, Limits::default, test).await;
}

/// Runs `test` against a fresh `serve --demo` server on every backend.
pub async fn on_each_backend_demo<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    each_backend(true, Limits::default, test).await;
}

/// Runs `test` against a fresh `serve --demo` server on every backend that
/// also signs certificates as the city `shaoxing` (a key already rotated
/// in), as `chengxin demo` runs.
pub async fn on_each_backend_demo_city<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut dbs = Dbs(tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap());
    dbs.0.reverse();
    while let Some(db) = dbs.0.pop() {
        let keys = tempfile::tempdir().unwrap();
        let city = Some(("shaoxing".to_owned(), keys.path().join("cert-keys")));
        let app = TestApp::spawn_full(db, Limits::default(), vec![test_issuer()], true, city).await;
        app.run(|ctx| {
            chengxin_jobs::certificates::rotate(ctx, jiff::Timestamp::now().as_second()).unwrap()
        })
        .await;
        eprintln!("backend: {}", app.backend);
        test(app).await;
        drop(keys);
    }
}

/// [`on_each_backend`] with the limits `limits` gives.
pub async fn on_each_backend_with<F, Fut>(limits: impl Fn() -> Limits, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    each_backend(false, limits, test).await;
}

async fn each_backend<F, Fut>(demo: bool, limits: impl Fn() -> Limits, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut dbs = Dbs(tokio::task::spawn_blocking(chengxin_testkit::backends)
        .await
        .unwrap());
    dbs.0.reverse();
    while let Some(db) = dbs.0.pop() {
        let app = if demo {
            TestApp::spawn_full(db, limits(), vec![test_issuer()], true, None).await
        } else {
            TestApp::spawn_with(db, limits()).await
        };
        eprintln!("backend: {}", app.backend);
        test(app).await;
    }
}

/// A valid ID number, different for each `n`.
pub fn id(n: u32) -> String {
    chengxin_testkit::id_number("330602", "19900101", n)
        .as_str()
        .to_owned()
}

/// `id_number` with a wrong check character.
pub fn wrong_check(id_number: &str) -> String {
    let mut s = id_number.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    s
}

/// A date `days` before today.
pub fn days_ago(days: i64) -> Date {
    chengxin_jobs::today().checked_sub(days.days()).unwrap()
}

/// A P01 (administrative penalty) record in the push format.
pub fn p01(source_id: &str, id_number: &str, level: &str) -> Value {
    json!({
        "source_id": source_id,
        "item": "P01",
        "id_number": id_number,
        "name": "张三",
        "fields": {
            "level": level,
            "decided_on": days_ago(30).to_string(),
            "authority": "绍兴市税务局",
            "case_no": format!("绍税罚〔2026〕{source_id}号"),
            "domain": "tax"
        }
    })
}

/// A B03 (household registration) record making the person a resident.
pub fn b03(source_id: &str, id_number: &str) -> Value {
    json!({
        "source_id": source_id,
        "item": "B03",
        "id_number": id_number,
        "name": "张三",
        "fields": {"region_code": "330602", "registered_on": "2000-01-01", "active": true}
    })
}

/// Asserts that `res` is a well-formed problem with `status` and `code`;
/// returns its body.
pub async fn assert_problem(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    let got = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert_eq!(
        headers[CONTENT_TYPE], "application/problem+json",
        "body: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], code, "body: {text}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("urn:chengxin:error:{code}"));
    let table = chengxin_server::ErrorCode::from_code(code).expect("code in the table");
    assert_eq!(table.status().as_u16(), status.as_u16());
    assert_eq!(body["title"], table.title());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        body["request_id"].as_str().unwrap(),
        headers["x-request-id"].to_str().unwrap()
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        6,
        "only the RFC 9457 members plus code and request_id: {keys:?}"
    );
    if status == StatusCode::UNAUTHORIZED {
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }
    body
}

/// The JSON body of a successful response with `status`.
pub async fn assert_json(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap()
}
