//! What a plan run decided, per referral: the result type the work after a
//! run (offers to neighbouring tables, delay alerts) reads. A leaf, so
//! those modules can use it without depending on the plan run itself.

use chrono::{DateTime, Utc};

use crate::state::AppState;

/// What a plan run decided, per referral, for the work that follows it in
/// the same transaction (offers to neighbouring tables, delay alerts).
pub struct PlanContext<'a> {
    pub state: &'a AppState,
    pub now: DateTime<Utc>,
    pub placements: Vec<Placement>,
}

/// Where one referral stands after a plan run.
#[derive(Debug, Clone)]
pub struct Placement {
    pub referral_id: i64,
    pub home_region: String,
    pub due: chrono::NaiveDate,
    /// `None`: no slot in the horizon (unplanned).
    pub slot_id: Option<String>,
    pub slot_region: Option<String>,
    /// When the slot starts.
    pub slot_start: Option<DateTime<Utc>>,
    /// The slot's local date, or for an unplanned referral the day after the horizon.
    pub date: chrono::NaiveDate,
    pub late_days: i64,
    /// A confirmed booking or a slot held for an open offer: not moved by the run.
    pub pinned: bool,
}

impl Placement {
    pub fn cross_region(&self) -> bool {
        self.slot_region
            .as_deref()
            .is_some_and(|r| r != self.home_region)
    }
}
