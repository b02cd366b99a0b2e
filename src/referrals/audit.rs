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

/// The case references of referrals `ids`, by id, for the audit log page:
/// an administrator sees which case a row is about by its reference only,
/// never its content. The caller has checked that the viewer is an admin.
///
/// # Errors
/// Storage errors.
pub async fn case_refs(
    state: &AppState,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, Error> {
    let mut conn = state.store.pool.acquire().await?;
    Ok(super::store::case_refs(&mut conn, ids).await?)
}

/// The id of the referral with case reference `text` (any case), for the
/// audit log's filter; `None` when there is none. The caller has checked
/// that the viewer is an admin.
///
/// # Errors
/// [`Error::Invalid`] on `case_ref` when `text` cannot be a case reference;
/// storage errors.
pub async fn id_by_case_ref(state: &AppState, text: &str) -> Result<Option<i64>, Error> {
    let case_ref = super::domain::CaseRef::parse(text).map_err(|e| {
        Error::Invalid(vec![crate::error::FieldError::both(
            "case_ref",
            e.to_string(),
            "Dit is geen kenmerk van een aanmelding.",
        )])
    })?;
    let mut conn = state.store.pool.acquire().await?;
    Ok(super::store::id_by_case_ref(&mut conn, &case_ref).await?)
}
