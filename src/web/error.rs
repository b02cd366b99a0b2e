//! One error type for every handler, mapped to HTTP in one place.

use axum::extract::rejection::JsonRejection;
use axum::extract::FromRequest;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::error::{FieldError, Refusal};
pub use crate::request_id::REQUEST_ID;

impl AppError {
    /// A 409 refusal with its explanation in English (`message`, for the API
    /// and the log) and in Dutch (`dutch`, for the pages).
    pub fn refused(message: impl Into<String>, dutch: impl Into<String>) -> AppError {
        AppError::Refused(Refusal {
            message: message.into(),
            dutch: dutch.into(),
        })
    }
}

/// The error of every handler, API and pages alike: each variant is one
/// HTTP status, and the response is an [`ErrorBody`] (with `WWW-Authenticate`
/// on 401 and `Retry-After` on 503). Domain errors ([`crate::error::Error`])
/// and database errors convert into it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 401: no or an unknown credential.
    #[error("authentication required")]
    Unauthenticated,
    /// 403: known user, action outside the role. (Reads of data outside the
    /// user's scope are `NotFound`, so they do not reveal that it exists.)
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 409: the state does not allow this (invalid transition, slot taken).
    #[error("{0}")]
    Conflict(String),
    /// 409 whose explanation the pages can show in Dutch: the refusals a
    /// user meets in the browser (lifecycle, offers, user administration).
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// 422: the input is well-formed but wrong, field by field.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// 400: the request cannot be read at all.
    #[error("{0}")]
    BadRequest(String),
    /// 503: the database cannot be reached; try again shortly (the
    /// response says when, in `Retry-After`).
    #[error("the database is temporarily unavailable; try again shortly")]
    Unavailable,
    /// 500: logged with its detail; the client sees only the request id.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The handlers' `Result`: the error is an [`AppError`] unless said otherwise.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind, e.g. `not_found`, `conflict`, `validation`.
    pub error: &'static str,
    /// Human-readable explanation (English; the UI translates by kind).
    pub message: String,
    /// For `validation`: what is wrong, field by field; left out otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// The request's id (also in `X-Request-Id`), to quote when reporting an
    /// error; left out outside a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl AppError {
    /// A 422 for one field: `field` names it, `message` says what is wrong.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::Refused(_) => StatusCode::CONFLICT,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `result` column of a refusal's audit row; `None` for server
    /// errors, which are not decisions about the request (and are logged).
    pub fn audit_result(&self) -> Option<&'static str> {
        match self {
            AppError::NotFound => Some("not_found"),
            AppError::Forbidden(_) => Some("forbidden"),
            AppError::Conflict(_) | AppError::Refused(_) => Some("conflict"),
            AppError::Validation(_) | AppError::BadRequest(_) => Some("invalid"),
            AppError::Unauthenticated | AppError::Unavailable | AppError::Internal(_) => None,
        }
    }

    /// The reason of a refusal for its audit row (English, like the log).
    pub fn reason(&self) -> Option<&str> {
        match self {
            AppError::Conflict(why) | AppError::Forbidden(why) => Some(why),
            AppError::Refused(refusal) => Some(&refusal.message),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) | AppError::Refused(_) => "conflict",
            AppError::Validation(_) => "validation",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

/// How long clients are asked to wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Does this database error mean the database cannot be reached right now
/// (rather than that the request or the code is wrong)? Such errors are
/// answered with 503 and `Retry-After`: the request may well succeed later.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        // No connection within `database.acquire_timeout_millis` (sqlx keeps
        // reconnecting while the server refuses), a pool shut down, the
        // connection lost mid-request, or SQLite's worker thread gone.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL going down or coming up says so: connection exceptions
        // (class 08), administrator or crash shutdown, still starting up,
        // and too many connections.
        // SQLite still busy after `busy_timeout` (the one writer is held
        // too long under load): SQLITE_BUSY and SQLITE_LOCKED with their
        // extended codes. (PostgreSQL's codes have five characters.)
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "53300" | "5" | "6" | "261" | "262" | "517"
                )
        }),
        _ => false,
    }
}

/// Is any cause in this error chain an unavailable database? Handlers wrap
/// database errors in `anyhow` contexts; those still mean 503, not 500.
fn chain_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_unavailable)
    })
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return AppError::Unavailable;
        }
        match err {
            sqlx::Error::RowNotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

/// The domain's refusals as HTTP: the one place they are mapped.
impl From<crate::error::Error> for AppError {
    fn from(err: crate::error::Error) -> AppError {
        use crate::error::Error;
        match err {
            Error::NotAllowed(why) => AppError::Forbidden(why),
            Error::NotFound => AppError::NotFound,
            Error::Invalid(fields) => AppError::Validation(fields),
            Error::Refused(refusal) => AppError::Refused(refusal),
            Error::Store(db) => AppError::from(db),
            Error::Internal(fault) => AppError::from(fault),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> AppError {
        match err.downcast::<sqlx::Error>() {
            Ok(db) => AppError::from(db),
            Err(other) => AppError::Internal(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID.try_with(Clone::clone).ok();
        // An internal error caused by a lost database (wrapped somewhere on
        // the way up) is an outage, not a bug: 503 like the direct case.
        let this = match self {
            AppError::Internal(err) if chain_unavailable(&err) => {
                tracing::warn!(request_id = ?request_id, error = ?err, "database unavailable");
                AppError::Unavailable
            }
            other => other,
        };
        let status = this.status();
        let message = match &this {
            AppError::Internal(err) => {
                tracing::error!(request_id = ?request_id, error = ?err, "internal error");
                "internal error; quote the request id when reporting it".to_string()
            }
            other => other.to_string(),
        };
        let kind = this.kind();
        let fields = match this {
            AppError::Validation(fields) => fields,
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: kind,
            message,
            fields,
            request_id,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// `Json` whose rejections come back in the app's own error shape.
///
/// Stricter than `Json`: the body must be a JSON object (serde would
/// otherwise read a struct from an array, by position), and no text in it
/// may hold a NUL character (PostgreSQL refuses those in text columns,
/// which would surface as a 500). Type errors name the field's path.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let Json(value) = Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(AppError::validation("body", "must be a JSON object"));
        }
        // Named as the body, with the place in the message: the place may
        // be a field the endpoint does not even have.
        if let Some(path) = nul_text(&value, "") {
            return Err(AppError::validation(
                "body",
                format!("text must not contain NUL characters (at {path})"),
            ));
        }
        serde_path_to_error::deserialize(value)
            .map(AppJson)
            .map_err(|err| {
                let path = err.path().to_string();
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                AppError::validation(field, err.into_inner().to_string())
            })
    }
}

/// The path of the first string (or key) in `value` holding a NUL.
fn nul_text(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_text(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(here)
            } else {
                nul_text(item, &here)
            }
        }),
        _ => None,
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                // "Failed to deserialize ... : field: message"; keep the part after the path.
                let text = e.body_text();
                let detail = text
                    .split_once(": ")
                    .map_or(text.as_str(), |(_, rest)| rest);
                let (field, message) = detail.split_once(": ").unwrap_or(("body", detail));
                AppError::validation(field, message)
            }
            JsonRejection::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("not valid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::BadRequest("expected Content-Type: application/json".into())
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_database_is_unavailable_and_a_wrong_query_is_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn an_outage_wrapped_in_context_is_a_503_with_retry_after() {
        let wrapped = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("reading the booking");
        let response = AppError::Internal(wrapped).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from(RETRY_AFTER_SECONDS))
        );
        let bug = AppError::Internal(anyhow::anyhow!("a bug")).into_response();
        assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(bug.headers().get(axum::http::header::RETRY_AFTER).is_none());
    }
}
