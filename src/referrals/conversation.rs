//! After a booked conversation's start: it was held, or it did not take
//! place (issue 14): the family did not come, or it was postponed. The referral waits
//! again and is planned again; its due date stays (the norm clock runs on
//! from the registration, it does not restart); the history says why with
//! a fixed reason, never free text.

use serde::Deserialize;
use utoipa::ToSchema;

use super::access::Action;
use super::lifecycle::Event;
use super::service::{apply_event, audited};
use super::store::Referral;
use crate::auth::CurrentUser;
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;

/// Why the conversation did not take place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotHeldReason {
    /// The family did not come.
    FamilyAbsent,
    /// Postponed at the request of the family or the professional.
    Postponed,
    /// The table could not sit (the chair ill, too few members).
    TableAbsent,
}

impl NotHeldReason {
    /// The code in the audit log and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NotHeldReason::FamilyAbsent => "family_absent",
            NotHeldReason::Postponed => "postponed",
            NotHeldReason::TableAbsent => "table_absent",
        }
    }

    /// The reason with this code; `None` for any other text.
    pub fn parse(text: &str) -> Option<NotHeldReason> {
        [
            NotHeldReason::FamilyAbsent,
            NotHeldReason::Postponed,
            NotHeldReason::TableAbsent,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// In Dutch, for the history.
    pub fn dutch(self) -> &'static str {
        match self {
            NotHeldReason::FamilyAbsent => "het gezin kwam niet",
            NotHeldReason::Postponed => "uitgesteld",
            NotHeldReason::TableAbsent => "de tafel kon niet zitten",
        }
    }
}

/// The body of `POST /referrals/{id}/not-held`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotHeld {
    /// `family_absent`, `postponed` or `table_absent`.
    pub reason: String,
}

/// Records that the booked conversation of referral `id` did not take
/// place: once its slot has started, by a chair of the table or a
/// coordinator. The referral waits again (status `registered`, slot given
/// up) and a re-plan follows.
///
/// # Errors
/// Not allowed for the role; not found (scope); an unknown reason
/// (invalid, on `reason`); not booked, or its slot not started yet
/// (refused); storage errors.
pub async fn record(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: &NotHeld,
) -> Result<Referral> {
    let action = Action::NotHeld;
    let now = state.now();
    let tz = state.regions.timezone;
    let referral = audited(state, user, action, Some(id), async {
        let reason = NotHeldReason::parse(body.reason.trim()).ok_or_else(|| {
            Error::Invalid(vec![FieldError::both(
                "reason",
                "must be one of family_absent, postponed, table_absent",
                "Kies waarom het gesprek niet doorging.",
            )])
        })?;
        apply_event(
            state,
            user,
            id,
            action,
            Event::NotHeld,
            None,
            Some(reason.as_str()),
            |r| {
                started(
                    r,
                    now,
                    tz,
                    "it can be recorded as not held",
                    "kan worden vastgelegd dat het niet doorging",
                )
            },
        )
        .await
    })
    .await?;
    state.replan.request("conversation not held");
    Ok(referral)
}

/// Marks the conversation as held, once its booked slot has started.
///
/// # Errors
/// Not allowed; not found; not booked, or its slot has not started yet
/// (refused); storage errors.
pub async fn mark_held(state: &AppState, user: &CurrentUser, id: i64) -> Result<Referral> {
    let action = Action::Hold;
    let now = state.now();
    let tz = state.regions.timezone;
    audited(state, user, action, Some(id), async {
        apply_event(state, user, id, action, Event::Hold, None, None, |r| {
            started(
                r,
                now,
                tz,
                "it can be marked as held",
                "het kan als gehouden worden gemarkeerd",
            )
        })
        .await
    })
    .await
}

/// Refused unless the referral's booked slot has started at `now`: what
/// happened to a conversation is known only once it began. `then` says
/// what becomes possible then (English, Dutch).
fn started(
    r: &Referral,
    now: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
    then: &str,
    then_nl: &str,
) -> Result<()> {
    match &r.booked_slot {
        Some(slot) if slot.start > now => {
            let start = slot.start.with_timezone(&tz);
            Err(Error::refused(
                format!(
                    "the conversation is booked for {}; {then} once it has started",
                    start.format("%Y-%m-%d %H:%M")
                ),
                format!(
                    "Het gesprek staat gepland op {}; {then_nl} zodra het is begonnen.",
                    start.format("%d-%m-%Y om %H:%M")
                ),
            ))
        }
        _ => Ok(()),
    }
}
