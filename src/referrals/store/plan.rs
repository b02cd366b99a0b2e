//! What a plan run writes: tentative slots and explanations.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::rows::status_list;
use crate::referrals::lifecycle::{Event, Status};
use crate::store::time::to_millis;

/// Takes the tentative slot off the referrals `ids` (still registered or
/// planned): the first half of moving tentative placements, so two
/// referrals may swap slots (the unique index on planned slots is checked
/// per statement). The status follows in [`set_tentative`].
pub async fn clear_tentative(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = NULL WHERE id = $1 AND status IN ({})",
        status_list(&Event::Plan.allowed_from())
    );
    for id in ids {
        sqlx::query(&sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Places a referral tentatively in `slot` (the planner's [`Event::Plan`])
/// or, with `None`, leaves it without one ([`Event::Unplan`]), if it is
/// still registered or planned. A booking may have committed since the
/// plan run read the slots (bookings do not take the plan lock): a slot
/// booked by now is never planned into; the booking asked for a new run.
/// Returns whether the referral was changed.
pub async fn set_tentative(
    conn: &mut AnyConnection,
    id: i64,
    slot: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let status = match slot {
        Some(_) => Status::Planned,
        None => Status::Registered,
    };
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = $1, status = $2, updated_at = $3
         WHERE id = $4 AND status IN ({})
           AND NOT EXISTS (SELECT 1 FROM referrals b WHERE b.booked_slot_id = $1)",
        status_list(&Event::Plan.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(slot)
        .bind(status.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the planner's explanation (JSON text) with a referral.
pub async fn set_explanation(
    conn: &mut AnyConnection,
    id: i64,
    text: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE referrals SET plan_explanation = $1 WHERE id = $2")
        .bind(text)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
