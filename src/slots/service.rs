//! What users may see and do with the tables' slots and sessions: the JSON
//! API and the pages both call these functions.
//!
//! Coordinators see every table; a chair sees every table's states but the
//! cases only of the own region (see [`super::sees_case`]), and manages the
//! own table's sessions. Every case shown is audited as read.

use chrono::{Days, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::sessions::{add_session, cancel_session};
use super::{list as list_slots, sees_case, SlotView};
use crate::auth::audit::record_reads;
use crate::auth::{CurrentUser, Role};
use crate::config::{RegionId, SessionShape};
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;

/// Longest reason for cancelling a session, in characters.
pub const MAX_CANCEL_REASON: usize = 200;

/// Which slots to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct SlotQuery {
    /// Region id; repeatable as a comma-separated list. Default: all
    /// (coordinator) or the chair's own region.
    pub region: Option<String>,
    /// First local date (YYYY-MM-DD); default today.
    pub from: Option<String>,
    /// Number of weeks from `from`; default 4, at most 26.
    pub weeks: Option<u32>,
}

/// A session to cancel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelSession {
    /// Region id.
    pub region: String,
    /// Local date of the session.
    pub date: String,
    /// Why (shown to coordinators; no personal data).
    pub reason: String,
}

/// What cancelling a session did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledSession {
    /// Slots cancelled.
    pub cancelled_slots: usize,
    /// Referrals that lost their slot; the planner places them again.
    pub released_referrals: Vec<i64>,
}

/// An extra session to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddSession {
    /// Region id.
    pub region: String,
    /// Local date, YYYY-MM-DD.
    pub date: String,
    /// Local start time, HH:MM.
    pub start: String,
    /// Number of slots, back to back.
    pub slots: u32,
    /// Length of each slot in minutes.
    pub minutes: u32,
}

/// The slots of some tables over some weeks, with their state; the cases
/// only within the user's scope, each audited as read.
///
/// # Errors
/// Not a coordinator or chair; unknown regions or dates, a number of weeks
/// outside 1 to 26 (invalid, each named); storage errors.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    query: &SlotQuery,
) -> Result<Vec<SlotView>> {
    user.require(&[Role::Coordinator, Role::Chair, Role::Secretary])?;
    let mut problems = Vec::new();
    let regions: Vec<String> = match &query.region {
        Some(text) => text
            .split(',')
            .filter_map(|r| parse_region(state, r.trim(), &mut problems))
            .map(|id| id.as_str().to_string())
            .collect(),
        None => match (&user.role, &user.region) {
            (role, Some(own)) if role.at_table() => vec![own.as_str().to_string()],
            _ => state
                .regions
                .regions
                .iter()
                .map(|r| r.id.as_str().to_string())
                .collect(),
        },
    };
    let today = state
        .now()
        .with_timezone(&state.regions.timezone)
        .date_naive();
    let from = match &query.from {
        Some(text) => parse_date("from", text, &mut problems).unwrap_or(today),
        None => today,
    };
    let weeks = query.weeks.unwrap_or(4);
    if !(1..=26).contains(&weeks) {
        problems.push(FieldError::both(
            "weeks",
            "must be 1 to 26",
            "1 tot 26 weken",
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let to = from
        .checked_add_days(Days::new(u64::from(weeks) * 7 - 1))
        .unwrap_or(from);
    let mut slots = list_slots(state, &regions, from, to).await?;
    let mut shown = Vec::new();
    for slot in &mut slots {
        if !sees_case(user, slot) {
            slot.hide_referral();
        } else if let Some(id) = slot.referral_id {
            shown.push(id);
        }
    }
    // No case leaves without its audit row.
    record_reads(&state.store, state.now(), user, "slot.read", &shown, None).await?;
    Ok(slots)
}

/// Who manages `region`'s sessions: a coordinator, or a chair of that
/// region.
///
/// # Errors
/// [`Error::NotAllowed`] for everyone else.
pub fn may_manage(user: &CurrentUser, region: &RegionId) -> Result<()> {
    match user.role {
        Role::Coordinator => Ok(()),
        role if role.at_table() && user.region.as_ref() == Some(region) => Ok(()),
        _ => Err(Error::NotAllowed(
            "only a coordinator or the region's chair or secretary manages its sessions".into(),
        )),
    }
}

/// Cancels a region's session on a date; its referrals are re-planned.
///
/// # Errors
/// Invalid fields (each named); not allowed for the user; no session of
/// that table on that date (not found); storage errors.
pub async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    body: &CancelSession,
) -> Result<CancelledSession> {
    let mut problems = Vec::new();
    let region = parse_region(state, &body.region, &mut problems);
    let date = parse_date("date", &body.date, &mut problems);
    let reason = body.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_CANCEL_REASON
        || reason.chars().any(char::is_control)
    {
        problems.push(FieldError::both(
            "reason",
            format!("must be 1 to {MAX_CANCEL_REASON} characters of plain text"),
            format!("geef een reden van 1 tot {MAX_CANCEL_REASON} tekens"),
        ));
    }
    let (Some(region), Some(date), true) = (region, date, problems.is_empty()) else {
        return Err(Error::Invalid(problems));
    };
    may_manage(user, &region)?;
    let (cancelled_slots, released_referrals) =
        cancel_session(state, user, &region, date, reason).await?;
    if cancelled_slots == 0 {
        return Err(Error::NotFound);
    }
    Ok(CancelledSession {
        cancelled_slots,
        released_referrals,
    })
}

/// Adds an extra session of `slots` consecutive slots, checked by the
/// rules of every session and those of its date (see
/// [`super::sessions::extra_session_slots`]). Returns the new slot ids.
///
/// # Errors
/// Invalid fields or a rule broken (each named, in English and Dutch); not
/// allowed for the user; exactly this session exists (refused); storage
/// errors.
pub async fn add(state: &AppState, user: &CurrentUser, body: &AddSession) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let region = parse_region(state, &body.region, &mut problems);
    let date = parse_date("date", &body.date, &mut problems);
    let start = NaiveTime::parse_from_str(body.start.trim(), "%H:%M").ok();
    if start.is_none() {
        problems.push(FieldError::both(
            "start",
            format!("not a time (HH:MM): {:?}", body.start),
            "geen tijd (uu:mm)",
        ));
    }
    // The rules of every session, also when the date or start is unreadable.
    let shape = SessionShape {
        start: start.unwrap_or(NaiveTime::MIN),
        slots: body.slots,
        slot_minutes: body.minutes,
    };
    problems.extend(
        shape
            .problems()
            .into_iter()
            .filter(|p| start.is_some() || p.field != "start")
            .map(|p| FieldError::both(p.field, p.message, p.dutch)),
    );
    let (Some(region), Some(date), Some(_), true) = (region, date, start, problems.is_empty())
    else {
        return Err(Error::Invalid(problems));
    };
    may_manage(user, &region)?;
    add_session(state, &region, date, &shape).await
}

fn parse_region(state: &AppState, text: &str, problems: &mut Vec<FieldError>) -> Option<RegionId> {
    let id = RegionId::parse(text.trim())
        .ok()
        .filter(|id| state.regions.region(id).is_some());
    if id.is_none() {
        problems.push(FieldError::both(
            "region",
            format!("unknown region {text:?}"),
            "onbekende regio",
        ));
    }
    id
}

fn parse_date(field: &str, text: &str, problems: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(FieldError::both(
            field,
            format!("not a date (YYYY-MM-DD): {text:?}"),
            "geen datum (jjjj-mm-dd)",
        ));
    }
    date
}
