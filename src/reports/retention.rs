//! Retention of report content (issue 15): the report is the most
//! sensitive thing jbt holds, and the referring professional keeps it in
//! the family's file. `reports.retention_months` after the conversation
//! the content of every version (drafts too) is deleted; the rows stay,
//! so the dashboard and the half-yearly evaluation still know that a
//! report was sent and when. Run by the daily jobs.

use chrono::Months;

use super::store;
use crate::auth::audit::{record, AuditEntry};
use crate::error::Result;
use crate::state::AppState;

/// Deletes the content of the reports of conversations held more than
/// `reports.retention_months` ago. Returns how many versions were emptied;
/// when any were, one audit row (`report.purge`, no user) says how many.
///
/// # Errors
/// Storage errors.
pub async fn purge(state: &AppState) -> Result<u64> {
    let now = state.now();
    let months = Months::new(state.settings.reports.retention_months);
    let Some(held_before) = now.checked_sub_months(months) else {
        return Ok(0);
    };
    let mut tx = state.store.write().await?;
    let emptied = store::purge(&mut tx, held_before, now).await?;
    if emptied > 0 {
        let entry = AuditEntry {
            at: now,
            user: None,
            action: "report.purge",
            referral_id: None,
            result: "ok",
            detail: Some(format!(
                "{emptied} versions, conversations before {held_before}"
            )),
        };
        record(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(emptied)
}
