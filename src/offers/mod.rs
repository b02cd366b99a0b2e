//! Offers to a neighbouring region's table.
//!
//! When a plan run places a referral at another region's table, that table's
//! chairs get an *offer* ([`after_plan`]), and the slot is held for it (the
//! scenario pins a referral with an open offer to the offered slot). A chair
//! of the receiving region answers:
//!
//! - [`accept`]: the booking is confirmed on that slot, and both regions and
//!   the referring professional are told;
//! - [`decline`] (with a reason): that table is added to the referral's
//!   `excluded_regions`, its tentative slot is released and the planner runs
//!   again, falling through to the next best table, home or neighbour.
//!
//! Unanswered, an offer expires after `offers.expiry_working_days` working
//! days ([`expire_due`], every minute; working days as in
//! [`crate::calendar::add_working_days`]) and counts as declined. An open
//! offer whose referral the plan no longer places in the offered slot is
//! withdrawn. When a referral ends up unplanned after a declined or expired
//! offer, the coordinators and the municipal contact are told.
//!
//! ```text
//! open --accept--> accepted      open --decline--> declined
//! open --deadline--> expired     open --plan moved on / slot taken--> withdrawn
//! ```
//!
//! Answers are idempotent: the same answer again gives the same result; the
//! other answer after one was given is a 409 that says what happened.

pub mod deadline;
pub mod notify;
pub mod store;
pub mod view;
pub mod withdraw;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use crate::auth::audit::{record, AuditEntry};
use crate::auth::{CurrentUser, Role};
use crate::planning::PlanContext;
use crate::referrals::access::Scope;
use crate::referrals::booking;
use crate::referrals::lifecycle::{self, Event, Status};
use crate::state::AppState;
use crate::store::{is_unique_violation, WriteTx};
use crate::web::{AppError, Result};
use store::{NewOffer, Offer};
pub use view::{OfferList, OfferView};

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// Waiting for the receiving chair; the slot is held.
    Open,
    /// The receiving chair took it: the referral is booked there.
    Accepted,
    /// The receiving chair turned it down, with a reason.
    Declined,
    /// Nobody answered in time; counts as declined.
    Expired,
    /// No longer needed: the plan moved the referral, or the slot went to
    /// another referral.
    Withdrawn,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        OfferStatus::Open,
        OfferStatus::Accepted,
        OfferStatus::Declined,
        OfferStatus::Expired,
        OfferStatus::Withdrawn,
    ];

    /// The name stored in `offers.status` and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<OfferStatus> {
        OfferStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Longest decline reason.
pub const MAX_REASON: usize = 500;

/// An audit row of a change, in the change's transaction. `user` is
/// `None` for plan runs and the minute job.
async fn audit(
    conn: &mut AnyConnection,
    user: Option<&CurrentUser>,
    action: &str,
    referral_id: i64,
    detail: String,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    let entry = AuditEntry {
        at: now,
        user,
        action,
        referral_id: Some(referral_id),
        result: "ok",
        detail: Some(detail),
    };
    record(conn, entry).await
}

/// After a plan run, in its transaction: withdraws offers the plan no
/// longer needs, offers new cross-region placements to the receiving
/// table, and tells the coordinators and the municipal contact about
/// referrals that no table took.
pub async fn after_plan(tx: &mut WriteTx, context: &PlanContext<'_>) -> anyhow::Result<()> {
    let (state, now) = (context.state, context.now);
    let regions = &state.regions;
    // Withdraw first: the slot or the referral of a stale offer may get a
    // new offer below (one open offer per slot and per referral).
    for closed in store::withdraw_stale(tx, now)
        .await
        .context("withdrawing stale offers")?
    {
        let detail = format!(
            "offer {} withdrawn: the plan no longer holds slot {} for it",
            closed.id, closed.slot_id
        );
        audit(tx, None, "offer.withdraw", closed.referral_id, detail, now).await?;
        if let Some(offer) = store::get(tx, closed.id).await? {
            let to = notify::chairs(tx, &offer.to_region).await?;
            notify::send(tx, state, to, &notify::withdrawn(regions, &offer), now).await?;
        }
    }
    for placement in context
        .placements
        .iter()
        .filter(|p| p.cross_region() && !p.pinned)
    {
        let (Some(slot_id), Some(to_region), Some(slot_start)) = (
            &placement.slot_id,
            &placement.slot_region,
            placement.slot_start,
        ) else {
            continue;
        };
        // The plan run kept other regions' slots out of reach when too soon
        // to answer (same rule), so a deadline exists; if not, no offer.
        let Some(expires_at) =
            deadline::answer_deadline(regions, &state.settings.offers, now, slot_start)
        else {
            tracing::warn!(
                slot_id,
                "no offer: too little time to answer before the slot"
            );
            continue;
        };
        let new = NewOffer {
            referral_id: placement.referral_id,
            slot_id,
            from_region: &placement.home_region,
            to_region,
            expires_at,
        };
        let Some(id) = store::insert_open(tx, &new, now)
            .await
            .context("creating an offer")?
        else {
            continue;
        };
        audit(
            tx,
            None,
            "offer.create",
            placement.referral_id,
            format!("offer {id}: slot {slot_id} at {to_region}"),
            now,
        )
        .await?;
        if let Some(offer) = store::get(tx, id).await? {
            let to = notify::chairs(tx, to_region).await?;
            notify::send(tx, state, to, &notify::offered(regions, &offer), now).await?;
        }
    }
    tell_exhausted(tx, context)
        .await
        .context("telling about referrals no table took")
}

/// Unplanned referrals that had a declined or expired offer: no table in
/// the horizon takes them. Told once per count of refused offers.
async fn tell_exhausted(tx: &mut WriteTx, context: &PlanContext<'_>) -> anyhow::Result<()> {
    let (state, now) = (context.state, context.now);
    let refused: std::collections::HashMap<i64, i64> =
        store::refused_counts(tx).await?.into_iter().collect();
    for placement in context.placements.iter().filter(|p| p.slot_id.is_none()) {
        let Some(&count) = refused.get(&placement.referral_id) else {
            continue;
        };
        let Some(referral) =
            crate::referrals::store::get(tx, placement.referral_id, &Scope::All).await?
        else {
            continue;
        };
        let mut to = notify::coordinators(tx).await?;
        if let Some((_, municipality)) = state.regions.municipality(referral.municipality.as_str())
        {
            to.push(municipality.contact.as_str().to_string());
        }
        let notice = notify::exhausted(
            &state.regions,
            referral.id,
            referral.case_ref.as_str(),
            referral.municipality.as_str(),
            count,
        );
        notify::send(tx, state, to, &notice, now).await?;
    }
    Ok(())
}

/// Expires the open offers whose deadline has passed: each counts as
/// declined (the table is excluded, the slot released, the home region
/// told), then one re-plan is asked for. Returns how many expired.
///
/// It also withdraws open offers whose slot was booked directly for another
/// referral: left open, they would pin two referrals to one slot and every
/// plan run would fail on the scenario.
pub async fn expire_due(state: &AppState) -> anyhow::Result<usize> {
    // PostgreSQL may pick this run as the victim of a deadlock with a plan
    // run touching the same offers and referrals; the work is all in one
    // transaction, so trying again is safe.
    let mut attempt = 1;
    loop {
        match expire_due_once(state).await {
            Err(err) if attempt < 3 && is_retryable(&err) => {
                tracing::warn!(error = %err, attempt, "offer expiry collided; trying again");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// A deadlock or serialisation failure somewhere in the chain.
fn is_retryable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(sqlx::Error::as_database_error)
            .and_then(|db| db.code())
            .is_some_and(|code| matches!(code.as_ref(), "40P01" | "40001"))
    })
}

async fn expire_due_once(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let mut tx = state.store.write().await.context("starting the expiry")?;
    let expired = store::expire_due(&mut tx, now)
        .await
        .context("expiring offers")?;
    for closed in &expired {
        store::exclude_region(&mut tx, closed.referral_id, &closed.to_region, now).await?;
        release(&mut tx, closed.referral_id, now).await?;
        let detail = format!(
            "offer {} to {} expired unanswered",
            closed.id, closed.to_region
        );
        audit(
            &mut tx,
            None,
            "offer.expire",
            closed.referral_id,
            detail,
            now,
        )
        .await?;
        if let Some(offer) = store::get(&mut tx, closed.id).await? {
            let to = notify::home(&mut tx, &offer).await?;
            notify::send(
                &mut tx,
                state,
                to,
                &notify::expired(&state.regions, &offer),
                now,
            )
            .await?;
        }
    }
    let taken = store::withdraw_taken(&mut tx, now)
        .await
        .context("withdrawing offers of booked slots")?;
    for closed in &taken {
        let detail = format!(
            "offer {} withdrawn: slot {} was booked for another referral",
            closed.id, closed.slot_id
        );
        audit(
            &mut tx,
            None,
            "offer.withdraw",
            closed.referral_id,
            detail,
            now,
        )
        .await?;
        release(&mut tx, closed.referral_id, now).await?;
        if let Some(offer) = store::get(&mut tx, closed.id).await? {
            let to = notify::chairs(&mut tx, &offer.to_region).await?;
            notify::send(
                &mut tx,
                state,
                to,
                &notify::withdrawn(&state.regions, &offer),
                now,
            )
            .await?;
        }
    }
    tx.commit().await.context("committing the expiry")?;
    if !expired.is_empty() {
        state.replan.request("offer expired");
    } else if !taken.is_empty() {
        state
            .replan
            .request("offered slot booked for another referral");
    }
    Ok(expired.len())
}

/// Takes a tentatively planned referral out of its slot (back to
/// registered), so the slot is free at once; the next run plans it again.
async fn release(
    conn: &mut AnyConnection,
    referral_id: i64,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    crate::referrals::store::transition(conn, referral_id, Status::Registered, Event::Unplan, now)
        .await?;
    Ok(())
}

/// The region whose offers the user may answer: a chair's own (403 for
/// every other role: only the receiving table decides).
fn answering_region(user: &CurrentUser) -> Result<String> {
    user.require(&[Role::Chair])?;
    user.region
        .as_ref()
        .map(|r| r.as_str().to_string())
        .ok_or_else(|| {
            AppError::Forbidden("this chair account has no region; ask an administrator".into())
        })
}

/// The offer if it is to `region`'s table; 404 otherwise, exactly as if it
/// did not exist.
async fn load_for(conn: &mut AnyConnection, id: i64, region: &str) -> Result<Offer> {
    store::get(conn, id)
        .await
        .map_err(db_error)?
        .filter(|o| o.to_region == region)
        .ok_or(AppError::NotFound)
}

/// PostgreSQL may abort one of two colliding transactions (deadlock,
/// serialization): a conflict to retry, not a server fault.
fn db_error(err: sqlx::Error) -> AppError {
    let code = err
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned);
    match code.as_deref() {
        Some("40P01" | "40001") => AppError::refused(
            "the offer was answered by someone else at the same time; reload it",
            "Iemand anders heeft het aanbod tegelijk beantwoord; laad de pagina opnieuw.",
        ),
        _ => AppError::from(err),
    }
}

/// A moment as the pages write it: `30-11-2026 om 10:00`.
fn local_nl(at: DateTime<Utc>, state: &AppState) -> String {
    at.with_timezone(&state.regions.timezone)
        .format("%d-%m-%Y om %H:%M")
        .to_string()
}

fn local(at: DateTime<Utc>, state: &AppState) -> String {
    at.with_timezone(&state.regions.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Why an offer in `offer.status` cannot be answered with `answer`.
fn not_open(offer: &Offer, answer: &str, state: &AppState) -> AppError {
    let answered = offer.answered_at.map(|t| local(t, state));
    let answered_nl = offer.answered_at.map(|t| local_nl(t, state));
    let when = answered
        .as_ref()
        .map_or_else(String::new, |t| format!(" on {t}"));
    let op = answered_nl.map_or_else(String::new, |t| format!(" op {t}"));
    let expired = local(offer.expires_at, state);
    let verlopen = local_nl(offer.expires_at, state);
    let (why, dutch) = match offer.status {
        OfferStatus::Accepted => (
            format!("it was already accepted{when}; the referral is booked at this table"),
            format!("Het aanbod is al aangenomen{op}; de verwijzing is aan deze tafel geboekt."),
        ),
        OfferStatus::Declined => (
            format!("it was already declined{when}"),
            format!("Het aanbod is al afgewezen{op}."),
        ),
        OfferStatus::Expired => (
            format!("it expired unanswered at {expired}; the referral is planned elsewhere"),
            format!("Het aanbod is op {verlopen} onbeantwoord verlopen; de verwijzing wordt elders ingepland."),
        ),
        OfferStatus::Withdrawn => (
            format!("it was withdrawn{when}: the referral no longer needs this table"),
            format!("Het aanbod is ingetrokken{op}: de verwijzing heeft deze tafel niet meer nodig."),
        ),
        OfferStatus::Open => (
            "it was changed by someone else at the same time; reload it".to_string(),
            "Iemand anders heeft het aanbod tegelijk gewijzigd; laad de pagina opnieuw.".to_string(),
        ),
    };
    AppError::refused(format!("cannot {answer} the offer: {why}"), dutch)
}

/// An open offer whose deadline has passed waits for the minute job to
/// expire it; it cannot be answered any more.
fn check_deadline(offer: &Offer, answer: &str, state: &AppState, now: DateTime<Utc>) -> Result<()> {
    if offer.status == OfferStatus::Open && offer.expires_at <= now {
        let deadline = local(offer.expires_at, state);
        let termijn = local_nl(offer.expires_at, state);
        return Err(AppError::refused(
            format!("cannot {answer} the offer: its deadline passed at {deadline}; the referral is planned elsewhere"),
            format!("De termijn van het aanbod is op {termijn} verstreken; de verwijzing wordt elders ingepland."),
        ));
    }
    Ok(())
}

async fn view_of(conn: &mut AnyConnection, state: &AppState, id: i64) -> Result<OfferView> {
    let offer = store::get(conn, id)
        .await
        .map_err(db_error)?
        .ok_or(AppError::NotFound)?;
    Ok(OfferView::new(&offer, &state.regions))
}

/// Offers the user may see: a chair those to the own table, a coordinator
/// all (403 for other roles). Optionally of one status, newest first.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    status: Option<OfferStatus>,
) -> Result<Vec<OfferView>> {
    user.require(&[Role::Chair, Role::Coordinator])?;
    let scope = match user.role {
        Role::Chair => store::OfferScope::ToRegion(answering_region(user)?),
        _ => store::OfferScope::All,
    };
    let mut conn = state.store.pool.acquire().await?;
    let offers = store::list(&mut conn, &scope, status).await?;
    drop(conn);
    // No case reference leaves without its audit row.
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    for offer in &offers {
        audit(
            &mut tx,
            Some(user),
            "offer.read",
            offer.referral_id,
            format!("offer {}", offer.id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(offers
        .iter()
        .map(|o| OfferView::new(o, &state.regions))
        .collect())
}

/// Accepts an offer to the chair's table: the referral is booked in the
/// offered slot. Accepting again gives the same result.
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn accept(state: &AppState, user: &CurrentUser, offer_id: i64) -> Result<OfferView> {
    let region = answering_region(user)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let offer = load_for(&mut tx, offer_id, &region).await?;
    check_deadline(&offer, "accept", state, now)?;
    if offer.status == OfferStatus::Open {
        // A savepoint: should another referral's booking hold the slot, the
        // answer and the failed booking are undone and the offer withdrawn
        // in the same transaction (on PostgreSQL the failed statement would
        // otherwise spoil it).
        let mut attempt = sqlx::Connection::begin(&mut *tx).await.map_err(db_error)?;
        if store::answer(
            &mut attempt,
            offer.id,
            OfferStatus::Accepted,
            user.id,
            None,
            now,
        )
        .await
        .map_err(db_error)?
        {
            if !book(&mut attempt, state, &offer, now).await? {
                attempt.rollback().await.map_err(db_error)?;
                withdraw_taken(&mut tx, &offer, now)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                state
                    .replan
                    .request("offered slot booked for another referral");
                return Err(AppError::refused(
                    "cannot accept the offer: the slot was booked for another referral at the same time; \
                     the offer is withdrawn and the referral is planned again",
                    "De plek werd op hetzelfde moment voor een andere verwijzing geboekt; het aanbod is \
                     ingetrokken en de verwijzing wordt opnieuw ingepland.",
                ));
            }
            attempt.commit().await.map_err(db_error)?;
            let detail = format!("offer {}: booked in slot {}", offer.id, offer.slot_id);
            audit(
                &mut tx,
                Some(user),
                "offer.accept",
                offer.referral_id,
                detail,
                now,
            )
            .await?;
            let mut to = notify::chairs(&mut tx, &offer.to_region).await?;
            to.extend(notify::chairs(&mut tx, &offer.from_region).await?);
            if let Some(referral) =
                crate::referrals::store::get(&mut tx, offer.referral_id, &Scope::All).await?
            {
                to.push(referral.referrer_email.as_str().to_string());
            }
            notify::send(
                &mut tx,
                state,
                to,
                &notify::accepted(&state.regions, &offer),
                now,
            )
            .await?;
            // Booked through the offer as through `/bookings`: the calendar
            // invitations go out with the booking, or not at all.
            crate::mail::ics::booking_invites(
                &mut tx,
                state,
                offer.referral_id,
                now,
                crate::mail::ics::InviteChange::Confirmed,
            )
            .await?;
            let view = view_of(&mut tx, state, offer.id).await?;
            tx.commit().await.map_err(db_error)?;
            state.replan.request("offer accepted");
            return Ok(view);
        }
        attempt.rollback().await.map_err(db_error)?;
    }
    // Not open (any more): answered before, or by someone else just now.
    let current = store::get(&mut tx, offer.id)
        .await
        .map_err(db_error)?
        .ok_or(AppError::NotFound)?;
    if current.status != OfferStatus::Accepted {
        return Err(not_open(&current, "accept", state));
    }
    audit(
        &mut tx,
        Some(user),
        "offer.accept",
        current.referral_id,
        format!("offer {}: already accepted", current.id),
        now,
    )
    .await?;
    let view = OfferView::new(&current, &state.regions);
    tx.commit().await.map_err(db_error)?;
    Ok(view)
}

/// Confirms the booking of the offer's referral in the offered slot, with
/// the same checks as any booking. `false`: another referral's booking
/// holds the slot (the unique index `referrals_booked_slot` decided).
async fn book(
    conn: &mut AnyConnection,
    state: &AppState,
    offer: &Offer,
    now: DateTime<Utc>,
) -> Result<bool> {
    let referrals = crate::referrals::store::get(conn, offer.referral_id, &Scope::All)
        .await
        .map_err(db_error)?;
    let referral = referrals.ok_or(AppError::NotFound)?;
    lifecycle::transition(referral.status, Event::Confirm)
        .map_err(|e| AppError::refused(e.to_string(), e.dutch()))?;
    let slot = crate::referrals::store::slot(conn, &offer.slot_id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "slot {} of offer {} is missing",
                offer.slot_id,
                offer.id
            ))
        })?;
    if let Some(why) = booking::refusal(&referral, &slot, &state.regions, now) {
        return Err(AppError::refused(
            format!("cannot accept the offer: {}", why.message),
            format!("Het aanbod kan niet worden aangenomen: {}.", why.dutch),
        ));
    }
    match crate::referrals::store::confirm(conn, referral.id, &slot.id, now).await {
        Ok(true) => Ok(true),
        Ok(false) => Err(AppError::refused(
            "the referral was changed by someone else at the same time; reload the offer",
            "Iemand anders heeft de verwijzing tegelijk gewijzigd; laad de pagina opnieuw.",
        )),
        Err(err) if is_unique_violation(&err) => Ok(false),
        Err(err) => Err(db_error(err)),
    }
}

/// The offered slot was booked for another referral: the offer is
/// withdrawn (the table did not refuse, so it is not excluded) and the
/// referral released, to be planned again.
async fn withdraw_taken(
    conn: &mut AnyConnection,
    offer: &Offer,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    if store::withdraw(conn, offer.id, now).await? {
        release(conn, offer.referral_id, now).await?;
        let detail = format!(
            "offer {} withdrawn: slot {} was booked for another referral",
            offer.id, offer.slot_id
        );
        audit(conn, None, "offer.withdraw", offer.referral_id, detail, now).await?;
    }
    Ok(())
}

/// Declines an offer to the chair's table, with a reason (1 to
/// [`MAX_REASON`] characters, checked by the caller): the table is
/// excluded for this referral and the planner runs again. Declining again
/// gives the same result.
#[tracing::instrument(skip(state, user, reason), fields(user = user.id))]
pub async fn decline(
    state: &AppState,
    user: &CurrentUser,
    offer_id: i64,
    reason: &str,
) -> Result<OfferView> {
    let region = answering_region(user)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let offer = load_for(&mut tx, offer_id, &region).await?;
    check_deadline(&offer, "decline", state, now)?;
    if offer.status == OfferStatus::Open
        && store::answer(
            &mut tx,
            offer.id,
            OfferStatus::Declined,
            user.id,
            Some(reason),
            now,
        )
        .await
        .map_err(db_error)?
    {
        store::exclude_region(&mut tx, offer.referral_id, &offer.to_region, now)
            .await
            .map_err(db_error)?;
        release(&mut tx, offer.referral_id, now)
            .await
            .map_err(db_error)?;
        let detail = format!(
            "offer {}: {} declined slot {}",
            offer.id, offer.to_region, offer.slot_id
        );
        audit(
            &mut tx,
            Some(user),
            "offer.decline",
            offer.referral_id,
            detail,
            now,
        )
        .await?;
        let to = notify::home(&mut tx, &offer).await?;
        notify::send(
            &mut tx,
            state,
            to,
            &notify::declined(&state.regions, &offer),
            now,
        )
        .await?;
        let view = view_of(&mut tx, state, offer.id).await?;
        tx.commit().await.map_err(db_error)?;
        state.replan.request("offer declined");
        return Ok(view);
    }
    let current = store::get(&mut tx, offer.id)
        .await
        .map_err(db_error)?
        .ok_or(AppError::NotFound)?;
    if current.status != OfferStatus::Declined {
        return Err(not_open(&current, "decline", state));
    }
    audit(
        &mut tx,
        Some(user),
        "offer.decline",
        current.referral_id,
        format!("offer {}: already declined", current.id),
        now,
    )
    .await?;
    let view = OfferView::new(&current, &state.regions);
    tx.commit().await.map_err(db_error)?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for status in OfferStatus::ALL {
            assert_eq!(OfferStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_string(&status).ok(),
                Some(format!("\"{}\"", status.as_str()))
            );
        }
        assert_eq!(OfferStatus::parse("Open"), None);
    }

    #[test]
    fn only_chairs_with_a_region_answer() {
        let mut user = CurrentUser {
            id: 1,
            email: "a@example.org".into(),
            role: Role::Coordinator,
            region: None,
            organisation: None,
            municipality: None,
        };
        assert!(matches!(
            answering_region(&user),
            Err(AppError::Forbidden(_))
        ));
        user.role = Role::Chair;
        assert!(matches!(
            answering_region(&user),
            Err(AppError::Forbidden(_))
        ));
        user.region = crate::config::RegionId::parse("food-valley").ok();
        assert_eq!(answering_region(&user).ok().as_deref(), Some("food-valley"));
    }
}
