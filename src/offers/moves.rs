//! Moving a referral to another slot by hand (issue 14): a coordinator, or
//! a chair of the table, picks a slot the placement rules allow.
//!
//! - At the referral's own (home) table, a referral that waits (registered
//!   or tentatively planned) is placed there and *pinned*: the planner keeps
//!   it there while the slot is usable. A booked conversation moves only by
//!   this explicit action; its calendar invitations are updated.
//! - At another region's table it becomes an *offer* to that table under the
//!   usual rules (a neighbour, the family's consent to travel, time left to
//!   answer); the chair there accepts or declines. Never a booking without
//!   its chair. A booked conversation does not move to another table.
//!
//! Every move is checked in one transaction and audited (`referral.move`,
//! and `offer.create` for an offer); a refusal is audited too. It lives with
//! the offers because one of its outcomes is an offer, and offers build on
//! referrals, not the other way round.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::store::{self as offers, NewOffer};
use super::{deadline, notify};
use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::referrals::access::{authorize, Action, Scope};
use crate::referrals::booking::refusal;
use crate::referrals::bookings::{changed_meanwhile, stored};
use crate::referrals::lifecycle::Status;
use crate::referrals::service::{audited, load, reload};
use crate::referrals::store::{self, BookableSlot, Referral};
use crate::state::AppState;
use crate::store::is_unique_violation;

/// What a move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Moved {
    /// Placed (tentatively) in the slot at its own table, pinned there.
    Pinned,
    /// The booking moved to the slot; invitations updated.
    Rebooked,
    /// Offered to the slot's table; waits for its chair.
    Offered,
}

/// Moves referral `referral_id` to slot `slot_id` (see the module).
///
/// # Errors
/// Not allowed (role; a chair outside the referral's scope; a chair placing
/// at a table that is neither their own nor another region's); not found;
/// an unknown slot (invalid); refused with the reason in English and Dutch
/// when the referral cannot move (status, a booking to another table), the
/// slot breaks a placement rule, is booked, held by hand or offered for
/// another referral, or is too soon for the other table to answer; storage
/// errors.
pub async fn move_to(
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    slot_id: &str,
) -> Result<(Referral, Moved)> {
    let action = Action::Move;
    let done = audited(state, user, action, Some(referral_id), async {
        let scope = authorize(user, action)?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        // After a plan run that is under way, never beside it: it would
        // write its older view over the move.
        tx.lock(crate::placement::PLAN_LOCK_KEY)
            .await
            .map_err(stored)?;
        let current = load(&mut tx, referral_id, &scope).await?;
        let slot = store::slot(&mut tx, slot_id)
            .await
            .map_err(stored)?
            .ok_or_else(|| Error::invalid("slot_id", format!("no slot {slot_id:?}")))?;
        let home = current.region.as_str() == slot.region;
        check(state, &scope, &current, &slot, home, now)?;
        check_free(&mut tx, current.id, &slot.id).await?;
        let moved = if !home {
            offer(&mut tx, state, user, &current, &slot, now).await?
        } else if current.status == Status::Booked {
            rebook(&mut tx, state, &current, &slot, now).await?
        } else {
            pin(&mut tx, state, user, &current, &slot, now).await?
        };
        let from = current
            .booked_slot
            .as_ref()
            .or(current.planned_slot.as_ref())
            .map_or("none".to_string(), |s| s.id.clone());
        let detail = format!("{from} -> {} ({moved:?})", slot.id);
        crate::referrals::audit::ok(&mut tx, state, user, action, current.id, Some(detail)).await?;
        let referral = reload(&mut tx, current.id).await?;
        tx.commit().await.map_err(stored)?;
        Ok((referral, moved))
    })
    .await?;
    state.replan.request("referral moved by hand");
    Ok(done)
}

fn refused(english: impl Into<String>, dutch: impl Into<String>) -> Error {
    Error::refused(english.into(), dutch.into())
}

/// The rules a move must meet before anything is written.
fn check(
    state: &AppState,
    scope: &Scope,
    current: &Referral,
    slot: &BookableSlot,
    home: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if !matches!(
        current.status,
        Status::Registered | Status::Planned | Status::Booked
    ) {
        return Err(refused(
            "only a waiting or booked referral can be moved",
            "Alleen een aanmelding die op een plek wacht of geboekt is, kan worden verplaatst.",
        ));
    }
    let here = [&current.booked_slot, &current.planned_slot]
        .into_iter()
        .flatten()
        .any(|s| s.id == slot.id);
    if here {
        return Err(refused(
            "the referral is already in this slot",
            "De aanmelding staat al op deze plek.",
        ));
    }
    if let Scope::Region(own) = scope {
        if home && own.as_str() != slot.region {
            return Err(Error::NotAllowed(
                "a chair places referrals at the own table, or offers them to another table".into(),
            ));
        }
    }
    if !home && current.status == Status::Booked {
        return Err(refused(
            "a booked conversation moves only within its own table",
            "Een geboekt gesprek verplaatst u alleen binnen de eigen tafel.",
        ));
    }
    if let Some(why) = refusal(current, slot, &state.regions, now) {
        return Err(refused(
            format!("cannot move to this slot: {}", why.message),
            format!("Deze plek kan niet: {}.", why.dutch),
        ));
    }
    Ok(())
}

/// Refuses a slot another referral holds for certain: booked, placed there
/// by hand, or offered.
async fn check_free(conn: &mut AnyConnection, referral_id: i64, slot_id: &str) -> Result<()> {
    let row = sqlx::query(
        "SELECT
            (SELECT COUNT(*) FROM referrals WHERE booked_slot_id = $1 AND id <> $2) AS booked,
            (SELECT COUNT(*) FROM referrals WHERE pinned_slot_id = $1
                AND status IN ('registered', 'planned') AND id <> $2) AS by_hand,
            (SELECT COUNT(*) FROM offers WHERE slot_id = $1 AND status = 'open' AND referral_id <> $2) AS offered",
    )
    .bind(slot_id)
    .bind(referral_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(stored)?;
    let count = |column: &str| row.try_get::<i64, _>(column).map_err(stored);
    if count("booked")? > 0 {
        return Err(refused(
            "the slot is booked for another referral",
            "Deze plek is al geboekt voor een andere aanmelding.",
        ));
    }
    if count("by_hand")? > 0 {
        return Err(refused(
            "the slot was given to another referral by hand",
            "Deze plek is met de hand aan een andere aanmelding gegeven.",
        ));
    }
    if count("offered")? > 0 {
        return Err(refused(
            "the slot is offered for another referral",
            "Deze plek is aangeboden voor een andere aanmelding; wacht op het antwoord.",
        ));
    }
    Ok(())
}

/// Withdraws the referral's open offer, if any, telling that table.
async fn withdraw_open_offer(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    referral_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(open) = offers::open_for_referral(conn, referral_id)
        .await
        .map_err(stored)?
    else {
        return Ok(());
    };
    if offers::withdraw(conn, open.id, now).await.map_err(stored)? {
        let detail = format!("offer {} withdrawn: moved by hand", open.id);
        super::audit(conn, Some(user), "offer.withdraw", referral_id, detail, now)
            .await
            .map_err(stored)?;
        let why = "de tafel heeft de aanmelding met de hand naar een andere plek verplaatst";
        let to = notify::chairs(conn, &open.to_region)
            .await
            .map_err(stored)?;
        let notice = notify::withdrawn_because(&state.regions, &open, why);
        notify::send(conn, state, to, &notice, now)
            .await
            .map_err(stored)?;
    }
    Ok(())
}

async fn pin(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    current: &Referral,
    slot: &BookableSlot,
    now: DateTime<Utc>,
) -> Result<Moved> {
    withdraw_open_offer(conn, state, user, current.id, now).await?;
    guarded(store::pin(conn, current.id, current.version, &slot.id, true, now).await)?;
    Ok(Moved::Pinned)
}

/// A guarded write's result: not done, or a unique index refusing it,
/// means someone changed the referral or took the slot meanwhile.
fn guarded(result: std::result::Result<bool, sqlx::Error>) -> Result<()> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(changed_meanwhile()),
        Err(err) if is_unique_violation(&err) => Err(changed_meanwhile()),
        Err(err) => Err(stored(err)),
    }
}

async fn rebook(
    conn: &mut AnyConnection,
    state: &AppState,
    current: &Referral,
    slot: &BookableSlot,
    now: DateTime<Utc>,
) -> Result<Moved> {
    guarded(store::move_booking(conn, current.id, current.version, &slot.id, now).await)?;
    crate::mail::ics::booking_invites(
        conn,
        state,
        current.id,
        now,
        crate::mail::ics::InviteChange::Moved,
    )
    .await?;
    Ok(Moved::Rebooked)
}

async fn offer(
    conn: &mut AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    current: &Referral,
    slot: &BookableSlot,
    now: DateTime<Utc>,
) -> Result<Moved> {
    let Some(expires_at) =
        deadline::answer_deadline(&state.regions, &state.settings.offers, now, slot.start)
    else {
        return Err(refused(
            "too soon: the other table would not have the minimum time to answer",
            "Te kort dag: de andere tafel heeft niet genoeg tijd meer om te antwoorden.",
        ));
    };
    withdraw_open_offer(conn, state, user, current.id, now).await?;
    // The slot is held for the offer as a plan run holds it: planned there
    // (not pinned by hand: the open offer is the hold).
    guarded(store::pin(conn, current.id, current.version, &slot.id, false, now).await)?;
    let new = NewOffer {
        referral_id: current.id,
        slot_id: &slot.id,
        from_region: current.region.as_str(),
        to_region: &slot.region,
        expires_at,
    };
    let id = offers::insert_open(conn, &new, now)
        .await
        .map_err(stored)?
        .ok_or_else(changed_meanwhile)?;
    let detail = format!("offer {id}: slot {} at {} (by hand)", slot.id, slot.region);
    super::audit(conn, Some(user), "offer.create", current.id, detail, now)
        .await
        .map_err(stored)?;
    if let Some(made) = offers::get(conn, id).await.map_err(stored)? {
        let to = notify::chairs(conn, &slot.region).await.map_err(stored)?;
        let notice = notify::offered(&state.regions, &made);
        notify::send(conn, state, to, &notice, now)
            .await
            .map_err(stored)?;
    }
    Ok(Moved::Offered)
}

/// How far ahead the referral page offers slots to move to.
const OPTION_WEEKS: u64 = 6;
/// The most slots the page lists per table.
const MAX_PER_TABLE: usize = 20;

/// A slot a referral may be moved to, for the referral page.
#[derive(Debug, Clone)]
pub struct MoveOption {
    /// The slot.
    pub slot: BookableSlot,
    /// At another region's table: the move is an offer to its chair.
    pub offer: bool,
}

/// The slots `referral` may move to in the next six weeks: free or only
/// tentatively held, at its own table or a neighbouring one, meeting every
/// placement rule; the slots it holds are left out. Its own table first,
/// then the neighbours in configuration order, each in time order and at
/// most 20. A booked referral gets its own table's slots only. Empty when
/// `user` may not move it or it cannot move. Reads slots only, no case
/// data; the submit checks everything again.
///
/// # Errors
/// Storage errors.
pub async fn options(
    state: &AppState,
    user: &CurrentUser,
    referral: &Referral,
) -> Result<Vec<MoveOption>> {
    let movable = matches!(
        referral.status,
        Status::Registered | Status::Planned | Status::Booked
    );
    if !movable || authorize(user, Action::Move).is_err() {
        return Ok(Vec::new());
    }
    let home = referral.region.as_str();
    let mut regions = vec![home.to_string()];
    if referral.status != Status::Booked {
        if let Some(config) = state.regions.region(&referral.region) {
            regions.extend(config.neighbours.iter().map(|n| n.as_str().to_string()));
        }
    }
    // A chair places at the own table; other tables get an offer.
    let places_at_home = match authorize(user, Action::Move) {
        Ok(Scope::Region(own)) => own.as_str() == home,
        _ => true,
    };
    let now = state.now();
    let today = crate::referrals::norm::local_date(now, state.regions.timezone);
    let until = today + chrono::Days::new(OPTION_WEEKS * 7);
    let held: Vec<&str> = [&referral.booked_slot, &referral.planned_slot]
        .into_iter()
        .flatten()
        .map(|s| s.id.as_str())
        .collect();
    let slots = crate::slots::list(state, &regions, today, until)
        .await
        .map_err(stored)?;
    let found: Vec<MoveOption> = slots
        .into_iter()
        .filter(|s| matches!(s.state.as_str(), "free" | "tentative"))
        .filter(|s| !held.contains(&s.id.as_str()))
        .filter(|s| places_at_home || s.region != home)
        .filter_map(|s| bookable(&s))
        .filter(|slot| refusal(referral, slot, &state.regions, now).is_none())
        .map(|slot| MoveOption {
            offer: slot.region != home,
            slot,
        })
        .filter(|o| {
            !o.offer
                || deadline::answer_deadline(
                    &state.regions,
                    &state.settings.offers,
                    now,
                    o.slot.start,
                )
                .is_some()
        })
        .collect();
    Ok(regions
        .iter()
        .flat_map(|region| {
            found
                .iter()
                .filter(move |o| &o.slot.region == region)
                .take(MAX_PER_TABLE)
                .cloned()
        })
        .collect())
}

fn bookable(view: &crate::slots::SlotView) -> Option<BookableSlot> {
    Some(BookableSlot {
        id: view.id.clone(),
        region: view.region.clone(),
        date: view.date.parse().ok()?,
        start: DateTime::parse_from_rfc3339(&view.start)
            .ok()?
            .with_timezone(&Utc),
        minutes: u32::try_from(view.minutes).ok()?,
        cancelled: false,
    })
}
