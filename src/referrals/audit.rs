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
use crate::error::Error;
use crate::state::AppState;

/// Records a successful read or change inside `conn`'s transaction.
pub async fn ok(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: i64,
    detail: Option<String>,
) -> Result<(), Error> {
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
) -> Result<(), Error> {
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

/// Records a refusal and hands the error back (`auth::audit::refusal`).
pub async fn refused(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: Option<i64>,
    err: Error,
) -> Error {
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action: action.audit_name(),
        referral_id,
        result: "refused",
        detail: err.audit_detail(),
    };
    crate::auth::audit::refusal(&state.store, entry, err).await
}
