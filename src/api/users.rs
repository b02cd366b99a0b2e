//! HTTP: the signed-in user, user administration, API tokens, the audit log.
//! Thin: the rules are in `auth::admin` and `auth::tokens`.
//!
//! Responses that carry a password or a token are sent with
//! `Cache-Control: no-store`: they are shown once and must not linger in a
//! cache.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::auth::admin::{self, AuditQuery, CreateUser, UpdateUser};
use crate::auth::audit::AuditRow;
use crate::auth::tokens::{self, CreateToken, IssuedTokenView};
use crate::auth::users::TokenRecord;
use crate::auth::users::UserRecord;
use crate::auth::{CurrentUser, Role};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

/// The OpenAPI description of `/me`, `/users`, the API tokens and `/audit`.
#[derive(OpenApi)]
#[openapi(
    paths(me, list_users, create_user, update_user, create_token, list_tokens, revoke_token, audit_log),
    components(schemas(
        CurrentUser,
        Role,
        UserRecord,
        CreateUser,
        UpdateUser,
        CreatedUserView,
        CreateToken,
        TokenRecord,
        IssuedTokenView,
        AuditRow,
        AuditPage
    )),
    tags((name = "auth", description = "Users, API tokens and the audit log"))
)]
pub struct Api;

/// The routes of this module, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/users/{id}/tokens", post(create_token).get(list_tokens))
        .route("/users/{id}/tokens/{token_id}", delete(revoke_token))
        .route("/audit", get(audit_log))
}

/// Secrets are shown once; no cache may keep them.
const NO_STORE: [(axum::http::HeaderName, &str); 1] = [(CACHE_CONTROL, "no-store")];

/// The signed-in user, with the scope of their role.
#[utoipa::path(get, path = "/me", tag = "auth", responses(
    (status = 200, body = CurrentUser),
    (status = 401, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/me")]
pub async fn me(user: CurrentUser) -> AppJson<CurrentUser> {
    AppJson(user)
}

/// All users, oldest first (admins only).
#[utoipa::path(get, path = "/users", tag = "auth", responses(
    (status = 200, body = Vec<UserRecord>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/users")]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<AppJson<Vec<UserRecord>>> {
    Ok(AppJson(admin::list(&state, &user).await?))
}

/// The new user with the credentials to hand over; they are not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    /// The user as stored.
    pub user: UserRecord,
    /// To hand over to the user; no API token: the user makes their own.
    pub password: String,
}

/// Creates a user with a random password (admins only). No API token:
/// tokens are issued to their owner only.
#[utoipa::path(post, path = "/users", tag = "auth", request_body = CreateUser, responses(
    (status = 201, body = CreatedUserView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, description = "The e-mail address is taken", body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "POST /api/v1/users")]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<CreateUser>,
) -> Result<Response> {
    let (record, password) = admin::create(&state, &user, body).await?;
    let view = CreatedUserView {
        user: record,
        password,
    };
    Ok((StatusCode::CREATED, NO_STORE, AppJson(view)).into_response())
}

/// Deactivates or reactivates a user, or gives them another role (admins
/// only). An admin cannot deactivate or demote themself, so there is always
/// an admin left to undo a mistake.
#[utoipa::path(patch, path = "/users/{id}", tag = "auth",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserRecord),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An admin cannot deactivate or demote themself; no active admin would be left; the role changed meanwhile", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "PATCH /api/v1/users/{id}")]
pub async fn update_user(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    AppJson(body): AppJson<UpdateUser>,
) -> Result<AppJson<UserRecord>> {
    admin::admin_only(&state, &user, "user.update").await?;
    let Path(target) = id.map_err(|_| AppError::NotFound)?;
    Ok(AppJson(admin::update(&state, &user, target, body).await?))
}

/// Gives the signed-in user another API token. Tokens are issued to their
/// owner only: nobody, an admin neither, obtains a credential to act under
/// another user's name.
#[utoipa::path(post, path = "/users/{id}/tokens", tag = "auth",
    params(("id" = i64, Path, description = "User id")),
    request_body = CreateToken,
    responses(
        (status = 201, body = IssuedTokenView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The user is deactivated", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "POST /api/v1/users/{id}/tokens")]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    AppJson(body): AppJson<CreateToken>,
) -> Result<Response> {
    let Path(target) = id.map_err(|_| AppError::NotFound)?;
    let view = tokens::create_own(&state, &user, target, &body).await?;
    Ok((StatusCode::CREATED, NO_STORE, AppJson(view)).into_response())
}

/// Lists the signed-in user's own API tokens (never the tokens themselves):
/// label, made, expires, last used, revoked.
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "auth",
    params(("id" = i64, Path, description = "User id; must be the caller's own")),
    responses(
        (status = 200, body = Vec<TokenRecord>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/users/{id}/tokens")]
pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
) -> Result<Response> {
    let Path(target) = id.map_err(|_| AppError::NotFound)?;
    let tokens = tokens::list_own(&state, &user, target).await?;
    Ok((NO_STORE, AppJson(tokens)).into_response())
}

/// Revokes one of a user's API tokens (admins, or the user themself).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "auth",
    params(("id" = i64, Path, description = "User id"), ("token_id" = i64, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such live token of this user", body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "DELETE /api/v1/users/{id}/tokens/{token_id}")]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ids: std::result::Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode> {
    let Path((target, token_id)) = ids.map_err(|_| AppError::NotFound)?;
    tokens::revoke(&state, &user, target, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditRow>,
    /// Pass as `before_id` for the next page; absent on the last page.
    pub next_before_id: Option<i64>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/audit", tag = "auth", params(AuditQuery), responses(
    (status = 200, body = AuditPage),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/audit")]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    query: std::result::Result<Query<AuditQuery>, QueryRejection>,
) -> Result<AppJson<AuditPage>> {
    admin::admin_only(&state, &user, "audit.read").await?;
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let filter = query
        .parse(state.regions.timezone)
        .map_err(AppError::Validation)?;
    let entries = admin::read_log(&state, &user, filter).await?;
    let full = entries.len() == usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let next_before_id = entries.last().filter(|_| full).map(|row| row.id);
    Ok(AppJson(AuditPage {
        entries,
        next_before_id,
    }))
}
