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

use super::cost::Cost;
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
        let ranges = (0..market.free.len()).map(|i| market.level_ranges(i));
        Weights::from_ranges(ranges, stable, nodes)
    }

    /// Weights from each referral's smallest and largest cost per level
    /// over its options (`(low, high)`, as [`Market::level_ranges`]).
    pub fn from_ranges(
        ranges: impl Iterator<Item = ([i64; Cost::LEVELS], [i64; Cost::LEVELS])>,
        stable: bool,
        nodes: usize,
    ) -> Result<Weights, TooLarge> {
        let levels = if stable { MAX_LEVELS } else { Cost::LEVELS };
        let too_large = TooLarge { nodes };
        let mut range = [0 as Weight; MAX_LEVELS];
        let mut global_max = [0 as Weight; MAX_LEVELS];
        for (low, high) in ranges {
            let (low, high) = (low.map(Weight::from), high.map(Weight::from));
            for j in 0..Cost::LEVELS {
                range[j] = range[j].checked_add(high[j] - low[j]).ok_or(too_large)?;
                global_max[j] = global_max[j].max(high[j]);
            }
            // "Moved" is 0 or 1 for every referral.
            range[Cost::LEVELS] += 1;
        }
        global_max[Cost::LEVELS] = 1;
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
        let nodes_bound = Weight::try_from(nodes)
            .ok()
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(4))
            .ok_or(too_large)?;
        nodes_bound
            .checked_mul(max_weight.max(1))
            .ok_or(too_large)?;
        Ok(Weights { factor, max_weight })
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
        Weights::from_ranges(ranges, stable, 10)
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
