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
//! - `read`: one referral, a list, a slot, the next evaluation reference;
//! - [`write`]: registering, changing, status events, bookings, outcomes;
//! - `plan`: what a plan run writes (tentative slots, explanations);
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
pub use read::{
    case_refs, get, id_by_case_ref, list, next_evaluation_ref, outcome, slot, OutcomeRecord,
};
pub use write::{
    complete_if_ready, confirm, exclude_region, insert, insert_outcome, issue_case_ref,
    move_booking, pin, release_slot, set_close_reason, transition, update,
};

/// A slot a referral is planned or booked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// The slot's id.
    pub id: String,
    /// The id of the region whose table holds it.
    pub region: String,
    /// Local date.
    pub date: NaiveDate,
    /// When it starts (UTC).
    pub start: DateTime<Utc>,
    /// Its length in minutes.
    pub minutes: u32,
}

/// A stored referral, with its slots.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    /// The referral's id.
    pub id: i64,
    /// The pseudonymous case reference.
    pub case_ref: CaseRef,
    /// The child's municipality (CBS code).
    pub municipality: CbsCode,
    /// Home region (from the municipality at registration).
    pub region: RegionId,
    /// VTB, end of OTS, or evaluation.
    pub kind: ReferralKind,
    /// Who refers the case.
    pub referrer_kind: ReferrerKind,
    /// The referring organisation.
    pub referrer_org: String,
    /// Work e-mail address of the referring professional.
    pub referrer_email: Email,
    /// A safety plan is in place.
    pub safety_plan: bool,
    /// The parents know about the referral.
    pub parents_informed: bool,
    /// The child is 12 or older and is heard separately.
    pub child_12_plus: bool,
    /// The slot length it needs: 90 minutes, or 120 when the child is 12 or
    /// older.
    pub minutes: u32,
    /// Local dates on which the conversation cannot be held, sorted.
    pub unavailable: Vec<NaiveDate>,
    /// Local date before which it cannot be held.
    pub earliest: Option<NaiveDate>,
    /// May be held at a neighbouring region's table.
    pub cross_region: bool,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// When it was registered (UTC).
    pub registered_at: DateTime<Utc>,
    /// The local date by which it should be discussed (the norm).
    pub due: NaiveDate,
    /// The slot the planner tentatively gave it.
    pub planned_slot: Option<SlotInfo>,
    /// The slot a booking confirmed.
    pub booked_slot: Option<SlotInfo>,
    /// A slot chosen by hand while not booked: the planner keeps the
    /// referral there while the slot is usable (see `referrals::moves`).
    pub pinned_slot_id: Option<String>,
    /// The planner's explanation, JSON text.
    pub plan_explanation: Option<String>,
    /// For an evaluation: the referral whose outcome asked for it.
    pub parent_referral_id: Option<i64>,
    /// Why it was withdrawn or cancelled, in the words of who did it: case
    /// content, so kept here, scoped like the referral, never in the audit
    /// log, logs or mails.
    pub close_reason: Option<String>,
    /// Raised by every change of its details or status; an update that
    /// names another version is refused.
    pub version: i64,
}

impl Referral {
    /// What it still lacks before it can be planned (API names:
    /// `safety_plan`, `parents_informed`); empty when complete.
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
    /// The case reference, issued or typed.
    pub case_ref: CaseRef,
    /// The child's municipality (CBS code).
    pub municipality: CbsCode,
    /// The home region, from the municipality.
    pub region: RegionId,
    /// VTB, end of OTS, or evaluation.
    pub kind: ReferralKind,
    /// Who refers the case.
    pub referrer_kind: ReferrerKind,
    /// The referring organisation.
    pub referrer_org: String,
    /// Work e-mail address of the referring professional.
    pub referrer_email: Email,
    /// A safety plan is in place.
    pub safety_plan: bool,
    /// The parents know about the referral.
    pub parents_informed: bool,
    /// The child is 12 or older (120 instead of 90 minutes).
    pub child_12_plus: bool,
    /// Local dates on which the conversation cannot be held.
    pub unavailable: Vec<NaiveDate>,
    /// Local date before which it cannot be held.
    pub earliest: Option<NaiveDate>,
    /// May be held at a neighbouring region's table.
    pub cross_region: bool,
    /// The local date by which it should be discussed.
    pub due: NaiveDate,
    /// For an evaluation: the referral whose outcome asked for it.
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
    /// New work e-mail address of the referring professional.
    pub referrer_email: Option<Email>,
    /// Whether a safety plan is in place.
    pub safety_plan: Option<bool>,
    /// Whether the parents know about the referral.
    pub parents_informed: Option<bool>,
    /// Whether the child is 12 or older (changes the minutes needed).
    pub child_12_plus: Option<bool>,
    /// Replaces the local dates on which it cannot be held.
    pub unavailable: Option<Vec<NaiveDate>>,
    /// `Some(None)` clears it.
    pub earliest: Option<Option<NaiveDate>>,
    /// Whether it may be held at a neighbouring region's table.
    pub cross_region: Option<bool>,
}

impl Patch {
    /// Whether it changes nothing.
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
    /// What the table decided.
    pub outcome: OutcomeKind,
    /// The agreed route (at most 2000 characters; may be empty).
    pub route: String,
    /// The help that is started or continued (at most 2000 characters).
    pub help: String,
    /// Safety agreements (at most 2000 characters).
    pub safety_agreements: String,
    /// Local date of an evaluation; an `evaluation` referral is registered
    /// for it.
    pub evaluation_date: Option<NaiveDate>,
    /// A written evaluation: due date and who delivers it.
    pub written_evaluation: Option<(NaiveDate, String)>,
}

/// Filters of the list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Any of these.
    pub statuses: Vec<Status>,
    /// Home region.
    pub region: Option<RegionId>,
    /// The child's municipality.
    pub municipality: Option<CbsCode>,
    /// The kind of referral.
    pub kind: Option<ReferralKind>,
    /// Due strictly before this date.
    pub due_before: Option<NaiveDate>,
    /// Case reference contains this (upper case, letters, digits, '-').
    pub case_ref: Option<String>,
    /// At most this many rows.
    pub limit: i64,
    /// Skip this many rows (in the list's order: due date, registration, id).
    pub offset: i64,
}

/// A slot as a booking needs to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableSlot {
    /// The slot's id.
    pub id: String,
    /// The id of the region whose table holds it.
    pub region: String,
    /// Its local date (Europe/Amsterdam).
    pub date: NaiveDate,
    /// When it starts (UTC).
    pub start: DateTime<Utc>,
    /// Its length in minutes.
    pub minutes: u32,
    /// Whether its session was cancelled.
    pub cancelled: bool,
}
