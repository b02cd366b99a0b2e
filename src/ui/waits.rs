//! Conversations held (or booked and started) in a period and how long
//! the family waited: the figures the dashboard and its trend are made of.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::PageError;
use crate::referrals::norm;
use crate::state::AppState;
use crate::store::time::{from_date_text, from_millis, to_millis};

/// One conversation of the look-back: where, how long the family waited,
/// whether it was within the norm.
pub(super) struct Held {
    pub(super) region: String,
    /// The slot's local date.
    pub(super) date: chrono::NaiveDate,
    pub(super) wait_days: i64,
    pub(super) within_norm: bool,
}

/// Conversations whose booked slot started from `since` up to `now`, at
/// the home region.
pub(super) async fn history_between(
    state: &AppState,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Held>, PageError> {
    let rows = sqlx::query(
        "SELECT r.region_id, r.registered_at, r.due_date, s.local_date
         FROM referrals r JOIN slots s ON s.id = r.booked_slot_id
         WHERE s.start_at >= $1 AND s.start_at <= $2",
    )
    .bind(to_millis(since))
    .bind(to_millis(now))
    .fetch_all(&state.store.pool)
    .await?;
    let tz = state.regions.timezone;
    let mut out = Vec::new();
    for row in rows {
        let slot_date = from_date_text(&row.try_get::<String, _>("local_date")?)?;
        let due = from_date_text(&row.try_get::<String, _>("due_date")?)?;
        let registered = norm::local_date(from_millis(row.try_get("registered_at")?), tz);
        out.push(Held {
            date: slot_date,
            region: row.try_get("region_id")?,
            wait_days: (slot_date - registered).num_days(),
            within_norm: slot_date <= due,
        });
    }
    Ok(out)
}

/// `part` of `whole` in whole percent; `None` for nothing.
pub(super) fn percent(part: usize, whole: usize) -> Option<u32> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 100.0).round() as u32)
}

/// The median (the lower middle's mean for an even count); `None` for none.
pub(super) fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}
