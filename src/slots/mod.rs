//! The concrete slots of every table, kept in the database for a rolling
//! horizon, with cancelled sessions and extra sessions.
//!
//! - [`horizon`]: the weekly sessions' slots, written ahead;
//! - [`sessions`]: an extra session added, a session cancelled;
//! - [`service`]: what users may see and do with them (the API and the
//!   pages call it);
//! - here: a slot as shown, with what occupies it.

pub mod horizon;
pub mod service;
pub mod sessions;

use sqlx::Row;

use crate::state::AppState;
use crate::store::time::{from_millis, to_date_text};
use chrono::NaiveDate;

pub use horizon::sync_horizon;

/// A slot with what occupies it, for lists and the board.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SlotView {
    /// The slot's stable id (`food-valley-20261202-0900`).
    pub id: String,
    /// The region whose table holds it.
    pub region: String,
    /// Local date, YYYY-MM-DD.
    pub date: String,
    /// Start, RFC 3339 with the local (Europe/Amsterdam) offset.
    pub start: String,
    /// Length in minutes.
    pub minutes: i64,
    /// `free`, `tentative` (planned, not confirmed), `offered` (held for an
    /// open offer to this table), `booked`, `held` (the conversation took
    /// place) or `cancelled`.
    pub state: String,
    /// `template` (a weekly session) or `extra` (an added session).
    pub origin: String,
    /// The referral planned or booked here, when the viewer may see it.
    pub referral_id: Option<i64>,
    /// The referral's case reference, with the referral.
    pub case_ref: Option<String>,
    /// The referral's own region, with the referral.
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
        crate::auth::Role::Chair | crate::auth::Role::Secretary => {
            user.region.as_ref().is_some_and(|own| {
                let own = own.as_str();
                slot.referral_region.as_deref() == Some(own)
                    || (slot.region == own && matches!(slot.state.as_str(), "booked" | "held"))
            })
        }
        _ => false,
    }
}

/// Slots of some regions between two local dates (inclusive), with the
/// referral planned or booked on each, ordered by start. The referral of
/// a cancelled slot is hidden; scope checks are the caller's.
///
/// # Errors
/// Storage errors.
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
