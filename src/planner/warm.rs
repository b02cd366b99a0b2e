//! Re-plans that go on from the last one (issue 11, item 3).
//!
//! The service plans after every change. [`WarmPlanner`] keeps what the
//! last run built: the scenario, its market and the solved network (flow,
//! spanning tree, potentials). When the stored tentative placements are
//! the ones the last run made, the kept network follows the change
//! (`warm/change.rs`, `warm/follow.rs`) and the simplex goes on from the
//! old optimum ([`model::solve_changed`]): a new referral, or one whose
//! booking was undone, is a new node; one that left the plan (withdrawn or
//! booked) stays a node whose unit is sent out of the plan; a session
//! added is a new place (or class); a slot no longer free to plan
//! (cancelled, booked, passed) keeps its place in the network, held by a
//! stand-in ([`model::Step`]); a change of the last session, which moves
//! the day unplanned referrals are counted at, weighs every kept
//! referral's unplanned arc again. What it does not follow (that day more
//! than `HORIZON_ROOM_DAYS` later than when the network was built; a
//! region, a setting or a referral changed; placements another instance
//! wrote) is planned from scratch, warm-started from the stored
//! placements as [`super::plan_from`] does, and kept for the next run; so
//! is a run after `GONE_LIMIT` (32) referrals and places have left, so
//! they do not pile up.
//!
//! **The kept state is a cache, checked every time.** Its version is the
//! planner's whole input: the next scenario is compared with the kept one
//! field by field (`warm/change.rs`), and the tentative placements read
//! from the database (inside the run's transaction, under the plan lock)
//! with the kept plan. So a change made by any instance, through any path,
//! shows up as a difference and the run starts cold; no counter can be
//! forgotten.
//!
//! Either way the result has what [`super::plan_from`] gives: the lowest
//! score, and among those the fewest moves from the tentative placements,
//! tested on random sequences of changes in `tests/replan.rs` (ties
//! between equal plans may fall differently).

use std::collections::HashMap;
use std::sync::mpsc::{self, SendError, Sender};
use std::sync::OnceLock;

use super::market::Parts;
use super::model::{self, FlowState, Market};
use super::weights::Room;
use super::{finish, previous_classes, previous_slots, Options, Outcome, PlanError, Scenario};

mod change;
mod follow;

/// Referrals that left the plan (withdrawn or booked) and places that
/// left (stand-ins) the kept network carries along before a run starts
/// cold instead: at least this many, or a quarter of the referrals to plan.
const GONE_LIMIT: usize = 32;

/// Referrals the weights of a cold run leave room for, beyond those it
/// has: at least this many, or half as many again.
const MIN_SPARE: usize = 256;

/// Days the last session may move later (the day unplanned referrals count
/// at moves with it) before a run starts cold: the daily horizon job adds
/// the sessions of one more day, so the last one moves a week at most per
/// day, and passed sessions bring a cold run (`GONE_LIMIT`) within days.
const HORIZON_ROOM_DAYS: u64 = 14;

/// Plans scenario after scenario, going on from the last run when it can.
/// `Default` is a planner that has not run yet.
#[derive(Debug, Clone, Default)]
pub struct WarmPlanner {
    kept: Option<Kept>,
    /// Runs so far that went on from the kept network, and that started
    /// cold ([`WarmPlanner::runs`]).
    runs: RunCounts,
}

/// How many of a [`WarmPlanner`]'s runs went on from the kept network and
/// how many started cold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Runs that went on from the kept network.
    pub warm: u64,
    /// Runs that planned from scratch (the first, and after any change the
    /// kept network does not follow).
    pub cold: u64,
}

/// What the last run leaves for the next.
#[derive(Debug, Clone)]
struct Kept {
    scenario: Scenario,
    market: Parts,
    flow: FlowState,
    /// Slot per scenario referral in the last plan.
    slot_of: Vec<Option<usize>>,
}

impl WarmPlanner {
    /// Plans `scenario` as [`super::plan_from`] does (`tentative`: referral
    /// id -> slot id of the stored tentative placements): the same score
    /// and as few moves, going on from the last run when the change since
    /// is one the kept network follows (see the module docs) and
    /// `tentative` is what it planned. [`super::SolveStats::warm`] says
    /// which.
    ///
    /// # Errors
    ///
    /// As [`super::plan()`]. After an error nothing is kept: the next run
    /// starts cold.
    pub fn plan(
        &mut self,
        scenario: Scenario,
        options: Options,
        tentative: &HashMap<String, String>,
    ) -> Result<Outcome, PlanError> {
        let outcome = self.plan_warm_or_cold(scenario, options, tentative)?;
        if outcome.stats.warm {
            self.runs.warm += 1;
        } else {
            self.runs.cold += 1;
        }
        Ok(outcome)
    }

    /// The runs so far that went on from the kept network and that
    /// started cold (errors not counted).
    pub fn runs(&self) -> RunCounts {
        self.runs
    }

    fn plan_warm_or_cold(
        &mut self,
        scenario: Scenario,
        options: Options,
        tentative: &HashMap<String, String>,
    ) -> Result<Outcome, PlanError> {
        if let Some(kept) = self.kept.take() {
            if let Some(change) = kept.change_to(&scenario, tentative) {
                // Checked: the stored placements are the kept plan's.
                return match self.go_on(kept, scenario, options, &change)? {
                    Ok(outcome) => Ok(outcome),
                    Err(scenario) => self.cold(scenario, options, tentative),
                };
            }
        }
        self.cold(scenario, options, tentative)
    }

    /// Plans from scratch (warm-started from `previous`) and keeps it.
    fn cold(
        &mut self,
        scenario: Scenario,
        options: Options,
        tentative: &HashMap<String, String>,
    ) -> Result<Outcome, PlanError> {
        let previous = &previous_slots(&scenario, tentative);
        let market = Market::build(&scenario);
        let previous_class = previous_classes(&market, previous);
        let room = Room {
            referrals: (market.free.len() / 2).max(MIN_SPARE),
            horizon_days: HORIZON_ROOM_DAYS,
        };
        // Room to go on never costs a plan: without it the weights may fit
        // where they did not with it (the room for referrals, which every
        // run uses, is given up last).
        let no_horizon = Room {
            horizon_days: 0,
            ..room
        };
        let mut rooms = [room, no_horizon, Room::default()].into_iter().peekable();
        let (solved, flow) = loop {
            let room = rooms.next().unwrap_or_default();
            let previous = Some(previous_class.clone());
            match model::solve_keeping(&market, options.model, previous, room) {
                Err(model::SolveError::Weights(_)) if rooms.peek().is_some() => {}
                other => break other?,
            }
        };
        let flow = flow.rebase(&market, &solved.choice)?;
        let outcome = finish(&scenario, &market, solved, Some(previous), options)?;
        let market = market.into_parts();
        self.keep(scenario, market, flow, &outcome);
        Ok(outcome)
    }

    fn keep(&mut self, scenario: Scenario, market: Parts, flow: FlowState, outcome: &Outcome) {
        self.kept = Some(Kept {
            market,
            flow,
            slot_of: outcome.slot_of.clone(),
            scenario,
        });
    }
}

/// Frees the superseded scenario on a thread of its own: tens of
/// thousands of small allocations on the large presets, a fifth of a warm
/// run, and nothing waits for them. One thread, started with the first
/// run and fed through a channel (starting a thread per run cost about
/// 0.1 ms of a 4 ms warm run on national); inline when it cannot start.
fn drop_aside(scenario: Scenario) {
    static DROPPER: OnceLock<Option<Sender<Scenario>>> = OnceLock::new();
    let dropper = DROPPER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Scenario>();
        let spawned = std::thread::Builder::new()
            .name("jbt-planner-drop".into())
            .spawn(move || receiver.into_iter().for_each(drop));
        match spawned {
            Ok(_) => Some(sender),
            Err(error) => {
                tracing::debug!(%error, "no thread to free superseded scenarios");
                None
            }
        }
    });
    // A send fails only when the thread is gone: then it comes back here
    // and is dropped inline.
    if let Some(sender) = dropper {
        if let Err(SendError(scenario)) = sender.send(scenario) {
            drop(scenario);
        }
    }
}
