//! A warm run: the kept network follows what changed in the market, and
//! the simplex goes on from the old optimum (issue 11, item 3).
//!
//! Every step keeps the flow feasible and the tree a strongly feasible
//! basis, so the simplex can go on from where it was:
//!
//! - a new referral (or a stand-in, below) is a new node hung under `T` by
//!   its unplanned arc, carrying its unit ([`FlowModel::add_referral`]);
//! - a new class is a new node hung under `T` by its capacity arc, at flow
//!   0 (flow can still be pushed up it);
//! - a class with one place more gets a second capacity arc, at flow 0;
//! - a weight changes ([`Network::reweigh_near`]; the unplanned arcs of
//!   all referrals when the last session changed) or an arc comes in at
//!   flow 0: the basis stays feasible, possibly no longer optimal.
//!
//! Leaving the plan (a weight changed) and losing a place (a stand-in's
//! new arc) both make one arc cheaper than all others of its node (see
//! [`Step`] for why every optimum uses it). Pricing then checks every pair
//! whose reduced cost can have fallen ([`FlowModel::price_changed`]; a new
//! class counts as a raised one, so every referral that may use it is
//! priced against it), so the result is proven optimal, as a cold run's
//! is.

use super::{FlowModel, FlowState, Market, Settings, SolveError, Solved, CAPACITY};
use crate::planner::cost::LevelRanges;
use crate::planner::flow::UNBOUNDED;

/// One change of the market the kept network follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Free entry `.0` left the plan (withdrawn or booked; its market entry
    /// is [`crate::planner::market::GONE`] now): its unplanned arc is
    /// weighed -1. Every other arc of it weighs at least 0, and moving it
    /// from a class to that arc frees a place and lowers its own weight, so
    /// no optimum keeps it in a class. Its place goes to whoever gains
    /// most from it.
    Leave(usize),
    /// Class `.0` (new in the market, after those the network has) comes
    /// in with the capacity of its slots.
    NewClass(usize),
    /// Class `.0` has one place more (a slot joined it).
    MorePlace(usize),
    /// Free entry `referral`'s previous class, where "moved" counts from,
    /// is `class` now (its tentative slot was cancelled or changed, or it
    /// came back from a booking): its arcs are weighed again.
    Previous {
        /// The referral's free index.
        referral: usize,
        /// Its previous class (`None`: none to keep).
        class: Option<usize>,
    },
    /// Class `class` has one place less (a slot cancelled, passed or
    /// booked, taken out of its slots). Stand-in `stand_in` (a
    /// [`crate::planner::market::GONE`] entry pushed for it) gets an arc
    /// into the class of weight `-(C_max + 1)` (`C_max` =
    /// [`crate::planner::weights::Weights::max_weight`]) and holds that
    /// place. Why every optimum uses it: were it on its unplanned arc
    /// (weight 0), moving it into the class lowers the total when the
    /// class has room; when the class is full, one holder is not a stand-in
    /// of it (the other stand-ins of the class are fewer than its places:
    /// each took one of its slots), and sending that holder out of the plan
    /// costs at most `C_max` while the stand-in gains more. The weight
    /// keeps within the overflow bound of [`crate::planner::weights`]
    /// (checked for `4 (N + 1) max(C_max, 1)`).
    LessPlace {
        /// The class.
        class: usize,
        /// The stand-in's free index.
        stand_in: usize,
    },
    /// The day unplanned referrals count at moved (the last session
    /// changed): the unplanned arc of every kept referral still in the
    /// plan is weighed again with its new unplanned cost (the market's,
    /// counted again); nothing else of a referral depends on that day.
    Horizon,
}

/// What changed in the market since the kept network was solved.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Free entries `from..` of the market are new (referrals and
    /// stand-ins); those before were in the kept network.
    pub from: usize,
    /// The steps, in any order (new classes are placed first).
    pub steps: Vec<Step>,
    /// Candidate pairs of the referrals that left, for the statistics.
    pub pairs_gone: usize,
    /// Free referrals that may use a new class, with their level ranges
    /// before it came: the weights must still bound them.
    pub widened: Vec<(usize, LevelRanges)>,
}

/// Solves again after `changes`, going on from `state`, the solved network
/// of the market before. `Ok(None)` (and `state` gone) when the weights
/// have no room for what came in or the state does not track its changes:
/// solve cold then ([`super::solve_keeping`]).
///
/// # Errors
///
/// As [`super::solve_from`]; [`SolveError::Inconsistent`] when `state`
/// does not belong to `market`.
pub fn solve_changed(
    market: &Market<'_>,
    mut state: FlowState,
    settings: Settings,
    changes: &Changes,
) -> Result<Option<(Solved, FlowState)>, SolveError> {
    let (known, from) = (state.layout.referrals(), changes.from);
    if known != from || from > market.free.len() {
        return Err(SolveError::Inconsistent(format!(
            "the kept network has {known} referrals, the market {from} before the new ones"
        )));
    }
    if !state.net.tracks_changes() || !admit(market, &mut state, changes) {
        return Ok(None);
    }
    let mut flow = FlowModel::resume(market, state);
    for &step in &changes.steps {
        if let Step::NewClass(c) = step {
            flow.add_class(c)?;
        }
    }
    for i in from..market.free.len() {
        flow.add_referral(i, settings)?;
    }
    for &step in &changes.steps {
        flow.take_step(step)?;
    }
    flow.reweigh_referrals(&changes.steps, from);
    if changes.steps.iter().any(|s| matches!(s, Step::Leave(_))) {
        for users in &mut flow.region_users {
            users.retain(|&i| !market.is_gone(i as usize));
        }
    }
    flow.candidate_pairs = flow.candidate_pairs.saturating_sub(changes.pairs_gone)
        + (from..market.free.len())
            .filter(|&i| !market.is_gone(i))
            .map(|i| market.pairs_of(i))
            .sum::<usize>();
    let mut solved = flow.optimise_priced(true)?;
    solved.stats.warm = true;
    solved.stats.started_in_place = (0..from).filter(|&i| !market.is_gone(i)).count();
    Ok(Some((solved, flow.into_state())))
}

/// Takes what comes in into the weights' budget: new referrals, the nodes
/// of stand-ins and new classes, and the wider ranges of referrals that
/// may use a new class. `false` when something does not fit.
fn admit(market: &Market<'_>, state: &mut FlowState, changes: &Changes) -> bool {
    let weights = &mut state.weights;
    let new_classes = changes
        .steps
        .iter()
        .filter(|s| matches!(s, Step::NewClass(_)))
        .count();
    let stand_ins = (changes.from..market.free.len())
        .filter(|&i| market.is_gone(i))
        .count();
    weights.admit_nodes(new_classes + stand_ins)
        && changes
            .widened
            .iter()
            .all(|&(i, before)| weights.admit_wider(before, market.level_ranges(i)))
        && (changes.from..market.free.len())
            .filter(|&i| !market.is_gone(i))
            .all(|i| {
                let (low, high) = market.level_ranges(i);
                weights.admit(low, high)
            })
}

impl FlowModel<'_, '_> {
    /// Hangs new class `c` (the next one) under `T` by its capacity arc, at
    /// flow 0: it is counted as raised, so pricing looks at every referral
    /// that may use it.
    fn add_class(&mut self, c: usize) -> Result<(), SolveError> {
        if c != self.layout.classes() {
            return Err(SolveError::Inconsistent(format!(
                "class {c} added out of order"
            )));
        }
        let places = u32::try_from(self.market.classes[c].slots.len()).unwrap_or(u32::MAX - 1);
        let (node, arc) = self.net.add_leaf(self.layout.root(), 0, places, 0);
        self.layout.push_class(node);
        self.arc_of.push((CAPACITY, c as u32));
        debug_assert_eq!(arc, self.first_candidate_arc() + self.arc_of.len() - 1);
        Ok(())
    }

    /// Takes the [`Step::Previous`] of `steps` (new previous classes, and
    /// the arcs of those referrals weighed again) and [`Step::Horizon`]
    /// (the unplanned arcs of the kept referrals, `..from`, weighed again).
    /// After the other steps: a referral that left keeps its weight of -1.
    fn reweigh_referrals(&mut self, steps: &[Step], from: usize) {
        let mut changed = vec![false; self.market.free.len()];
        if let Some(previous) = &mut self.previous {
            for &step in steps {
                if let Step::Previous { referral, class } = step {
                    previous[referral] = class;
                    changed[referral] = true;
                }
            }
        }
        let mut changes = if changed.contains(&true) {
            self.reweighed(&changed)
        } else {
            Vec::new()
        };
        if steps.contains(&Step::Horizon) {
            let market = self.market;
            for i in (0..from).filter(|&i| !changed[i] && !market.is_gone(i)) {
                let weight = self
                    .weights
                    .fold(market.unplanned_cost[i], self.moved(i, None));
                changes.push((self.unplanned_arc(i), weight));
            }
        }
        if !changes.is_empty() {
            self.net.reweigh_near(changes);
        }
    }

    /// Takes one step of [`Step`] (new classes and new referrals are in).
    fn take_step(&mut self, step: Step) -> Result<(), SolveError> {
        match step {
            Step::NewClass(_) | Step::Previous { .. } | Step::Horizon => {}
            Step::Leave(i) => {
                if i >= self.layout.referrals() || !self.market.is_gone(i) {
                    return Err(SolveError::Inconsistent(format!(
                        "referral {i} leaves the plan but is still in the market"
                    )));
                }
                let arc = self.unplanned_arc(i);
                self.net.reweigh_near([(arc, -1)]);
            }
            Step::MorePlace(c) => {
                self.arc_of.push((CAPACITY, c as u32));
                self.net
                    .add_arc(self.class_node(c), self.layout.root(), 0, 1);
            }
            Step::LessPlace { class, stand_in } => {
                if !self.market.is_gone(stand_in) {
                    return Err(SolveError::Inconsistent(format!(
                        "stand-in {stand_in} is a referral of the market"
                    )));
                }
                let weight = -(self.weights.max_weight() + 1);
                self.arc_of.push((stand_in as u32, class as u32));
                let (from, to) = (self.referral_node(stand_in), self.class_node(class));
                self.net.add_arc(from, to, weight, UNBOUNDED);
            }
        }
        Ok(())
    }
}
