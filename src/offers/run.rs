//! What a plan run means for offers, in the run's transaction: offers the
//! plan no longer needs are withdrawn, new cross-region placements are
//! offered to the receiving table, and referrals no table took are told.

use anyhow::Context;

use super::store::{self, NewOffer};
use super::{audit, deadline, notify};
use crate::placement::PlanContext;
use crate::referrals::access::Scope;
use crate::store::WriteTx;

/// After a plan run, in its transaction: withdraws offers the plan no
/// longer needs, offers new cross-region placements to the receiving
/// table, and tells the coordinators and the municipal contact about
/// referrals that no table took.
///
/// # Errors
/// Storage errors; the caller then rolls the plan run back.
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
