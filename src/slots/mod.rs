//! The concrete slots of every table, kept in the database for a rolling
//! horizon, with cancelled sessions and extra sessions.

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use crate::calendar::{
    day_status, generate_slots, overlap, session_slots, Blocking, CalendarSlot, DayStatus, InGap,
};
use crate::config::{RegionId, RegionsConfig, SessionProblem, SessionShape};
use crate::state::AppState;
use crate::store::time::{from_millis, to_date_text, to_millis};

/// Writes the slots of the configured weekly sessions from today to the
/// end of the horizon. Existing slots are left alone, so a cancelled
/// session stays cancelled and an id never changes meaning.
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

/// Cancels a region's session on a date (e.g. the chair is ill): its slots
/// are cancelled and the referrals on them go back to the planner.
/// Returns the referral ids that lost their slot.
pub async fn cancel_session(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    region: &RegionId,
    date: NaiveDate,
    reason: &str,
) -> Result<(usize, Vec<i64>), sqlx::Error> {
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
    crate::offers::withdraw::of_cancelled_slots(&mut tx, state, &ids, now)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("withdrawing offers: {e:#}")))?;
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
            crate::mail::ics::booking_invites(
                &mut tx,
                state,
                referral,
                now,
                crate::mail::ics::InviteChange::Cancelled,
            )
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("calendar invitation: {e:#}")))?;
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

/// Why an extra session cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddSessionError {
    /// The session breaks a rule; one problem per rule, naming its field.
    #[error("the session breaks the session rules")]
    Invalid(Vec<SessionProblem>),
    /// Exactly this extra session exists already.
    #[error("an extra session at that time exists already")]
    Exists,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
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
/// [`AddSessionError::Invalid`] for a rule broken or an overlap (on
/// `start`), [`AddSessionError::Exists`] when exactly this session exists.
pub async fn add_session(
    state: &AppState,
    region: &RegionId,
    date: NaiveDate,
    shape: &SessionShape,
) -> Result<Vec<String>, AddSessionError> {
    let slots = extra_session_slots(&state.regions, region, date, shape, state.now())
        .map_err(AddSessionError::Invalid)?;
    let mut tx = state.store.write().await?;
    let existing = table_slots_between(&mut tx, region, &slots).await?;
    if slots.iter().all(|s| existing.iter().any(|e| e.id == s.id)) {
        return Err(AddSessionError::Exists);
    }
    let tz = state.regions.timezone;
    if let Some(taken) = existing
        .iter()
        .find(|e| slots.iter().any(|s| overlap(s, e)))
    {
        let from = taken.start.with_timezone(&tz).format("%H:%M");
        let to = taken.end().with_timezone(&tz).format("%H:%M");
        return Err(AddSessionError::Invalid(vec![SessionProblem::new(
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

/// A slot with what occupies it, for lists and the board.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SlotView {
    pub id: String,
    pub region: String,
    pub date: String,
    pub start: String,
    pub minutes: i64,
    /// `free`, `tentative` (planned, not confirmed), `offered` (held for an
    /// open offer to this table), `booked`, `held` (the conversation took
    /// place) or `cancelled`.
    pub state: String,
    pub origin: String,
    /// The referral planned or booked here, when the viewer may see it.
    pub referral_id: Option<i64>,
    pub case_ref: Option<String>,
    pub referral_region: Option<String>,
    /// `vtb`, `ots_end` or `evaluation`, with the referral.
    pub kind: Option<String>,
    /// Local date the referral was registered, with the referral.
    pub registered_on: Option<String>,
}

impl SlotView {
    /// Hides the referral from a viewer outside its scope; the slot's
    /// state stays visible.
    pub fn hide_referral(&mut self) {
        self.referral_id = None;
        self.case_ref = None;
        self.referral_region = None;
        self.kind = None;
        self.registered_on = None;
    }
}

/// A chair sees the cases of their own region wherever they are planned,
/// and those booked at their own table (the table accepted them). A case
/// of another region that is only planned or offered here stays hidden,
/// as it is in `GET /referrals`: the offer's minimal view is in the inbox.
pub fn sees_case(user: &crate::auth::CurrentUser, slot: &SlotView) -> bool {
    match user.role {
        crate::auth::Role::Coordinator => true,
        crate::auth::Role::Chair => user.region.as_ref().is_some_and(|own| {
            let own = own.as_str();
            slot.referral_region.as_deref() == Some(own)
                || (slot.region == own && matches!(slot.state.as_str(), "booked" | "held"))
        }),
        _ => false,
    }
}

/// Slots of some regions between two local dates (inclusive), with the
/// referral planned or booked on each.
pub async fn list(
    state: &AppState,
    regions: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SlotView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, s.region_id, s.local_date, s.start_at, s.minutes, s.origin, s.cancelled_at,
                COALESCE(b.id, p.id) AS referral_id,
                COALESCE(b.case_ref, p.case_ref) AS case_ref,
                COALESCE(b.region_id, p.region_id) AS referral_region,
                COALESCE(b.kind, p.kind) AS kind,
                COALESCE(b.registered_at, p.registered_at) AS registered_at,
                b.status AS booked_status,
                o.id AS offer_id
         FROM slots s
         LEFT JOIN referrals b ON b.booked_slot_id = s.id
         LEFT JOIN referrals p ON p.planned_slot_id = s.id AND b.id IS NULL
         LEFT JOIN offers o ON o.slot_id = s.id AND o.status = 'open'
         WHERE s.local_date >= $1 AND s.local_date <= $2
         ORDER BY s.start_at, s.id",
    )
    .bind(to_date_text(from))
    .bind(to_date_text(to))
    .fetch_all(&state.store.pool)
    .await?;
    let tz = state.regions.timezone;
    let mut out = Vec::new();
    for row in rows {
        let region: String = row.try_get("region_id")?;
        if !regions.contains(&region) {
            continue;
        }
        let mut view = slot_view(&row, region, tz)?;
        if view.state == "cancelled" {
            view.hide_referral();
        }
        out.push(view);
    }
    Ok(out)
}

fn slot_view(
    row: &sqlx::any::AnyRow,
    region: String,
    tz: chrono_tz::Tz,
) -> Result<SlotView, sqlx::Error> {
    let cancelled: Option<i64> = row.try_get("cancelled_at")?;
    let referral_id: Option<i64> = row.try_get("referral_id")?;
    let booked_status: Option<String> = row.try_get("booked_status")?;
    let offer: Option<i64> = row.try_get("offer_id")?;
    let state = match (cancelled, booked_status.as_deref(), offer, referral_id) {
        (Some(_), _, _, _) => "cancelled",
        (None, Some("held" | "outcome_recorded"), _, _) => "held",
        (None, Some(_), _, _) => "booked",
        (None, None, Some(_), _) => "offered",
        (None, None, None, Some(_)) => "tentative",
        (None, None, None, None) => "free",
    };
    let registered: Option<i64> = row.try_get("registered_at")?;
    Ok(SlotView {
        id: row.try_get("id")?,
        region,
        date: row.try_get("local_date")?,
        start: from_millis(row.try_get("start_at")?)
            .with_timezone(&tz)
            .to_rfc3339(),
        minutes: row.try_get("minutes")?,
        state: state.to_string(),
        origin: row.try_get("origin")?,
        referral_id,
        case_ref: row.try_get("case_ref")?,
        referral_region: row.try_get("referral_region")?,
        kind: row.try_get("kind")?,
        registered_on: registered.map(|ms| {
            from_millis(ms)
                .with_timezone(&tz)
                .date_naive()
                .format("%Y-%m-%d")
                .to_string()
        }),
    })
}
