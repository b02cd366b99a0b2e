//! `/referrals/{id}/info-requests`: the table asks the professional for
//! missing information; the professional answers. Thin: the rules (scope,
//! sealing, mails without content, audit) are in `referrals::info`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::auth::CurrentUser;
use crate::referrals::info::{self, InfoRequest, InfoText};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

#[derive(OpenApi)]
#[openapi(
    paths(ask, list, answer),
    components(schemas(InfoRequest, InfoText)),
    tags((name = "information requests", description = "The table asks the professional for missing information"))
)]
/// The OpenAPI part of this module.
pub struct Api;

/// The routes of this module, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/referrals/{id}/info-requests", get(list).post(ask))
        .route(
            "/referrals/{id}/info-requests/{request_id}/answer",
            post(answer),
        )
}

/// Case content: never cached.
const NO_STORE: [(axum::http::HeaderName, &str); 1] = [(CACHE_CONTROL, "no-store")];

/// Ask the referring professional a question (chairs, coordinators); they
/// get a mail without the question, with a link.
#[utoipa::path(post, path = "/referrals/{id}/info-requests", tag = "information requests",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = InfoText,
    responses(
        (status = 201, body = InfoRequest),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "No encryption key configured", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "POST /api/v1/referrals/{id}/info-requests")]
pub async fn ask(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    AppJson(body): AppJson<InfoText>,
) -> Result<Response> {
    let Path(id) = id.map_err(|_| AppError::NotFound)?;
    let asked = info::ask(&state, &user, id, &body).await?;
    Ok((StatusCode::CREATED, NO_STORE, AppJson(asked)).into_response())
}

/// The referral's requests and answers, oldest first.
#[utoipa::path(get, path = "/referrals/{id}/info-requests", tag = "information requests",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, body = [InfoRequest]),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/referrals/{id}/info-requests")]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
) -> Result<Response> {
    let Path(id) = id.map_err(|_| AppError::NotFound)?;
    let requests = info::list(&state, &user, id).await?;
    Ok((NO_STORE, AppJson(requests)).into_response())
}

/// Answer an open request (referrers, coordinators); the asker gets a mail
/// without the answer, with a link.
#[utoipa::path(post, path = "/referrals/{id}/info-requests/{request_id}/answer", tag = "information requests",
    params(("id" = i64, Path, description = "Referral id"), ("request_id" = i64, Path)),
    request_body = InfoText,
    responses(
        (status = 204, description = "Answered"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already answered", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(
    skip_all,
    name = "POST /api/v1/referrals/{id}/info-requests/{request_id}/answer"
)]
pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    ids: std::result::Result<Path<(i64, i64)>, PathRejection>,
    AppJson(body): AppJson<InfoText>,
) -> Result<StatusCode> {
    let Path((id, request_id)) = ids.map_err(|_| AppError::NotFound)?;
    info::answer(&state, &user, id, request_id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
