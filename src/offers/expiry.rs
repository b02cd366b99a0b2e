//! The minute job's part of the offers: offers past their deadline expire
//! (and count as declined), offers whose slot another booking took are
//! withdrawn.

use anyhow::Context;

use super::{audit, notify, release, store};
use crate::state::AppState;
use crate::store::chain_is_retryable_conflict;

/// Expires the open offers whose deadline has passed: each counts as
/// declined (the table is excluded, the slot released, the home region
/// told), then one re-plan is asked for. Returns how many expired.
///
/// It also withdraws open offers whose slot was booked directly for another
/// referral: left open, they would pin two referrals to one slot and every
/// plan run would fail on the scenario.
///
/// # Errors
/// Storage errors; nothing is changed then. A collision with another
/// transaction (PostgreSQL) is tried again first, three tries in all.
pub async fn expire_due(state: &AppState) -> anyhow::Result<usize> {
    // PostgreSQL may pick this run as the victim of a deadlock with a plan
    // run touching the same offers and referrals; the work is all in one
    // transaction, so trying again is safe.
    let mut attempt = 1;
    loop {
        match expire_due_once(state).await {
            Err(err) if attempt < 3 && chain_is_retryable_conflict(&err) => {
                tracing::warn!(error = %err, attempt, "offer expiry collided; trying again");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn expire_due_once(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let mut tx = state.store.write().await.context("starting the expiry")?;
    let expired = store::expire_due(&mut tx, now)
        .await
        .context("expiring offers")?;
    for closed in &expired {
        crate::referrals::store::exclude_region(
            &mut tx,
            closed.referral_id,
            &closed.to_region,
            now,
        )
        .await?;
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
