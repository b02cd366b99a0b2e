//! The restricted master LP, kept alive in HiGHS between solves.
//!
//! Column generation solves the same LP many times: with a few more columns
//! after each pricing round, and with new costs (and some columns and
//! classes fixed) after each finished score level. Building the LP afresh
//! for every solve throws the simplex basis away, and most of the time then
//! goes into finding again a basis HiGHS had a moment before. So the model
//! lives here for the whole run and is only changed:
//!
//! - priced columns are appended (they enter nonbasic at zero, so the old
//!   basis stays primal feasible and HiGHS continues with primal simplex);
//! - a finished level changes every live column's cost to the next level's
//!   (again the basis stays primal feasible);
//! - a column outside the optimal face of the finished levels is fixed at
//!   zero (by complementary slackness it is zero in the optimum already);
//! - a class every optimal answer fills (nonzero dual) is made tight by
//!   fixing its slack column at zero. The slack column is how a capacity
//!   row `load + slack = capacity` changes from `<=` to `=`; the HiGHS
//!   bindings change column bounds but not row bounds.
//!
//! HiGHS reports row duals `y` with reduced costs `d = c - A^T y` for a
//! minimisation; slack columns cost nothing, so a class's dual is `<= 0`
//! while its slack is free and any sign once the class is tight.

use highs::{Col, ColProblem, HighsModelStatus, Model, Row, Sense};

use super::model::{column_cost, Column, Market, SolveError};

/// One solved restricted master: objective, primal values per column (in
/// the order the columns were added) and duals per row.
pub struct LpAnswer {
    pub objective: f64,
    pub values: Vec<f64>,
    pub referral_duals: Vec<f64>,
    pub class_duals: Vec<f64>,
}

/// HiGHS's `simplex_strategy` value for primal simplex.
const SIMPLEX_PRIMAL: i32 = 4;

pub struct Master {
    /// `None` only while HiGHS holds it for a solve.
    model: Option<Model>,
    referral_rows: Vec<Row>,
    class_rows: Vec<Row>,
    slacks: Vec<Col>,
    /// HiGHS column per model column, in the order of `columns`.
    cols: Vec<Col>,
    /// The model columns, as the caller knows them.
    columns: Vec<Column>,
    /// The score level whose costs the columns carry.
    level: usize,
}

impl Master {
    /// A model with one row per referral (`= 1`), one per class (`load +
    /// slack = capacity`) and the given columns, costed at `level`.
    pub fn new(market: &Market, columns: &[Column], level: usize) -> Result<Master, SolveError> {
        let mut problem = ColProblem::default();
        let referral_rows = market
            .free
            .iter()
            .map(|_| problem.add_row(1.0..=1.0))
            .collect();
        let class_rows: Vec<Row> = market
            .classes
            .iter()
            .map(|class| {
                let capacity = class.slots.len() as f64;
                problem.add_row(capacity..=capacity)
            })
            .collect();
        let mut model = problem
            .try_optimise(Sense::Minimise)
            .map_err(|e| SolveError::Solver(format!("building the model: {e:?}")))?;
        // Presolve stays at HiGHS's default: it runs before the first solve
        // only (later solves start from a basis). Measured on one idle
        // machine: national 290 -> 260 ms, stress 8.2 -> 7.1 s, and the
        // naive full model (`--initial-candidates all`) 7.9 s against more
        // than 10 minutes without it.
        model
            .try_set_option("parallel", "off")
            .map_err(|_| SolveError::Solver("setting parallel".into()))?;
        model
            .try_set_option("threads", 1)
            .map_err(|_| SolveError::Solver("setting threads".into()))?;
        // Slacks go in before any solve: without a basis, adding a column
        // costs HiGHS next to nothing. They have no upper bound (the row
        // already says `load <= capacity`): a slack resting at an upper
        // bound could take a positive dual, which would read as "tight".
        let mut slacks = Vec::with_capacity(class_rows.len());
        for &row in &class_rows {
            let slack = model
                .try_add_column(0.0, 0.0.., [(row, 1.0)])
                .map_err(|e| SolveError::Solver(format!("adding a slack: {e:?}")))?;
            slacks.push(slack);
        }
        let mut master = Master {
            model: Some(model),
            referral_rows,
            class_rows,
            slacks,
            cols: Vec::new(),
            columns: Vec::new(),
            level,
        };
        master.add(market, columns)?;
        Ok(master)
    }

    fn model(&mut self) -> Result<&mut Model, SolveError> {
        self.model
            .as_mut()
            .ok_or_else(|| SolveError::Solver("the model was lost in a failed solve".into()))
    }

    /// Appends columns, costed at the current level.
    pub fn add(&mut self, market: &Market, columns: &[Column]) -> Result<(), SolveError> {
        let level = self.level;
        let mut added = Vec::with_capacity(columns.len());
        {
            let referral_rows = &self.referral_rows;
            let class_rows = &self.class_rows;
            let model = self
                .model
                .as_mut()
                .ok_or_else(|| SolveError::Solver("the model was lost in a failed solve".into()))?;
            for &col in columns {
                let cost = column_cost(market, col).level(level) as f64;
                let referral = (referral_rows[col.i], 1.0);
                let class = col
                    .cand
                    .map(|k| (class_rows[market.candidates[col.i][k].class], 1.0));
                let rows = std::iter::once(referral).chain(class);
                added.push(
                    model
                        .try_add_column(cost, 0.0.., rows)
                        .map_err(|e| SolveError::Solver(format!("adding a column: {e:?}")))?,
                );
            }
        }
        self.cols.extend(added);
        self.columns.extend_from_slice(columns);
        Ok(())
    }

    /// Gives the live columns (`live[j]` for model column `j`) the costs of
    /// `level`.
    pub fn set_level(
        &mut self,
        market: &Market,
        level: usize,
        live: &[bool],
    ) -> Result<(), SolveError> {
        self.level = level;
        let costs: Vec<(Col, f64)> = self
            .columns
            .iter()
            .zip(&self.cols)
            .zip(live)
            .filter(|(_, &alive)| alive)
            .map(|((&col, &c), _)| (c, column_cost(market, col).level(level) as f64))
            .collect();
        let model = self.model()?;
        for (c, cost) in costs {
            model.change_column_cost(c, cost);
        }
        Ok(())
    }

    /// Fixes model column `j` at zero: it left the optimal face.
    pub fn fix_at_zero(&mut self, j: usize) -> Result<(), SolveError> {
        let c = self.cols[j];
        self.model()?.change_column_bounds(c, 0.0..=0.0);
        Ok(())
    }

    /// Makes class `c` tight: filled to capacity from now on.
    pub fn tighten(&mut self, c: usize) -> Result<(), SolveError> {
        let slack = self.slacks[c];
        self.model()?.change_column_bounds(slack, 0.0..=0.0);
        Ok(())
    }

    /// Solves from the basis of the previous solve (if any).
    pub fn solve(&mut self, market: &Market) -> Result<LpAnswer, SolveError> {
        let model = self
            .model
            .take()
            .ok_or_else(|| SolveError::Solver("the model was lost in a failed solve".into()))?;
        let solved = model
            .try_solve()
            .map_err(|e| SolveError::Solver(format!("solving: {e:?}")))?;
        match solved.status() {
            HighsModelStatus::Optimal => {}
            status => return Err(SolveError::Solver(format!("HiGHS ended with {status:?}"))),
        }
        let solution = solved.get_solution();
        let mut model = Model::from(solved);
        // Every later change keeps this basis primal feasible, so primal
        // simplex continues from it. Left to choose, HiGHS took dual simplex
        // for these re-solves and was several times slower (national:
        // warm re-solves of 100-700 ms against 15-130 ms).
        model
            .try_set_option("simplex_strategy", SIMPLEX_PRIMAL)
            .map_err(|_| SolveError::Solver("setting simplex_strategy".into()))?;
        self.model = Some(model);
        let values = solution.columns();
        let values: Vec<f64> = self.cols.iter().map(|c| values[c.index()]).collect();
        let objective = self
            .columns
            .iter()
            .zip(&values)
            .map(|(&col, v)| column_cost(market, col).level(self.level) as f64 * v)
            .sum();
        // Rows are numbered as they were added: referrals, then classes.
        let duals = solution.dual_rows();
        let n = self.referral_rows.len();
        let dual = |r: usize| duals.get(r).copied().unwrap_or(0.0);
        Ok(LpAnswer {
            objective,
            values,
            referral_duals: (0..n).map(dual).collect(),
            class_duals: (n..n + self.class_rows.len()).map(dual).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    //! The warm path (add columns, change level, fix columns, tighten
    //! classes, then re-solve from the old basis) must give the optimum a
    //! model built from scratch gives.

    use chrono::NaiveDate;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::planner::model::{Candidate, Class, Cost};

    /// A random transportation market: `n` referrals, `m` classes of 1 to 3
    /// places, every referral a random half of the classes as candidates.
    fn market(seed: u64) -> Market {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..30);
        let m = rng.random_range(1..12);
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let classes = (0..m)
            .map(|c| Class {
                region: 0,
                date,
                minutes: 90,
                own_region_only: false,
                slots: (0..rng.random_range(1..=3)).map(|s| c * 3 + s).collect(),
            })
            .collect();
        let cost = |rng: &mut ChaCha8Rng, unplanned: i64| Cost {
            unplanned,
            late_sq: rng.random_range(0..4),
            cross: rng.random_range(0..2),
            wait_sq: rng.random_range(0..50),
        };
        let mut candidates = Vec::new();
        for _ in 0..n {
            let mut list = Vec::new();
            for class in 0..m {
                if rng.random_bool(0.5) {
                    list.push(Candidate {
                        class,
                        cost: cost(&mut rng, 0),
                    });
                }
            }
            candidates.push(list);
        }
        let unplanned_cost = (0..n).map(|_| cost(&mut rng, 1)).collect();
        Market {
            classes,
            free: (0..n).collect(),
            candidates,
            unplanned_cost,
        }
    }

    fn all_columns(market: &Market) -> Vec<Column> {
        (0..market.free.len())
            .flat_map(|i| {
                std::iter::once(Column { i, cand: None }).chain(
                    (0..market.candidates[i].len()).map(move |k| Column { i, cand: Some(k) }),
                )
            })
            .collect()
    }

    fn cold(
        market: &Market,
        columns: &[Column],
        level: usize,
        tight: &[usize],
    ) -> Result<f64, SolveError> {
        let mut master = Master::new(market, columns, level)?;
        for &c in tight {
            master.tighten(c)?;
        }
        Ok(master.solve(market)?.objective)
    }

    /// Loads per class of an answer.
    fn loads(market: &Market, columns: &[Column], values: &[f64]) -> Vec<f64> {
        let mut load = vec![0.0; market.classes.len()];
        for (col, v) in columns.iter().zip(values) {
            if let Some(k) = col.cand {
                load[market.candidates[col.i][k].class] += v;
            }
        }
        load
    }

    /// The integer fallback (good_lp) reaches the LP optimum of the same
    /// level: the model is a transportation problem, so both are integral
    /// and equal; and it keeps a tight class full.
    #[test]
    fn the_integer_fallback_matches_the_lp_optimum() -> Result<(), SolveError> {
        let level = Cost::LEVELS - 1;
        for seed in 0..20 {
            let market = market(seed);
            let columns = all_columns(&market);
            let lp = cold(&market, &columns, level, &[])?;
            let values = crate::planner::model::solve_integer(
                &market,
                &columns,
                &vec![false; market.classes.len()],
            )?;
            assert!(
                values
                    .iter()
                    .all(|v| v.abs() < 1e-6 || (v - 1.0).abs() < 1e-6),
                "seed {seed}: not binary"
            );
            let objective: f64 = columns
                .iter()
                .zip(&values)
                .map(|(&col, v)| column_cost(&market, col).level(level) as f64 * v)
                .sum();
            assert!(
                (objective - lp).abs() < 1e-6,
                "seed {seed}: {objective} vs LP {lp}"
            );
        }
        Ok(())
    }

    #[test]
    fn warm_re_solves_find_the_optimum_of_a_fresh_model() -> Result<(), SolveError> {
        for seed in 0..40 {
            let market = market(seed);
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
            let all = all_columns(&market);
            // Unplanned columns first (the model stays feasible), then the
            // rest in three batches.
            let (first, rest): (Vec<Column>, Vec<Column>) = all
                .iter()
                .partition(|c| c.cand.is_none() || rng.random_bool(0.2));
            let mut master = Master::new(&market, &first, 0)?;
            let mut columns = first.clone();
            master.solve(&market)?;
            for batch in rest.chunks(rest.len().div_ceil(3).max(1)) {
                master.add(&market, batch)?;
                columns.extend_from_slice(batch);
                let warm = master.solve(&market)?.objective;
                let fresh = cold(&market, &columns, 0, &[])?;
                assert!(
                    (warm - fresh).abs() < 1e-6,
                    "seed {seed}: {warm} != {fresh}"
                );
            }
            // Next level: fix some planned columns at zero and tighten the
            // classes the current answer fills, then compare again.
            let answer = master.solve(&market)?;
            let load = loads(&market, &columns, &answer.values);
            let tight: Vec<usize> = (0..market.classes.len())
                .filter(|&c| load[c] >= market.classes[c].slots.len() as f64 - 1e-9)
                .collect();
            for &c in &tight {
                master.tighten(c)?;
            }
            let mut live = vec![true; columns.len()];
            for (j, col) in columns.iter().enumerate() {
                if col.cand.is_some() && answer.values[j] < 1e-9 && rng.random_bool(0.3) {
                    live[j] = false;
                    master.fix_at_zero(j)?;
                }
            }
            for level in 1..Cost::LEVELS {
                master.set_level(&market, level, &live)?;
                let warm = master.solve(&market)?.objective;
                let kept: Vec<Column> = columns
                    .iter()
                    .zip(&live)
                    .filter(|(_, &l)| l)
                    .map(|(&c, _)| c)
                    .collect();
                let fresh = cold(&market, &kept, level, &tight)?;
                assert!(
                    (warm - fresh).abs() < 1e-6,
                    "seed {seed} level {level}: {warm} != {fresh}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn a_tight_class_stays_full_and_a_fixed_column_stays_empty() -> Result<(), SolveError> {
        // Every class made tight and every first candidate fixed at zero:
        // the answer fills every class without those columns, or there is
        // no answer at all.
        let market = market(7);
        let columns = all_columns(&market);
        let mut master = Master::new(&market, &columns, 0)?;
        master.solve(&market)?;
        for c in 0..market.classes.len() {
            master.tighten(c)?;
        }
        for (j, col) in columns.iter().enumerate() {
            if col.cand == Some(0) {
                master.fix_at_zero(j)?;
            }
        }
        match master.solve(&market) {
            Ok(answer) => {
                let load = loads(&market, &columns, &answer.values);
                for (c, class) in market.classes.iter().enumerate() {
                    assert!((load[c] - class.slots.len() as f64).abs() < 1e-6);
                }
                for (j, col) in columns.iter().enumerate() {
                    if col.cand == Some(0) {
                        assert!(answer.values[j].abs() < 1e-9);
                    }
                }
            }
            // Filling every class may be impossible once columns are fixed.
            Err(SolveError::Solver(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
