//! The weekly sessions' slots, written ahead for the planning horizon.

use anyhow::Context;
use chrono::Days;
use sqlx::AnyConnection;

use crate::calendar::{generate_slots, CalendarSlot};
use crate::state::AppState;
use crate::store::time::{to_date_text, to_millis};

/// Writes the slots of the configured weekly sessions from today to the
/// end of the horizon. Existing slots are left alone, so a cancelled
/// session stays cancelled and an id never changes meaning.
///
/// # Errors
/// The horizon end is out of the date range, or storage errors (then no
/// slot is added).
pub async fn sync_horizon(state: &AppState) -> anyhow::Result<usize> {
    let tz = state.regions.timezone;
    let today = state.now().with_timezone(&tz).date_naive();
    let end = today
        .checked_add_days(Days::new(u64::from(state.settings.horizon_weeks) * 7))
        .context("horizon out of range")?;
    let slots = generate_slots(&state.regions, today, end);
    let mut tx = state.store.write().await?;
    let mut added = 0;
    for slot in &slots {
        added += insert(&mut tx, slot, "template", state.now()).await?;
    }
    tx.commit().await?;
    if added > 0 {
        tracing::info!(added, "slots added to the horizon");
        state.replan.request("new slots");
    }
    Ok(added)
}

/// Writes one slot unless its id exists or it overlaps a slot the table
/// has (not cancelled); 1 when written. The overlap guard keeps the
/// invariant on every path: a weekly slot generated for a day on which an
/// extra session was added earlier is left out.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    slot: &CalendarSlot,
    origin: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO slots (id, region_id, local_date, start_at, minutes, origin, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7
         WHERE NOT EXISTS (
             SELECT 1 FROM slots o
             WHERE o.region_id = $2 AND o.cancelled_at IS NULL AND o.id <> $1
               AND o.start_at < $8 AND o.start_at + o.minutes * 60000 > $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&slot.id)
    .bind(slot.region.as_str())
    .bind(to_date_text(slot.date))
    .bind(to_millis(slot.start))
    .bind(i64::from(slot.minutes))
    .bind(origin)
    .bind(to_millis(now))
    .bind(to_millis(slot.end()))
    .execute(&mut *conn)
    .await?;
    Ok(usize::try_from(done.rows_affected()).unwrap_or(0))
}
