//! The wait-time dashboard: per region, how the last 12 weeks went against
//! the norm, the wait a referral registered today can expect, capacity
//! against arrivals, and the mail outbox. Figures only, no case data, so
//! every signed-in role may see it.
//!
//! Charts are inline SVG drawn from numbers computed here; each has a
//! title and a table with the same figures, so they read without
//! JavaScript, without colour and with a screen reader.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use sqlx::Row;

use super::export::{download, Cell, Kind, Sheet};
use super::waits::{median, percent, Held};
use super::{format, render, Chrome, PageError, Viewer};
use crate::alerts::forecast::region_forecast;
use crate::referrals::norm;
use crate::state::AppState;

/// The look-back of the history figures.
const HISTORY_WEEKS: i64 = 12;
/// Chart geometry (SVG user units).
const BAR_AREA: f64 = 320.0;
/// Room right of the longest bar for its value text.
const VALUE_ROOM: f64 = 200.0;
const LABEL_WIDTH: f64 = 190.0;
const ROW_HEIGHT: f64 = 26.0;

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    norm_days: u32,
    rows: Vec<RegionFigures>,
    within_chart: Chart,
    wait_chart: Chart,
    forecast_chart: Chart,
    capacity_chart: Chart,
    mail: MailFigures,
    /// Capacity advice for the regions over the norm.
    advice: Vec<super::advice::AdviceBlock>,
    csrf: String,
    /// An advised session was just added.
    added: bool,
    /// Per week of the chosen period: within the norm and median wait.
    trend: super::dashboard_trend::Trend,
    /// Mails the outbox gave up on (coordinators and admins).
    dead: Vec<super::dashboard_trend::DeadMail>,
}

/// `?gedaan=zitting` after the advice's button; `van` and `tot` choose the
/// trend's period.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    gedaan: Option<String>,
    #[serde(default)]
    van: String,
    #[serde(default)]
    tot: String,
}

struct RegionFigures {
    name: String,
    conversations: usize,
    within_norm_pct: Option<u32>,
    median_wait: Option<i64>,
    forecast_days: i64,
    forecast_date: String,
    beyond_horizon: bool,
    weekly_slots: u32,
    arrivals_per_week: f64,
    /// Reports of held conversations past their norm, not sent.
    late_reports: usize,
}

impl RegionFigures {
    /// Arrivals per week in Dutch style ("4,7").
    fn arrivals_text(&self) -> String {
        format::decimal(self.arrivals_per_week)
    }
}

/// A horizontal bar chart.
pub struct Chart {
    /// The prefix of the HTML id of the SVG's `<title>`, which labels it.
    pub id: &'static str,
    /// The chart's title (Dutch).
    pub title: String,
    /// The SVG's height, in SVG user units.
    pub height: f64,
    /// The SVG's width, in SVG user units.
    pub width: f64,
    /// The room left of the bars for the region names.
    pub label_width: f64,
    /// One bar per region, in configuration order.
    pub bars: Vec<Bar>,
    /// A vertical reference line (the norm), at this x.
    pub marker: Option<Marker>,
}

/// One region's bar, laid out.
pub struct Bar {
    /// The region's name.
    pub label: String,
    /// The bar's top.
    pub y: f64,
    /// The baseline of its label and value text.
    pub text_y: f64,
    /// The bar's length, scaled to the chart's largest value.
    pub width: f64,
    /// The figure as text, right of the bar.
    pub value_text: String,
    /// Where the value text starts.
    pub value_x: f64,
    /// A second, thinner bar under the first (capacity against arrivals).
    pub second: Option<f64>,
    /// The second bar's top.
    pub second_y: f64,
}

/// A vertical reference line in a chart.
pub struct Marker {
    /// Its x position, in SVG user units.
    pub x: f64,
    /// Its text, e.g. the norm.
    pub label: String,
}

struct MailFigures {
    sent: i64,
    pending: i64,
    retrying: i64,
    dead: i64,
}

/// `GET /dashboard`: per region, the last 12 weeks against the norm, the
/// expected wait for a referral registered today, capacity against
/// arrivals; and the mail outbox. Figures only; any signed-in role.
///
/// # Errors
/// Database errors (error page).
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<axum::extract::Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let query = query.map(|q| q.0).unwrap_or_default();
    let period = super::dashboard_trend::TrendQuery {
        van: query.van.clone(),
        tot: query.tot.clone(),
    };
    let (from, to) = period.period(super::dashboard_trend::today(&state))?;
    let trend = super::dashboard_trend::trend(&state, from, to).await?;
    let dead = super::dashboard_trend::dead_mails(&state, &viewer).await?;
    let (rows, over_norm) = figures(&state).await?;
    let mail = mail_figures(&state).await?;
    let advice = super::advice::blocks(&state, &viewer, &over_norm).await;
    let norm_days = state.regions.norm_days;
    render(&DashboardPage {
        chrome: viewer.chrome_counted(&state, "/dashboard").await,
        norm_days,
        within_chart: within_chart(&rows),
        wait_chart: wait_chart(&rows, norm_days),
        forecast_chart: forecast_chart(&rows, norm_days),
        capacity_chart: capacity_chart(&rows),
        rows,
        mail,
        advice,
        csrf: viewer.csrf.clone(),
        added: query.gedaan.as_deref() == Some("zitting"),
        trend,
        dead,
    })
}

/// Per region: the look-back figures, the forecast, capacity; and the
/// regions whose forecast wait is over the norm.
async fn figures(
    state: &AppState,
) -> Result<(Vec<RegionFigures>, Vec<&crate::config::RegionConfig>), PageError> {
    let tz = state.regions.timezone;
    let now = state.now();
    let today = norm::local_date(now, tz);
    let history = history(state).await?;
    let late_reports = crate::reports::late_by_table(state).await?;
    let mut conn = state.store.pool.acquire().await?;
    let mut rows = Vec::new();
    let mut over_norm = Vec::new();
    for region in &state.regions.regions {
        let forecast = region_forecast(&mut conn, region, today, now).await?;
        if forecast.wait_days > i64::from(state.regions.norm_days) {
            over_norm.push(region);
        }
        let waits = history
            .iter()
            .filter(|h| h.region == region.id.as_str())
            .collect::<Vec<_>>();
        let within = waits.iter().filter(|h| h.within_norm).count();
        rows.push(RegionFigures {
            late_reports: late_reports.get(region.id.as_str()).copied().unwrap_or(0),
            name: region.name.clone(),
            conversations: waits.len(),
            within_norm_pct: percent(within, waits.len()),
            median_wait: median(waits.iter().map(|h| h.wait_days).collect()),
            forecast_days: forecast.wait_days,
            forecast_date: forecast
                .first_free
                .map_or_else(|| "geen vrije plek".into(), format::date),
            beyond_horizon: forecast.beyond_horizon,
            weekly_slots: region.weekly_slots(),
            // Observed over the last four weeks; the demo estimate when
            // there is no history yet.
            arrivals_per_week: if forecast.arrivals_4_weeks > 0 {
                round1(forecast.arrivals_4_weeks as f64 / 4.0)
            } else {
                region.arrivals_per_week
            },
        });
    }
    drop(conn);
    Ok((rows, over_norm))
}

/// The figures table as an export sheet.
fn figures_sheet(rows: &[RegionFigures]) -> Sheet {
    Sheet {
        name: "Wachttijden",
        headers: vec![
            "Regio",
            "Gesprekken (12 weken)",
            "Binnen de norm (%)",
            "Mediane wachttijd (dagen)",
            "Verwachte wachttijd (dagen)",
            "Eerste vrije plek",
            "Zittingsplekken per week",
            "Aanmeldingen per week",
            "Verslagen te laat",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.name.as_str().into(),
                    Cell::Number(r.conversations as f64),
                    r.within_norm_pct.map(i64::from).into(),
                    r.median_wait.into(),
                    r.forecast_days.into(),
                    r.forecast_date.as_str().into(),
                    i64::from(r.weekly_slots).into(),
                    Cell::Number(r.arrivals_per_week),
                    Cell::Number(r.late_reports as f64),
                ]
            })
            .collect(),
    }
}

/// `GET /dashboard/cijfers.csv`: the dashboard's table per region.
///
/// # Errors
/// Database errors (error page).
pub async fn figures_csv(
    State(state): State<AppState>,
    _viewer: Viewer,
) -> Result<Response, PageError> {
    let (rows, _) = figures(&state).await?;
    download(
        Kind::Csv,
        "wachttijden",
        "Wachttijden",
        &[figures_sheet(&rows)],
    )
}

/// `GET /dashboard/cijfers.xlsx`: the same as an Excel workbook.
///
/// # Errors
/// Database errors (error page).
pub async fn figures_xlsx(
    State(state): State<AppState>,
    _viewer: Viewer,
) -> Result<Response, PageError> {
    let (rows, _) = figures(&state).await?;
    download(
        Kind::Xlsx,
        "wachttijden",
        "Wachttijden per regio",
        &[figures_sheet(&rows)],
    )
}

/// Conversations whose booked slot started in the last [`HISTORY_WEEKS`]
/// weeks (held or still to be marked as held), at the home region.
async fn history(state: &AppState) -> Result<Vec<Held>, PageError> {
    let now = state.now();
    super::waits::history_between(state, now - Duration::weeks(HISTORY_WEEKS), now).await
}

async fn mail_figures(state: &AppState) -> Result<MailFigures, PageError> {
    let row = sqlx::query(
        "SELECT
            COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) AS sent,
            COALESCE(SUM(CASE WHEN status = 'pending' AND attempts = 0 THEN 1 ELSE 0 END), 0) AS pending,
            COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0) AS retrying,
            COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead
         FROM outbox",
    )
    .fetch_one(&state.store.pool)
    .await?;
    Ok(MailFigures {
        sent: row.try_get("sent")?,
        pending: row.try_get("pending")?,
        retrying: row.try_get("retrying")?,
        dead: row.try_get("dead")?,
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Lays out bars for `values` scaled to `max`.
fn chart(
    id: &'static str,
    title: String,
    rows: &[RegionFigures],
    values: Vec<(f64, String, Option<f64>)>,
    max: f64,
) -> Chart {
    let scale = if max > 0.0 { BAR_AREA / max } else { 0.0 };
    let bars = rows
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (row, (value, text, second)))| {
            let y = i as f64 * ROW_HEIGHT + 4.0;
            let width = (value * scale).max(0.0);
            Bar {
                label: row.name.clone(),
                y,
                text_y: y + 14.0,
                width,
                value_text: text,
                value_x: LABEL_WIDTH + width + 6.0,
                second: second.map(|s| (s * scale).max(0.0)),
                second_y: y + 15.0,
            }
        })
        .collect();
    Chart {
        id,
        title,
        height: rows.len() as f64 * ROW_HEIGHT + 24.0,
        width: LABEL_WIDTH + BAR_AREA + VALUE_ROOM,
        label_width: LABEL_WIDTH,
        bars,
        marker: None,
    }
}

fn within_chart(rows: &[RegionFigures]) -> Chart {
    let values = rows
        .iter()
        .map(|r| match r.within_norm_pct {
            Some(p) => (f64::from(p), format!("{p}% (n={})", r.conversations), None),
            None => (0.0, "geen gesprekken".to_string(), None),
        })
        .collect();
    chart(
        "binnen-norm",
        format!("Gesprekken binnen de norm, laatste {HISTORY_WEEKS} weken"),
        rows,
        values,
        100.0,
    )
}

fn wait_chart(rows: &[RegionFigures], norm_days: u32) -> Chart {
    let max = days_axis(rows.iter().filter_map(|r| r.median_wait), norm_days);
    let values = rows
        .iter()
        .map(|r| match r.median_wait {
            Some(d) => (d as f64, format!("{d} dagen"), None),
            None => (0.0, "geen gesprekken".to_string(), None),
        })
        .collect();
    let mut c = chart(
        "mediaan-wacht",
        format!("Mediane wachttijd, laatste {HISTORY_WEEKS} weken"),
        rows,
        values,
        max,
    );
    c.marker = Some(norm_marker(norm_days, max));
    c
}

fn forecast_chart(rows: &[RegionFigures], norm_days: u32) -> Chart {
    let max = days_axis(rows.iter().map(|r| r.forecast_days), norm_days);
    let values = rows
        .iter()
        .map(|r| {
            let text = if r.beyond_horizon {
                format!("meer dan {} dagen", r.forecast_days - 1)
            } else {
                format!(
                    "{} ({})",
                    crate::mail::dagen(r.forecast_days),
                    r.forecast_date
                )
            };
            (r.forecast_days as f64, text, None)
        })
        .collect();
    let mut c = chart(
        "verwachting",
        "Verwachte wachttijd voor een aanmelding van vandaag".into(),
        rows,
        values,
        max,
    );
    c.marker = Some(norm_marker(norm_days, max));
    c
}

fn capacity_chart(rows: &[RegionFigures]) -> Chart {
    let max = rows
        .iter()
        .map(|r| f64::from(r.weekly_slots).max(r.arrivals_per_week))
        .fold(1.0, f64::max)
        * 1.1;
    let values = rows
        .iter()
        .map(|r| {
            (
                f64::from(r.weekly_slots),
                format!(
                    "{} plekken / {} aanmeldingen",
                    r.weekly_slots,
                    format::decimal(r.arrivals_per_week)
                ),
                Some(r.arrivals_per_week),
            )
        })
        .collect();
    chart(
        "capaciteit",
        "Capaciteit (plekken per week) tegenover aanmeldingen per week".into(),
        rows,
        values,
        max,
    )
}

/// The end of a chart axis in days: past the largest value and the norm,
/// with a tenth to spare for the value labels.
fn days_axis(days: impl Iterator<Item = i64>, norm_days: u32) -> f64 {
    days.max().unwrap_or(0).max(i64::from(norm_days)) as f64 * 1.1
}

fn norm_marker(norm_days: u32, max: f64) -> Marker {
    Marker {
        x: LABEL_WIDTH + f64::from(norm_days) * BAR_AREA / max,
        label: format!("norm {norm_days} dagen"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![9, 1, 5]), Some(5));
        assert_eq!(median(vec![1, 3, 5, 100]), Some(4));
    }

    #[test]
    fn percent_rounds_and_needs_a_whole() {
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(3, 3), Some(100));
    }
}
