//! The page language: Chinese (zh-CN) first, English on request. The choice
//! is a cookie set by `GET /lang?to=en&back=PATH`; every page reads it with
//! the [`Lang`] extractor and writes its texts as `l.t("中文", "English")`,
//! so both versions of a text sit side by side in the template.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

/// The cookie holding the choice.
pub const COOKIE: &str = "cx_lang";

/// A page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The `lang` attribute's value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// True for Chinese.
    pub fn is_zh(self) -> bool {
        self == Lang::Zh
    }

    /// The text in this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The other language (the switch's target).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The switch's label, in the language it switches to.
    pub fn switch_label(self) -> &'static str {
        match self {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }

    fn param(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    fn from_param(s: &str) -> Lang {
        if s == "en" {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

impl Lang {
    /// The choice carried by a request's cookies.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Lang {
        CookieJar::from_headers(headers)
            .get(COOKIE)
            .map_or(Lang::Zh, |c| Lang::from_param(c.value()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// `GET /lang?to=en|zh&back=/path`.
#[derive(Debug, Deserialize)]
pub struct Switch {
    to: Option<String>,
    back: Option<String>,
}

/// Sets the language cookie and goes back to the page (a local path only).
pub async fn switch(jar: CookieJar, Query(q): Query<Switch>) -> Response {
    let lang = Lang::from_param(q.to.as_deref().unwrap_or("zh"));
    let back = q.back.filter(|b| is_local(b)).unwrap_or_else(|| "/".into());
    let cookie = Cookie::build((COOKIE, lang.param()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .build();
    (jar.add(cookie), Redirect::to(&back)).into_response()
}

/// The link that switches a page at `path` to the other language.
pub fn switch_href(lang: Lang, path: &str) -> String {
    format!(
        "/lang?to={}&back={}",
        lang.other().param(),
        super::urlencode(path)
    )
}

/// A path on this site (never `//host` or a scheme), safe to redirect to.
pub fn is_local(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.contains(['\r', '\n'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert!(is_local("/portal"));
        assert!(is_local("/portal?x=1"));
        assert!(!is_local("//evil.example"));
        assert!(!is_local("/\\evil.example"));
        assert!(!is_local("https://evil.example"));
        assert!(!is_local("portal"));
    }

    #[test]
    fn chinese_is_the_default_and_texts_follow_the_choice() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::Zh.t("分数", "Score"), "分数");
        assert_eq!(Lang::En.t("分数", "Score"), "Score");
        assert_eq!(Lang::from_param("en"), Lang::En);
        assert_eq!(Lang::from_param("fr"), Lang::Zh);
    }
}
