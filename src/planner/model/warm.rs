//! The solved network kept between runs, and a run that goes on from it
//! after new referrals arrived and others left the plan (issue 11, item
//! 3).
//!
//! A new referral is a new node hung under `T` by its unplanned arc,
//! carrying its one unit there: the flow stays feasible and the tree a
//! strongly feasible basis (see [`super::super::flow`]), and every other
//! node keeps its potential. Its cheapest candidate arcs are added and the
//! network simplex goes on from the old optimum; pricing then checks every
//! referral x class pair against the final potentials, as a cold run does,
//! so the result is proven optimal, not assumed. Typically a handful of
//! pivots and one pricing round instead of building everything again.
//!
//! A referral that left the plan (withdrawn or booked) keeps its node and
//! arcs; one arc of it is weighed below all its others ([`Leaving`]), an
//! arc weight change or a new arc at a lower bound, either of which keeps
//! the basis feasible; the simplex near the change moves its unit and
//! whoever gains from the place it frees. Its market entry has no
//! candidates, so pricing leaves it alone, and the plan does not show it.
//!
//! The weights stay valid as long as the referrals added fit the room the
//! weights were made with ([`Weights::admit`]); otherwise the caller starts
//! cold.

use super::{Candidate, FlowModel, Market, Settings, SolveError, Solved, UNPLANNED};
use crate::planner::flow::{Network, UNBOUNDED};
use crate::planner::weights::{Weight, Weights};

/// Referrals a kept network has room for (nodes and arcs) before its
/// arrays grow again.
const ROOM_FOR_REFERRALS: usize = 64;

/// A solved flow model without its market: the network with its flow,
/// spanning tree and potentials, the weights, and which arc is which.
#[derive(Debug, Clone)]
pub struct FlowState {
    weights: Weights,
    previous: Option<Vec<Option<usize>>>,
    net: Network,
    root: usize,
    n0: usize,
    arc_of: Vec<(u32, u32)>,
    later_unplanned: Vec<u32>,
    initial: Vec<std::ops::Range<usize>>,
    candidate_pairs: usize,
    region_users: Vec<Vec<u32>>,
}

impl<'a, 's> FlowModel<'a, 's> {
    /// Keeps everything but the market.
    pub(super) fn into_state(self) -> FlowState {
        FlowState {
            weights: self.weights,
            previous: self.previous,
            net: self.net,
            root: self.root,
            n0: self.n0,
            arc_of: self.arc_of,
            later_unplanned: self.later_unplanned,
            initial: self.initial,
            candidate_pairs: self.candidate_pairs,
            region_users: self.region_users,
        }
    }

    /// The model again, on `market` (the same classes; the same free
    /// referrals first, possibly more after them).
    fn resume(market: &'a Market<'s>, state: FlowState) -> Self {
        FlowModel {
            market,
            weights: state.weights,
            previous: state.previous,
            net: state.net,
            root: state.root,
            n0: state.n0,
            arc_of: state.arc_of,
            later_unplanned: state.later_unplanned,
            initial: state.initial,
            candidate_pairs: state.candidate_pairs,
            region_users: state.region_users,
            reprice: Vec::new(),
        }
    }

    /// Hangs free referral `i` (the next one) under `T` by its unplanned
    /// arc, carrying its unit, and adds its cheapest candidates.
    fn add_referral(&mut self, i: usize, settings: Settings) -> Result<(), SolveError> {
        if let Some(previous) = &mut self.previous {
            previous.push(None);
        }
        let weight = self.weights.fold(self.market.unplanned_cost[i], false);
        let (node, arc) = self.net.add_leaf(self.root, weight, UNBOUNDED, 1);
        if node != self.referral_node(i) {
            return Err(SolveError::Inconsistent(format!(
                "referral {i} added out of order"
            )));
        }
        self.arc_of.push((i as u32, UNPLANNED));
        self.later_unplanned.push(arc as u32);
        let from = self.arc_of.len();
        let market = self.market;
        for cand in market.candidates_of(i).take(settings.initial_candidates) {
            self.add(i, cand);
        }
        self.initial.push(from..self.arc_of.len());
        if !self.region_users.is_empty() {
            self.note_user(i);
        }
        Ok(())
    }

    /// Makes `choice` the previous placement of the next run: the
    /// stability level of every arc of a referral that moved is weighed
    /// again, and the network is brought back to a proven optimum for
    /// those weights (every pair priced), so the next run starts from one.
    fn rebase(&mut self, choice: &[Option<usize>]) -> Result<(), SolveError> {
        let changed: Vec<bool> = match &self.previous {
            Some(previous) => previous.iter().zip(choice).map(|(p, c)| p != c).collect(),
            None => vec![false; choice.len()],
        };
        let moved: Vec<usize> = (0..changed.len()).filter(|&i| changed[i]).collect();
        if moved.is_empty() && self.net.tracks_changes() {
            return Ok(());
        }
        let changes = if moved.is_empty() {
            Vec::new()
        } else {
            self.previous = Some(choice.to_vec());
            self.reweighed(&changed)
        };
        // The flow stays optimal (it has the lowest score and moves nothing
        // from itself), so the pivots below are all degenerate; but the
        // potentials must prove it again, for every pair.
        if self.net.tracks_changes() {
            self.net.reweigh_near(changes);
            let mut also = moved;
            loop {
                self.net.optimise_near()?;
                if self.price_changed(&also) == 0 {
                    return Ok(());
                }
                also.clear();
            }
        }
        // The first run kept: from here on runs price near their changes
        // only, starting from a proof over every pair.
        self.net.reweigh(self.root, changes);
        self.net.optimise()?;
        self.net.track_changes();
        self.note_users();
        while self.price_left_out() > 0 {
            self.net.optimise()?;
        }
        self.net.take_changed();
        Ok(())
    }

    /// The new weights of the arcs of the referrals marked in `changed`,
    /// under the current [`FlowModel::previous`]: `(arc, weight)`.
    fn reweighed(&self, changed: &[bool]) -> Vec<(usize, Weight)> {
        let market = self.market;
        let mut changes: Vec<(usize, Weight)> = Vec::new();
        // A referral that left the plan keeps the weights that send it out.
        let changed: Vec<bool> = (0..changed.len())
            .map(|i| changed[i] && !market.is_gone(i))
            .collect();
        for (i, _) in changed.iter().enumerate().filter(|(_, &c)| c) {
            let moved = self.moved(i, None);
            let weight = self.weights.fold(market.unplanned_cost[i], moved);
            changes.push((self.unplanned_arc(i), weight));
        }
        let first = self.first_candidate_arc();
        for (j, &(i, c)) in self.arc_of.iter().enumerate() {
            let (i, c) = (i as usize, c as usize);
            if c as u32 == UNPLANNED || !changed[i] {
                continue;
            }
            let cand = Candidate {
                class: c,
                cost: market.cost(i, c),
            };
            changes.push((first + j, self.weight(i, cand)));
        }
        changes
    }
}

impl FlowState {
    /// Makes `choice` (class per free referral of `market`, the market this
    /// state was solved on) the previous placement of the next run: "moved"
    /// counts from there.
    ///
    /// # Errors
    ///
    /// [`SolveError::Flow`] when the network simplex fails (a bug).
    pub fn rebase(
        self,
        market: &Market<'_>,
        choice: &[Option<usize>],
    ) -> Result<FlowState, SolveError> {
        let mut flow = FlowModel::resume(market, self);
        flow.rebase(choice)?;
        // Room for the next referrals to arrive, so the next run adds them
        // without first copying every array of the network.
        let arcs = ROOM_FOR_REFERRALS * (flow.initial.last().map_or(0, |r| r.len()) + 8);
        flow.net.reserve(ROOM_FOR_REFERRALS, arcs);
        flow.arc_of.reserve(arcs);
        flow.later_unplanned.reserve(ROOM_FOR_REFERRALS);
        flow.initial.reserve(ROOM_FOR_REFERRALS);
        Ok(flow.into_state())
    }
}

/// A free referral that left the plan since the kept network was solved
/// (its market entry is [`crate::planner::market::GONE`] now), by its free
/// index. It stays in the network as a node with its unit of supply, and
/// one arc is made cheaper than all of its others, so that every optimum
/// sends its unit there:
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// Withdrawn: its unplanned arc is weighed -1. Every other arc of it
    /// weighs at least 0, and moving it from a class to that arc frees a
    /// place and lowers its own weight, so no optimum keeps it in a class.
    /// Its place goes to whoever gains most from it.
    Withdrawn(usize),
    /// Booked into a slot of `class`, which the caller took out of the
    /// class's slots: an arc to the class of weight `-(C_max + 1)` (`C_max`
    /// = [`Weights::max_weight`]) holds the booking's place in the class's
    /// capacity. Why every optimum uses it: were it elsewhere (weight >=
    /// 0), moving it into the class lowers the total when the class has
    /// room; when it is full, one holder is not a booking held there
    /// (those are fewer than the places: each took one of its slots), and
    /// sending that holder to its unplanned arc costs at most `C_max`
    /// while the booking gains more than `C_max`. The weight keeps within
    /// the overflow bound of [`crate::planner::weights`] (checked for
    /// `4 (N + 1) max(C_max, 1)`).
    Booked {
        /// Free index of the referral.
        referral: usize,
        /// The class of its booked slot.
        class: usize,
    },
}

/// Solves again after a change, going on from `state`, the solved network
/// of the market before: referrals `from..` were pushed to `market`
/// ([`Market::push_free`]), those in `leaving` left the plan
/// ([`Leaving`]; `pairs_gone` candidate pairs with them, for the
/// statistics). `Ok(None)` (and `state` gone) when the weights have no
/// room for the new referrals or the state does not track its changes:
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
    from: usize,
    leaving: &[Leaving],
    pairs_gone: usize,
) -> Result<Option<(Solved, FlowState)>, SolveError> {
    let known = state.initial.len();
    if known != from || from > market.free.len() {
        return Err(SolveError::Inconsistent(format!(
            "the kept network has {known} referrals, the market {from} before the new ones"
        )));
    }
    if !state.net.tracks_changes() {
        return Ok(None);
    }
    for i in from..market.free.len() {
        let (low, high) = market.level_ranges(i);
        if !state.weights.admit(low, high) {
            return Ok(None);
        }
    }
    let mut flow = FlowModel::resume(market, state);
    flow.take_leaving(leaving)?;
    for i in from..market.free.len() {
        flow.add_referral(i, settings)?;
    }
    flow.candidate_pairs = flow.candidate_pairs.saturating_sub(pairs_gone)
        + (from..market.free.len())
            .map(|i| market.pairs_of(i))
            .sum::<usize>();
    let mut solved = flow.optimise_priced(true)?;
    solved.stats.warm = true;
    solved.stats.started_in_place = (0..from).filter(|&i| !market.is_gone(i)).count();
    Ok(Some((solved, flow.into_state())))
}

impl FlowModel<'_, '_> {
    /// Weighs the arcs that send the referrals in `leaving` out of the plan
    /// (see [`Leaving`]) and forgets them as users of their regions.
    fn take_leaving(&mut self, leaving: &[Leaving]) -> Result<(), SolveError> {
        for &change in leaving {
            let i = match change {
                Leaving::Withdrawn(i) | Leaving::Booked { referral: i, .. } => i,
            };
            if i >= self.initial.len() || !self.market.is_gone(i) {
                return Err(SolveError::Inconsistent(format!(
                    "referral {i} leaves the plan but is still in the market"
                )));
            }
            match change {
                Leaving::Withdrawn(i) => {
                    let arc = self.unplanned_arc(i);
                    self.net.reweigh_near([(arc, -1)]);
                }
                Leaving::Booked { referral, class } => {
                    let weight = -(self.weights.max_weight() + 1);
                    self.arc_of.push((referral as u32, class as u32));
                    let (from, to) = (self.referral_node(referral), self.class_node(class));
                    self.net.add_arc(from, to, weight, UNBOUNDED);
                }
            }
        }
        if !leaving.is_empty() {
            let market = self.market;
            for users in &mut self.region_users {
                users.retain(|&i| !market.is_gone(i as usize));
            }
        }
        Ok(())
    }
}
