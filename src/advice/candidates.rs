//! Candidate sessions for a scenario file (`jbt advise`), where there is
//! no region configuration to ask: each table's own sessions, seen in the
//! file, on the other weekdays of its weeks.
//!
//! - A *session* is a run of back-to-back slots of one length at one table
//!   on one day. Its pattern is (local start time, slot length); the number
//!   of slots a candidate gets is the most common run length of that
//!   pattern (the larger on a tie): a typical week's session.
//! - Candidates are the patterns of a region on Monday to Friday of every
//!   week in which that region has slots, from `now` to the last slot date
//!   of the file (the horizon), wherever the session would not overlap an
//!   existing slot of that table, nor an earlier candidate of that table
//!   that day (a table holds one session at a time).
//! - Holidays and closures are not in a scenario file, so not checked here;
//!   the service's candidates come from the region configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

use super::Candidate;
use crate::planner::scenario::Slot;
use crate::planner::{Scenario, ScenarioErrors, ScenarioFile};

/// A session pattern: local start time and slot length.
type Pattern = (NaiveTime, u32);

/// The candidate sessions of a scenario file (see the module docs), by
/// start, then region.
///
/// # Errors
///
/// The scenario's own problems, when it is not valid.
pub fn from_scenario_file(file: &ScenarioFile) -> Result<Vec<Candidate>, ScenarioErrors> {
    let scenario = Scenario::from_file(file)?;
    let Some(horizon) = scenario.slots.iter().map(|s| s.date).max() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for g in 0..scenario.regions.len() {
        let mut slots: Vec<&Slot> = scenario.slots.iter().filter(|s| s.region == g).collect();
        slots.sort_by_key(|s| s.start);
        out.extend(region_candidates(&scenario, g, &slots, horizon));
    }
    out.sort_by(|a, b| (a.start, &a.region, &a.id).cmp(&(b.start, &b.region, &b.id)));
    Ok(out)
}

/// The candidates of region `g`, whose slots (by start) are `slots`.
fn region_candidates(
    scenario: &Scenario,
    g: usize,
    slots: &[&Slot],
    horizon: NaiveDate,
) -> Vec<Candidate> {
    let patterns = patterns(scenario, slots);
    let weeks: BTreeSet<NaiveDate> = slots.iter().map(|s| monday(s.date)).collect();
    let today = scenario.local_date(scenario.now);
    let busy: Vec<(DateTime<Utc>, DateTime<Utc>)> = slots
        .iter()
        .map(|s| (s.start, s.start + minutes(s.minutes)))
        .collect();
    let mut out = Vec::new();
    for week in weeks {
        for day in (0..5).filter_map(|d| week.checked_add_days(Days::new(d))) {
            if day < today || day > horizon {
                continue;
            }
            let mut taken = busy.clone();
            for (&(time, length), &count) in &patterns {
                let Some(start) = scenario
                    .timezone
                    .from_local_datetime(&day.and_time(time))
                    .earliest()
                else {
                    continue; // the hour skipped by the change to summer time
                };
                let start = start.with_timezone(&Utc);
                let end = start + minutes(length * count);
                if start < scenario.now || taken.iter().any(|&(s, e)| s < end && start < e) {
                    continue;
                }
                taken.push((start, end));
                out.push(Candidate {
                    id: format!("{}-{day}-{}", scenario.regions[g].id, time.format("%H%M")),
                    region: scenario.regions[g].id.clone(),
                    start,
                    slot_minutes: length,
                    slots: count,
                });
            }
        }
    }
    out
}

/// Each session pattern of a region with its typical number of slots.
fn patterns(scenario: &Scenario, slots: &[&Slot]) -> BTreeMap<Pattern, u32> {
    let mut runs: HashMap<Pattern, BTreeMap<u32, u32>> = HashMap::new();
    let mut i = 0;
    while i < slots.len() {
        let first = slots[i];
        let mut n = 1;
        while let Some(next) = slots.get(i + n) {
            let previous = slots[i + n - 1];
            let back_to_back = next.start == previous.start + minutes(previous.minutes);
            if !(back_to_back && next.minutes == first.minutes && next.date == first.date) {
                break;
            }
            n += 1;
        }
        let time = first.start.with_timezone(&scenario.timezone).time();
        let count = u32::try_from(n).unwrap_or(u32::MAX);
        *runs
            .entry((time, first.minutes))
            .or_default()
            .entry(count)
            .or_default() += 1;
        i += n;
    }
    runs.into_iter()
        .map(|(pattern, counts)| {
            let typical = counts
                .iter()
                .max_by_key(|&(&count, &seen)| (seen, count))
                .map_or(1, |(&count, _)| count);
            (pattern, typical)
        })
        .collect()
}

fn minutes(n: u32) -> Duration {
    Duration::minutes(i64::from(n))
}

fn monday(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}
