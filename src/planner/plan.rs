//! The plan (output of the planner) and its score, as the format defines them.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::model::Cost;
use super::scenario::Scenario;

/// The planner's answer for a scenario: every referral appears exactly once,
/// in `assignments` (pinned ones included) or in `unplanned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Referrals with a slot, confirmed bookings included.
    pub assignments: Vec<Assignment>,
    /// Referrals without a slot.
    pub unplanned: Vec<Unplanned>,
    /// The plan's score over all referrals.
    pub score: Score,
}

/// One referral placed in one slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Referral id.
    pub referral: String,
    /// Slot id.
    pub slot: String,
    /// Id of the region whose table holds the slot.
    pub region: String,
    /// Local date of the slot's start, in the scenario's time zone.
    pub date: NaiveDate,
    /// Calendar days from the local date of registration to `date`.
    pub wait_days: i64,
    /// Calendar days past the referral's due date; 0 when on time.
    pub late_days: i64,
    /// Held at another region's table than the referral's own.
    pub cross_region: bool,
    /// Extension: the slot's start in the scenario's time zone.
    pub start: DateTime<FixedOffset>,
    /// Extension: a confirmed booking that was kept as it was.
    pub pinned: bool,
    /// Extension: why this slot (with `--explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// A referral without a slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unplanned {
    /// Referral id.
    pub referral: String,
    /// Why it has no slot, in English (e.g. `no free slot of 120 minutes in
    /// food-valley or its neighbours`).
    pub reason: String,
    /// Extension: the date counted for the score (the day after the horizon).
    pub date: NaiveDate,
    /// Calendar days from the local date of registration to `date`.
    pub wait_days: i64,
    /// Calendar days from the due date to `date`; 0 when `date` is not past it.
    pub late_days: i64,
    /// Extension: why no slot (with `--explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// Why a referral got what it got, in Dutch for the chair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// A few sentences in Dutch: where the referral went (or that no place
    /// was free), which better places are taken, and why another table.
    pub summary: String,
    /// The next best places, best first.
    pub alternatives: Vec<Alternative>,
}

/// A place the referral could have gone instead: a region, date and
/// slot length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// Id of the region of this place.
    pub region: String,
    /// Local date of this place, in the scenario's time zone.
    pub date: NaiveDate,
    /// Calendar days past the due date, were the referral held here.
    pub late_days: i64,
    /// At another region's table than the referral's own.
    pub cross_region: bool,
    /// Free places of this region, date and length left in the plan.
    pub free: usize,
    /// Referrals holding these places in the plan.
    pub taken_by: Vec<String>,
    /// One line in Dutch for the chair: table, date (`dd-mm`), days over the
    /// norm, and how many places are free or who holds them.
    pub text: String,
}

/// The score of a plan; lower is better, compared in field order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Score {
    /// Number of referrals without a slot.
    pub unplanned: u64,
    /// Sum over all referrals of `late_days` squared.
    pub late_days_sq: u64,
    /// Number of referrals held at another region's table.
    pub cross_region: u64,
    /// Sum over all referrals of `wait_days` squared.
    pub wait_days_sq: u64,
}

impl Score {
    /// Adds one referral's cost to the score, level by level.
    pub fn add(&mut self, cost: Cost) {
        self.unplanned += cost.unplanned.unsigned_abs();
        self.late_days_sq += cost.late_sq.unsigned_abs();
        self.cross_region += cost.cross.unsigned_abs();
        self.wait_days_sq += cost.wait_sq.unsigned_abs();
    }

    /// Lexicographic comparison, spelled out for readers of call sites.
    pub fn better_than(&self, other: &Score) -> bool {
        self.cmp(other) == Ordering::Less
    }
}

impl Plan {
    /// Recomputes the score of `slot_of` (slot index per referral) for the
    /// scenario. Shared by the planner, the baseline and the tests, so all
    /// three count the same way.
    pub fn score_of(scenario: &Scenario, slot_of: &[Option<usize>]) -> Score {
        let mut score = Score::default();
        for (r, slot) in slot_of.iter().enumerate() {
            score.add(referral_cost(scenario, r, *slot));
        }
        score
    }
}

/// Cost of referral `r` in slot `slot` (or unplanned).
pub fn referral_cost(scenario: &Scenario, r: usize, slot: Option<usize>) -> Cost {
    match slot {
        Some(s) => {
            let slot = &scenario.slots[s];
            super::model::cost(scenario, r, slot.date, Some(slot.region))
        }
        None => super::cost::unplanned_cost(scenario, r),
    }
}

/// Checks every placement rule for a complete answer (slot per referral).
/// Returns the problems, empty when the answer is valid.
pub fn violations(scenario: &Scenario, slot_of: &[Option<usize>]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut holder: Vec<Option<usize>> = vec![None; scenario.slots.len()];
    let pin_of = scenario.pin_of();
    for (r, slot) in slot_of.iter().enumerate() {
        let Some(s) = *slot else { continue };
        let pinned_here = pin_of[r] == Some(s);
        if let Some(refusal) = scenario.refusal(r, s, !pinned_here) {
            problems.push(format!(
                "{} in {}: {refusal:?}",
                scenario.referrals[r].id, scenario.slots[s].id
            ));
        }
        if let Some(other) = holder[s].replace(r) {
            problems.push(format!(
                "slot {} holds both {} and {}",
                scenario.slots[s].id, scenario.referrals[other].id, scenario.referrals[r].id
            ));
        }
    }
    for &(r, s) in &scenario.pinned {
        if slot_of[r] != Some(s) {
            problems.push(format!(
                "pin {} -> {} not kept",
                scenario.referrals[r].id, scenario.slots[s].id
            ));
        }
    }
    problems
}
