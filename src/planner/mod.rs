//! The planner: a pure function from a scenario to the best plan.
//!
//! No I/O, no database, no clock: everything it needs is in the
//! [`Scenario`]. The command `jbt plan` and the service both call [`plan()`]
//! (the service through [`plan_from`], which starts from the previous plan).
//!
//! The path: [`market`] (classes and candidates, costs from [`cost`]) ->
//! [`model`] (the min-cost flow network, weights from [`weights`], solved
//! by [`flow`]) -> slots and explanations ([`explain`]) -> [`Plan`].
//! [`verify`] solves the same market as a general LP, independently.

pub mod baseline;
pub mod cost;
pub mod explain;
pub mod export;
pub mod flow;
pub mod market;
pub mod model;
pub mod plan;
pub mod scenario;
pub mod table;
pub mod verify;
pub mod warm;
pub mod weights;

pub use model::SolveStats;
pub use plan::{Assignment, Plan, Score, Unplanned};
pub use scenario::{Scenario, ScenarioErrors, ScenarioFile};
pub use warm::{RunCounts, WarmPlanner};

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use explain::Occupancy;
use market::GONE;
use model::Market;

/// How to plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Add an explanation to every referral.
    pub explain: bool,
    /// How the flow network is built; the default is right for use.
    pub model: model::Settings,
    /// Explanations do not name the referrals holding other places.
    pub anonymous: bool,
}

/// A plan and how it was found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The plan in the format's terms (JSON output).
    pub plan: Plan,
    /// Figures about the solve.
    pub stats: SolveStats,
    /// Slot index per referral (scenario order); `None` = unplanned.
    pub slot_of: Vec<Option<usize>>,
    /// Referrals that had a previous tentative slot ([`plan_from`]) and
    /// now have another one or none; 0 for [`plan()`].
    pub moves: usize,
}

/// Why no plan was produced.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The optimisation failed (see [`model::SolveError`]).
    #[error(transparent)]
    Solve(#[from] model::SolveError),
    /// The planner would have produced a plan that breaks a rule. Never
    /// expected; reported instead of a wrong plan.
    #[error("internal error, no plan produced: {}", .0.join("; "))]
    Broken(Vec<String>),
}

/// Plans a validated scenario optimally: the lowest score possible, with
/// every pinned booking kept.
pub fn plan(scenario: &Scenario, options: Options) -> Result<Outcome, PlanError> {
    plan_with(scenario, options, None)
}

/// Re-plans from the previous plan: `tentative` maps referral ids to the
/// slot id each held tentatively (ids the scenario no longer knows, and
/// slots that are gone, taken or no longer allowed, are ignored). The
/// search starts from those placements (a warm start: the network simplex
/// begins with their flow as its basis), and among the plans with the
/// lowest score it returns one that moves the fewest of them (a level
/// below waiting, see [`weights`]), keeping each in its very slot where the
/// class is kept. The score is exactly that of [`plan()`].
pub fn plan_from(
    scenario: &Scenario,
    options: Options,
    tentative: &HashMap<String, String>,
) -> Result<Outcome, PlanError> {
    let previous = previous_slots(scenario, tentative);
    plan_with(scenario, options, Some(&previous))
}

/// [`plan()`] or, with `previous` (slot per referral), [`plan_from`].
fn plan_with(
    scenario: &Scenario,
    options: Options,
    previous: Option<&[Option<usize>]>,
) -> Result<Outcome, PlanError> {
    let market = Market::build(scenario);
    let previous_class = previous.map(|p| previous_classes(&market, p));
    let solved = model::solve_from(&market, options.model, previous_class.as_deref())?;
    finish(scenario, &market, solved, previous, options)
}

/// The slot of each referral's previous tentative placement (`tentative`:
/// referral id -> slot id), when the scenario still knows both.
fn previous_slots(scenario: &Scenario, tentative: &HashMap<String, String>) -> Vec<Option<usize>> {
    let slot_index: HashMap<&str, usize> = scenario
        .slots
        .iter()
        .enumerate()
        .map(|(s, slot)| (slot.id.as_str(), s))
        .collect();
    scenario
        .referrals
        .iter()
        .map(|r| {
            tentative
                .get(&r.id)
                .and_then(|slot| slot_index.get(slot.as_str()).copied())
        })
        .collect()
}

/// From the chosen classes to the plan: slots, the rules checked again,
/// moves counted, explanations.
fn finish(
    scenario: &Scenario,
    market: &Market<'_>,
    solved: model::Solved,
    previous: Option<&[Option<usize>]>,
    options: Options,
) -> Result<Outcome, PlanError> {
    let slot_of = place_in_slots(scenario, market, &solved.choice, previous);
    let problems = plan::violations(scenario, &slot_of);
    if !problems.is_empty() {
        return Err(PlanError::Broken(problems));
    }
    let moves = previous.map_or(0, |p| {
        p.iter()
            .zip(&slot_of)
            .filter(|(before, now)| before.is_some() && before != now)
            .count()
    });
    let plan = assemble(scenario, market, &solved.choice, &slot_of, options);
    Ok(Outcome {
        plan,
        stats: solved.stats,
        slot_of,
        moves,
    })
}

/// The class of each free referral's previous slot, when that slot is
/// still free to plan.
fn previous_classes(market: &Market<'_>, previous: &[Option<usize>]) -> Vec<Option<usize>> {
    let class_of_slot = market.class_of_slot();
    market
        .free
        .iter()
        .map(|&r| previous[r].and_then(|s| class_of_slot[s]))
        .collect()
}

/// Turns a class per referral into a slot per referral. Slots of a class are
/// equal for the score: a referral keeps its previous slot when it stays in
/// that slot's class; the others take the remaining slots, the referral
/// registered first the earliest one.
fn place_in_slots(
    scenario: &Scenario,
    market: &Market<'_>,
    choice: &[Option<usize>],
    previous: Option<&[Option<usize>]>,
) -> Vec<Option<usize>> {
    let mut slot_of: Vec<Option<usize>> = vec![None; scenario.referrals.len()];
    for &(r, s) in &scenario.pinned {
        slot_of[r] = Some(s);
    }
    // (class, referral), by class and then by registration.
    let mut placed: Vec<(usize, usize)> = choice
        .iter()
        .enumerate()
        .filter(|&(i, _)| !market.is_gone(i))
        .filter_map(|(i, c)| c.map(|c| (c, market.free[i])))
        .collect();
    placed.sort_unstable_by(|&(ca, a), &(cb, b)| {
        let (ra, rb) = (&scenario.referrals[a], &scenario.referrals[b]);
        (ca, ra.registered, &ra.id).cmp(&(cb, rb.registered, &rb.id))
    });
    let (mut taken, mut rest) = (Vec::new(), Vec::new());
    for group in placed.chunk_by(|a, b| a.0 == b.0) {
        let slots = &market.classes[group[0].0].slots;
        taken.clear();
        taken.resize(slots.len(), false);
        rest.clear();
        for &(_, r) in group {
            let kept = previous
                .and_then(|p| p[r])
                .and_then(|s| slots.iter().position(|&x| x == s));
            match kept {
                Some(k) if !taken[k] => {
                    taken[k] = true;
                    slot_of[r] = Some(slots[k]);
                }
                _ => rest.push(r),
            }
        }
        let free_slots = slots.iter().zip(&taken).filter(|(_, &t)| !t);
        for (&r, (&s, _)) in rest.iter().zip(free_slots) {
            slot_of[r] = Some(s);
        }
    }
    slot_of
}

fn assemble(
    scenario: &Scenario,
    market: &Market<'_>,
    choice: &[Option<usize>],
    slot_of: &[Option<usize>],
    options: Options,
) -> Plan {
    let occupancy = options
        .explain
        .then(|| Occupancy::new(market, choice, options.anonymous));
    let mut free_index: Vec<Option<usize>> = vec![None; scenario.referrals.len()];
    for (i, &r) in market.free.iter().enumerate() {
        if r != GONE {
            free_index[r] = Some(i);
        }
    }
    let pin_of = scenario.pin_of();
    // The plan lists assignments by start, then referral id (unique). The
    // keys are sorted rather than the assignments: far less to move.
    let mut order: Vec<(DateTime<Utc>, usize)> = slot_of
        .iter()
        .enumerate()
        .filter_map(|(r, s)| s.map(|s| (scenario.slots[s].start, r)))
        .collect();
    order.sort_unstable_by(|&(a, ra), &(b, rb)| {
        (a, &scenario.referrals[ra].id).cmp(&(b, &scenario.referrals[rb].id))
    });
    let unplanned_referrals = slot_of.iter().enumerate().filter(|(_, s)| s.is_none());
    let mut assignments = Vec::with_capacity(order.len());
    let mut unplanned = Vec::new();
    let referrals = order.iter().map(|&(_, r)| r);
    for r in referrals.chain(unplanned_referrals.map(|(r, _)| r)) {
        let referral = &scenario.referrals[r];
        let cost = plan::referral_cost(scenario, r, slot_of[r]);
        let late_days = (cost.late_sq as f64).sqrt().round() as i64;
        let explanation = |chosen| {
            occupancy.as_ref().map(|occupancy| match free_index[r] {
                Some(i) => explain::explain_free(scenario, market, occupancy, i, chosen),
                None => explain::explain_pinned(),
            })
        };
        match slot_of[r] {
            Some(s) => {
                let slot = &scenario.slots[s];
                let wait = (slot.date - referral.registered_date).num_days();
                assignments.push(Assignment {
                    referral: referral.id.clone(),
                    slot: slot.id.clone(),
                    region: scenario.regions[slot.region].id.clone(),
                    date: slot.date,
                    wait_days: wait,
                    late_days,
                    cross_region: slot.region != referral.region,
                    start: slot.start.with_timezone(&scenario.timezone).fixed_offset(),
                    pinned: pin_of[r] == Some(s),
                    explain: explanation(free_index[r].and_then(|i| choice[i])),
                });
            }
            None => {
                let i = free_index[r].unwrap_or_default();
                unplanned.push(Unplanned {
                    referral: referral.id.clone(),
                    reason: explain::unplanned_reason(scenario, market, i),
                    date: scenario.unplanned_date,
                    wait_days: (scenario.unplanned_date - referral.registered_date).num_days(),
                    late_days,
                    explain: explanation(None),
                });
            }
        }
    }
    let score = Plan::score_of(scenario, slot_of);
    Plan {
        assignments,
        unplanned,
        score,
    }
}
