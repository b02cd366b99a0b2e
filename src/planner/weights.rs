//! The score's lexicographic levels folded into one exact integer weight.
//!
//! A min-cost flow minimises one sum, the score has four levels (plus, for
//! stable re-plans, a fifth below them: "moved from the previous tentative
//! class"). They are folded into one weight per option,
//! `F(c) = sum_j c_j * W_j`, with
//!
//! ```text
//! W_last = 1,   W_j = 1 + sum_{k > j} R_k * W_k,
//! R_k    = sum over referrals i of (max_k(i) - min_k(i)),
//! ```
//!
//! where `max_k(i)` and `min_k(i)` are the largest and smallest level-`k`
//! cost among referral `i`'s options (its candidate classes and
//! "unplanned").
//!
//! **Why this is lexicographic.** Take two feasible plans `x` and `y` and
//! their level totals `x_k`, `y_k`. Every referral contributes one option
//! to each, so `|x_k - y_k| <= R_k` for every level. Let `j` be the first
//! level where they differ, with `x_j < y_j`, so `x_j <= y_j - 1` (integers).
//! Then
//!
//! ```text
//! F(x) - F(y) = (x_j - y_j) W_j + sum_{k > j} (x_k - y_k) W_k
//!            <= -W_j + sum_{k > j} R_k W_k  =  -1  <  0.
//! ```
//!
//! So `F` orders plans exactly as the score does, and a plan minimising `F`
//! is lexicographically optimal. The same argument with one referral
//! (ranges of that referral alone, which are at most `R_k`) shows that `F`
//! orders one referral's options as [`Cost`]'s `Ord` does, so a candidate
//! list sorted by `Cost` is sorted by `F` too.
//!
//! **No overflow.** Every level cost is non-negative. `C_max = sum_j
//! gmax_j * W_j` (with `gmax_j` the largest level-`j` cost of any option) is
//! the largest weight of any arc. The network simplex's node potentials are
//! sums of at most `N - 1` arc weights along a tree path (`N` nodes), and a
//! reduced cost is an arc weight plus two potentials, so every number it
//! handles is at most `(2N + 1) * C_max` in size. [`Weights::new`] checks
//! that `4 (N + 1) * C_max` fits in an `i128` with checked arithmetic and
//! returns an error otherwise; after that, plain arithmetic cannot
//! overflow.

use chrono::Days;

use super::cost::{cost, Cost, LevelRanges};
use super::market::Market;

/// The exact integer type of folded weights and node potentials.
pub type Weight = i128;

/// Levels of the folded weight: the score's four plus "moved".
pub const MAX_LEVELS: usize = Cost::LEVELS + 1;

/// The folding factors for one market; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    /// `factor[j]` multiplies level `j`; unused levels have factor 0.
    factor: [Weight; MAX_LEVELS],
    /// The largest weight any option can have (`C_max`).
    max_weight: Weight,
    /// What the factors were made for: `R_k` (ranges summed over the
    /// referrals, plus room for `spare` more), `gmax_k` and `N`.
    budget: Budget,
    /// The part of `budget` the referrals admitted so far take.
    used: Budget,
}

/// Range sums, largest costs per level and node count: what the bound of
/// the module docs depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Budget {
    range: [Weight; MAX_LEVELS],
    global_max: [Weight; MAX_LEVELS],
    nodes: usize,
}

/// What a cold run's weights leave room for, so that later runs can take
/// it in without new weights ([`Weights::with_spare`]). `Default`: none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Room {
    /// More referrals (and network nodes).
    pub referrals: usize,
    /// Days the day unplanned referrals count at may move later (a session
    /// added after the last one).
    pub horizon_days: u64,
}

/// The folded weights would not fit in 128 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the score levels do not fit in one 128-bit weight for {nodes} network nodes")]
pub struct TooLarge {
    /// Nodes of the network the bound was checked for.
    pub nodes: usize,
}

impl Weights {
    /// Weights for `market`, with the stability level when `stable`, checked
    /// for a network of `nodes` nodes (see the module docs for the bound).
    pub fn new(market: &Market<'_>, stable: bool, nodes: usize) -> Result<Weights, TooLarge> {
        Weights::with_spare(market, stable, nodes, Room::default())
    }

    /// As [`Weights::new`], with `room` for what may come later:
    /// `room.referrals` more referrals (and nodes) whose costs are no
    /// higher, level by level, than the highest now, and the day unplanned
    /// referrals count at moving up to `room.horizon_days` later (every
    /// referral's unplanned cost grows). [`Weights::admit`] and
    /// [`Weights::admit_wider`] take them without changing any weight. A
    /// larger `R_k` or `gmax_k` only makes the factors larger, so the order
    /// stays exactly lexicographic (the proof of the module docs needs them
    /// at least the true values, not equal to them).
    pub fn with_spare(
        market: &Market<'_>,
        stable: bool,
        nodes: usize,
        room: Room,
    ) -> Result<Weights, TooLarge> {
        let mut highest = [0; MAX_LEVELS];
        let mut raise = |high: [i64; Cost::LEVELS]| {
            for (max, &high) in highest.iter_mut().zip(&high) {
                *max = (*max).max(Weight::from(high));
            }
        };
        let scenario = market.scenario();
        if room.referrals > 0 {
            // Booked referrals may come back (a booking undone, a
            // conversation that did not take place), often with costs
            // above every free referral's: the spare room is made for
            // their largest costs too (their ranges are not taken: they
            // are not in the plan now).
            for &(r, _) in &scenario.pinned {
                raise(market.level_ranges_of(r).1);
            }
        }
        let later = scenario
            .unplanned_date
            .checked_add_days(Days::new(room.horizon_days));
        if let Some(later) = later.filter(|_| room.horizon_days > 0) {
            // Unplanned at the later day: the largest cost of any referral
            // then, free or booked (a later day raises the costs of every
            // referral registered before it; `take` checks any other).
            for r in 0..scenario.referrals.len() {
                let unplanned = cost(scenario, r, later, None);
                raise(std::array::from_fn(|j| unplanned.level(j)));
            }
        }
        let ranges = (0..market.free.len()).map(|i| market.level_ranges(i));
        Weights::from_ranges_within(ranges, stable, nodes, room.referrals, highest)
    }

    /// Weights from each referral's smallest and largest cost per level
    /// over its options (`(low, high)`, as [`Market::level_ranges`]), with
    /// room for `spare` more referrals (see [`Weights::with_spare`]).
    pub fn from_ranges(
        ranges: impl Iterator<Item = ([i64; Cost::LEVELS], [i64; Cost::LEVELS])>,
        stable: bool,
        nodes: usize,
        spare: usize,
    ) -> Result<Weights, TooLarge> {
        Weights::from_ranges_within(ranges, stable, nodes, spare, [0; MAX_LEVELS])
    }

    /// [`Weights::from_ranges`], with the spare referrals' largest costs at
    /// least `highest` per level.
    fn from_ranges_within(
        ranges: impl Iterator<Item = ([i64; Cost::LEVELS], [i64; Cost::LEVELS])>,
        stable: bool,
        nodes: usize,
        spare: usize,
        highest: [Weight; MAX_LEVELS],
    ) -> Result<Weights, TooLarge> {
        let levels = if stable { MAX_LEVELS } else { Cost::LEVELS };
        let too_large = TooLarge { nodes };
        let mut used = Budget {
            nodes,
            ..Budget::default()
        };
        for (low, high) in ranges {
            used.add(low, high).ok_or(too_large)?;
        }
        // "Unplanned", "cross-region" and "moved" are 0 or 1 for anyone.
        for j in [0, 2, Cost::LEVELS] {
            used.global_max[j] = used.global_max[j].max(1);
        }
        used.nodes = nodes;
        for (max, &high) in used.global_max.iter_mut().zip(&highest) {
            *max = (*max).max(high);
        }
        // A referral admitted later has no cost above `global_max` (checked
        // by `admit`) and none below 0, so its range is at most
        // `global_max` on every level: room for `spare` of them.
        let mut budget = used;
        budget.nodes = nodes.checked_add(spare).ok_or(too_large)?;
        let spare = Weight::try_from(spare).map_err(|_| too_large)?;
        for j in 0..MAX_LEVELS {
            let room = budget.global_max[j].checked_mul(spare).ok_or(too_large)?;
            budget.range[j] = budget.range[j].checked_add(room).ok_or(too_large)?;
        }
        let (range, global_max) = (budget.range, budget.global_max);
        let mut factor = [0 as Weight; MAX_LEVELS];
        let mut below: Weight = 0; // sum_{k > j} R_k W_k
        for j in (0..levels).rev() {
            factor[j] = below.checked_add(1).ok_or(too_large)?;
            let term = range[j].checked_mul(factor[j]).ok_or(too_large)?;
            below = below.checked_add(term).ok_or(too_large)?;
        }
        let mut max_weight: Weight = 0;
        for j in 0..levels {
            let term = global_max[j].checked_mul(factor[j]).ok_or(too_large)?;
            max_weight = max_weight.checked_add(term).ok_or(too_large)?;
        }
        let nodes_bound = Weight::try_from(budget.nodes)
            .ok()
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(4))
            .ok_or(too_large)?;
        nodes_bound
            .checked_mul(max_weight.max(1))
            .ok_or(too_large)?;
        Ok(Weights {
            factor,
            max_weight,
            budget,
            used,
        })
    }

    /// Takes one more referral (one more node) with these cost ranges
    /// (`(low, high)` per level, as [`Market::level_ranges`]) into the
    /// budget the factors were made for. `false`, and nothing taken, when
    /// it does not fit: then the factors would no longer prove the order
    /// or the overflow bound, and the caller must make new weights.
    pub fn admit(&mut self, low: [i64; Cost::LEVELS], high: [i64; Cost::LEVELS]) -> bool {
        let mut next = self.used;
        next.add(low, high).is_some() && self.take(next)
    }

    /// Takes `nodes` more network nodes that are no referral (a class, a
    /// stand-in holding a place) into the budget; `false`, and nothing
    /// taken, when the overflow bound would no longer hold.
    pub fn admit_nodes(&mut self, nodes: usize) -> bool {
        let mut next = self.used;
        match next.nodes.checked_add(nodes) {
            Some(n) => {
                next.nodes = n;
                self.take(next)
            }
            None => false,
        }
    }

    /// Widens what an admitted referral takes of the budget from its
    /// ranges `before` to `after` (`(low, high)` per level, as
    /// [`Market::level_ranges`]), when a class it may use was added; `false`,
    /// and nothing taken, when that does not fit (as [`Weights::admit`]).
    pub fn admit_wider(&mut self, before: LevelRanges, after: LevelRanges) -> bool {
        let mut next = self.used;
        for j in 0..Cost::LEVELS {
            let width = |(low, high): LevelRanges| Weight::from(high[j]) - Weight::from(low[j]);
            let grown = (width(after) - width(before)).max(0);
            next.range[j] = next.range[j].saturating_add(grown);
            next.global_max[j] = next.global_max[j].max(Weight::from(after.1[j]));
        }
        self.take(next)
    }

    /// Makes `next` the budget used when it is within the budget made for
    /// ([`Weights::admit`] and its kin); `false`, and nothing taken, if not.
    fn take(&mut self, next: Budget) -> bool {
        let fits = (0..MAX_LEVELS).all(|j| {
            next.range[j] <= self.budget.range[j] && next.global_max[j] <= self.budget.global_max[j]
        }) && next.nodes <= self.budget.nodes;
        if fits {
            self.used = next;
        }
        fits
    }

    /// The folded weight of `cost`, plus the stability level's factor when
    /// `moved` (a no-op without that level).
    #[inline]
    pub fn fold(&self, cost: Cost, moved: bool) -> Weight {
        self.fold_score(cost) + Weight::from(moved) * self.factor[Cost::LEVELS]
    }

    /// The folded weight of the score levels alone: a lower bound of
    /// [`Weights::fold`], monotone in `Cost`'s order for one referral.
    #[inline]
    pub fn fold_score(&self, cost: Cost) -> Weight {
        (0..Cost::LEVELS)
            .map(|j| Weight::from(cost.level(j)) * self.factor[j])
            .sum()
    }

    /// The largest weight of any option.
    pub fn max_weight(&self) -> Weight {
        self.max_weight
    }
}

impl Budget {
    /// Adds one referral: its ranges, its largest costs, one node. `None`
    /// on overflow.
    fn add(&mut self, low: [i64; Cost::LEVELS], high: [i64; Cost::LEVELS]) -> Option<()> {
        for j in 0..Cost::LEVELS {
            let (low, high) = (Weight::from(low[j]), Weight::from(high[j]));
            self.range[j] = self.range[j].checked_add(high - low)?;
            self.global_max[j] = self.global_max[j].max(high);
        }
        // "Moved" is 0 or 1 for every referral.
        self.range[Cost::LEVELS] += 1;
        self.global_max[Cost::LEVELS] = 1;
        self.nodes = self.nodes.checked_add(1)?;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weights for referrals with these options (candidates, unplanned).
    fn weights(
        costs: Vec<Vec<Cost>>,
        unplanned: Vec<Cost>,
        stable: bool,
    ) -> Result<Weights, TooLarge> {
        let ranges = costs.into_iter().zip(unplanned).map(|(mut list, u)| {
            list.push(u);
            let level = |j: usize| list.iter().map(move |c| c.level(j));
            let low = std::array::from_fn(|j| level(j).min().unwrap_or(0));
            let high = std::array::from_fn(|j| level(j).max().unwrap_or(0));
            (low, high)
        });
        Weights::from_ranges(ranges, stable, 10, 0)
    }

    fn c(unplanned: i64, late_sq: i64, cross: i64, wait_sq: i64) -> Cost {
        Cost {
            unplanned,
            late_sq,
            cross,
            wait_sq,
        }
    }

    #[test]
    fn a_higher_level_outweighs_everything_below_it() {
        let w = weights(
            vec![vec![c(0, 0, 1, 100), c(0, 4, 0, 0)]; 3],
            vec![c(1, 9, 0, 144); 3],
            false,
        )
        .expect("fits");
        // One more cross-region move costs more than every referral's
        // largest possible waiting difference together.
        assert!(w.fold(c(0, 0, 1, 0), false) > w.fold(c(0, 0, 0, 3 * 144), false));
        assert!(w.fold(c(0, 1, 0, 0), false) > w.fold(c(0, 0, 3, 3 * 144), false));
        assert_eq!(w.fold(c(0, 0, 0, 5), false), 5);
        assert_eq!(w.fold(c(0, 0, 0, 5), true), 5, "no stability level");
    }

    #[test]
    fn the_stability_level_is_below_waiting() {
        let w = weights(vec![vec![c(0, 0, 0, 1)]; 4], vec![c(1, 0, 0, 9); 4], true).expect("fits");
        assert!(w.fold(c(0, 0, 0, 1), false) > w.fold(c(0, 0, 0, 0), true));
        assert_eq!(w.fold(c(0, 0, 0, 0), true), 1);
    }

    #[test]
    fn spare_room_admits_as_many_referrals_as_promised_and_no_costlier_ones() {
        let ranges = |n: usize| (0..n).map(|_| ([0, 0, 0, 1], [1, 4, 1, 100]));
        let mut w = Weights::from_ranges(ranges(3), true, 10, 2).expect("fits");
        // Room for two whose costs reach the highest: the factors are those
        // of five referrals with ranges from 0 to the highest.
        let widest = (0..5).map(|_| ([0, 0, 0, 0], [1, 4, 1, 100]));
        let exact = Weights::from_ranges(ranges(3).chain(widest.skip(3)), true, 12, 0);
        assert_eq!(w.factor, exact.expect("fits").factor);
        assert!(!w.admit([0, 0, 0, 0], [1, 4, 1, 101]), "costlier than any");
        assert!(w.admit([0, 0, 0, 0], [1, 4, 1, 100]));
        assert!(w.admit([0, 0, 0, 50], [0, 4, 0, 60]));
        assert!(!w.admit([0, 0, 0, 1], [1, 1, 1, 2]), "no room left");
        let mut none = Weights::from_ranges(ranges(3), true, 10, 0).expect("fits");
        assert!(
            !none.admit([0, 0, 0, 1], [1, 4, 1, 100]),
            "no spare, no room"
        );
    }

    /// Room for the day unplanned referrals count at moving two weeks later
    /// takes every referral's wider ranges then, and not those of a day
    /// beyond; without it, not even those of two weeks.
    #[test]
    fn horizon_room_takes_the_unplanned_costs_of_a_later_day_and_no_later_one() {
        use crate::planner::Scenario;
        let config = crate::config::RegionsConfig::builtin().expect("config");
        let options = crate::generator::preset("gelderland").expect("preset");
        let file = crate::generator::generate(&config, &options).expect("scenario");
        let scenario = Scenario::from_file(&file).expect("valid");
        let market = Market::build(&scenario);
        let nodes = market.free.len() + market.classes.len() + 1;
        let ranges = |market: &Market<'_>| -> Vec<LevelRanges> {
            (0..market.free.len())
                .map(|i| market.level_ranges(i))
                .collect()
        };
        let before = ranges(&market);
        let after = |days: u64| {
            let mut later = scenario.clone();
            later.unplanned_date = later
                .unplanned_date
                .checked_add_days(Days::new(days))
                .expect("date");
            ranges(&Market::build(&later))
        };
        let takes = |room: Room, days: u64| {
            let mut w = Weights::with_spare(&market, true, nodes, room).expect("fits");
            let after = after(days);
            before
                .iter()
                .zip(&after)
                .all(|(&b, &a)| w.admit_wider(b, a))
        };
        let referrals = market.free.len();
        let room = Room {
            referrals,
            horizon_days: 14,
        };
        assert!(takes(room, 14));
        assert!(!takes(room, 15), "beyond the room");
        let none = Room {
            referrals,
            horizon_days: 0,
        };
        assert!(!takes(none, 14), "no room for a later day");
    }

    #[test]
    fn weights_that_do_not_fit_are_an_error() {
        let huge = i64::MAX / 2;
        let w = weights(
            vec![vec![c(0, huge, 0, huge)]; 2],
            vec![c(1, 0, 0, 0); 2],
            true,
        );
        assert!(w.is_err());
    }
}
