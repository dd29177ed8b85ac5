//! The landing page (`/`: where residents, staff and the public go) and
//! the console's start page (`/console`: the dashboard of aggregates and
//! the sections the role may use).

use askama::Template;
use askama_web::WebTemplate;

use axum::extract::State;
use chengxin_domain::staff::Right;
use chengxin_jobs::stats::{self, Dashboard, Viewer};

use super::lang::Lang;
use super::page::{Chrome, NavItem, WebError};
use super::session::Console;
use super::svg;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::state::AppState;

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

/// `GET /console`: the dashboard.
#[derive(Template, WebTemplate)]
#[template(path = "console/home.html")]
pub struct ConsoleHome {
    chrome: Chrome,
    sections: Vec<NavItem>,
    d: Dashboard,
    grades_chart: String,
    scores_chart: String,
    districts_chart: String,
    /// The days of the pushes table, as `MM-DD`.
    days: Vec<String>,
}

impl ConsoleHome {
    fn grade_name<'a>(&self, g: &'a chengxin_jobs::stats::GradeCount) -> &'a str {
        self.chrome.l.t(&g.name_zh, &g.name_en)
    }
    fn district_name(&self, d: &chengxin_jobs::stats::DistrictCount) -> &'static str {
        self.chrome.l.t(d.name_zh, d.name_en)
    }
}

/// `GET /console`: aggregates only (第十八条: no resident is listed or
/// ranked), the same audited use case as `GET /api/v1/staff/statistics`.
pub async fn console(
    State(state): State<AppState>,
    c: Console,
    RequestId(request_id): RequestId,
) -> Result<ConsoleHome, WebError> {
    let member = c.require(Right::ViewStatistics)?.clone();
    let d = state
        .blocking(move |ctx| {
            let viewer = Viewer {
                member: &member,
                request_id: Some(&request_id),
            };
            stats::dashboard(ctx, viewer, chengxin_jobs::today())
        })
        .await
        .and_then(|r| r.map_err(ApiError::internal))
        .map_err(|e| c.fail(e))?;
    let chrome = c.chrome();
    let l = chrome.l;
    let sections = chrome
        .nav()
        .into_iter()
        .filter(|n| n.href != "/console")
        .collect();
    let grades_chart = svg::bars(
        &d.grades
            .iter()
            .map(|g| svg::Bar {
                label: g.grade.clone(),
                value: g.count as f64,
            })
            .collect::<Vec<_>>(),
        l.t("各等级人数", "People by grade"),
    );
    let scores_chart = svg::bars(
        &d.histogram
            .buckets
            .iter()
            .map(|b| svg::Bar {
                label: b.from.to_string(),
                value: b.count as f64,
            })
            .collect::<Vec<_>>(),
        l.t(
            "分数分布（每50分一组）",
            "Score distribution (50-point buckets)",
        ),
    );
    let districts_chart = svg::bars(
        &d.districts
            .iter()
            .map(|x| svg::Bar {
                label: l.t(x.name_zh, x.name_en).to_owned(),
                value: x.count as f64,
            })
            .collect::<Vec<_>>(),
        l.t("各区县人数", "People by district"),
    );
    let days = d
        .received
        .units
        .first()
        .map(|u| {
            u.days
                .iter()
                .map(|(day, _)| day.strftime("%m-%d").to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(ConsoleHome {
        chrome,
        sections,
        d,
        grades_chart,
        scores_chart,
        districts_chart,
        days,
    })
}
