//! Re-plans that go on from the last one (issue 11, item 3).
//!
//! The service plans after every change. [`WarmPlanner`] keeps what the
//! last run built: the scenario, its market and the solved network (flow,
//! spanning tree, potentials). When the next scenario is the kept one plus
//! new referrals, and the stored tentative placements are the ones the
//! last run made, only the new referrals are added to the network and the
//! simplex goes on from the old optimum ([`model::solve_added`]).
//! Anything else (a withdrawal, a booking, a session added, cancelled or
//! passed, a changed referral, or placements another instance wrote) is
//! planned from scratch, warm-started from the stored placements as
//! [`super::plan_from`] does, and kept for the next run.
//!
//! **The kept state is a cache, checked every time.** Its version is the
//! planner's whole input: the next scenario is compared with the kept one
//! field by field, and the tentative placements read from the database
//! (inside the run's transaction, under the plan lock) with the kept plan.
//! So a change made by any instance, through any path, shows up as a
//! difference and the run starts cold; no counter can be forgotten.
//!
//! Either way the result is the same plan [`super::plan_from`] gives: the
//! lowest score, and among those the fewest moves from the tentative
//! placements (tested on random sequences of changes in `warm/tests.rs`).

use std::collections::HashMap;
use std::sync::mpsc::{self, SendError, Sender};
use std::sync::OnceLock;

use super::market::Parts;
use super::model::{self, FlowState, Market};
use super::{finish, previous_classes, previous_slots, Options, Outcome, PlanError, Scenario};

/// Referrals the weights of a cold run leave room for, beyond those it
/// has: at least this many, or half as many again.
const MIN_SPARE: usize = 256;

/// Plans scenario after scenario, going on from the last run when it can.
/// `Default` is a planner that has not run yet.
#[derive(Debug, Clone, Default)]
pub struct WarmPlanner {
    kept: Option<Kept>,
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
    /// id -> slot id of the stored tentative placements), going on from the
    /// last run when `scenario` only adds referrals to it and `tentative`
    /// is what it planned. [`super::SolveStats::warm`] says which.
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
        if let Some(kept) = self.kept.take() {
            if let Some(known) = kept.extended_by(&scenario, tentative) {
                // Checked: the stored placements are the kept plan's.
                let mut previous = kept.slot_of.clone();
                for &(r, _) in &scenario.pinned {
                    previous[r] = None;
                }
                previous.resize(scenario.referrals.len(), None);
                let done = self.go_on(kept, scenario, options, &previous, known)?;
                return match done {
                    Ok(outcome) => Ok(outcome),
                    Err(scenario) => self.cold(scenario, options, tentative),
                };
            }
        }
        self.cold(scenario, options, tentative)
    }

    /// Adds the referrals after the first `known` to the kept network and
    /// solves from there; `Err(scenario)` back when the weights have no
    /// room for them.
    fn go_on(
        &mut self,
        kept: Kept,
        scenario: Scenario,
        options: Options,
        previous: &[Option<usize>],
        known: usize,
    ) -> Result<Result<Outcome, Scenario>, PlanError> {
        let Kept {
            market,
            flow,
            scenario: superseded,
            ..
        } = kept;
        drop_aside(superseded);
        let mut market = market.attach(&scenario);
        let from = market.free.len();
        for r in known..scenario.referrals.len() {
            market.push_free(r);
        }
        let Some((solved, flow)) = model::solve_added(&market, flow, options.model, from)? else {
            drop(market);
            return Ok(Err(scenario));
        };
        let flow = flow.rebase(&market, &solved.choice)?;
        let outcome = finish(&scenario, &market, solved, Some(previous), options)?;
        let market = market.into_parts();
        self.keep(scenario, market, flow, &outcome);
        Ok(Ok(outcome))
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
        let spare = (market.free.len() / 2).max(MIN_SPARE);
        let (solved, flow) =
            model::solve_keeping(&market, options.model, Some(previous_class), spare)?;
        let flow = flow.rebase(&market, &solved.choice)?;
        let outcome = finish(&scenario, &market, solved, Some(previous), options)?;
        let market = market.into_parts();
        self.keep(scenario, market, flow, &outcome);
        Ok(outcome)
    }

    fn keep(&mut self, scenario: Scenario, market: Parts, flow: FlowState, outcome: &Outcome) {
        self.kept = Some(Kept {
            scenario,
            market,
            flow,
            slot_of: outcome.slot_of.clone(),
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

impl Kept {
    /// When `next` is the kept scenario with referrals added at the end
    /// (none of them pinned or placed before) and `tentative` (the stored
    /// placements, referral id -> slot id) is the kept plan: the number of
    /// referrals kept. `None` for any other difference.
    fn extended_by(&self, next: &Scenario, tentative: &HashMap<String, String>) -> Option<usize> {
        let old = &self.scenario;
        let known = old.referrals.len();
        let same_frame = old.timezone == next.timezone
            && old.norm_days == next.norm_days
            && old.unplanned_date == next.unplanned_date
            && old.regions == next.regions
            && old.slots == next.slots
            && old.pinned == next.pinned
            && next.referrals.len() >= known
            && old.referrals[..] == next.referrals[..known];
        // Which slots are free to plan depends on `now`: the same slots
        // must be on either side of it.
        let same_free = || {
            let (from, to) = (old.now.min(next.now), old.now.max(next.now));
            !old.slots.iter().any(|s| s.start >= from && s.start < to)
        };
        let pin_of = old.pin_of();
        let slot_id = |r: usize| self.slot_of[r].map(|s| old.slots[s].id.as_str());
        let stored = |r: usize| tentative.get(&next.referrals[r].id).map(String::as_str);
        let same_placements = || {
            (0..known).all(|r| pin_of[r].is_some() || stored(r) == slot_id(r))
                && (known..next.referrals.len()).all(|r| stored(r).is_none())
        };
        (same_frame && same_free() && same_placements()).then_some(known)
    }
}
