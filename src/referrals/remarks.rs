//! The professional's remarks for the chair, given with a registration
//! (optional): what the chair should know before the conversation. Like
//! information requests ([`super::info`]) they are case content: scoped like
//! the referral, read only with it (that read is audited), never in a log,
//! a mail or the audit log, and stored sealed with the at-rest key, bound to
//! their referral. One text per referral, written once at registration.

use sqlx::{AnyConnection, Row};

use super::input::case_text;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::time::to_millis;

/// Binds a sealed text to its referral: moved to another row, it does not open.
fn aad(referral_id: i64) -> String {
    format!("referral_remarks:{referral_id}")
}

/// The remarks as given, checked (trimmed; blank is none; at most
/// [`super::input::MAX_TEXT`] characters, no control characters but line
/// breaks), before anything is stored.
///
/// # Errors
/// Invalid, on `remarks`, with a Dutch message.
pub fn parse(text: Option<&str>) -> Result<Option<String>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => case_text("remarks", text).map(Some),
    }
}

/// Seals and stores the remarks of a new referral, in the registration's
/// transaction.
///
/// # Errors
/// No encryption key (refused: nothing is stored); storage errors.
pub async fn insert(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    text: &str,
) -> Result<()> {
    let sealed = state
        .cipher()?
        .seal(text, &aad(referral_id))
        .map_err(|e| Error::Internal(e.into()))?;
    sqlx::query("INSERT INTO referral_remarks (referral_id, text, written_at) VALUES ($1, $2, $3)")
        .bind(referral_id)
        .bind(sealed)
        .bind(to_millis(state.now()))
        .execute(conn)
        .await?;
    Ok(())
}

/// The remarks of a referral the caller has just read through
/// [`super::service::get`] (scope checked, read audited); `None` when the
/// professional gave none.
///
/// # Errors
/// No encryption key while remarks exist (refused); a sealed text that does
/// not open (internal); storage errors.
pub async fn of_read_referral(state: &AppState, referral_id: i64) -> Result<Option<String>> {
    let row = sqlx::query("SELECT text FROM referral_remarks WHERE referral_id = $1")
        .bind(referral_id)
        .fetch_optional(&state.store.pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let sealed: String = row.try_get("text")?;
    let text = state
        .cipher()?
        .open(&sealed, &aad(referral_id))
        .map_err(|e| Error::Internal(anyhow::anyhow!("a referral's remarks do not open: {e}")))?;
    Ok(Some(text.to_string()))
}
