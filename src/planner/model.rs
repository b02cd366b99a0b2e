//! The optimisation model: referrals x slot classes as a min-cost flow,
//! solved exactly by the network simplex of [`super::flow`].
//!
//! The network (root `T`):
//!
//! ```text
//! referral i  --(cost F(option), cap 1 in effect)-->  class c  --(0, cap = slots)-->  T
//! referral i  --(cost F(unplanned))------------------------------------------------>  T
//! ```
//!
//! Every referral supplies one unit and `T` takes them all, so a flow is a
//! choice of one class (or "unplanned") per referral within the classes'
//! capacities; with integer data the simplex's flows are integral. `F` is
//! the score folded into one exact `i128` weight ([`super::weights`]), so
//! a minimum-cost flow is a plan with the lowest score.
//!
//! **Arcs left out, optimality kept.** Most referral x class pairs are
//! useless (a slot months away for a referral with free slots next week).
//! The network starts with each referral's cheapest `initial_candidates`
//! plus the arcs of its starting placement. When the simplex is optimal on
//! those, every left-out pair is priced against the final potentials `pi`:
//! its reduced cost is `F + pi[i] - pi[c]`. The pairs are never all built:
//! a referral's candidates come lane by lane ([`super::market`]), each lane
//! (one region) sorted by cost, so the scan of a lane stops at the first
//! class with `F + pi[i] - max pi[c'] >= 0`, the maximum over that class
//! and the lane's later ones: no later one can be negative. Pairs with
//! a negative reduced cost are added and the simplex continues from its
//! basis. When none is negative, the potentials are dual feasible for the
//! *full* network and complementary slackness holds, so the flow is
//! optimal for the full network: proven, not hoped for.

use serde::Serialize;

mod greedy;

use super::flow::{FlowError, Network, UNBOUNDED};
use super::weights::{TooLarge, Weight, Weights};

pub use super::cost::{cost, Cost};
pub use super::market::{Candidate, Class, Market};

/// The referral count the planner accepts (node indexes are 32-bit and
/// [`super::weights`] needs the network size for its overflow bound).
pub const MAX_REFERRALS: usize = 1_000_000;

/// Left-out arcs added per referral in one pricing round, cheapest first.
const ADD_PER_ROUND: usize = 4;

/// How the network is built. The default is what the service uses; the
/// others exist to compare against (benchmark) and to exercise pricing
/// (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Candidate arcs per referral in the first network, cheapest first;
    /// `usize::MAX` puts every candidate in (the naive model).
    pub initial_candidates: usize,
    /// Start from a greedy placement (most urgent referral first, cheapest
    /// class with room) rather than from everyone unplanned.
    pub greedy_start: bool,
}

impl Settings {
    /// Every referral x class pair in the network from the start.
    pub const NAIVE: Settings = Settings {
        initial_candidates: usize::MAX,
        greedy_start: true,
    };
}

impl Default for Settings {
    /// Three candidates per referral and a greedy start: pricing adds the
    /// few other arcs that matter (BENCHMARKS.md).
    fn default() -> Self {
        Settings {
            initial_candidates: 3,
            greedy_start: true,
        }
    }
}

/// Figures about one solve, for benchmarks and curiosity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SolveStats {
    /// Referrals without a confirmed booking.
    pub referrals_to_plan: usize,
    /// Classes of interchangeable free slots.
    pub slot_classes: usize,
    /// Referral x class pairs allowed by the placement rules.
    pub candidate_pairs: usize,
    /// Referral x class arcs in the network at the end (the rest were
    /// proven useless by pricing).
    pub arcs_in_model: usize,
    /// Network simplex pivots, degenerate ones included.
    pub pivots: u64,
    /// Times the left-out arcs were priced (the last one finds none).
    pub pricing_rounds: usize,
    /// Referrals that started in their previous class (warm, stable runs).
    pub started_in_place: usize,
}

/// Why no optimum was found.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// The network simplex refused its input (a planner bug).
    #[error("the flow solver failed: {0}")]
    Flow(#[from] FlowError),
    /// The flow broke the model (a planner bug).
    #[error("the flow breaks the model: {0}")]
    Inconsistent(String),
    /// More referrals than [`MAX_REFERRALS`].
    #[error("too many referrals to plan: {0} (at most {MAX_REFERRALS})")]
    TooLarge(usize),
    /// The score's levels cannot be folded into 128 bits exactly.
    #[error(transparent)]
    Weights(#[from] TooLarge),
}

/// The chosen class per free referral (`None` = unplanned).
pub struct Solved {
    /// `choice[i]` belongs to `market.free[i]`.
    pub choice: Vec<Option<usize>>,
    /// Figures about this solve.
    pub stats: SolveStats,
}

/// Solves the market optimally from a greedy start.
///
/// # Errors
///
/// As [`solve_from`].
pub fn solve(market: &Market<'_>, settings: Settings) -> Result<Solved, SolveError> {
    solve_from(market, settings, None)
}

/// Solves the market optimally. With `previous` (the class each free
/// referral held before, `None` = unplanned or new), the search starts from
/// those placements and, among plans of the lowest score, returns one that
/// moves the fewest referrals out of their previous class (a fifth level
/// below waiting, see [`super::weights`]); the score is the same as
/// without it.
///
/// # Errors
///
/// [`SolveError::TooLarge`] for more than [`MAX_REFERRALS`] free
/// referrals, [`SolveError::Weights`] when the levels do not fit 128 bits,
/// and [`SolveError::Flow`] or [`SolveError::Inconsistent`] on a planner
/// bug (including a `previous` of the wrong length).
pub fn solve_from(
    market: &Market<'_>,
    settings: Settings,
    previous: Option<&[Option<usize>]>,
) -> Result<Solved, SolveError> {
    let n = market.free.len();
    if n > MAX_REFERRALS {
        return Err(SolveError::TooLarge(n));
    }
    if previous.is_some_and(|p| p.len() != n) {
        return Err(SolveError::Inconsistent(
            "previous placements do not match the referrals".into(),
        ));
    }
    let mut stats = SolveStats {
        referrals_to_plan: n,
        slot_classes: market.classes.len(),
        candidate_pairs: market.candidate_pairs(),
        ..SolveStats::default()
    };
    let nodes = n + market.classes.len() + 1;
    let weights = Weights::new(market, previous.is_some(), nodes)?;
    let mut flow = FlowModel::new(market, weights, previous);
    let start = flow.start(settings);
    stats.started_in_place = match previous {
        Some(p) => p
            .iter()
            .zip(&start)
            .filter(|(p, s)| p.is_some() && p == s)
            .count(),
        None => 0,
    };
    flow.set_basis(&start)?;
    loop {
        flow.net.optimise()?;
        stats.pricing_rounds += 1;
        if flow.price_left_out() == 0 {
            break;
        }
    }
    let choice = flow.choice()?;
    stats.arcs_in_model = flow.arc_of.len();
    stats.pivots = flow.net.pivots;
    Ok(Solved { choice, stats })
}

/// The network of one market and which candidate each arc stands for.
struct FlowModel<'a, 's> {
    market: &'a Market<'s>,
    weights: Weights,
    previous: Option<&'a [Option<usize>]>,
    net: Network,
    /// Node of the sink `T`; referrals are `0..n`, classes `n..n + m`.
    root: usize,
    /// `(referral, class)` of arc `first_candidate_arc + j`.
    arc_of: Vec<(u32, u32)>,
    /// `initial[i]`: the range of `arc_of` added for referral `i` by
    /// [`FlowModel::start`], to find its starting arc again.
    initial: Vec<std::ops::Range<usize>>,
}

impl<'a, 's> FlowModel<'a, 's> {
    /// Unplanned arcs (`0..n`) and class arcs (`n..n + m`); candidate arcs
    /// come with [`FlowModel::start`].
    fn new(
        market: &'a Market<'s>,
        weights: Weights,
        previous: Option<&'a [Option<usize>]>,
    ) -> Self {
        let (n, m) = (market.free.len(), market.classes.len());
        let root = n + m;
        let mut net = Network::new(n + m + 1);
        for (i, &cost) in market.unplanned_cost.iter().enumerate() {
            let moved = previous.is_some_and(|p| p[i].is_some());
            net.add_arc(i, root, weights.fold(cost, moved), UNBOUNDED);
        }
        for (c, class) in market.classes.iter().enumerate() {
            let capacity = u32::try_from(class.slots.len()).unwrap_or(u32::MAX - 1);
            net.add_arc(n + c, root, 0, capacity);
        }
        FlowModel {
            market,
            weights,
            previous,
            net,
            root,
            arc_of: Vec::new(),
            initial: Vec::new(),
        }
    }

    fn first_candidate_arc(&self) -> usize {
        self.market.free.len() + self.market.classes.len()
    }

    /// The weight of candidate `cand` of referral `i`.
    fn weight(&self, i: usize, cand: Candidate) -> Weight {
        let moved = self
            .previous
            .is_some_and(|p| p[i].is_some_and(|c| c != cand.class));
        self.weights.fold(cand.cost, moved)
    }

    /// Adds the arc of candidate `cand` of referral `i` (the caller knows
    /// it is not in yet) and returns it.
    fn add(&mut self, i: usize, cand: Candidate) -> usize {
        let n = self.market.free.len();
        let weight = self.weight(i, cand);
        self.arc_of.push((i as u32, cand.class as u32));
        self.net.add_arc(i, n + cand.class, weight, UNBOUNDED)
    }

    /// Adds the first candidate arcs and returns the starting placement
    /// (class per referral): the previous class where it is still allowed
    /// and has room, otherwise, most urgent referral first, its cheapest
    /// candidate with room left.
    fn start(&mut self, settings: Settings) -> Vec<Option<usize>> {
        let market = self.market;
        for i in 0..market.free.len() {
            let from = self.arc_of.len();
            for cand in market.candidates_of(i).take(settings.initial_candidates) {
                self.add(i, cand);
            }
            self.initial.push(from..self.arc_of.len());
        }
        let mut room: Vec<usize> = market.classes.iter().map(|c| c.slots.len()).collect();
        let mut start: Vec<Option<usize>> = vec![None; market.free.len()];
        if let Some(previous) = self.previous {
            for (i, prev) in previous.iter().enumerate() {
                let Some(c) = *prev else { continue };
                if room[c] > 0 && market.allows(i, c) {
                    room[c] -= 1;
                    start[i] = Some(c);
                }
            }
        }
        if !settings.greedy_start {
            return start;
        }
        let mut order: Vec<usize> = (0..market.free.len())
            .filter(|&i| start[i].is_none())
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(market.unplanned_cost[i]));
        let mut rooms = greedy::Rooms::new(market, room);
        for i in order {
            if let Some(c) = rooms.take_cheapest(i) {
                start[i] = Some(c);
            }
        }
        start
    }

    /// The arc from referral `i` to class `c`: one [`FlowModel::start`]
    /// added, or a new one.
    fn arc_to(&mut self, i: usize, c: usize) -> usize {
        let first = self.first_candidate_arc();
        let found = self.initial[i]
            .clone()
            .find(|&j| self.arc_of[j].1 as usize == c);
        match found {
            Some(j) => first + j,
            None => {
                let cost = self.market.cost(i, c);
                self.add(i, Candidate { class: c, cost })
            }
        }
    }
    /// Sets flows and a strongly feasible spanning tree for the placement
    /// `start` (class per referral; see the module docs of
    /// [`super::flow`]). Each referral hangs under its class (or under `T`
    /// by its unplanned arc); each class hangs under `T` by its capacity
    /// arc, except a full class: its capacity arc rests at its upper bound,
    /// and the class hangs under one of its referrals, which itself hangs
    /// under `T` by its (empty) unplanned arc. From every node flow can
    /// then still be pushed to `T` along the tree.
    fn set_basis(&mut self, start: &[Option<usize>]) -> Result<(), SolveError> {
        let (n, m) = (self.market.free.len(), self.market.classes.len());
        let mut pred: Vec<Option<usize>> = vec![None; n + m + 1];
        let mut members: Vec<Vec<(usize, usize)>> = vec![Vec::new(); m];
        for (i, class) in start.iter().enumerate() {
            match *class {
                Some(c) => {
                    let arc = self.arc_to(i, c);
                    self.net.set_flow(arc, 1);
                    members[c].push((i, arc));
                    pred[i] = Some(arc);
                }
                None => {
                    self.net.set_flow(i, 1);
                    pred[i] = Some(i);
                }
            }
        }
        for (c, list) in members.iter().enumerate() {
            let class_arc = n + c;
            let load = list.len();
            self.net.set_flow(class_arc, load as u32);
            match list.first() {
                Some(&(i, arc)) if load == self.market.classes[c].slots.len() => {
                    pred[n + c] = Some(arc);
                    pred[i] = Some(i); // its unplanned arc, empty
                }
                _ => pred[n + c] = Some(class_arc),
            }
        }
        self.net.set_basis(self.root, &pred)?;
        Ok(())
    }

    /// For every region, the largest class potential at or after each
    /// position of [`Market::by_region`]: with it, a whole lane's reduced
    /// costs are bounded from below.
    fn suffix_max_potentials(&self) -> Vec<Vec<Weight>> {
        let n = self.market.free.len();
        self.market
            .by_region
            .iter()
            .map(|list| {
                let mut max = Weight::MIN;
                let mut out: Vec<Weight> = list
                    .iter()
                    .rev()
                    .map(|&c| {
                        max = max.max(self.net.potential(n + c as usize));
                        max
                    })
                    .collect();
                out.reverse();
                out
            })
            .collect()
    }

    /// Adds left-out candidate arcs with a negative reduced cost (at most
    /// [`ADD_PER_ROUND`] per referral, cheapest first) and returns how
    /// many. Arcs in the network have a reduced cost of at least 0 after
    /// [`Network::optimise`], so a negative one is always a new arc.
    fn price_left_out(&mut self) -> usize {
        let n = self.market.free.len();
        let suffix_max = self.suffix_max_potentials();
        let mut found: Vec<Candidate> = Vec::new();
        let mut added = 0;
        for i in 0..n {
            found.clear();
            self.price_referral(i, &suffix_max, &mut found);
            // The cheapest violating ones, in the order of the referral's
            // full candidate list: (cost, class).
            found.sort_unstable_by_key(|cand| (cand.cost, cand.class));
            found.truncate(ADD_PER_ROUND);
            for &cand in &found {
                self.add(i, cand);
            }
            added += found.len();
        }
        added
    }

    /// Pushes into `found` candidates of referral `i` with a negative
    /// reduced cost: per lane its first [`ADD_PER_ROUND`] (later ones of
    /// the lane come after them in cost order), all of the classes dated
    /// before the registration (not sorted).
    fn price_referral(&self, i: usize, suffix_max: &[Vec<Weight>], found: &mut Vec<Candidate>) {
        let market = self.market;
        let referral = market.view(i);
        let class_node = market.free.len();
        let pi_i = self.net.potential(i);
        let rc = |cand: Candidate| {
            self.net
                .reduced_cost(i, class_node + cand.class, self.weight(i, cand))
        };
        for lane in market.lanes_of(i) {
            let list = &market.by_region[lane.region as usize];
            for &c in &list[lane.early as usize..lane.start as usize] {
                let c = c as usize;
                if referral.allows(c) {
                    let cand = Candidate {
                        class: c,
                        cost: referral.cost(c),
                    };
                    if rc(cand) < 0 {
                        found.push(cand);
                    }
                }
            }
            let bound = &suffix_max[lane.region as usize];
            let mut here = 0;
            for pos in lane.start as usize..lane.end as usize {
                let c = list[pos] as usize;
                let cost = referral.cost(c);
                // A lower bound of the reduced cost of this class and every
                // later one of the lane: costs only grow along a lane, the
                // suffix maximum of the potentials only shrinks.
                if self.weights.fold_score(cost) + pi_i - bound[pos] >= 0 {
                    break;
                }
                if !referral.allows(c) {
                    continue;
                }
                let cand = Candidate { class: c, cost };
                if rc(cand) < 0 {
                    found.push(cand);
                    here += 1;
                    if here == ADD_PER_ROUND {
                        break;
                    }
                }
            }
        }
    }

    /// Reads the class per referral off the optimal flow.
    fn choice(&self) -> Result<Vec<Option<usize>>, SolveError> {
        let n = self.market.free.len();
        let mut choice: Vec<Option<Option<usize>>> = vec![None; n];
        for (i, slot) in choice.iter_mut().enumerate() {
            if self.net.flow(i) == 1 {
                *slot = Some(None);
            }
        }
        let first = self.first_candidate_arc();
        for (j, &(i, c)) in self.arc_of.iter().enumerate() {
            if self.net.flow(first + j) == 0 {
                continue;
            }
            let i = i as usize;
            if choice[i].is_some() || self.net.flow(first + j) != 1 {
                return Err(SolveError::Inconsistent(format!(
                    "referral {i} does not have exactly one place"
                )));
            }
            choice[i] = Some(Some(c as usize));
        }
        choice
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                c.ok_or_else(|| SolveError::Inconsistent(format!("referral {i} has no place")))
            })
            .collect()
    }
}
