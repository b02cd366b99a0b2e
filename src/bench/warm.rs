//! The warm re-plan in `jbt bench`: after a plan one referral arrives, is
//! booked or is withdrawn, or a session is cancelled or added (in the
//! horizon, or a week after its last session); how long
//! does the service's [`WarmPlanner`] take to go on from the previous run,
//! against [`planner::plan_from`] (everything built again, warm-started
//! from the placements) and a cold [`planner::plan`] of the same scenario?

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::SecondsFormat;

use crate::planner::scenario::{PinFile, ScenarioFile, SlotFile};
use crate::planner::{self, Options, Scenario, WarmPlanner};

/// One preset's warm re-plan after one change, medians of the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmReplan {
    /// The change: "new referral", "booking", "withdrawal", "cancelled
    /// session", "added session" or "session after the last".
    pub change: &'static str,
    /// [`WarmPlanner::plan`] after the change, from the kept run.
    pub warm: Duration,
    /// The warm planner went on from the kept network (it must).
    pub went_on: bool,
    /// Pivots of the warm planner's run.
    pub pivots: u64,
    /// Pricing rounds of the warm planner's run (the last finds nothing).
    pub pricing_rounds: usize,
    /// `plan_from` after the change, from the previous placements.
    pub from_placements: Duration,
    /// `plan` of the same scenario, from nothing.
    pub cold: Duration,
    /// Previously placed referrals that moved.
    pub moves: usize,
    /// All three found the same score, and the warm planner as few moves
    /// as `plan_from` (they must).
    pub same_score: bool,
}

/// Plans `file`, then makes one change at a time and re-plans warm, from
/// the placements and cold, `repeats` times each: one referral arrives
/// (like the first one, registered at `now`); the referral holding the
/// earliest tentative place is booked there; the same referral is
/// withdrawn instead, freeing its place; that place's session is
/// cancelled; a session is added the day after it, at the same table and
/// time; a session is added a week after the last one, at its table and
/// time (the day unplanned referrals count at moves a week).
///
/// # Errors
///
/// When `file` is not a valid scenario, has no referral or plans nobody,
/// or a plan fails.
pub fn measure(file: &ScenarioFile, repeats: u32) -> anyhow::Result<Vec<WarmReplan>> {
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
    let earliest = first
        .plan
        .assignments
        .iter()
        .find(|a| !a.pinned)
        .ok_or_else(|| anyhow!("the plan places nobody"))?;

    let mut arrival = file.clone();
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
    arrival.referrals.push(newcomer);

    let mut booking = file.clone();
    booking.pinned.push(PinFile {
        referral: earliest.referral.clone(),
        slot: earliest.slot.clone(),
    });

    let mut withdrawal = file.clone();
    withdrawal.referrals.retain(|r| r.id != earliest.referral);

    let mut cancelled = file.clone();
    cancelled.slots.retain(|s| s.id != earliest.slot);

    // A session the next day at the same table and time, in the middle of
    // the horizon (not after its last session).
    let like = file
        .slots
        .iter()
        .find(|s| s.id == earliest.slot)
        .ok_or_else(|| anyhow!("the plan names an unknown slot"))?;
    let added = with_session_after(file, like, 1, "bench-added-session")?;

    // A week after the last session, at its table and time: what the
    // daily horizon job does.
    let last = file
        .slots
        .iter()
        .max_by_key(|s| chrono::DateTime::parse_from_rfc3339(&s.start).ok())
        .ok_or_else(|| anyhow!("the scenario has no slots"))?;
    let later = with_session_after(file, last, 7, "bench-session-after-the-last")?;

    [
        ("new referral", arrival),
        ("booking", booking),
        ("withdrawal", withdrawal),
        ("cancelled session", cancelled),
        ("added session", added),
        ("session after the last", later),
    ]
    .into_iter()
    .map(|(change, after)| {
        let after = valid(&after)?;
        replan(change, &before, &after, &tentative, repeats)
    })
    .collect()
}

/// `file` with one slot more, `id`, like `like` (table, length) and `days`
/// days after it.
fn with_session_after(
    file: &ScenarioFile,
    like: &SlotFile,
    days: i64,
    id: &str,
) -> anyhow::Result<ScenarioFile> {
    let start = chrono::DateTime::parse_from_rfc3339(&like.start).context("the slot's start")?
        + chrono::Duration::days(days);
    let mut after = file.clone();
    after.slots.push(SlotFile {
        id: id.into(),
        start: start.to_rfc3339(),
        ..like.clone()
    });
    Ok(after)
}

/// Re-plans `after` warm (from a planner that planned `before`), from the
/// placements `tentative` and cold, `repeats` times each.
fn replan(
    change: &'static str,
    before: &Scenario,
    after: &Scenario,
    tentative: &HashMap<String, String>,
    repeats: u32,
) -> anyhow::Result<WarmReplan> {
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
        let warm = warm_planner.plan(scenario, Options::default(), tentative)?;
        times[0].push(started.elapsed());
        let started = Instant::now();
        let from = planner::plan_from(after, Options::default(), tentative)?;
        times[1].push(started.elapsed());
        let started = Instant::now();
        let cold = planner::plan(after, Options::default())?;
        times[2].push(started.elapsed());
        last = Some((warm, from, cold));
    }
    let (warm, from, cold) = last.ok_or_else(|| anyhow!("no runs"))?;
    let [warm_times, from_times, cold_times] = times;
    Ok(WarmReplan {
        change,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every change the benchmark times is one the warm planner follows,
    /// with the score and moves of the other two ways.
    #[test]
    fn the_warm_planner_follows_every_benchmarked_change() {
        let config = crate::config::RegionsConfig::builtin().expect("config");
        let options = crate::generator::preset("gelderland").expect("preset");
        let file = crate::generator::generate(&config, &options).expect("scenario");
        let rows = measure(&file, 1).expect("measured");
        let changes: Vec<&str> = rows.iter().map(|r| r.change).collect();
        assert_eq!(changes.len(), 6, "{changes:?}");
        assert!(changes.contains(&"session after the last"));
        for row in &rows {
            assert!(row.went_on, "{}", row.change);
            assert!(row.same_score, "{}", row.change);
        }
    }
}
