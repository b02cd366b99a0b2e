//! `POST /referrals/{id}/move`: move a referral to another slot by hand
//! (`offers::moves`): pinned at its own table, its booking moved with the
//! invitations updated, or offered to another table.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::referrals::{audit_unreadable, path_id, view};
use crate::auth::CurrentUser;
use crate::offers::moves::{move_to, Moved};
use crate::referrals::access::Action;
use crate::referrals::view::ReferralView;
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

/// The OpenAPI description of the move.
#[derive(OpenApi)]
#[openapi(
    paths(move_referral),
    components(schemas(MoveReferral, MoveResult, Moved))
)]
pub struct Api;

/// The route, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/referrals/{id}/move", post(move_referral))
}

/// Where to.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveReferral {
    /// The slot to move to (an id from `GET /slots`).
    pub slot_id: String,
}

/// The referral after the move, and what the move did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoveResult {
    /// The referral as it is now.
    pub referral: ReferralView,
    /// `pinned` (placed at its own table and kept there), `rebooked` (the
    /// booking moved, invitations updated) or `offered` (waits for the
    /// other table's chair).
    pub moved: Moved,
}

/// Move a referral to another slot by hand. At its own table a waiting
/// referral is placed there and the planner keeps it there; a booking moves
/// with its invitations updated. At another region's table it is offered to
/// that table's chair under the usual rules; a booking does not move to
/// another table.
#[utoipa::path(
    post,
    path = "/referrals/{id}/move",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = MoveReferral,
    responses(
        (status = 200, body = MoveResult),
        (status = 403, description = "Role may not move referrals, or a chair placing at another table", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "The referral cannot move, or the slot breaks a rule, is taken or too soon to offer", body = ErrorBody),
        (status = 422, description = "Unknown slot", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/move", skip_all, fields(user = user.id))]
pub async fn move_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    body: std::result::Result<AppJson<MoveReferral>, AppError>,
) -> Result<AppJson<MoveResult>> {
    let id = path_id(id)?;
    let AppJson(body) = audit_unreadable(&state, &user, Action::Move, Some(id), body).await?;
    let (referral, moved) = move_to(&state, &user, id, &body.slot_id).await?;
    Ok(AppJson(MoveResult {
        referral: view(&state, &referral),
        moved,
    }))
}
