//! Withdrawing an open offer when something makes its slot impossible for
//! the referral: a change of the referral (dates the family cannot come, the
//! earliest date, the length, no longer allowed at another table), the
//! referral withdrawn or cancelled, or the slot's session cancelled.
//!
//! Done in the transaction of that change: the receiving chair is told at
//! once (an offer nobody can accept must not wait for its deadline while
//! the family's norm clock runs), and the caller asks for a re-plan.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use super::{audit, notify, release, store};
use crate::referrals::booking::refusal;
use crate::referrals::store::{slot as stored_slot, Referral};
use crate::state::{AppState, HoldFuture, Holds, ReferralChange};

/// Why an open offer is withdrawn; its English text goes into the audit
/// row, its Dutch one into the receiving chair's mail (neither holds case
/// content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The referral changed; the slot breaks a rule now (the rule, in words).
    SlotNoLongerFits(String),
    /// The referral was withdrawn or cancelled.
    ReferralClosed,
    /// The slot's session was cancelled.
    SessionCancelled,
}

impl Why {
    fn english(&self) -> String {
        match self {
            Why::SlotNoLongerFits(rule) => format!("the slot no longer fits the referral: {rule}"),
            Why::ReferralClosed => "the referral was withdrawn or cancelled".into(),
            Why::SessionCancelled => "the session of the slot was cancelled".into(),
        }
    }

    /// The end of "Het aanbod ... is ingetrokken: ...".
    pub(super) fn dutch(&self) -> &'static str {
        match self {
            Why::SlotNoLongerFits(_) => {
                "de gegevens van de aanmelding zijn gewijzigd en de plek past er niet meer bij"
            }
            Why::ReferralClosed => "de aanmelding is ingetrokken of geannuleerd",
            Why::SessionCancelled => "de zitting van deze plek is geannuleerd",
        }
    }
}

/// Withdraws the referral's open offer, if any, records it and tells the
/// receiving table's chairs. When the slot no longer fits, the referral is
/// released from it (back to registered) so the next run plans it afresh.
/// Returns whether an offer was withdrawn.
///
/// # Errors
/// Database errors; the caller's transaction is then rolled back whole.
pub async fn open_offer_of(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    why: Why,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT id FROM offers WHERE referral_id = $1 AND status = 'open'")
        .bind(referral_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let id: i64 = row.try_get("id")?;
    if !store::withdraw(conn, id, now).await? {
        return Ok(false);
    }
    if matches!(why, Why::SlotNoLongerFits(_)) {
        release(conn, referral_id, now).await?;
    }
    let detail = format!("offer {id} withdrawn: {}", why.english());
    audit(conn, None, "offer.withdraw", referral_id, detail, now).await?;
    if let Some(offer) = store::get(conn, id).await? {
        let to = notify::chairs(conn, &offer.to_region).await?;
        let notice = notify::withdrawn_because(&state.regions, &offer, why.dutch());
        notify::send(conn, state, to, &notice, now).await?;
    }
    Ok(true)
}

/// After a change of `referral` (as it is now): withdraws its open offer
/// when the offered slot breaks one of the placement rules. Returns whether
/// an offer was withdrawn.
///
/// # Errors
/// Database errors.
pub async fn if_slot_no_longer_fits(
    conn: &mut AnyConnection,
    state: &AppState,
    referral: &Referral,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT slot_id FROM offers WHERE referral_id = $1 AND status = 'open'")
        .bind(referral.id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let slot_id: String = row.try_get("slot_id")?;
    let Some(slot) = stored_slot(conn, &slot_id).await? else {
        return Ok(false);
    };
    match refusal(referral, &slot, &state.regions, now) {
        Some(rule) => {
            open_offer_of(
                conn,
                state,
                referral.id,
                Why::SlotNoLongerFits(rule.message),
                now,
            )
            .await
        }
        None => Ok(false),
    }
}

/// The open offers of slots in `slot_ids` (a cancelled session): withdrawn,
/// each receiving table told. Returns the referrals concerned.
///
/// # Errors
/// Database errors.
pub async fn of_cancelled_slots(
    conn: &mut AnyConnection,
    state: &AppState,
    slot_ids: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<i64>> {
    let mut referrals = Vec::new();
    for slot_id in slot_ids {
        let rows =
            sqlx::query("SELECT referral_id FROM offers WHERE slot_id = $1 AND status = 'open'")
                .bind(slot_id)
                .fetch_all(&mut *conn)
                .await?;
        for row in rows {
            let referral_id: i64 = row.try_get("referral_id")?;
            if open_offer_of(conn, state, referral_id, Why::SessionCancelled, now).await? {
                referrals.push(referral_id);
            }
        }
    }
    Ok(referrals)
}

/// The offers' answer to a change of a referral or a cancelled session
/// ([`Holds`]): an open offer whose slot the referral can no longer use,
/// of a referral that closed, or of a cancelled slot, is withdrawn and its
/// table told.
pub struct OfferHolds;

impl Holds for OfferHolds {
    fn after_slots_cancelled<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        state: &'a AppState,
        slot_ids: &'a [String],
        now: DateTime<Utc>,
    ) -> HoldFuture<'a> {
        Box::pin(async move {
            let referrals = of_cancelled_slots(conn, state, slot_ids, now).await?;
            Ok(!referrals.is_empty())
        })
    }

    fn after_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        state: &'a AppState,
        referral_id: i64,
        change: ReferralChange,
    ) -> HoldFuture<'a> {
        Box::pin(async move {
            let now = state.now();
            match change {
                ReferralChange::Closed => {
                    open_offer_of(conn, state, referral_id, Why::ReferralClosed, now).await
                }
                ReferralChange::Edited => {
                    let referral = crate::referrals::store::get(
                        conn,
                        referral_id,
                        &crate::referrals::access::Scope::All,
                    )
                    .await?;
                    match referral {
                        Some(referral) => if_slot_no_longer_fits(conn, state, &referral, now).await,
                        None => Ok(false),
                    }
                }
            }
        })
    }
}
