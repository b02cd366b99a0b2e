//! Audit rows for referral reads and changes, through `auth::audit`.
//!
//! Successful changes write their row in the change's own transaction (no
//! change without its row, no row without its change). Refusals write
//! theirs afterwards in a transaction of their own, since the change's
//! transaction rolled back.

use sqlx::AnyConnection;

use super::access::Action;
use crate::auth::audit::{record, record_now, AuditEntry};
use crate::auth::CurrentUser;
use crate::state::AppState;
use crate::web::AppError;

/// The `result` column for a refusal; `None` for server errors, which are
/// not decisions about the request (and are logged anyway).
pub fn result_of(err: &AppError) -> Option<&'static str> {
    match err {
        AppError::NotFound => Some("not_found"),
        AppError::Forbidden(_) => Some("forbidden"),
        AppError::Conflict(_) | AppError::Refused(_) => Some("conflict"),
        AppError::Validation(_) | AppError::BadRequest(_) => Some("invalid"),
        AppError::Unauthenticated | AppError::Unavailable | AppError::Internal(_) => None,
    }
}

/// What the audit row says about a refusal: the reason, or for invalid
/// input only the field names (never the values, which may be anything).
fn refusal_detail(err: &AppError) -> Option<String> {
    match err {
        AppError::Validation(fields) => Some(
            fields
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        AppError::Conflict(reason) | AppError::Forbidden(reason) => Some(reason.clone()),
        AppError::Refused(refusal) => Some(refusal.message.clone()),
        _ => None,
    }
}

/// Records a successful read or change inside `conn`'s transaction.
pub async fn ok(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: i64,
    detail: Option<String>,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action: action.audit_name(),
        referral_id: Some(referral_id),
        result: "ok",
        detail,
    };
    record(conn, entry).await?;
    Ok(())
}

/// Records a successful read in a transaction of its own.
pub async fn ok_now(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: i64,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action: action.audit_name(),
        referral_id: Some(referral_id),
        result: "ok",
        detail: None,
    };
    record_now(&state.store, entry).await?;
    Ok(())
}

/// Records a refusal and hands the error back. The refusal stands even if
/// its row cannot be written; that failure is logged.
pub async fn refused(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: Option<i64>,
    err: AppError,
) -> AppError {
    let Some(result) = result_of(&err) else {
        return err;
    };
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action: action.audit_name(),
        referral_id,
        result,
        detail: refusal_detail(&err),
    };
    if let Err(audit_err) = record_now(&state.store, entry).await {
        tracing::error!(error = ?audit_err, action = action.audit_name(), "could not write the audit row of a refusal");
    }
    err
}
