//! The planner's min-cost flow network as plain text, for other solvers
//! (`benches/ortools_mcf.py` times OR-Tools on it): the *full* network,
//! every referral x class pair, with the same exact folded weights.
//!
//! Format, one item a line, numbers in decimal:
//!
//! ```text
//! nodes N
//! supply NODE AMOUNT          (one per node with a supply; the sink's is negative)
//! arc TAIL HEAD CAPACITY WEIGHT
//! optimum TOTAL               (the flow planner's optimal total weight)
//! ```
//!
//! Nodes: referrals to plan `0..n`, slot classes `n..n+m`, the sink `n+m`.

use std::fmt::Write as _;

use super::market::Market;
use super::model::{self, Settings};
use super::scenario::Scenario;
use super::weights::{Weight, Weights};
use super::PlanError;

/// The network of `scenario` in the format above.
pub fn network_text(scenario: &Scenario) -> Result<String, PlanError> {
    let market = Market::build(scenario);
    let (n, m) = (market.free.len(), market.classes.len());
    let sink = n + m;
    let weights = Weights::new(&market, false, sink + 1).map_err(model::SolveError::from)?;
    let solved = model::solve(&market, Settings::default())?;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "nodes {}", sink + 1);
    for i in 0..n {
        let _ = writeln!(out, "supply {i} 1");
    }
    let _ = writeln!(out, "supply {sink} -{n}");
    let mut optimum: Weight = 0;
    for i in 0..n {
        let unplanned = weights.fold(market.unplanned_cost[i], false);
        let _ = writeln!(out, "arc {i} {sink} 1 {unplanned}");
        for cand in market.candidates_of(i) {
            let w = weights.fold(cand.cost, false);
            let _ = writeln!(out, "arc {i} {} 1 {w}", n + cand.class);
            if solved.choice[i] == Some(cand.class) {
                optimum += w;
            }
        }
        if solved.choice[i].is_none() {
            optimum += unplanned;
        }
    }
    for (c, class) in market.classes.iter().enumerate() {
        let _ = writeln!(out, "arc {} {sink} {} 0", n + c, class.slots.len());
    }
    let _ = writeln!(out, "optimum {optimum}");
    Ok(out)
}
