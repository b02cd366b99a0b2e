//! A second, independent method: the same model as a general LP through
//! good_lp (microlp, pure Rust; HiGHS with the `highs` feature), one score
//! level at a time.
//!
//! Nothing here shares code with the flow solver beyond the [`Market`]
//! (the placement rules and costs): variables `x[i][k]` in `[0, 1]` per
//! referral x candidate class plus `u[i]` for "unplanned", one row
//! `sum_k x[i][k] + u[i] = 1` per referral, one row `load <= capacity` per
//! class. Level `j` minimises its cost subject to every earlier level
//! staying at its optimum (`cost_k . x <= opt_k`). The constraint matrix
//! of the first level is totally unimodular, and each later level
//! optimises over a face of that integral polytope, so the LP optima are
//! the integer optima: the score of an optimal plan. Dense level rows make
//! this slow on large scenarios; it is meant for small and medium ones
//! (`jbt plan --verify`, the tests).

#[cfg(feature = "highs")]
use good_lp::solvers::highs::highs as lp_solver;
#[cfg(not(feature = "highs"))]
use good_lp::solvers::microlp::microlp as lp_solver;
use good_lp::{variable, Expression, ProblemVariables, Solution, SolverModel, Variable};

use super::cost::Cost;
use super::market::{Candidate, Market};
use super::plan::{referral_cost, Score};
use super::scenario::Scenario;

/// The LP backend of this build: microlp, or HiGHS with the `highs` feature.
pub const LP_BACKEND: &str = if cfg!(feature = "highs") {
    "HiGHS"
} else {
    "microlp"
};

/// The LP method failed (solver error; never expected on a valid market).
#[derive(Debug, thiserror::Error)]
#[error("the LP cross-check failed at score level {level}: {message}")]
pub struct VerifyError {
    /// The score level (0 = unplanned ... 3 = waiting) being solved.
    pub level: usize,
    /// What the LP solver reported.
    pub message: String,
}

/// The lowest score of `scenario` by the LP method, pinned bookings
/// included; each level's LP optimum is rounded to the nearest integer
/// (they are integers, see the module docs; [`lp_levels`] gives them raw).
///
/// # Errors
///
/// [`VerifyError`] when the LP solver fails on a level.
pub fn lp_score(scenario: &Scenario, market: &Market<'_>) -> Result<Score, VerifyError> {
    let levels = lp_levels(market)?;
    let mut score = Score::default();
    for &(r, s) in &scenario.pinned {
        score.add(referral_cost(scenario, r, Some(s)));
    }
    let free = Cost {
        unplanned: levels[0].round() as i64,
        late_sq: levels[1].round() as i64,
        cross: levels[2].round() as i64,
        wait_sq: levels[3].round() as i64,
    };
    score.add(free);
    Ok(score)
}

/// The optimum of each score level over the free referrals, level by
/// level, as the LP solver reports it.
///
/// # Errors
///
/// [`VerifyError`] when the LP solver fails on a level.
pub fn lp_levels(market: &Market<'_>) -> Result<[f64; Cost::LEVELS], VerifyError> {
    let candidates: Vec<Vec<Candidate>> = (0..market.free.len())
        .map(|i| market.candidates(i))
        .collect();
    let mut optima = [0.0; Cost::LEVELS];
    for level in 0..Cost::LEVELS {
        optima[level] = solve_level(market, &candidates, level, &optima[..level])?;
    }
    Ok(optima)
}

/// The level-`level` cost of every option as an expression over `x` and `u`.
fn level_cost(
    market: &Market<'_>,
    candidates: &[Vec<Candidate>],
    level: usize,
    x: &[Vec<Variable>],
    u: &[Variable],
) -> Expression {
    let mut sum = Expression::from(0.0);
    for (i, cands) in candidates.iter().enumerate() {
        for (cand, &v) in cands.iter().zip(&x[i]) {
            sum.add_mul(cand.cost.level(level) as f64, v);
        }
        sum.add_mul(market.unplanned_cost[i].level(level) as f64, u[i]);
    }
    sum
}

fn solve_level(
    market: &Market<'_>,
    candidates: &[Vec<Candidate>],
    level: usize,
    earlier: &[f64],
) -> Result<f64, VerifyError> {
    let fail = |message: String| VerifyError { level, message };
    let mut vars = ProblemVariables::new();
    let x: Vec<Vec<Variable>> = candidates
        .iter()
        .map(|cands| {
            cands
                .iter()
                .map(|_| vars.add(variable().min(0.0).max(1.0)))
                .collect()
        })
        .collect();
    let u: Vec<Variable> = market
        .free
        .iter()
        .map(|_| vars.add(variable().min(0.0).max(1.0)))
        .collect();
    let objective = level_cost(market, candidates, level, &x, &u);
    let mut problem = vars.minimise(objective.clone()).using(lp_solver);
    let mut load: Vec<Expression> = vec![Expression::from(0.0); market.classes.len()];
    for (i, cands) in candidates.iter().enumerate() {
        let mut one = Expression::from(u[i]);
        for (cand, &v) in cands.iter().zip(&x[i]) {
            one += v;
            load[cand.class] += v;
        }
        problem = problem.with(one.eq(1.0));
    }
    for (c, row) in load.into_iter().enumerate() {
        problem = problem.with(row.leq(market.classes[c].slots.len() as f64));
    }
    for (k, &opt) in earlier.iter().enumerate() {
        // Earlier levels are integers; the rounding keeps solver noise
        // from loosening or tightening the face.
        problem = problem.with(level_cost(market, candidates, k, &x, &u).leq(opt.round()));
    }
    let solution = problem.solve().map_err(|e| fail(e.to_string()))?;
    Ok(solution.eval(&objective))
}
