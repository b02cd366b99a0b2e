//! The open backlog of a generated scenario: referrals, their confirmed
//! bookings, and the scenario file they are written to.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, SecondsFormat, Utc, Weekday,
};
use chrono_tz::Tz;
use rand::Rng;

use super::{stream, working_day, GeneratorOptions, World, PIN_DAYS};
use crate::calendar::local_to_utc;
use crate::config::RegionsConfig;
use crate::planner::scenario::{
    PinFile, ReferralFile, RegionFile, ScenarioFile, SlotFile, DEFAULT_MINUTES,
};

/// A generated referral, typed; written out by [`to_file`].
pub(super) struct Draft {
    region: usize,
    registered: DateTime<Utc>,
    /// Write `registered` in UTC rather than local time (other source
    /// systems do; the format allows any offset).
    utc: bool,
    due: Option<NaiveDate>,
    earliest: Option<NaiveDate>,
    unavailable: BTreeSet<NaiveDate>,
    minutes: Option<u32>,
    cross_region: Option<bool>,
}

impl Draft {
    fn minutes(&self) -> u32 {
        self.minutes.unwrap_or(DEFAULT_MINUTES)
    }
}

/// Share of a working day's arrivals registered in the evening.
const EVENING_SHARE: f64 = 0.05;

/// The open backlog at `now`, oldest first.
pub(super) fn referrals(
    config: &RegionsConfig,
    world: &World,
    options: &GeneratorOptions,
    now: DateTime<Utc>,
) -> Vec<Draft> {
    let tz = config.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let window_start = now - Duration::days(i64::from(options.backlog_days));
    let first_day = today - Days::new(u64::from(options.backlog_days));
    let hour = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    // (local start hour, local end hour, share of the day's arrivals)
    let windows = [(8, 17, 1.0 - EVENING_SHARE), (19, 23, EVENING_SHARE)];
    let mut arrivals: Vec<(DateTime<Utc>, usize)> = Vec::new();
    for (r, region) in world.regions.iter().enumerate() {
        // One stream per region: the same region gets the same arrivals
        // whatever the other regions do.
        let mut rng = stream(options.seed, 1_000 + r as u64);
        let per_day = region.arrivals_per_week / 5.0;
        for date in first_day.iter_days().take_while(|d| *d <= today) {
            if !working_day(config, date) {
                continue;
            }
            for &(from_hour, to_hour, share) in &windows {
                let from = local_to_utc(tz, date.and_time(hour(from_hour))).max(window_start);
                let to = local_to_utc(tz, date.and_time(hour(to_hour))).min(now);
                if from >= to {
                    continue;
                }
                // Poisson process: exponential gaps at the window's rate
                // (per second), over the part of the window before now.
                let window_secs = (to - from).num_seconds() as f64;
                let rate = per_day * share / f64::from(3_600 * (to_hour - from_hour));
                if rate <= 0.0 {
                    continue;
                }
                let mut t = 0.0;
                loop {
                    t += -(1.0 - rng.random::<f64>()).ln() / rate;
                    if t >= window_secs {
                        break;
                    }
                    arrivals.push((from + Duration::seconds(t as i64), r));
                }
            }
        }
    }
    arrivals.sort();
    let mut rng = stream(options.seed, 2);
    let weekdays_ahead: Vec<NaiveDate> = (1..=21)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect();
    arrivals
        .into_iter()
        .map(|(registered, region)| {
            let registered_date = registered.with_timezone(&tz).date_naive();
            let utc = rng.random_bool(0.2);
            let minutes = rng.random_bool(0.25).then_some(120);
            let unavailable = if rng.random_bool(0.30) {
                let count = rng.random_range(1..=3);
                (0..count)
                    .map(|_| weekdays_ahead[rng.random_range(0..weekdays_ahead.len())])
                    .collect()
            } else {
                BTreeSet::new()
            };
            let earliest = rng
                .random_bool(0.10)
                .then(|| today + Days::new(rng.random_range(2..=6)));
            let cross_region = rng.random_bool(0.10).then_some(false);
            // A court deadline: sooner than the norm.
            let due = rng
                .random_bool(0.03)
                .then(|| registered_date + Days::new(rng.random_range(7..=12)));
            Draft {
                region,
                registered,
                utc,
                due,
                earliest,
                unavailable,
                minutes,
                cross_region,
            }
        })
        .collect()
}

/// Confirmed bookings: referral `rank` (0 = oldest) of `n` is pinned with
/// chance `0.3 x (1 - rank / n)`, 15% on average and most often the oldest,
/// to a random valid slot of its own region in the next two weeks.
pub(super) fn pins(
    world: &World,
    referrals: &[Draft],
    now: DateTime<Utc>,
    seed: u64,
) -> Vec<(usize, usize)> {
    let mut rng = stream(seed, 3);
    let horizon = now + Duration::days(PIN_DAYS);
    let mut by_region: Vec<Vec<usize>> = vec![Vec::new(); world.regions.len()];
    for (s, slot) in world.slots.iter().enumerate() {
        if slot.start > now && slot.start < horizon {
            by_region[slot.region].push(s);
        }
    }
    let mut taken = vec![false; world.slots.len()];
    let mut pins = Vec::new();
    let n = referrals.len() as f64;
    for (r, referral) in referrals.iter().enumerate() {
        if !rng.random_bool(0.3 * (1.0 - r as f64 / n)) {
            continue;
        }
        let fits: Vec<usize> = by_region[referral.region]
            .iter()
            .copied()
            .filter(|&s| {
                let slot = &world.slots[s];
                !taken[s]
                    && slot.minutes >= referral.minutes()
                    && referral.earliest.is_none_or(|e| slot.date >= e)
                    && !referral.unavailable.contains(&slot.date)
            })
            .collect();
        if fits.is_empty() {
            continue;
        }
        let s = fits[rng.random_range(0..fits.len())];
        taken[s] = true;
        pins.push((r, s));
    }
    pins
}

fn instant(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn to_file(
    config: &RegionsConfig,
    world: &World,
    referrals: &[Draft],
    pins: &[(usize, usize)],
    options: &GeneratorOptions,
) -> ScenarioFile {
    let tz = config.timezone;
    let region_id = |r: usize| world.regions[r].id.clone();
    let referral_id = |r: usize| format!("R-{:05}", r + 1);
    ScenarioFile {
        version: 1,
        now: options.now.to_rfc3339_opts(SecondsFormat::Secs, true),
        timezone: tz.name().to_string(),
        norm_days: config.norm_days,
        regions: world
            .regions
            .iter()
            .map(|r| RegionFile {
                id: r.id.clone(),
                neighbours: r.neighbours.iter().map(|&n| region_id(n)).collect(),
                name: Some(r.name.clone()),
            })
            .collect(),
        slots: world
            .slots
            .iter()
            .map(|s| SlotFile {
                id: s.id.clone(),
                region: region_id(s.region),
                start: instant(s.start, tz),
                minutes: s.minutes,
                own_region_only: false,
            })
            .collect(),
        referrals: referrals
            .iter()
            .enumerate()
            .map(|(r, d)| ReferralFile {
                id: referral_id(r),
                region: region_id(d.region),
                registered: if d.utc {
                    d.registered.to_rfc3339_opts(SecondsFormat::Secs, true)
                } else {
                    instant(d.registered, tz)
                },
                due: d.due.map(|x| x.to_string()),
                earliest: d.earliest.map(|x| x.to_string()),
                unavailable: d.unavailable.iter().map(|x| x.to_string()).collect(),
                minutes: d.minutes,
                cross_region: d.cross_region,
                excluded_regions: Vec::new(),
            })
            .collect(),
        pinned: pins
            .iter()
            .map(|&(r, s)| PinFile {
                referral: referral_id(r),
                slot: world.slots[s].id.clone(),
            })
            .collect(),
    }
}
