//! The warm re-plan in `jbt bench`: one new referral arrives after a plan;
//! how long does the service's [`WarmPlanner`] take to go on from the
//! previous run, against [`planner::plan_from`] (everything built again,
//! warm-started from the placements) and a cold [`planner::plan`] of the
//! same scenario?

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::SecondsFormat;

use crate::planner::scenario::ScenarioFile;
use crate::planner::{self, Options, Scenario, WarmPlanner};

/// One preset's warm re-plan, medians of the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmReplan {
    /// [`WarmPlanner::plan`] after the new referral, from the kept run.
    pub warm: Duration,
    /// The warm planner went on from the kept network (it must).
    pub went_on: bool,
    /// Pivots and pricing rounds of the warm planner's run.
    pub pivots: u64,
    /// Pricing rounds of the warm planner's run (the last finds nothing).
    pub pricing_rounds: usize,
    /// `plan_from` after the new referral, from the previous placements.
    pub from_placements: Duration,
    /// `plan` of the same scenario, from nothing.
    pub cold: Duration,
    /// Previously placed referrals that moved.
    pub moves: usize,
    /// All three found the same score, and the warm planner as few moves
    /// as `plan_from` (they must).
    pub same_score: bool,
}

/// Plans `file`, adds one referral (like the first one, registered at
/// `now`) and re-plans it warm and cold, `repeats` times each.
pub fn measure(file: &ScenarioFile, repeats: u32) -> anyhow::Result<WarmReplan> {
    let before = valid(file)?;
    let first = WarmPlanner::default()
        .plan(before.clone(), Options::default(), &HashMap::new())
        .context("the first plan")?;
    let tentative: HashMap<String, String> = first
        .plan
        .assignments
        .iter()
        .filter(|a| !a.pinned)
        .map(|a| (a.referral.clone(), a.slot.clone()))
        .collect();
    let mut file = file.clone();
    let mut newcomer = file
        .referrals
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("the scenario has no referrals"))?;
    newcomer.id = "bench-new-referral".into();
    newcomer.registered = before.now.to_rfc3339_opts(SecondsFormat::Secs, true);
    newcomer.due = None;
    newcomer.earliest = None;
    newcomer.unavailable.clear();
    file.referrals.push(newcomer);
    let after = valid(&file)?;
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    let mut last = None;
    for _ in 0..repeats.max(1) {
        // Each repeat starts from a planner that has just planned `before`
        // itself (a copy would have no room left in its vectors, unlike
        // the service's), and owns the scenario, as the service's does.
        let mut warm_planner = WarmPlanner::default();
        warm_planner.plan(before.clone(), Options::default(), &HashMap::new())?;
        let scenario = after.clone();
        let started = Instant::now();
        let warm = warm_planner.plan(scenario, Options::default(), &tentative)?;
        times[0].push(started.elapsed());
        let started = Instant::now();
        let from = planner::plan_from(&after, Options::default(), &tentative)?;
        times[1].push(started.elapsed());
        let started = Instant::now();
        let cold = planner::plan(&after, Options::default())?;
        times[2].push(started.elapsed());
        last = Some((warm, from, cold));
    }
    let (warm, from, cold) = last.ok_or_else(|| anyhow!("no runs"))?;
    let [warm_times, from_times, cold_times] = times;
    Ok(WarmReplan {
        warm: median(warm_times),
        went_on: warm.stats.warm,
        pivots: warm.stats.pivots,
        pricing_rounds: warm.stats.pricing_rounds,
        from_placements: median(from_times),
        cold: median(cold_times),
        moves: warm.moves,
        same_score: warm.plan.score == cold.plan.score
            && from.plan.score == cold.plan.score
            && warm.moves == from.moves,
    })
}

fn valid(file: &ScenarioFile) -> anyhow::Result<Scenario> {
    Scenario::from_file(file).map_err(|e| anyhow!("the scenario is not valid:\n{e}"))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
