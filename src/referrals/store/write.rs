//! Registering and changing referrals: every status written is one the
//! lifecycle allows, guarded in SQL.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use super::rows::{dates_to_json, status_list, Arg, Args};
use super::{NewOutcome, NewReferral, Patch};
use crate::referrals::domain::{minutes_needed, CaseRef};
use crate::referrals::lifecycle::{Event, Status};
use crate::store::time::{to_date_text, to_millis};

/// The next reference jbt issues in `year` (`JBT-26-0815`), counted in
/// `case_ref_counters` inside the caller's write transaction, so two
/// registrations never draw the same number.
///
/// # Errors
/// Database errors.
pub async fn issue_case_ref(conn: &mut AnyConnection, year: i32) -> Result<CaseRef, sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_ref_counters (year, last) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
    )
    .bind(i64::from(year))
    .execute(&mut *conn)
    .await?;
    let seq: i64 =
        sqlx::query("UPDATE case_ref_counters SET last = last + 1 WHERE year = $1 RETURNING last")
            .bind(i64::from(year))
            .fetch_one(&mut *conn)
            .await?
            .try_get("last")?;
    Ok(CaseRef::issued(year, seq))
}

/// Registers a referral; returns its id. A taken `case_ref` is a unique
/// violation (`crate::store::is_unique_violation`).
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewReferral,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let at = to_millis(now);
    let row = sqlx::query(
        "INSERT INTO referrals (case_ref, municipality_cbs, region_id, kind, referrer_kind, referrer_org,
             referrer_email, safety_plan, parents_informed, child_12_plus, minutes, unavailable,
             earliest_date, cross_region, status, registered_at, due_date, parent_referral_id,
             created_by, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, $16, $16)
         RETURNING id",
    )
    .bind(new.case_ref.as_str())
    .bind(new.municipality.as_str())
    .bind(new.region.as_str())
    .bind(new.kind.as_str())
    .bind(new.referrer_kind.as_str())
    .bind(new.referrer_org.as_str())
    .bind(new.referrer_email.as_str())
    .bind(new.safety_plan)
    .bind(new.parents_informed)
    .bind(new.child_12_plus)
    .bind(i64::from(minutes_needed(new.child_12_plus)))
    .bind(dates_to_json(&new.unavailable))
    .bind(new.earliest.map(to_date_text))
    .bind(new.cross_region)
    .bind(new.initial_status().as_str())
    .bind(at)
    .bind(to_date_text(new.due))
    .bind(new.parent_referral_id)
    .bind(created_by)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get("id")
}

/// Applies `patch` if the referral is still in one of `allowed` statuses.
#[tracing::instrument(skip(conn, patch))]
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    patch: &Patch,
    allowed: &[Status],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // Only the fields in the patch are written, so two edits of different
    // fields at the same time both survive.
    let mut args = Args::default();
    let mut sets = Vec::new();
    if let Some(email) = &patch.referrer_email {
        sets.push(format!("referrer_email = {}", args.text(email.as_str())));
    }
    for (column, value) in [
        ("safety_plan", patch.safety_plan),
        ("parents_informed", patch.parents_informed),
        ("child_12_plus", patch.child_12_plus),
        ("cross_region", patch.cross_region),
    ] {
        if let Some(value) = value {
            sets.push(format!("{column} = {}", args.push(Arg::Bool(value))));
        }
    }
    if let Some(child) = patch.child_12_plus {
        sets.push(format!(
            "minutes = {}",
            args.int(i64::from(minutes_needed(child)))
        ));
    }
    if let Some(dates) = &patch.unavailable {
        sets.push(format!("unavailable = {}", args.text(dates_to_json(dates))));
    }
    if let Some(earliest) = patch.earliest {
        sets.push(format!(
            "earliest_date = {}",
            args.push(Arg::OptText(earliest.map(to_date_text)))
        ));
    }
    sets.push("version = version + 1".into());
    sets.push(format!("updated_at = {}", args.int(to_millis(now))));
    let sql = format!(
        "UPDATE referrals SET {} WHERE id = {} AND status IN ({})",
        sets.join(", "),
        args.int(id),
        status_list(allowed),
    );
    let done = args.bind(sqlx::query(&sql)).execute(&mut *conn).await?;
    Ok(done.rows_affected() == 1)
}

/// A status change by `event` to `to`, if the referral is still in a status
/// that allows the event. Every event has one target status (see
/// `lifecycle`), so the guard need not be the exact status the caller read:
/// a planner run moving the referral between registered and planned meanwhile
/// does not spoil a withdrawal, while a second withdrawal finds nothing to do.
/// Events that end the referral's claim on a slot (withdraw, cancel, unplan,
/// release) also clear its slot ids, which frees the slot for others.
#[tracing::instrument(skip(conn))]
pub async fn transition(
    conn: &mut AnyConnection,
    id: i64,
    to: Status,
    event: Event,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let clear_slots = if event.frees_slot() {
        "planned_slot_id = NULL, booked_slot_id = NULL, "
    } else {
        ""
    };
    let sql = format!(
        "UPDATE referrals SET {clear_slots}status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND status IN ({})",
        status_list(&event.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds `region` to the tables the referral may no longer go to (the
/// planner honours `excluded_regions`).
#[tracing::instrument(skip(conn))]
pub async fn exclude_region(
    conn: &mut AnyConnection,
    referral_id: i64,
    region: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query("SELECT excluded_regions FROM referrals WHERE id = $1")
        .bind(referral_id)
        .fetch_one(&mut *conn)
        .await?;
    let text: String = row.try_get("excluded_regions")?;
    let mut excluded: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        sqlx::Error::Decode(format!("bad excluded_regions in the database: {e}").into())
    })?;
    if excluded.iter().any(|r| r == region) {
        return Ok(());
    }
    excluded.push(region.to_string());
    excluded.sort();
    // Not a change of the referral's details, so no new version: a
    // referrer's edit in flight stays valid.
    sqlx::query("UPDATE referrals SET excluded_regions = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::Value::from(excluded).to_string())
        .bind(to_millis(now))
        .bind(referral_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Keeps the reason a referral was withdrawn or cancelled with it.
pub async fn set_close_reason(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE referrals SET close_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Completes an incomplete referral once both conditions hold, judged on the
/// row as it is now (not as the caller last read it).
#[tracing::instrument(skip(conn))]
pub async fn complete_if_ready(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE referrals SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND status = $4 AND safety_plan AND parents_informed",
    )
    .bind(Status::Registered.as_str())
    .bind(to_millis(now))
    .bind(id)
    .bind(Status::Incomplete.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Books `slot_id` for the referral if it is still registered or planned.
///
/// The partial unique index `referrals_booked_slot` decides races: of many
/// concurrent bookings of one slot exactly one succeeds, the others fail
/// with a unique violation. A referral that was only tentatively planned in
/// that slot loses it (back to registered; the planner moves it).
#[tracing::instrument(skip(conn))]
pub async fn confirm(
    conn: &mut AnyConnection,
    id: i64,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = to_millis(now);
    // First the tentative holder, then the booking: every booking of this
    // slot locks the holder's row before the unique index entry, so on
    // PostgreSQL concurrent bookings queue up instead of deadlocking.
    // A booking takes the slot even from one placed there by hand.
    displace_tentative(conn, id, slot_id, at, true).await?;
    let sql = format!(
        "UPDATE referrals SET booked_slot_id = $1, planned_slot_id = NULL, pinned_slot_id = NULL, status = $2,
             version = version + 1, updated_at = $3
         WHERE id = $4 AND status IN ({})",
        status_list(&Event::Confirm.allowed_from())
    );
    let done = sqlx::query(&sql)
        .bind(slot_id)
        .bind(Status::Booked.as_str())
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// For a cancelled session: referrals planned or booked in `slot_id` go
/// back to `registered` with their slot ids cleared, so the planner finds
/// them a new place. Returns their ids.
#[tracing::instrument(skip(conn))]
pub async fn release_slot(
    conn: &mut AnyConnection,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "UPDATE referrals SET planned_slot_id = NULL, booked_slot_id = NULL, pinned_slot_id = NULL, status = $1,
             version = version + 1, updated_at = $2
         WHERE (planned_slot_id = $3 OR booked_slot_id = $3) AND status IN ({})
         RETURNING id",
        status_list(&Event::Release.allowed_from())
    );
    let rows = sqlx::query(&sql)
        .bind(Status::Registered.as_str())
        .bind(to_millis(now))
        .bind(slot_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut ids = rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<Vec<i64>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Stores the outcome of a held conversation.
#[tracing::instrument(skip(conn, outcome))]
pub async fn insert_outcome(
    conn: &mut AnyConnection,
    referral_id: i64,
    outcome: &NewOutcome,
    recorded_by: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outcomes (referral_id, outcome, route, help, safety_agreements, evaluation_date,
             recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(referral_id)
    .bind(outcome.outcome.as_str())
    .bind(outcome.route.as_str())
    .bind(outcome.help.as_str())
    .bind(outcome.safety_agreements.as_str())
    .bind(outcome.evaluation_date.map(to_date_text))
    .bind(recorded_by)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    if let Some((due, by)) = &outcome.written_evaluation {
        sqlx::query(
            "INSERT INTO written_evaluations (referral_id, due_date, deliverer, status)
             VALUES ($1, $2, $3, 'expected')",
        )
        .bind(referral_id)
        .bind(to_date_text(*due))
        .bind(by.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Takes `slot_id` from the referral (other than `id`) that holds it only
/// tentatively (and, unless `even_pinned`, not by hand): back to
/// registered, its pin gone, the planner finds it another place. First, so
/// that the unique index on planned slots lets the slot go to `id`.
async fn displace_tentative(
    conn: &mut AnyConnection,
    id: i64,
    slot_id: &str,
    at: i64,
    even_pinned: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE referrals SET planned_slot_id = NULL, pinned_slot_id = NULL, status = $1,
             version = version + 1, updated_at = $2
         WHERE planned_slot_id = $3 AND status = $4 AND id <> $5
           AND ($6 OR pinned_slot_id IS NULL OR pinned_slot_id <> $3)",
    )
    .bind(Status::Registered.as_str())
    .bind(at)
    .bind(slot_id)
    .bind(Status::Planned.as_str())
    .bind(id)
    .bind(even_pinned)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Places a registered or planned referral in `slot_id` by hand, pinned
/// there when `keep` (the planner keeps it; otherwise an open offer holds
/// it), if it still has `version`; `false` when it changed meanwhile. A referral holding the slot only tentatively loses
/// it; one that holds it by hand keeps it (then the unique index on planned
/// slots refuses this with a unique violation).
///
/// # Errors
/// Storage errors; a unique violation when the slot is held by hand or
/// booked meanwhile.
#[tracing::instrument(skip(conn))]
pub async fn pin(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    slot_id: &str,
    keep: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = to_millis(now);
    displace_tentative(conn, id, slot_id, at, false).await?;
    let done = sqlx::query(
        "UPDATE referrals SET planned_slot_id = $1, pinned_slot_id = $7, status = $2,
             version = version + 1, updated_at = $3
         WHERE id = $4 AND version = $5 AND status IN ($6, $2)
           AND NOT EXISTS (SELECT 1 FROM referrals b WHERE b.booked_slot_id = $1)",
    )
    .bind(slot_id)
    .bind(Status::Planned.as_str())
    .bind(at)
    .bind(id)
    .bind(version)
    .bind(Status::Registered.as_str())
    .bind(keep.then_some(slot_id))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the booking of referral `id` (at `version`) to `slot_id`; `false`
/// when it changed meanwhile. A tentative holder of the slot loses it (the
/// caller has checked that nobody holds it by hand or booked it).
///
/// # Errors
/// Storage errors; a unique violation when another referral booked the
/// slot meanwhile.
#[tracing::instrument(skip(conn))]
pub async fn move_booking(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = to_millis(now);
    displace_tentative(conn, id, slot_id, at, false).await?;
    let done = sqlx::query(
        "UPDATE referrals SET booked_slot_id = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND version = $4 AND status = $5",
    )
    .bind(slot_id)
    .bind(at)
    .bind(id)
    .bind(version)
    .bind(Status::Booked.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
