//! The solved network kept between runs (issue 11, item 3): what a warm
//! run goes on from ([`super::follow`]), and how a run leaves it for the
//! next: with "moved" counted from its own plan, and proven optimal for
//! those weights again.
//!
//! A new referral is a new node hung under `T` by its unplanned arc,
//! carrying its one unit there: the flow stays feasible and the tree a
//! strongly feasible basis (see [`super::super::flow`]), and every other
//! node keeps its potential. Its cheapest candidate arcs are added and the
//! network simplex goes on from the old optimum.
//!
//! The weights stay valid as long as what comes in fits the room the
//! weights were made with ([`Weights::admit`]); otherwise the caller starts
//! cold.

use super::{Candidate, FlowModel, Layout, Market, Settings, SolveError, UNPLANNED};
use crate::planner::flow::{Network, UNBOUNDED};
use crate::planner::weights::{Weight, Weights};

/// Referrals a kept network has room for (nodes and arcs) before its
/// arrays grow again.
const ROOM_FOR_REFERRALS: usize = 64;

/// A solved flow model without its market: the network with its flow,
/// spanning tree and potentials, the weights, and which arc is which.
#[derive(Debug, Clone)]
pub struct FlowState {
    pub(super) weights: Weights,
    pub(super) previous: Option<Vec<Option<usize>>>,
    pub(super) net: Network,
    pub(super) layout: Layout,
    pub(super) arc_of: Vec<(u32, u32)>,
    pub(super) initial: Vec<std::ops::Range<usize>>,
    pub(super) candidate_pairs: usize,
    pub(super) region_users: Vec<Vec<u32>>,
}

impl<'a, 's> FlowModel<'a, 's> {
    /// Keeps everything but the market.
    pub(super) fn into_state(self) -> FlowState {
        FlowState {
            weights: self.weights,
            previous: self.previous,
            net: self.net,
            layout: self.layout,
            arc_of: self.arc_of,
            initial: self.initial,
            candidate_pairs: self.candidate_pairs,
            region_users: self.region_users,
        }
    }

    /// The model again, on `market` (the same classes and free referrals
    /// first, possibly more after them).
    pub(super) fn resume(market: &'a Market<'s>, state: FlowState) -> Self {
        FlowModel {
            market,
            weights: state.weights,
            previous: state.previous,
            net: state.net,
            layout: state.layout,
            arc_of: state.arc_of,
            initial: state.initial,
            candidate_pairs: state.candidate_pairs,
            region_users: state.region_users,
            reprice: Vec::new(),
        }
    }

    /// Hangs free referral `i` (the next one) under `T` by its unplanned
    /// arc, carrying its unit, and adds its cheapest candidates. A
    /// [`crate::planner::market::GONE`] entry (a stand-in) gets no
    /// candidates and an unplanned arc of weight 0.
    pub(super) fn add_referral(&mut self, i: usize, settings: Settings) -> Result<(), SolveError> {
        if i != self.layout.referrals() {
            return Err(SolveError::Inconsistent(format!(
                "referral {i} added out of order"
            )));
        }
        if let Some(previous) = &mut self.previous {
            previous.push(None);
        }
        let weight = match self.market.is_gone(i) {
            true => 0,
            false => self.weights.fold(self.market.unplanned_cost[i], false),
        };
        let (node, arc) = self.net.add_leaf(self.layout.root(), weight, UNBOUNDED, 1);
        self.layout.push_referral(node, arc);
        self.arc_of.push((i as u32, UNPLANNED));
        let from = self.arc_of.len();
        let market = self.market;
        if !market.is_gone(i) {
            for cand in market.candidates_of(i).take(settings.initial_candidates) {
                self.add(i, cand);
            }
            if !self.region_users.is_empty() {
                self.note_user(i);
            }
        }
        self.initial.push(from..self.arc_of.len());
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
        self.net.reweigh(self.layout.root(), changes);
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
    pub(super) fn reweighed(&self, changed: &[bool]) -> Vec<(usize, Weight)> {
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
        for (j, (i, c)) in self.candidate_arcs() {
            if !changed[i] {
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
        flow.layout.reserve(ROOM_FOR_REFERRALS);
        flow.initial.reserve(ROOM_FOR_REFERRALS);
        Ok(flow.into_state())
    }
}
