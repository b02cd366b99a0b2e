//! `/slots`: the slots of the tables, cancelling a session, adding one.
//! Thin: the rules are in `slots::service`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::auth::CurrentUser;
use crate::slots::service::{self, AddSession, CancelSession, CancelledSession, SlotQuery};
use crate::slots::SlotView;
use crate::state::AppState;
use crate::web::{AppJson, Result};

/// The OpenAPI description of `/slots`.
#[derive(OpenApi)]
#[openapi(
    paths(list_slots, cancel_session, add_session),
    components(schemas(SlotView, CancelSession, CancelledSession, AddSession, AddedSession))
)]
pub struct Api;

/// The routes of this module, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slots", get(list_slots))
        .route("/slots/sessions", post(add_session))
        .route("/slots/sessions/cancel", post(cancel_session))
}

/// Slots with their state; case references only within the viewer's scope.
#[utoipa::path(get, path = "/slots", params(SlotQuery), responses((status = 200, body = [SlotView]), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "GET /api/v1/slots")]
pub async fn list_slots(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<SlotQuery>,
) -> Result<Json<Vec<SlotView>>> {
    Ok(Json(service::list(&state, &user, &query).await?))
}

/// Cancels a region's session on a date; its referrals are re-planned.
#[utoipa::path(post, path = "/slots/sessions/cancel", request_body = CancelSession,
    responses((status = 200, body = CancelledSession), (status = 404, body = crate::web::error::ErrorBody), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "POST /api/v1/slots/sessions/cancel")]
pub async fn cancel_session(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<CancelSession>,
) -> Result<Json<CancelledSession>> {
    Ok(Json(service::cancel(&state, &user, &body).await?))
}

/// The ids of an extra session's new slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedSession {
    /// The new slots, earliest first.
    pub slot_ids: Vec<String>,
}

/// Adds an extra session of `slots` consecutive slots.
#[utoipa::path(post, path = "/slots/sessions", request_body = AddSession,
    responses((status = 201, body = AddedSession), (status = 409, body = crate::web::error::ErrorBody), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "POST /api/v1/slots/sessions")]
pub async fn add_session(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<AddSession>,
) -> Result<(StatusCode, Json<AddedSession>)> {
    let slot_ids = service::add(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(AddedSession { slot_ids })))
}
