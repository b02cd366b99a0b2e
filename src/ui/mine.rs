//! `/mijn-aanmeldingen`: the referrer's own organisation's referrals (and
//! for a coordinator, all), most urgent first: status, the table and date
//! planned or booked, the norm clock, what is missing; search by case
//! reference. Reads go through the referral service (scope and audit as in
//! the API: one audit row for the list).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{format, render, Chrome, PageError, Viewer};
use crate::auth::Role;
use crate::referrals::input::ListParams;
use crate::referrals::service;
use crate::referrals::view;
use crate::state::AppState;

/// Open statuses: what a professional follows.
const OPEN: &str = "incomplete,registered,planned,booked,held";

struct Row {
    id: i64,
    case_ref: String,
    status: &'static str,
    municipality: String,
    slot: String,
    due: String,
    waiting: i64,
    norm_label: &'static str,
    norm_class: &'static str,
    missing: String,
    /// Unanswered questions of the table.
    questions: i64,
}

#[derive(Template)]
#[template(path = "pages/mine.html")]
struct MinePage {
    chrome: Chrome,
    q: String,
    rows: Vec<Row>,
    total: usize,
}

/// `?q=` searches case references (any part, any case).
#[derive(Debug, Default, Deserialize)]
pub struct MineQuery {
    #[serde(default)]
    q: String,
}

/// `GET /mijn-aanmeldingen`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<MineQuery>,
) -> Result<Response, PageError> {
    viewer.require(&[Role::Referrer, Role::Coordinator])?;
    let params = ListParams {
        status: Some(OPEN.into()),
        limit: Some("500".into()),
        ..ListParams::default()
    };
    let (referrals, _) = service::list(&state, &viewer.user, &params).await?;
    let total = referrals.len();
    let ids: Vec<i64> = referrals.iter().map(|r| r.id).collect();
    let questions = crate::referrals::info::open_counts(&state, &ids).await?;
    let wanted = query.q.trim().to_ascii_uppercase();
    let rows = referrals
        .iter()
        .filter(|r| wanted.is_empty() || r.case_ref.as_str().contains(&wanted))
        .map(|r| {
            let v = view::of(&state, r);
            let slot = match (&v.booked_slot, &v.planned_slot) {
                (Some(s), _) => format!("geboekt: {}", format::slot(&state.regions, s)),
                (None, Some(s)) => format!("voorlopig: {}", format::slot(&state.regions, s)),
                (None, None) => "nog geen plek".into(),
            };
            let (norm_label, norm_class) = format::norm(v.norm.status);
            Row {
                id: v.id,
                case_ref: v.case_ref.clone(),
                status: format::referral_status(v.status.as_str()),
                municipality: v.municipality.name.clone(),
                slot,
                due: format::date(v.norm.due),
                waiting: v.norm.days_waiting,
                norm_label,
                norm_class,
                missing: v
                    .missing
                    .iter()
                    .map(|m| format::missing(m))
                    .collect::<Vec<_>>()
                    .join(", "),
                questions: questions.get(&r.id).copied().unwrap_or(0),
            }
        })
        .collect();
    render(&MinePage {
        chrome: viewer.chrome_counted(&state, "/mijn-aanmeldingen").await,
        q: query.q,
        rows,
        total,
    })
}
