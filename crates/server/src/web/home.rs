//! The landing page (`/`: where residents, staff and the public go) and
//! the console's start page (`/console`: the sections the role may use).

use askama::Template;
use askama_web::WebTemplate;

use super::lang::Lang;
use super::page::{Chrome, NavItem};
use super::session::Console;

/// `GET /`.
#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub struct Index {
    chrome: Chrome,
}

/// `GET /`.
pub async fn index(l: Lang) -> Index {
    Index {
        chrome: Chrome::public(l, "/"),
    }
}

/// `GET /console`.
#[derive(Template, WebTemplate)]
#[template(path = "console/home.html")]
pub struct ConsoleHome {
    chrome: Chrome,
    sections: Vec<NavItem>,
}

/// `GET /console`: the sections of the console this role may use.
pub async fn console(c: Console) -> ConsoleHome {
    let chrome = c.chrome();
    let sections = chrome
        .nav()
        .into_iter()
        .filter(|n| n.href != "/console")
        .collect();
    ConsoleHome { chrome, sections }
}
