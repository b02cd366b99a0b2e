//! Changing a table's sessions: cancelling one (its referrals go back to
//! the planner, its booked conversations' invitations are cancelled, its
//! offers withdrawn) and adding an extra one (checked by the same rules as
//! the weekly sessions of the region configuration).

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use super::horizon::insert;
use crate::calendar::{
    day_status, overlap, session_slots, Blocking, CalendarSlot, DayStatus, InGap,
};
use crate::config::{RegionId, RegionsConfig, SessionProblem, SessionShape};
use crate::error::Error;
use crate::state::AppState;
use crate::store::time::{from_millis, to_date_text, to_millis};

/// Cancels a region's session on a date (e.g. the chair is ill): its slots
/// are cancelled and the referrals on them go back to the planner.
/// Returns the number of slots cancelled and the referral ids that lost
/// their slot.
///
/// # Errors
/// Storage errors (through [`Error::Store`] or [`Error::Internal`]);
/// nothing is cancelled then.
pub async fn cancel_session(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    region: &RegionId,
    date: NaiveDate,
    reason: &str,
) -> Result<(usize, Vec<i64>), Error> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let ids: Vec<String> = sqlx::query(
        "SELECT id FROM slots WHERE region_id = $1 AND local_date = $2 AND cancelled_at IS NULL",
    )
    .bind(region.as_str())
    .bind(to_date_text(date))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_, _>>()?;
    // Offers of these slots first: their tables are told now, not when
    // the offer would have expired.
    state
        .holds
        .after_slots_cancelled(&mut tx, state, &ids, now)
        .await?;
    let mut released = Vec::new();
    for id in &ids {
        let booked: Vec<i64> =
            sqlx::query("SELECT id FROM referrals WHERE booked_slot_id = $1 AND status = 'booked'")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
        for referral in booked {
            crate::referrals::bookings::cancel_invitations(&mut tx, state, referral, now).await?;
        }
        for referral in crate::referrals::store::release_slot(&mut tx, id, now).await? {
            let entry = crate::auth::audit::AuditEntry {
                at: now,
                user: Some(user),
                action: "referral.release",
                referral_id: Some(referral),
                result: "ok",
                // The reason stays with the slots (cancel_reason).
                detail: Some("session cancelled".to_string()),
            };
            crate::auth::audit::record(&mut tx, entry).await?;
            released.push(referral);
        }
        sqlx::query("UPDATE slots SET cancelled_at = $1, cancel_reason = $2 WHERE id = $3")
            .bind(to_millis(now))
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if !ids.is_empty() {
        state.replan.request("session cancelled");
    }
    Ok((ids.len(), released))
}

/// How far ahead an extra session may be added, in days.
const EXTRA_SESSION_MAX_DAYS: u64 = 366;

/// The slots of an extra session at `region`'s table on local `date`,
/// checked against the rules of every session ([`SessionShape::problems`])
/// and those of a date: not in the past, within a year, not on a hard
/// holiday or a day the table is closed, not starting in the hour skipped
/// when summer time begins.
///
/// # Errors
/// Every rule broken, each naming its field (`date`, `start`, `slots`,
/// `minutes`).
pub fn extra_session_slots(
    regions: &RegionsConfig,
    region: &RegionId,
    date: NaiveDate,
    shape: &SessionShape,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarSlot>, Vec<SessionProblem>> {
    let tz = regions.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let mut problems = shape.problems();
    let mut date_problem = |message: String, dutch: String| {
        problems.push(SessionProblem::new("date", message, dutch));
    };
    if date < today {
        date_problem("lies in the past".into(), "deze datum is al voorbij".into());
    } else if today
        .checked_add_days(Days::new(EXTRA_SESSION_MAX_DAYS))
        .is_none_or(|last| date > last)
    {
        date_problem(
            "more than a year ahead".into(),
            "deze datum ligt meer dan een jaar vooruit".into(),
        );
    }
    match day_status(regions, region, date) {
        DayStatus::Holiday(h) if h.blocking == Blocking::Hard => date_problem(
            format!("{date} is a holiday ({}): no table sits", h.name),
            format!(
                "{} is een feestdag ({}): er is geen tafel",
                date.format("%d-%m-%Y"),
                h.name
            ),
        ),
        DayStatus::Closed(reason) => date_problem(
            format!("the table is closed on {date} ({reason})"),
            format!(
                "de tafel is op {} gesloten ({reason})",
                date.format("%d-%m-%Y")
            ),
        ),
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let slots = session_slots(tz, region, date, shape, InGap::Refuse, true).map_err(|p| vec![p])?;
    if slots.first().is_some_and(|first| first.start <= now) {
        return Err(vec![SessionProblem::new(
            "start",
            "lies in the past".into(),
            "dit tijdstip is al voorbij".into(),
        )]);
    }
    Ok(slots)
}

/// Adds an extra session (see [`extra_session_slots`]) unless it overlaps
/// a slot the table has on that day (a weekly or another extra session,
/// cancelled ones excepted): no two slots of a table overlap in real time.
/// Returns the new slot ids.
///
/// # Errors
/// [`Error::Invalid`] for a rule broken or an overlap (on `start`), each
/// in English and Dutch; [`Error::Refused`] when exactly this session
/// exists; storage errors.
pub async fn add_session(
    state: &AppState,
    region: &RegionId,
    date: NaiveDate,
    shape: &SessionShape,
) -> Result<Vec<String>, Error> {
    let slots =
        extra_session_slots(&state.regions, region, date, shape, state.now()).map_err(invalid)?;
    let mut tx = state.store.write().await?;
    let existing = table_slots_between(&mut tx, region, &slots).await?;
    if slots.iter().all(|s| existing.iter().any(|e| e.id == s.id)) {
        return Err(Error::refused(
            "an extra session at that time exists already",
            "Deze extra zitting bestaat al.",
        ));
    }
    let tz = state.regions.timezone;
    if let Some(taken) = existing
        .iter()
        .find(|e| slots.iter().any(|s| overlap(s, e)))
    {
        let from = taken.start.with_timezone(&tz).format("%H:%M");
        let to = taken.end().with_timezone(&tz).format("%H:%M");
        return Err(invalid(vec![SessionProblem::new(
            "start",
            format!("overlaps the table's slot {from}-{to} on that day"),
            format!("valt samen met de plek {from}-{to} van deze tafel op die dag"),
        )]));
    }
    let mut ids = Vec::new();
    for slot in &slots {
        if insert(&mut tx, slot, "extra", state.now()).await? == 1 {
            ids.push(slot.id.clone());
        }
    }
    tx.commit().await?;
    if !ids.is_empty() {
        state.replan.request("extra session");
    }
    Ok(ids)
}

/// The table's slots (not cancelled) that start before the last of `slots`
/// ends and end after the first starts: those it could overlap.
async fn table_slots_between(
    conn: &mut AnyConnection,
    region: &RegionId,
    slots: &[CalendarSlot],
) -> Result<Vec<CalendarSlot>, sqlx::Error> {
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok(Vec::new());
    };
    // No slot lasts longer than a day, so one day before the first start
    // is far enough back to find every slot still running then.
    let rows = sqlx::query(
        "SELECT id, local_date, start_at, minutes FROM slots
         WHERE region_id = $1 AND cancelled_at IS NULL AND start_at < $2 AND start_at > $3",
    )
    .bind(region.as_str())
    .bind(to_millis(last.end()))
    .bind(to_millis(first.start - chrono::Duration::days(1)))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let date: String = row.try_get("local_date")?;
            Ok(CalendarSlot {
                id: row.try_get("id")?,
                region: region.clone(),
                date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap_or(first.date),
                start: from_millis(row.try_get("start_at")?),
                minutes: u32::try_from(row.try_get::<i64, _>("minutes")?).unwrap_or(0),
            })
        })
        .collect()
}

/// Session problems as the domain's invalid input, in both languages.
pub fn invalid(problems: Vec<SessionProblem>) -> Error {
    Error::Invalid(
        problems
            .into_iter()
            .map(|p| crate::error::FieldError::both(p.field, p.message, p.dutch))
            .collect(),
    )
}
