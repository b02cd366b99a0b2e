//! The warm re-plan in `jbt bench`: one new referral arrives after a plan;
//! how long does [`planner::plan_from`] take from the previous plan,
//! against a cold [`planner::plan`] of the same scenario?

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::SecondsFormat;

use crate::planner::scenario::ScenarioFile;
use crate::planner::{self, Options, Scenario};

/// One preset's warm re-plan, medians of the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmReplan {
    /// `plan_from` after the new referral, from the previous plan.
    pub warm: Duration,
    /// `plan` of the same scenario, from nothing.
    pub cold: Duration,
    /// Previously placed referrals that moved.
    pub moves: usize,
    /// Both found the same score (they must).
    pub same_score: bool,
}

/// Plans `file`, adds one referral (like the first one, registered at
/// `now`) and re-plans it warm and cold, `repeats` times each.
pub fn measure(file: &ScenarioFile, repeats: u32) -> anyhow::Result<WarmReplan> {
    let before = valid(file)?;
    let first = planner::plan(&before, Options::default()).context("the first plan")?;
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
    let (mut warm_times, mut cold_times) = (Vec::new(), Vec::new());
    let (mut warm, mut cold) = (None, None);
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        warm = Some(planner::plan_from(&after, Options::default(), &tentative)?);
        warm_times.push(started.elapsed());
        let started = Instant::now();
        cold = Some(planner::plan(&after, Options::default())?);
        cold_times.push(started.elapsed());
    }
    let (warm, cold) = warm.zip(cold).ok_or_else(|| anyhow!("no runs"))?;
    Ok(WarmReplan {
        warm: median(warm_times),
        cold: median(cold_times),
        moves: warm.moves,
        same_score: warm.plan.score == cold.plan.score,
    })
}

fn valid(file: &ScenarioFile) -> anyhow::Result<Scenario> {
    Scenario::from_file(file).map_err(|e| anyhow!("the scenario is not valid:\n{e}"))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
