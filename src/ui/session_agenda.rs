//! `GET /zitting?region=&datum=`: the agenda of one table's session, made
//! to be printed: per slot the time, length and state, and the referral
//! planned or booked there (case reference, kind, wait, home region), as
//! the viewer may see it on the board. Built by the board itself, so the
//! same scope and read audit apply.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use super::board::{build, Chip};
use super::board_filters::BoardQuery;
use super::{format, render, Chrome, PageError, Said, Viewer};
use crate::config::RegionId;
use crate::state::AppState;

/// The session asked for: a region id and a local date.
#[derive(Debug, Default, Deserialize)]
pub struct AgendaQuery {
    #[serde(default)]
    region: String,
    #[serde(default)]
    datum: String,
}

#[derive(Template)]
#[template(path = "pages/session_agenda.html")]
struct AgendaPage {
    chrome: Chrome,
    /// "Jeugdbeschermingstafel FoodValley, wo 02-12-2026".
    title: String,
    /// When it was printed.
    printed: String,
    slots: Vec<Chip>,
    /// Holiday or closure of that day, if the table does not sit.
    note: Option<String>,
}

/// The agenda of the session of `region` on `datum`.
///
/// # Errors
/// 403 for roles without a board; 422 naming an unknown region or a date
/// that is not one; storage errors.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AgendaQuery>,
) -> Result<Response, PageError> {
    let region = RegionId::parse(query.region.trim())
        .ok()
        .filter(|id| state.regions.region(id).is_some())
        .ok_or_else(|| {
            PageError::Invalid(Said::nl(format!("onbekende regio {:?}", query.region)))
        })?;
    let date = NaiveDate::parse_from_str(query.datum.trim(), "%Y-%m-%d").map_err(|_| {
        PageError::Invalid(Said::nl(format!(
            "datum moet een datum zijn (jjjj-mm-dd), niet {:?}",
            query.datum
        )))
    })?;
    let board = BoardQuery::for_week(region.as_str(), date);
    let view = build(&state, &viewer, &board).await?;
    let day = format::day(date);
    let chips: Vec<Chip> = view
        .rows
        .into_iter()
        .flat_map(|row| row.cells.into_iter().flatten())
        .filter(|chip| chip.day == day)
        .collect();
    let (closed, slots): (Vec<Chip>, Vec<Chip>) =
        chips.into_iter().partition(|c| c.time.is_empty());
    let tz = state.regions.timezone;
    render(&AgendaPage {
        chrome: viewer.chrome_counted(&state, "").await,
        title: format!(
            "Jeugdbeschermingstafel {}, {}",
            state.regions.region_name(region.as_str()),
            format::date(date)
        ),
        printed: format::moment(state.now(), tz),
        note: closed.into_iter().find_map(|c| c.note),
        slots,
    })
}
