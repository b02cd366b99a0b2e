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

mod follow;
mod greedy;
mod layout;
mod pricing;
mod warm;

use layout::Layout;

pub use follow::{solve_changed, Changes, Step};
pub use warm::FlowState;

use super::flow::{FlowError, Network, UNBOUNDED};
use super::weights::{Room, TooLarge, Weight, Weights};

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
    /// The run went on from the previous run's network, flow and
    /// potentials ([`solve_changed`]) instead of building them anew.
    pub warm: bool,
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
    solve_keeping(
        market,
        settings,
        previous.map(<[_]>::to_vec),
        Room::default(),
    )
    .map(|(solved, _)| solved)
}

/// [`solve_from`], also returning the solved network for later runs
/// ([`solve_changed`]); its weights have `room` for what may come
/// ([`Weights::with_spare`]).
///
/// # Errors
///
/// As [`solve_from`].
pub fn solve_keeping(
    market: &Market<'_>,
    settings: Settings,
    previous: Option<Vec<Option<usize>>>,
    room: Room,
) -> Result<(Solved, FlowState), SolveError> {
    let n = market.free.len();
    if n > MAX_REFERRALS {
        return Err(SolveError::TooLarge(n));
    }
    if previous.as_ref().is_some_and(|p| p.len() != n) {
        return Err(SolveError::Inconsistent(
            "previous placements do not match the referrals".into(),
        ));
    }
    let nodes = n + market.classes.len() + 1;
    let weights = Weights::with_spare(market, previous.is_some(), nodes, room)?;
    let mut flow = FlowModel::new(market, weights, previous);
    let start = flow.start(settings);
    let started_in_place = match &flow.previous {
        Some(p) => p
            .iter()
            .zip(&start)
            .filter(|(p, s)| p.is_some() && p == s)
            .count(),
        None => 0,
    };
    flow.set_basis(&start)?;
    flow.candidate_pairs = market.candidate_pairs();
    let mut solved = flow.optimise_priced(false)?;
    solved.stats.started_in_place = started_in_place;
    Ok((solved, flow.into_state()))
}

/// `arc_of` entry of an arc that is a referral's unplanned arc, not a
/// candidate (referrals added after the first solve).
const UNPLANNED: u32 = u32::MAX;

/// `arc_of` referral entry of a class's capacity arc (classes added to
/// after the first solve): the class is the entry's second part.
const CAPACITY: u32 = u32::MAX;

/// The network of one market and which candidate each arc stands for.
///
/// Layout ([`layout`]): the first `n0` referrals (those of the first
/// solve) are nodes `0..n0`, their unplanned arcs arcs `0..n0`; the `m0`
/// classes of the first solve are nodes and class arcs `n0..n0 + m0`; the
/// sink `T` is node `n0 + m0`. Referrals and classes added later
/// ([`solve_changed`]) get the next node and their arcs among the
/// candidate arcs, so nothing already built moves.
struct FlowModel<'a, 's> {
    market: &'a Market<'s>,
    weights: Weights,
    /// Class per free referral before this run (the stability level).
    previous: Option<Vec<Option<usize>>>,
    net: Network,
    /// Which node and arc is which referral and class.
    layout: Layout,
    /// `(referral, class)` of arc `first_candidate_arc + j`; class
    /// [`UNPLANNED`] for the unplanned arc of a referral added later,
    /// [`CAPACITY`] for a capacity arc of a class added to later.
    arc_of: Vec<(u32, u32)>,
    /// `initial[i]`: the range of `arc_of` added for referral `i` by
    /// [`FlowModel::start`], to find its starting arc again.
    initial: Vec<std::ops::Range<usize>>,
    /// Referral x class pairs the rules allow (a statistic, kept so a warm
    /// run counts only its new referrals' pairs).
    candidate_pairs: usize,
    /// Per region, the free referrals that may use it (warm runs; empty
    /// until needed).
    region_users: Vec<Vec<u32>>,
    /// Referrals that got arcs in the last [`FlowModel::price_changed`]
    /// round and may have more violating pairs than were added: priced
    /// again in the next round.
    reprice: Vec<usize>,
}

impl<'a, 's> FlowModel<'a, 's> {
    /// Unplanned arcs (`0..n`) and class arcs (`n..n + m`); candidate arcs
    /// come with [`FlowModel::start`].
    fn new(market: &'a Market<'s>, weights: Weights, previous: Option<Vec<Option<usize>>>) -> Self {
        let (n, m) = (market.free.len(), market.classes.len());
        let layout = Layout::new(n, m);
        let root = layout.root();
        let mut net = Network::new(n + m + 1);
        for (i, &cost) in market.unplanned_cost.iter().enumerate() {
            let moved = previous.as_ref().is_some_and(|p| p[i].is_some());
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
            layout,
            arc_of: Vec::new(),
            initial: Vec::new(),
            candidate_pairs: 0,
            region_users: Vec::new(),
            reprice: Vec::new(),
        }
    }

    fn first_candidate_arc(&self) -> usize {
        self.layout.first_candidate_arc()
    }

    /// The node of free referral `i`.
    #[inline]
    fn referral_node(&self, i: usize) -> usize {
        self.layout.referral_node(i)
    }

    /// The node of class `c`.
    #[inline]
    fn class_node(&self, c: usize) -> usize {
        self.layout.class_node(c)
    }

    /// The arc from free referral `i` straight to `T`.
    fn unplanned_arc(&self, i: usize) -> usize {
        self.layout.unplanned_arc(i)
    }

    /// Was free referral `i` somewhere else than class `class` (`None` =
    /// unplanned) before this run?
    fn moved(&self, i: usize, class: Option<usize>) -> bool {
        self.previous
            .as_ref()
            .is_some_and(|p| p[i].is_some() && p[i] != class)
    }

    /// The weight of candidate `cand` of referral `i`.
    fn weight(&self, i: usize, cand: Candidate) -> Weight {
        self.weights
            .fold(cand.cost, self.moved(i, Some(cand.class)))
    }

    /// Adds the arc of candidate `cand` of referral `i` (the caller knows
    /// it is not in yet) and returns it.
    fn add(&mut self, i: usize, cand: Candidate) -> usize {
        let weight = self.weight(i, cand);
        self.arc_of.push((i as u32, cand.class as u32));
        let (from, to) = (self.referral_node(i), self.class_node(cand.class));
        self.net.add_arc(from, to, weight, UNBOUNDED)
    }

    /// The referral x class arcs: `(j, (referral, class))` for arc
    /// `first_candidate_arc + j`, leaving out the unplanned and capacity
    /// arcs added after the first solve.
    fn candidate_arcs(&self) -> impl Iterator<Item = (usize, (usize, usize))> + '_ {
        self.arc_of
            .iter()
            .enumerate()
            .filter(|&(_, &(i, c))| c != UNPLANNED && i != CAPACITY)
            .map(|(j, &(i, c))| (j, (i as usize, c as usize)))
    }

    /// Class of node `v`, if it is a class's node.
    fn class_of_node(&self, v: usize) -> Option<usize> {
        self.layout.class_of_node(v)
    }

    /// Free referral of node `v`, if it is a referral's node.
    fn referral_of_node(&self, v: usize) -> Option<usize> {
        self.layout.referral_of_node(v)
    }

    /// Optimises, prices the left-out arcs and optimises again until
    /// pricing finds none: the flow is then optimal for the full network.
    /// Returns the choice and the figures of this run. `near`: optimise
    /// near the changes only ([`Network::optimise_near`]; a warm run).
    fn optimise_priced(&mut self, near: bool) -> Result<Solved, SolveError> {
        let pivots_before = self.net.pivots;
        let mut stats = SolveStats {
            referrals_to_plan: self.market.to_plan(),
            // Classes a warm run emptied (their places held by stand-ins)
            // are no longer classes of free slots.
            slot_classes: self
                .market
                .classes
                .iter()
                .filter(|c| !c.slots.is_empty())
                .count(),
            candidate_pairs: self.candidate_pairs,
            ..SolveStats::default()
        };
        loop {
            if near {
                self.net.optimise_near()?;
            } else {
                self.net.optimise()?;
            }
            stats.pricing_rounds += 1;
            let added = if near {
                self.price_changed(&[])
            } else {
                self.price_left_out()
            };
            if added == 0 {
                break;
            }
        }
        let choice = self.choice()?;
        stats.arcs_in_model = self.candidate_arcs().count();
        stats.pivots = self.net.pivots - pivots_before;
        Ok(Solved { choice, stats })
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
        if let Some(previous) = &self.previous {
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
        let m = self.market.classes.len();
        let mut pred: Vec<Option<usize>> = vec![None; self.net.nodes()];
        let mut members: Vec<Vec<(usize, usize)>> = vec![Vec::new(); m];
        for (i, class) in start.iter().enumerate() {
            let node = self.referral_node(i);
            match *class {
                Some(c) => {
                    let arc = self.arc_to(i, c);
                    self.net.set_flow(arc, 1);
                    members[c].push((i, arc));
                    pred[node] = Some(arc);
                }
                None => {
                    let arc = self.unplanned_arc(i);
                    self.net.set_flow(arc, 1);
                    pred[node] = Some(arc);
                }
            }
        }
        for (c, list) in members.iter().enumerate() {
            let class_arc = self.class_node(c); // the same index, cold
            let load = list.len();
            self.net.set_flow(class_arc, load as u32);
            match list.first() {
                Some(&(i, arc)) if load == self.market.classes[c].slots.len() => {
                    pred[class_arc] = Some(arc);
                    // Its unplanned arc, empty.
                    pred[self.referral_node(i)] = Some(self.unplanned_arc(i));
                }
                _ => pred[class_arc] = Some(class_arc),
            }
        }
        self.net.set_basis(self.layout.root(), &pred)?;
        Ok(())
    }

    /// Reads the class per referral off the optimal flow.
    fn choice(&self) -> Result<Vec<Option<usize>>, SolveError> {
        let n = self.market.free.len();
        let mut choice: Vec<Option<Option<usize>>> = vec![None; n];
        for (i, slot) in choice.iter_mut().enumerate() {
            if self.net.flow(self.unplanned_arc(i)) == 1 {
                *slot = Some(None);
            }
        }
        let first = self.first_candidate_arc();
        for (j, (i, c)) in self.candidate_arcs() {
            if self.net.flow(first + j) == 0 {
                continue;
            }
            if choice[i].is_some() || self.net.flow(first + j) != 1 {
                return Err(SolveError::Inconsistent(format!(
                    "referral {i} does not have exactly one place"
                )));
            }
            choice[i] = Some(Some(c));
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
