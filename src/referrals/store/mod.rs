//! SQL for referrals and outcomes. Runs on SQLite and PostgreSQL alike
//! (sqlx `Any`: `$n` placeholders, integers as i64, booleans as bool).
//!
//! Status changes are guarded in SQL (`WHERE id = $1 AND status = $2`) and
//! report whether they happened, so of two concurrent requests only one can
//! pass; the caller turns `false` into a refusal. Writers take a
//! `&mut AnyConnection` that is a write transaction (`state.store.write()`).
//! Every write to the `referrals` table is here, and every status it writes
//! is one the lifecycle table allows.
//!
//! - [`read`]: one referral, a list, a slot, the next evaluation reference;
//! - [`write`]: registering, changing, status events, bookings, outcomes;
//! - [`plan`]: what a plan run writes (tentative slots, explanations);
//! - `rows`: the shared `SELECT` and how a row becomes a [`Referral`].

mod plan;
mod read;
mod rows;
mod write;

use chrono::{DateTime, NaiveDate, Utc};

use super::domain::{missing, CaseRef, OutcomeKind, ReferrerKind};
use super::lifecycle::Status;
use crate::config::{CbsCode, Email, ReferralKind, RegionId};

pub use plan::{clear_tentative, set_explanation, set_tentative};
pub use read::{get, list, next_evaluation_ref, slot};
pub use write::{
    complete_if_ready, confirm, exclude_region, insert, insert_outcome, issue_case_ref,
    release_slot, set_close_reason, transition, update,
};

/// A slot a referral is planned or booked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub id: String,
    pub region: String,
    /// Local date.
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub minutes: u32,
}

/// A stored referral, with its slots.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    pub id: i64,
    pub case_ref: CaseRef,
    pub municipality: CbsCode,
    /// Home region (from the municipality at registration).
    pub region: RegionId,
    pub kind: ReferralKind,
    pub referrer_kind: ReferrerKind,
    pub referrer_org: String,
    pub referrer_email: Email,
    pub safety_plan: bool,
    pub parents_informed: bool,
    pub child_12_plus: bool,
    pub minutes: u32,
    pub unavailable: Vec<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub cross_region: bool,
    pub status: Status,
    pub registered_at: DateTime<Utc>,
    pub due: NaiveDate,
    pub planned_slot: Option<SlotInfo>,
    pub booked_slot: Option<SlotInfo>,
    /// The planner's explanation, JSON text.
    pub plan_explanation: Option<String>,
    pub parent_referral_id: Option<i64>,
    /// Why it was withdrawn or cancelled, in the words of who did it: case
    /// content, so kept here, scoped like the referral, never in the audit
    /// log, logs or mails.
    pub close_reason: Option<String>,
    pub version: i64,
}

impl Referral {
    pub fn missing(&self) -> Vec<&'static str> {
        missing(self.safety_plan, self.parents_informed)
    }

    /// The booked slot, else the planned one.
    pub fn slot(&self) -> Option<&SlotInfo> {
        self.booked_slot.as_ref().or(self.planned_slot.as_ref())
    }
}

/// A referral to register; every field already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferral {
    pub case_ref: CaseRef,
    pub municipality: CbsCode,
    pub region: RegionId,
    pub kind: ReferralKind,
    pub referrer_kind: ReferrerKind,
    pub referrer_org: String,
    pub referrer_email: Email,
    pub safety_plan: bool,
    pub parents_informed: bool,
    pub child_12_plus: bool,
    pub unavailable: Vec<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub cross_region: bool,
    pub due: NaiveDate,
    pub parent_referral_id: Option<i64>,
}

impl NewReferral {
    /// Incomplete until it has a safety plan and the parents are informed.
    pub fn initial_status(&self) -> Status {
        if missing(self.safety_plan, self.parents_informed).is_empty() {
            Status::Registered
        } else {
            Status::Incomplete
        }
    }
}

/// Changes to a referral's editable fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch {
    pub referrer_email: Option<Email>,
    pub safety_plan: Option<bool>,
    pub parents_informed: Option<bool>,
    pub child_12_plus: Option<bool>,
    pub unavailable: Option<Vec<NaiveDate>>,
    /// `Some(None)` clears it.
    pub earliest: Option<Option<NaiveDate>>,
    pub cross_region: Option<bool>,
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        *self == Patch::default()
    }

    /// Whether the change can move the referral in the plan.
    pub fn affects_plan(&self) -> bool {
        self.safety_plan.is_some()
            || self.parents_informed.is_some()
            || self.child_12_plus.is_some()
            || self.unavailable.is_some()
            || self.earliest.is_some()
            || self.cross_region.is_some()
    }

    /// The API names of the fields it changes (for the audit log).
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            ("referrer_email", self.referrer_email.is_some()),
            ("safety_plan", self.safety_plan.is_some()),
            ("parents_informed", self.parents_informed.is_some()),
            ("child_12_plus", self.child_12_plus.is_some()),
            ("unavailable", self.unavailable.is_some()),
            ("earliest", self.earliest.is_some()),
            ("cross_region", self.cross_region.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// Whether it takes away the safety plan or the parents' information.
    pub fn makes_incomplete(&self) -> bool {
        self.safety_plan == Some(false) || self.parents_informed == Some(false)
    }
}

/// The outcome of a conversation, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutcome {
    pub outcome: OutcomeKind,
    pub route: String,
    pub help: String,
    pub safety_agreements: String,
    pub evaluation_date: Option<NaiveDate>,
}

/// Filters of the list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Any of these.
    pub statuses: Vec<Status>,
    /// Home region.
    pub region: Option<RegionId>,
    pub municipality: Option<CbsCode>,
    pub kind: Option<ReferralKind>,
    /// Due strictly before this date.
    pub due_before: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

/// A slot as a booking needs to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableSlot {
    pub id: String,
    pub region: String,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub minutes: u32,
    pub cancelled: bool,
}
