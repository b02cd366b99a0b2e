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

pub mod answer;
pub mod deadline;
pub mod expiry;
pub mod listing;
pub mod moves;
pub mod notify;
pub mod run;
pub mod store;
pub mod view;
pub mod withdraw;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use crate::auth::audit::{record, AuditEntry};
use crate::auth::CurrentUser;
use crate::referrals::lifecycle::{Event, Status};
pub use answer::{accept, decline};
pub use expiry::expire_due;
pub use listing::{list, open_count};
pub use run::after_plan;
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
    /// Every status, open first.
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

    /// The status stored as `text` (see [`OfferStatus::as_str`]); `None`
    /// for any other text.
    pub fn parse(text: &str) -> Option<OfferStatus> {
        OfferStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Longest decline reason.
pub const MAX_REASON: usize = 500;

/// An audit row of a change, in the change's transaction. `user` is
/// `None` for plan runs and the minute job.
pub(crate) async fn audit(
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

/// Takes a tentatively planned referral out of its slot (back to
/// registered), so the slot is free at once; the next run plans it again.
pub(crate) async fn release(
    conn: &mut AnyConnection,
    referral_id: i64,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    crate::referrals::store::transition(conn, referral_id, Status::Registered, Event::Unplan, now)
        .await?;
    Ok(())
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
}
