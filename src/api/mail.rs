//! `/mail`: what the outbox holds, for coordinators (no message bodies).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::{CurrentUser, Role};
use crate::state::AppState;
use crate::store::time::from_millis;
use crate::web::error::ErrorBody;
use crate::web::{AppError, FieldError, Result};

/// The OpenAPI description of `/mail`.
#[derive(OpenApi)]
#[openapi(paths(list_mail), components(schemas(OutboxEntry)))]
pub struct Api;

/// The routes of this module (`/mail`), relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/mail", get(list_mail))
}

const STATUSES: [&str; 3] = ["pending", "sent", "dead"];

/// The query string of `GET /mail`: a filter on the status and a limit.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MailQuery {
    /// `pending`, `sent` or `dead`; default all.
    pub status: Option<String>,
    /// At most this many, newest first; default 200, at most 1000.
    pub limit: Option<i64>,
}

/// One mail in the outbox: who, what and how it went; never the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntry {
    /// The outbox row's id; newer mails have larger ids.
    pub id: i64,
    /// `delay_alert`, `delay_all_clear`, `forecast_digest`, `invitation`.
    pub kind: String,
    /// The e-mail address the mail is (or was) sent to.
    pub recipient: String,
    /// The subject line.
    pub subject: String,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    /// How many times sending was tried so far.
    pub attempts: i64,
    /// The last failure (SMTP reply or connection error).
    pub last_error: Option<String>,
    /// When the mail was put in the outbox (UTC).
    pub created_at: DateTime<Utc>,
    /// When it was sent (UTC); `None` while pending or dead.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The outbox, newest first: pending mails, sent ones, dead letters.
#[utoipa::path(
    get,
    path = "/mail",
    tag = "mail",
    params(MailQuery),
    responses(
        (status = 200, body = [OutboxEntry]),
        (status = 403, description = "Not a coordinator", body = ErrorBody),
        (status = 422, description = "Unknown status or limit out of range", body = ErrorBody)
    )
)]
#[tracing::instrument(skip_all, name = "GET /api/v1/mail", fields(user = user.id))]
pub async fn list_mail(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<MailQuery>, QueryRejection>,
) -> Result<Json<Vec<OutboxEntry>>> {
    user.require(&[Role::Coordinator])?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut problems = Vec::new();
    if let Some(status) = &query.status {
        if !STATUSES.contains(&status.as_str()) {
            problems.push(FieldError::new(
                "status",
                format!("must be one of pending, sent, dead; not {status:?}"),
            ));
        }
    }
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        problems.push(FieldError::new("limit", "must be 1 to 1000"));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let rows = sqlx::query(
        "SELECT id, kind, recipient, subject, status, attempts, last_error, created_at, sent_at
         FROM outbox WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(query.status.as_deref())
    .bind(limit)
    .fetch_all(&state.store.pool)
    .await?;
    let entries = rows
        .iter()
        .map(|row| {
            Ok(OutboxEntry {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                recipient: row.try_get("recipient")?,
                subject: row.try_get("subject")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
                created_at: from_millis(row.try_get("created_at")?),
                sent_at: row.try_get::<Option<i64>, _>("sent_at")?.map(from_millis),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(entries))
}
