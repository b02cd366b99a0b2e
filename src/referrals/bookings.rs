//! Confirming and releasing bookings: the one booking procedure (a
//! coordinator or chair booking through `/bookings` and a chair accepting
//! an offer both book through [`confirm`]) and the one place calendar
//! invitations go out ([`confirm`], [`cancel_invitations`]).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::booking::refusal;
use super::lifecycle::{self, Event};
use super::store::{self, BookableSlot, Referral};
use crate::error::{Error, Refusal};
use crate::mail::ics::{booking_invites, InviteChange};
use crate::state::AppState;
use crate::store::{is_retryable_conflict, is_unique_violation};

/// What became of a booking the rules allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// Booked, the invitations are in the outbox.
    Booked,
    /// Another referral's booking holds the slot (the unique index on
    /// booked slots decided a race); nothing changed.
    SlotTaken,
}

/// Books `slot` for `referral` (as read in this transaction) in `conn`'s
/// transaction: the lifecycle must allow it, the slot must meet every
/// placement rule, and the calendar invitations go out with the booking or
/// not at all.
///
/// # Errors
/// [`Error::Refused`] when the lifecycle or a placement rule forbids it, or
/// the referral changed meanwhile; storage errors.
pub async fn confirm(
    conn: &mut AnyConnection,
    state: &AppState,
    referral: &Referral,
    slot: &BookableSlot,
    now: DateTime<Utc>,
) -> Result<Confirmed, Error> {
    lifecycle::transition(referral.status, Event::Confirm)?;
    if let Some(why) = refusal(referral, slot, &state.regions, now) {
        return Err(Error::refused(
            format!("cannot book this slot: {}", why.message),
            format!("Deze plek kan niet worden geboekt: {}.", why.dutch),
        ));
    }
    match store::confirm(conn, referral.id, &slot.id, now).await {
        Ok(true) => {}
        Ok(false) => return Err(changed_meanwhile()),
        Err(err) if is_unique_violation(&err) => return Ok(Confirmed::SlotTaken),
        Err(err) => return Err(stored(err)),
    }
    booking_invites(conn, state, referral.id, now, InviteChange::Confirmed).await?;
    Ok(Confirmed::Booked)
}

/// Cancels the calendar invitations of a booked conversation that will not
/// take place (the referral withdrawn or cancelled, the session cancelled).
/// Call it in the transaction of that change, before the booking is taken
/// off the referral (the booking says which event to cancel). A referral
/// without a booking gets nothing.
///
/// # Errors
/// Storage errors.
pub async fn cancel_invitations(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    booking_invites(conn, state, referral_id, now, InviteChange::Cancelled).await?;
    Ok(())
}

/// The guarded update found the referral in another state than it was
/// read in: someone else changed it at the same time.
pub fn changed_meanwhile() -> Error {
    Error::Refused(Refusal::new(
        "the referral was changed by someone else at the same time; reload it and try again",
        "Iemand anders heeft de aanmelding tegelijk gewijzigd; laad de pagina opnieuw en probeer het nog eens.",
    ))
}

/// A database error inside a change's transaction: PostgreSQL aborting one
/// of two colliding transactions is "changed meanwhile", not a fault.
pub fn stored(err: sqlx::Error) -> Error {
    if is_retryable_conflict(&err) {
        changed_meanwhile()
    } else {
        Error::Store(err)
    }
}
