//! `/mijn-gemeente`: the municipal contact's page. The municipality's
//! referrals at the tables in figures (waiting, planned within and over the
//! norm), the forecast wait at its table, and the delay alerts sent to it
//! with what is being done; no case files (a contact opens none).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{format, render, Chrome, PageError, Viewer};
use crate::alerts::{municipality, region_forecast};
use crate::auth::Role;
use crate::referrals::norm;
use crate::state::AppState;

struct AlertRow {
    case_ref: String,
    late_days: i64,
    state: &'static str,
    updated: String,
}

#[derive(Template)]
#[template(path = "pages/municipality.html")]
struct MunicipalityPage {
    chrome: Chrome,
    name: String,
    table: String,
    norm_days: u32,
    waiting: usize,
    incomplete: usize,
    within_norm: usize,
    over_norm: usize,
    forecast_days: i64,
    forecast_date: String,
    forecast_over: bool,
    /// The capacity advice for the table, when its wait exceeds the norm.
    advice: Option<String>,
    alerts: Vec<AlertRow>,
}

/// `GET /mijn-gemeente`.
///
/// # Errors
/// Another role (403); a contact without a municipality (403); storage.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(&[Role::MunicipalContact])?;
    let cbs = viewer.user.municipality.clone().ok_or_else(|| {
        PageError::Forbidden(super::Said::nl(
            "Aan uw account is geen gemeente gekoppeld.",
        ))
    })?;
    let (region, municipality) = state
        .regions
        .municipality(cbs.as_str())
        .ok_or(PageError::NotFound)?;
    let situation = municipality::situation(&state.store, cbs.as_str()).await?;
    let tz = state.regions.timezone;
    let now = state.now();
    let today = norm::local_date(now, tz);
    let mut conn = state.store.pool.acquire().await?;
    let forecast = region_forecast(&mut conn, region, today, now).await?;
    drop(conn);
    let forecast_over = forecast.wait_days > i64::from(state.regions.norm_days);
    let advice = if forecast_over {
        // An aid: without it the page still shows the figures.
        match crate::jobs::advice::region_advice(&state, region).await {
            Ok(advice) => Some(advice.sentence),
            Err(err) => {
                tracing::warn!(region = region.id.as_str(), error = ?err, "no capacity advice");
                None
            }
        }
    } else {
        None
    };
    let alerts = situation
        .alerts
        .iter()
        .map(|a| AlertRow {
            case_ref: a.case_ref.clone(),
            late_days: a.late_days,
            state: match (a.open, a.offered) {
                (true, true) => "aangeboden aan een buurtafel",
                (true, false) => "de tafel zoekt een plek",
                (false, _) => "weer binnen de norm of afgesloten",
            },
            updated: format::moment(a.updated_at, tz),
        })
        .collect();
    render(&MunicipalityPage {
        chrome: viewer.chrome_counted(&state, "/mijn-gemeente").await,
        name: municipality.name.clone(),
        table: region.name.clone(),
        norm_days: state.regions.norm_days,
        waiting: situation.waiting,
        incomplete: situation.incomplete,
        within_norm: situation.within_norm,
        over_norm: situation.over_norm,
        forecast_days: forecast.wait_days,
        forecast_date: forecast
            .first_free
            .map(format::date)
            .unwrap_or_else(|| "niet binnen de geplande weken".into()),
        forecast_over,
        advice,
        alerts,
    })
}
