//! A municipality's situation at the tables, for its contact person
//! (`/mijn-gemeente`): figures and the delay alerts sent, never a case
//! file. Cases are named by their pseudonymous reference only, as in the
//! alert mails the contact already receives.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use crate::store::time::{from_date_text, from_millis};
use crate::store::Store;

/// Open referrals of one municipality, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Situation {
    /// Registered or incomplete, without a slot yet.
    pub waiting: usize,
    /// Of those, incomplete (safety plan or informed parents missing).
    pub incomplete: usize,
    /// Planned or booked on or before the due date.
    pub within_norm: usize,
    /// Planned or booked after the due date.
    pub over_norm: usize,
    /// The delay alerts sent, newest first (at most 50).
    pub alerts: Vec<AlertLine>,
}

/// One delay alert as the contact knows it from the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLine {
    /// The case reference.
    pub case_ref: String,
    /// Days over the norm the last alert said.
    pub late_days: i64,
    /// Still over the norm (false: back within it, or closed).
    pub open: bool,
    /// Offered to a neighbouring table now.
    pub offered: bool,
    /// When the alert last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// The situation of municipality `cbs` (a CBS code).
///
/// # Errors
/// Storage errors; a date in the database that is not `YYYY-MM-DD`.
pub async fn situation(store: &Store, cbs: &str) -> anyhow::Result<Situation> {
    let rows = sqlx::query(
        "SELECT r.status, r.due_date, s.local_date FROM referrals r
         LEFT JOIN slots s ON s.id = COALESCE(r.booked_slot_id, r.planned_slot_id)
         WHERE r.municipality_cbs = $1 AND r.status IN ('incomplete', 'registered', 'planned', 'booked')",
    )
    .bind(cbs)
    .fetch_all(&store.pool)
    .await
    .context("counting the municipality's referrals")?;
    let mut situation = Situation::default();
    for row in rows {
        let status: String = row.try_get("status")?;
        let due: NaiveDate = from_date_text(&row.try_get::<String, _>("due_date")?)?;
        let date: Option<String> = row.try_get("local_date")?;
        match date {
            Some(date) if from_date_text(&date)? <= due => situation.within_norm += 1,
            Some(_) => situation.over_norm += 1,
            None => {
                situation.waiting += 1;
                situation.incomplete += usize::from(status == "incomplete");
            }
        }
    }
    situation.alerts = alerts(store, cbs).await?;
    Ok(situation)
}

async fn alerts(store: &Store, cbs: &str) -> anyhow::Result<Vec<AlertLine>> {
    let rows = sqlx::query(
        "SELECT r.case_ref, d.notified_late_days, CASE WHEN d.open THEN 1 ELSE 0 END AS open,
                CASE WHEN EXISTS (SELECT 1 FROM offers o WHERE o.referral_id = r.id AND o.status = 'open')
                     THEN 1 ELSE 0 END AS offered,
                d.updated_at
         FROM delay_alerts d JOIN referrals r ON r.id = d.referral_id
         WHERE r.municipality_cbs = $1 ORDER BY d.updated_at DESC, r.id LIMIT 50",
    )
    .bind(cbs)
    .fetch_all(&store.pool)
    .await
    .context("reading the delay alerts")?;
    rows.iter()
        .map(|row| {
            Ok(AlertLine {
                case_ref: row.try_get("case_ref")?,
                late_days: row.try_get("notified_late_days")?,
                open: row.try_get::<i64, _>("open")? == 1,
                offered: row.try_get::<i64, _>("offered")? == 1,
                updated_at: from_millis(row.try_get("updated_at")?),
            })
        })
        .collect()
}
