//! The optimisation model: referrals x slot classes, solved level by level.
//!
//! Why it is shaped like this:
//! - Slots of one region, local date and length are interchangeable for the
//!   score, so they form one *class* with a capacity. A referral chooses a
//!   class (or "unplanned"); this is a transportation problem, whose
//!   constraint matrix is totally unimodular, so LP vertices are integral.
//! - The score is lexicographic over four integer levels. Folding them into
//!   one weighted objective needs weights spanning 15+ orders of magnitude,
//!   which floating point cannot keep apart. Instead the levels are solved
//!   one after the other, each over the *optimal face* of the ones before.
//!   The face is described without adding a dense row `c_j x <= opt_j`
//!   (which slows the LP and breaks total unimodularity): by complementary
//!   slackness every optimal answer of a level avoids the columns with
//!   positive reduced cost and fills every class with a nonzero dual. So a
//!   finished level removes columns and turns some capacity rows into
//!   equalities; the model stays a transportation problem, integral at
//!   every level. (When a level's optimum equals the sum of per-referral
//!   minima, the face is simply "each referral's cheapest options".)
//! - Most referral x class pairs can never be useful (a slot months away for
//!   a referral that has free slots next week). The model starts with each
//!   referral's cheapest candidates and adds a left-out pair only when its
//!   reduced cost (from HiGHS's duals) is negative: column generation. When
//!   no left-out pair has reduced cost below `-EPS`, the restricted optimum is
//!   within `EPS * referrals < 1` of the full optimum, and since both are
//!   integers they are equal: optimality is proven, not hoped for.
//! - A safety net: should the final LP answer be fractional anyway (numerical
//!   trouble), the last level is solved again as an integer program.
//! - Left-out pairs are only priced if they lie in the optimal face of the
//!   finished levels, so the proof above holds level by level.

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use super::master::{LpAnswer, Master};
use super::scenario::Scenario;

/// Reduced costs above `-EPS` count as non-negative. With at most 10^5
/// referrals, `EPS * referrals < 1`, which keeps the optimality proof sound.
const EPS: f64 = 1e-6;
/// Columns added per referral per pricing round (most negative first). Two
/// beat 1, 3, 4 and 8 on national and stress (BENCHMARKS.md): fewer means
/// more warm re-solves, more means a bigger model.
const ADD_PER_ROUND: usize = 2;
/// The referral count up to which the optimality argument above holds.
pub const MAX_REFERRALS: usize = 100_000;

/// One referral's cost for one placement; compared lexicographically in the
/// order of the fields, which is the order of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Cost {
    pub unplanned: i64,
    pub late_sq: i64,
    pub cross: i64,
    pub wait_sq: i64,
}

impl Cost {
    pub const LEVELS: usize = 4;

    pub fn level(&self, k: usize) -> i64 {
        match k {
            0 => self.unplanned,
            1 => self.late_sq,
            2 => self.cross,
            _ => self.wait_sq,
        }
    }
}

/// Cost of holding referral `r` on local `date` in region `region`, or of
/// leaving it unplanned (`region == None`, date = the day after the horizon).
pub fn cost(scenario: &Scenario, r: usize, date: NaiveDate, region: Option<usize>) -> Cost {
    let referral = &scenario.referrals[r];
    let wait = (date - referral.registered_date).num_days();
    let late = (date - referral.due).num_days().max(0);
    Cost {
        unplanned: i64::from(region.is_none()),
        late_sq: late * late,
        cross: i64::from(region.is_some_and(|g| g != referral.region)),
        wait_sq: wait * wait,
    }
}

/// Slots of one region, date and length that are free to plan (and alike
/// in `own_region_only`).
#[derive(Debug, Clone)]
pub struct Class {
    pub region: usize,
    pub date: NaiveDate,
    pub minutes: u32,
    /// Only referrals of `region` may use these slots.
    pub own_region_only: bool,
    /// Slot indexes, earliest start first.
    pub slots: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub class: usize,
    pub cost: Cost,
}

/// What the model needs: the free classes and, per referral to plan, every
/// class it may use with its cost, cheapest first.
pub struct Market {
    pub classes: Vec<Class>,
    /// Referral indexes still to plan (not pinned).
    pub free: Vec<usize>,
    /// `candidates[i]` belongs to `free[i]`.
    pub candidates: Vec<Vec<Candidate>>,
    pub unplanned_cost: Vec<Cost>,
}

impl Market {
    pub fn build(scenario: &Scenario) -> Market {
        let pinned_slots: Vec<bool> = {
            let mut v = vec![false; scenario.slots.len()];
            for &(_, s) in &scenario.pinned {
                v[s] = true;
            }
            v
        };
        let mut by_key: HashMap<(usize, NaiveDate, u32, bool), usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut order: Vec<usize> = (0..scenario.slots.len()).collect();
        order.sort_by_key(|&s| (scenario.slots[s].start, s));
        for s in order {
            let slot = &scenario.slots[s];
            if pinned_slots[s] || slot.start < scenario.now {
                continue;
            }
            let key = (slot.region, slot.date, slot.minutes, slot.own_region_only);
            let c = *by_key.entry(key).or_insert_with(|| {
                classes.push(Class {
                    region: slot.region,
                    date: slot.date,
                    minutes: slot.minutes,
                    own_region_only: slot.own_region_only,
                    slots: Vec::new(),
                });
                classes.len() - 1
            });
            classes[c].slots.push(s);
        }
        let mut per_region: Vec<Vec<usize>> = vec![Vec::new(); scenario.regions.len()];
        for (c, class) in classes.iter().enumerate() {
            per_region[class.region].push(c);
        }
        let pinned_referrals: Vec<bool> = {
            let mut v = vec![false; scenario.referrals.len()];
            for &(r, _) in &scenario.pinned {
                v[r] = true;
            }
            v
        };
        let free: Vec<usize> = (0..scenario.referrals.len())
            .filter(|&r| !pinned_referrals[r])
            .collect();
        let candidates = free
            .iter()
            .map(|&r| {
                let referral = &scenario.referrals[r];
                let mut list: Vec<Candidate> = scenario
                    .allowed_regions(r)
                    .into_iter()
                    .flat_map(|g| per_region[g].iter().copied())
                    .filter(|&c| {
                        let class = &classes[c];
                        class.minutes >= referral.minutes
                            && !(class.own_region_only && class.region != referral.region)
                            && referral.earliest.is_none_or(|e| class.date >= e)
                            && !referral.unavailable.contains(&class.date)
                    })
                    .map(|c| Candidate {
                        class: c,
                        cost: cost(scenario, r, classes[c].date, Some(classes[c].region)),
                    })
                    .collect();
                list.sort_by_key(|cand| (cand.cost, cand.class));
                list
            })
            .collect();
        let unplanned_cost = free
            .iter()
            .map(|&r| cost(scenario, r, scenario.unplanned_date, None))
            .collect();
        Market {
            classes,
            free,
            candidates,
            unplanned_cost,
        }
    }
}

/// How the model is built. The default is what the service uses; the others
/// exist to compare against (benchmark) and to exercise pricing (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Candidates per referral in the first restricted model, cheapest
    /// first; `usize::MAX` puts every candidate in (the naive model).
    pub initial_candidates: usize,
}

impl Settings {
    pub const NAIVE: Settings = Settings {
        initial_candidates: usize::MAX,
    };
}

impl Default for Settings {
    /// Two candidates per referral (plus the greedy seed): measured faster
    /// than 3 or 6 on every preset, because pricing adds what is missing
    /// and smaller LPs solve faster (BENCHMARKS.md).
    fn default() -> Self {
        Settings {
            initial_candidates: 2,
        }
    }
}

/// Figures about one solve, for benchmarks and curiosity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SolveStats {
    pub referrals_to_plan: usize,
    pub slot_classes: usize,
    pub candidate_pairs: usize,
    /// The most columns the restricted model had at once.
    pub columns_in_model: usize,
    pub lp_solves: usize,
    pub integer_fallback: bool,
    pub millis: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error("the LP solver failed: {0}")]
    Solver(String),
    #[error("the LP solver returned an answer that breaks the model: {0}")]
    Inconsistent(String),
    #[error("too many referrals to plan: {0} (at most {MAX_REFERRALS})")]
    TooLarge(usize),
}

/// The chosen class per free referral (`None` = unplanned).
pub struct Solved {
    pub choice: Vec<Option<usize>>,
    pub stats: SolveStats,
}

/// A column of the restricted model: referral `i` (index into `free`) takes
/// candidate `cand` (`None` = unplanned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Column {
    pub i: usize,
    pub cand: Option<usize>,
}

pub fn solve(market: &Market, settings: Settings) -> Result<Solved, SolveError> {
    let started = Instant::now();
    let n = market.free.len();
    if n > MAX_REFERRALS {
        return Err(SolveError::TooLarge(n));
    }
    let mut stats = SolveStats {
        referrals_to_plan: n,
        slot_classes: market.classes.len(),
        candidate_pairs: market.candidates.iter().map(Vec::len).sum(),
        ..SolveStats::default()
    };
    if n == 0 {
        stats.millis = started.elapsed().as_secs_f64() * 1e3;
        return Ok(Solved {
            choice: Vec::new(),
            stats,
        });
    }
    let (columns, mut in_model) = initial_columns(market, settings);
    let mut run = Run {
        master: Master::new(market, &columns, 0)?,
        columns,
        live: Vec::new(),
        faces: Faces {
            levels: Vec::new(),
            tight: vec![false; market.classes.len()],
        },
    };
    run.live = vec![true; run.columns.len()];
    stats.columns_in_model = run.columns.len();
    let mut last: Vec<f64> = Vec::new();
    for level in 0..Cost::LEVELS {
        if level > 0 {
            run.master.set_level(market, level, &run.live)?;
        }
        let minima = run.faces.minima(market, level);
        let lower_bound: i64 = minima.iter().sum();
        loop {
            let lp = run.master.solve(market)?;
            stats.lp_solves += 1;
            let value = integral_objective(&lp, level)?;
            if value <= lower_bound {
                // Every referral has one of its cheapest admissible options:
                // that is optimal, and the optimal face is exactly "cheapest
                // options only", whatever the duals say.
                run.faces.levels.push(Face::Minima(minima));
                last = lp.values;
                break;
            }
            let new_columns = price(market, &run.faces, &mut in_model, level, &lp);
            if new_columns.is_empty() {
                // No admissible column can improve: `lp`'s duals are optimal
                // for the full problem, and by complementary slackness every
                // optimal answer avoids columns with positive reduced cost
                // and fills classes with a nonzero dual.
                for (c, y) in lp.class_duals.iter().enumerate() {
                    if y.abs() > EPS && !run.faces.tight[c] {
                        run.faces.tight[c] = true;
                        run.master.tighten(c)?;
                    }
                }
                run.faces.levels.push(Face::Duals {
                    referral: lp.referral_duals,
                    class: lp.class_duals,
                });
                last = lp.values;
                break;
            }
            run.master.add(market, &new_columns)?;
            run.columns.extend(new_columns);
            run.live.resize(run.columns.len(), true);
            let live = run.live.iter().filter(|&&l| l).count();
            stats.columns_in_model = stats.columns_in_model.max(live);
        }
        run.leave_the_face(market)?;
    }
    for (v, &alive) in last.iter_mut().zip(&run.live) {
        if !alive {
            *v = 0.0;
        }
    }
    let choice = match integral_choice(market, &run.columns, &last) {
        Some(choice) => choice,
        None => {
            stats.integer_fallback = true;
            let kept: Vec<Column> = run
                .columns
                .iter()
                .zip(&run.live)
                .filter(|(_, &alive)| alive)
                .map(|(&col, _)| col)
                .collect();
            let values = solve_integer(market, &kept, &run.faces.tight)?;
            stats.lp_solves += 1;
            integral_choice(market, &kept, &values).ok_or_else(|| {
                SolveError::Inconsistent("the integer program returned a fractional answer".into())
            })?
        }
    };
    stats.millis = started.elapsed().as_secs_f64() * 1e3;
    Ok(Solved { choice, stats })
}

/// The last level as an integer program over the optimal face of the
/// earlier ones (`columns` are the live ones, `tight` the classes every
/// optimum fills), solved once through good_lp on HiGHS. The safety net
/// for an LP optimum that is not integral; it needs no duals and no warm
/// start, so the plain modelling layer is the right tool.
pub(super) fn solve_integer(
    market: &Market,
    columns: &[Column],
    tight: &[bool],
) -> Result<Vec<f64>, SolveError> {
    use good_lp::solvers::highs::{highs, HighsParallelType};
    use good_lp::{variable, Expression, ProblemVariables, Solution, SolverModel};

    let mut vars = ProblemVariables::new();
    let x: Vec<good_lp::Variable> = columns
        .iter()
        .map(|_| vars.add(variable().binary()))
        .collect();
    let level = Cost::LEVELS - 1;
    let objective: Expression = columns
        .iter()
        .zip(&x)
        .map(|(&col, &v)| column_cost(market, col).level(level) as f64 * v)
        .sum();
    let mut referral_rows = vec![Expression::from(0.0); market.free.len()];
    let mut class_rows: Vec<Option<Expression>> = vec![None; market.classes.len()];
    for (&col, &v) in columns.iter().zip(&x) {
        referral_rows[col.i] += v;
        if let Some(k) = col.cand {
            let class = market.candidates[col.i][k].class;
            *class_rows[class].get_or_insert_with(|| Expression::from(0.0)) += v;
        }
    }
    let mut problem = vars
        .minimise(objective)
        .using(highs)
        .set_parallel(HighsParallelType::Off)
        .set_threads(1);
    for row in referral_rows {
        problem = problem.with(row.eq(1.0));
    }
    for (c, row) in class_rows.into_iter().enumerate() {
        let capacity = market.classes[c].slots.len() as f64;
        match (row, tight.get(c).copied().unwrap_or(false)) {
            (Some(load), true) => problem = problem.with(load.eq(capacity)),
            (Some(load), false) => problem = problem.with(load.leq(capacity)),
            (None, true) if capacity > 0.0 => {
                return Err(SolveError::Inconsistent(format!(
                    "class {c} must be full but no live column fills it"
                )))
            }
            (None, _) => {}
        }
    }
    let solution = problem
        .solve()
        .map_err(|e| SolveError::Solver(format!("the integer program: {e}")))?;
    Ok(x.iter().map(|&v| solution.value(v)).collect())
}

/// The columns of the first restricted model: every referral's unplanned
/// column, its cheapest `initial_candidates` and the greedy seed; with the
/// marks of which candidates are in.
fn initial_columns(market: &Market, settings: Settings) -> (Vec<Column>, Vec<Vec<bool>>) {
    let mut columns: Vec<Column> = Vec::new();
    let mut in_model: Vec<Vec<bool>> = market
        .candidates
        .iter()
        .map(|c| vec![false; c.len()])
        .collect();
    for (i, marks) in in_model.iter_mut().enumerate() {
        columns.push(Column { i, cand: None });
        for (k, mark) in marks
            .iter_mut()
            .enumerate()
            .take(settings.initial_candidates)
        {
            columns.push(Column { i, cand: Some(k) });
            *mark = true;
        }
    }
    for (i, k) in greedy_seed(market) {
        if !in_model[i][k] {
            in_model[i][k] = true;
            columns.push(Column { i, cand: Some(k) });
        }
    }
    (columns, in_model)
}

/// The state of one solve: the master LP, every column it was given (in
/// order) and which of them may still be used.
struct Run {
    master: Master,
    columns: Vec<Column>,
    /// `live[j]`: column `j` lies in the optimal face of the levels done.
    live: Vec<bool>,
    faces: Faces,
}

impl Run {
    /// After a level: columns outside its optimal face can never be used
    /// again, so they are fixed at zero (they are zero in the optimum
    /// already, by complementary slackness).
    fn leave_the_face(&mut self, market: &Market) -> Result<(), SolveError> {
        for (j, &col) in self.columns.iter().enumerate() {
            if self.live[j] && !self.faces.admits(market, col) {
                self.live[j] = false;
                self.master.fix_at_zero(j)?;
            }
        }
        Ok(())
    }
}

/// A feasible answer to start from: the most urgent referral first takes
/// its cheapest option with room left. Its columns make the first
/// restricted model nearly as good as the full one, which saves pricing
/// rounds (each a re-solve of the master).
fn greedy_seed(market: &Market) -> Vec<(usize, usize)> {
    let mut room: Vec<usize> = market.classes.iter().map(|c| c.slots.len()).collect();
    let mut order: Vec<usize> = (0..market.free.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(market.unplanned_cost[i]));
    let mut seed = Vec::new();
    for i in order {
        if let Some((k, cand)) = market.candidates[i]
            .iter()
            .enumerate()
            .find(|(_, c)| room[c.class] > 0)
        {
            room[cand.class] -= 1;
            seed.push((i, k));
        }
    }
    seed
}

fn integral_objective(lp: &LpAnswer, level: usize) -> Result<i64, SolveError> {
    let value = lp.objective.round();
    if (lp.objective - value).abs() > 1e-4 {
        return Err(SolveError::Inconsistent(format!(
            "level {level} optimum {} is not an integer",
            lp.objective
        )));
    }
    Ok(value as i64)
}

/// The optimal face of a finished level, described without a dense row
/// (which would slow the LP down and break total unimodularity).
enum Face {
    /// Only each referral's cheapest admissible options (per referral).
    Minima(Vec<i64>),
    /// Only columns with zero reduced cost under these optimal duals.
    Duals { referral: Vec<f64>, class: Vec<f64> },
}

struct Faces {
    levels: Vec<Face>,
    /// Classes that every optimal answer so far fills completely.
    tight: Vec<bool>,
}

impl Faces {
    /// May this column still be part of an optimal answer of the levels done?
    fn admits(&self, market: &Market, col: Column) -> bool {
        self.levels.iter().enumerate().all(|(level, face)| {
            let cost = column_cost(market, col).level(level);
            match face {
                Face::Minima(min) => cost == min[col.i],
                Face::Duals { referral, class } => {
                    let class_dual = col
                        .cand
                        .map_or(0.0, |k| class[market.candidates[col.i][k].class]);
                    (cost as f64 - referral[col.i] - class_dual).abs() <= EPS
                }
            }
        })
    }

    /// Per referral, the cheapest admissible option at `level`.
    fn minima(&self, market: &Market, level: usize) -> Vec<i64> {
        (0..market.free.len())
            .map(|i| {
                std::iter::once(Column { i, cand: None })
                    .chain((0..market.candidates[i].len()).map(|k| Column { i, cand: Some(k) }))
                    .filter(|&col| self.admits(market, col))
                    .map(|col| column_cost(market, col).level(level))
                    .min()
                    .unwrap_or(0)
            })
            .collect()
    }
}

pub(super) fn column_cost(market: &Market, col: Column) -> Cost {
    match col.cand {
        Some(k) => market.candidates[col.i][k].cost,
        None => market.unplanned_cost[col.i],
    }
}

/// The admissible left-out candidates with negative reduced cost, at most
/// `ADD_PER_ROUND` per referral, most negative first; they are marked in
/// `in_model`. HiGHS reports row duals `y` such that the reduced cost of a
/// column of a minimisation is `d = c - A^T y`.
fn price(
    market: &Market,
    faces: &Faces,
    in_model: &mut [Vec<bool>],
    level: usize,
    lp: &LpAnswer,
) -> Vec<Column> {
    let mut added = Vec::new();
    let mut improving: Vec<(f64, usize)> = Vec::new();
    for (i, cands) in market.candidates.iter().enumerate() {
        improving.clear();
        for (k, cand) in cands.iter().enumerate() {
            if in_model[i][k] {
                continue;
            }
            let d =
                cand.cost.level(level) as f64 - lp.referral_duals[i] - lp.class_duals[cand.class];
            if d < -EPS && faces.admits(market, Column { i, cand: Some(k) }) {
                improving.push((d, k));
            }
        }
        improving.sort_by(|a, b| a.0.total_cmp(&b.0));
        for &(_, k) in improving.iter().take(ADD_PER_ROUND) {
            in_model[i][k] = true;
            added.push(Column { i, cand: Some(k) });
        }
    }
    added
}

/// Reads one class (or unplanned) per referral off an integral answer;
/// `None` when any value is fractional.
fn integral_choice(
    market: &Market,
    columns: &[Column],
    values: &[f64],
) -> Option<Vec<Option<usize>>> {
    let mut choice: Vec<Option<Option<usize>>> = vec![None; market.free.len()];
    for (col, &v) in columns.iter().zip(values) {
        if v.abs() <= 1e-6 {
            continue;
        }
        if (v - 1.0).abs() > 1e-6 || choice[col.i].is_some() {
            return None;
        }
        choice[col.i] = Some(col.cand.map(|k| market.candidates[col.i][k].class));
    }
    choice.into_iter().collect()
}
