//! `/advice`: capacity advice for a region's table (issue 16): the fewest
//! extra sessions that bring every waiting referral that can still make the
//! norm within it, or the trade-off when none does. Counts, dates and
//! tables only, so every signed-in role may ask (as for the dashboard).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::auth::CurrentUser;
use crate::config::RegionId;
use crate::jobs::advice::{self, AdvisedSession, Late, RegionAdvice, SessionSet, Taken};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, Result};

/// The OpenAPI description of `/advice`.
#[derive(OpenApi)]
#[openapi(
    paths(region_advice),
    components(schemas(RegionAdvice, SessionSet, AdvisedSession, Late, Taken))
)]
pub struct Api;

/// The routes of this module, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/advice", get(region_advice))
}

/// `?region=`: the region whose table the advice is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdviceQuery {
    /// Region id, e.g. `centraal-gelderland`.
    pub region: Option<String>,
}

/// The advice for one region's table, from the database as it is now (kept
/// until the next plan run).
#[utoipa::path(
    get,
    path = "/advice",
    tag = "planning",
    params(AdviceQuery),
    responses(
        (status = 200, body = RegionAdvice),
        (status = 401, body = ErrorBody),
        (status = 422, description = "No or an unknown region", body = ErrorBody)
    )
)]
#[tracing::instrument(skip_all, name = "GET /api/v1/advice", fields(user = _user.id))]
pub async fn region_advice(
    State(state): State<AppState>,
    _user: CurrentUser,
    query: Result<Query<AdviceQuery>, QueryRejection>,
) -> Result<Json<RegionAdvice>> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let text = query
        .region
        .ok_or_else(|| AppError::validation("region", "is required, e.g. ?region=food-valley"))?;
    let region = RegionId::parse(text.trim())
        .ok()
        .and_then(|id| state.regions.region(&id).cloned())
        .ok_or_else(|| AppError::validation("region", format!("unknown region {text:?}")))?;
    Ok(Json(advice::region_advice(&state, &region).await?))
}
