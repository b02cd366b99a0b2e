//! The concrete slots of every table, kept in the database for a rolling
//! horizon, with cancelled sessions and extra sessions.

pub mod api;

use anyhow::Context;
use chrono::{Days, NaiveDate, NaiveTime};
use sqlx::{AnyConnection, Row};

use crate::calendar::{generate_slots, local_to_utc, CalendarSlot};
use crate::config::RegionId;
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

/// Writes one slot unless its id exists; 1 when written.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    slot: &CalendarSlot,
    origin: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO slots (id, region_id, local_date, start_at, minutes, origin, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&slot.id)
    .bind(slot.region.as_str())
    .bind(to_date_text(slot.date))
    .bind(to_millis(slot.start))
    .bind(i64::from(slot.minutes))
    .bind(origin)
    .bind(to_millis(now))
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
                detail: Some(format!("session cancelled: {reason}")),
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

/// Adds an extra session: `count` slots of `minutes` from `start` (local).
pub async fn add_session(
    state: &AppState,
    region: &RegionId,
    date: NaiveDate,
    start: NaiveTime,
    count: u32,
    minutes: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let tz = state.regions.timezone;
    let mut tx = state.store.write().await?;
    let mut ids = Vec::new();
    let mut at = date.and_time(start);
    for _ in 0..count {
        let slot = CalendarSlot {
            id: format!(
                "{}-{}-{}-extra",
                region.as_str(),
                date.format("%Y%m%d"),
                at.format("%H%M")
            ),
            region: region.clone(),
            date,
            start: local_to_utc(tz, at),
            minutes,
        };
        if insert(&mut tx, &slot, "extra", state.now()).await? == 1 {
            ids.push(slot.id);
        }
        at += chrono::Duration::minutes(i64::from(minutes));
    }
    tx.commit().await?;
    if !ids.is_empty() {
        state.replan.request("extra session");
    }
    Ok(ids)
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
