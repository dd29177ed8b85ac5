//! The web pages over real HTTP (no browser): sign-in, sessions, forms,
//! languages. Helpers here give page tests a signed-in client; the browser
//! journeys are in `crate::browser`.

mod checks;
mod console_cases;
mod console_dashboard;
mod console_models;
mod console_registry;
mod console_scenarios;
mod portal_pages;
mod portal_parties;
mod public_pages;
mod sign_in;

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;

use crate::helpers::TestApp;

/// A client that does not follow redirects (tests look at each hop).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser-like client of `app`'s pages: sends `cookies` and, on every
/// request, this site's `Origin` (as a browser does on a same-site form post).
pub fn client_with(app: &TestApp, cookies: &str) -> reqwest::Client {
    let mut h = HeaderMap::new();
    h.insert(COOKIE, HeaderValue::from_str(cookies).unwrap());
    h.insert(ORIGIN, HeaderValue::from_str(&app.base).unwrap());
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(h)
        .build()
        .unwrap()
}

/// A portal client signed in as `id_number` (a session cookie holding a
/// token from the test identity provider, as the code flow would leave).
pub fn portal(app: &TestApp, id_number: &str) -> reqwest::Client {
    client_with(
        app,
        &format!("cx_resident={}", app.resident_token(id_number)),
    )
}

/// A console client signed in as a new staff member `name` with `role`.
pub async fn console(
    app: &TestApp,
    name: &str,
    role: chengxin_domain::staff::Role,
) -> reqwest::Client {
    let token = app.staff_token(name, role).await;
    client_with(app, &format!("cx_staff={token}"))
}

/// The page at `path`, which must answer 200 with HTML; its text.
pub async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "GET {path}: {ct}");
    res.text().await.unwrap()
}

/// Where a redirect goes.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The `name=value` of the cookie `name` a response sets, if any.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// The value of the query parameter `name` in `url`, percent-decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Signs `id_number` in to the portal the way a browser does, through the
/// demo identity provider's code flow; returns the session cookie
/// (`cx_resident=…`). `app` must be a demo server.
pub async fn demo_sign_in(app: &TestApp, id_number: &str) -> String {
    let c = client();
    let res = c
        .get(app.url("/portal/login?next=/portal"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let login = set_cookie(&res, "cx_login").expect("the sign-in is remembered");
    let to = location(&res);
    assert!(to.starts_with(&app.url("/demo-idp/authorize?")), "{to}");
    let mut form: Vec<(String, String)> = to
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), decode(v))
        })
        .collect();
    form.push(("id_number".into(), id_number.into()));
    let res = c
        .post(app.url("/demo-idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = location(&res);
    assert!(
        back.starts_with(&app.url("/portal/callback?code=")),
        "{back}"
    );
    let res = c.get(&back).header(COOKIE, login).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(location(&res), "/portal");
    set_cookie(&res, "cx_resident").expect("a session cookie")
}
