//! What a plan run decided, per referral: the result type the work after a
//! run (offers to neighbouring tables, delay alerts) reads. A leaf, so
//! those modules can use it without depending on the plan run itself.

use chrono::{DateTime, Utc};

use crate::state::AppState;

/// The key of the plan lock (a PostgreSQL advisory lock, the write lock on
/// SQLite): plan runs take it, and so do changes that must not interleave
/// with one (a move by hand). Any number that is the same on every
/// instance will do; it names the lock.
pub const PLAN_LOCK_KEY: i64 = 0x4a42_5450; // "JBTP"

/// What a plan run decided, per referral, for the work that follows it in
/// the same transaction (offers to neighbouring tables, delay alerts).
pub struct PlanContext<'a> {
    /// The shared state the follow-up work uses.
    pub state: &'a AppState,
    /// The instant of the run.
    pub now: DateTime<Utc>,
    /// One entry per referral the run considered.
    pub placements: Vec<Placement>,
}

/// Where one referral stands after a plan run.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The referral's id.
    pub referral_id: i64,
    /// The region the referral belongs to (its own table's region).
    pub home_region: String,
    /// The local date (Europe/Amsterdam) by which it should be discussed.
    pub due: chrono::NaiveDate,
    /// `None`: no slot in the horizon (unplanned).
    pub slot_id: Option<String>,
    /// The region of the slot's table; `None` when unplanned.
    pub slot_region: Option<String>,
    /// When the slot starts.
    pub slot_start: Option<DateTime<Utc>>,
    /// The slot's local date, or for an unplanned referral the day after the horizon.
    pub date: chrono::NaiveDate,
    /// Calendar days `date` lies after `due`; 0 when on time.
    pub late_days: i64,
    /// A confirmed booking or a slot held for an open offer: not moved by the run.
    pub pinned: bool,
}

impl Placement {
    /// Whether the referral was placed at a table of another region than
    /// its own; `false` when unplanned.
    pub fn cross_region(&self) -> bool {
        self.slot_region
            .as_deref()
            .is_some_and(|r| r != self.home_region)
    }
}
