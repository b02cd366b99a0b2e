//! Realistic planning scenarios, for what-if questions and the benchmark.
//! Not part of the planner: it makes the planner's input.
//!
//! [`generate`] builds a [`ScenarioFile`] (format v1) from a seed: the open
//! backlog of referrals at `now` and the slots of the coming weeks. The same
//! options always give the same file, byte for byte.
//!
//! How a scenario is made:
//! - **Regions and slots.** `gelderland` takes the regions, neighbours,
//!   arrival estimates and slots of the region configuration (slots from
//!   [`crate::calendar::generate_slots`], so holidays and closures are
//!   skipped). `synthetic:N` makes `N` regions `region-001`, ... on a grid
//!   (2 to 5 neighbours each, symmetric, planar), 2 to 8 arrivals a week each
//!   (times `load`), and weekly sessions of about `slots_per_arrival` (1.1)
//!   slots per expected arrival, about one slot in four of 120 minutes.
//!   Synthetic sessions are wall-clock times in the configured time zone (a 09:00 session stays at 09:00 across the
//!   summer-time change) and skip the configured holidays. Slots cover
//!   `weeks` weeks from the local date of `now`.
//! - **Load.** A scale factor on every region's expected arrivals. For
//!   `gelderland` the calendar is the configured one, so `--load 1.5` asks
//!   "what if half as many referrals again came in?". A synthetic map is made
//!   up to fit its arrivals, so there `load` scales the regions' size (their
//!   sessions grow with it) and the pressure stays about the same: it is how
//!   the presets reach their size.
//! - **Referrals.** The open backlog: the arrivals of the `backlog_days`
//!   (14) days before `now`, a Poisson process per region at `arrivals_per_week x load`, on
//!   working days between 08:00 and 17:00 local time, a few in the evening.
//!   About 25% need 120 minutes (a child of 12 or older is heard separately),
//!   30% cannot come on 1 to 3 dates of the next three weeks, 10% cannot come
//!   before a date a few days out, 10% must stay at their own table, and 3%
//!   have an explicit (shorter) due date; the rest use the norm.
//! - **Pins.** About 15% of the referrals, mostly the oldest, already have a
//!   confirmed booking in a free slot of their own region within the next
//!   two weeks, valid under the placement rules.
//!
//! Each concern draws from its own ChaCha8 stream of the seed, so asking for
//! more weeks changes the slots but not who is waiting.
//!
//! # Presets
//!
//! The benchmark (`jbt bench`) uses four sizes, all with seed 1 and `now` =
//! [`default_now`]; see [`preset`]:
//!
//! | preset | options | open referrals | pinned | slots |
//! |---|---|--:|--:|--:|
//! | `gelderland` | `--regions gelderland --weeks 8` | 66 | 20 | 268 |
//! | `national` | `--regions synthetic:42 --weeks 26 --load 3.25` | 1,303 | 226 | 16,593 |
//! | `stress` | `--regions synthetic:300 --weeks 26 --load 3.3` | 10,086 | 1,571 | 129,800 |
//! | `overload` | `--regions synthetic:42 --weeks 26 --load 4.2`, `backlog_days` 84, `slots_per_arrival` 0.5 | 9,987 | 825 | 9,732 |
//!
//! (Counts for seed 1; other seeds give 65 to 75 open Gelderland referrals.)
//! `national` stands for the 42 Dutch youth-care regions, each about three
//! times the size of a synthetic region at load 1 (some 15 referrals a week);
//! `stress` is 300 such regions. Both keep the pressure of `gelderland`:
//! capacity about 10% over arrivals, a two-week backlog, so a sixth to a
//! third of the families cannot be helped within the norm. `overload` is
//! the 42 regions after months of too little capacity: twelve weeks of
//! arrivals waiting, and in the coming 26 weeks about one slot per waiting
//! family (and none for those still to come).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc, Weekday};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calendar::Blocking;
use crate::config::{RegionsConfig, SoftHolidayPolicy};
use crate::planner::scenario::{Scenario, ScenarioErrors, ScenarioFile};

mod backlog;
mod synthetic;

/// Which regions a scenario covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSet {
    /// The regions of the configuration, with their real session calendar.
    Gelderland,
    /// `N` made-up regions on a grid.
    Synthetic(usize),
}

/// A region set that is neither `gelderland` nor `synthetic:N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid region set {0:?}: expected \"gelderland\" or \"synthetic:N\" with N a whole number of at least 1")]
pub struct InvalidRegionSet(pub String);

impl FromStr for RegionSet {
    type Err = InvalidRegionSet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "gelderland" {
            return Ok(RegionSet::Gelderland);
        }
        s.strip_prefix("synthetic:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .map(RegionSet::Synthetic)
            .ok_or_else(|| InvalidRegionSet(s.to_string()))
    }
}

impl fmt::Display for RegionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegionSet::Gelderland => write!(f, "gelderland"),
            RegionSet::Synthetic(n) => write!(f, "synthetic:{n}"),
        }
    }
}

/// What to generate; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorOptions {
    /// Seed of every random stream; the same options give the same file.
    pub seed: u64,
    /// Weeks of slots from the local date of `now`.
    pub weeks: u32,
    /// Which regions: the configured ones or a synthetic map.
    pub regions: RegionSet,
    /// Scale factor on every region's arrivals (1.0 = as configured).
    pub load: f64,
    /// The scenario's present: the backlog is waiting at this instant and
    /// slots start from its local date ([`default_now`] by default).
    pub now: DateTime<FixedOffset>,
    /// Days of arrivals before `now` that are still waiting (14).
    pub backlog_days: u32,
    /// Synthetic regions: weekly slots per expected weekly arrival (1.1).
    /// Gelderland's calendar is the configured one.
    pub slots_per_arrival: f64,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            seed: 1,
            weeks: 8,
            regions: RegionSet::Gelderland,
            load: 1.0,
            now: default_now(),
            backlog_days: BACKLOG_DAYS,
            slots_per_arrival: SLOTS_PER_ARRIVAL,
        }
    }
}

/// Monday 2026-11-30 08:00 +01:00: the start of a working week, with the
/// Christmas holidays inside an 8-week horizon.
pub fn default_now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00+01:00").expect("a valid constant instant")
}

/// The preset names, in benchmark order.
pub const PRESETS: [&str; 4] = ["gelderland", "national", "stress", "overload"];

/// The options of a benchmark preset (`gelderland`, `national`, `stress`,
/// `overload`); see the module docs for what they produce.
pub fn preset(name: &str) -> Option<GeneratorOptions> {
    let base = GeneratorOptions::default();
    match name {
        "gelderland" => Some(GeneratorOptions {
            weeks: 8,
            regions: RegionSet::Gelderland,
            ..base
        }),
        // 42 regions x ~5 arrivals a week x 2 weeks x 3.25 = ~1,300.
        "national" => Some(GeneratorOptions {
            weeks: 26,
            regions: RegionSet::Synthetic(42),
            load: 3.25,
            ..base
        }),
        // 300 regions x ~5 arrivals a week x 2 weeks x 3.3 = ~10,000.
        "stress" => Some(GeneratorOptions {
            weeks: 26,
            regions: RegionSet::Synthetic(300),
            load: 3.3,
            ..base
        }),
        // 42 regions x ~5 arrivals a week x 4.2 x 12 weeks = ~10,000 waiting;
        // 42 x ~5 x 4.2 x 0.5 slots a week x 26 weeks, holidays out: as many.
        "overload" => Some(GeneratorOptions {
            weeks: 26,
            regions: RegionSet::Synthetic(42),
            load: 4.2,
            backlog_days: 84,
            slots_per_arrival: 0.5,
            ..base
        }),
        _ => None,
    }
}

/// Why no scenario was generated.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The options are out of range; the message says which and why.
    #[error("{0}")]
    Options(String),
    /// The generator made a scenario that does not validate. Never expected.
    #[error("internal error, the generated scenario is not valid:\n{0}")]
    Invalid(ScenarioErrors),
}

/// Limits that keep a typo from allocating the machine away.
const MAX_WEEKS: u32 = 520;
const MAX_SYNTHETIC_REGIONS: usize = 10_000;
const MAX_LOAD: f64 = 100.0;
const MAX_SLOTS: f64 = 2_000_000.0;
/// Far from chrono's limits, so date arithmetic needs no checks.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9000;

/// Days of arrivals that make up the open backlog at `now`, by default.
const BACKLOG_DAYS: u32 = 14;
/// The longest backlog asked for.
const MAX_BACKLOG_DAYS: u32 = 366;
/// Weekly slots per expected weekly arrival of a synthetic region, by
/// default: capacity a tenth over demand.
const SLOTS_PER_ARRIVAL: f64 = 1.1;
/// The most slots per arrival asked for.
const MAX_SLOTS_PER_ARRIVAL: f64 = 10.0;
/// Pins are placed in slots starting within this many days after `now`.
const PIN_DAYS: i64 = 14;

/// Builds a scenario; see the module docs. The result always passes
/// [`Scenario::from_file`].
///
/// # Errors
/// [`GeneratorError::Options`] for options out of range (every problem
/// named); [`GeneratorError::Invalid`] if the result does not validate,
/// which would be a bug.
pub fn generate(
    config: &RegionsConfig,
    options: &GeneratorOptions,
) -> Result<ScenarioFile, GeneratorError> {
    check(options)?;
    let tz = config.timezone;
    let now = options.now.with_timezone(&Utc);
    let today = now.with_timezone(&tz).date_naive();
    let until = today + Days::new(7 * u64::from(options.weeks));
    let world = match options.regions {
        RegionSet::Gelderland => gelderland(config, today, until, options.load),
        RegionSet::Synthetic(n) => {
            let mut rng = stream(options.seed, 1);
            synthetic::synthetic(config, n, today, until, options, &mut rng)
        }
    };
    let referrals = backlog::referrals(config, &world, options, now);
    let pins = backlog::pins(&world, &referrals, now, options.seed);
    let file = backlog::to_file(config, &world, &referrals, &pins, options);
    Scenario::from_file(&file).map_err(GeneratorError::Invalid)?;
    Ok(file)
}

fn check(options: &GeneratorOptions) -> Result<(), GeneratorError> {
    let mut problems = Vec::new();
    if options.weeks == 0 || options.weeks > MAX_WEEKS {
        problems.push(format!(
            "weeks must be from 1 to {MAX_WEEKS}, not {}",
            options.weeks
        ));
    }
    if !(0.0..=MAX_LOAD).contains(&options.load) {
        problems.push(format!(
            "load must be from 0 to {MAX_LOAD}, not {}",
            options.load
        ));
    }
    if options.backlog_days > MAX_BACKLOG_DAYS {
        problems.push(format!(
            "backlog_days must be from 0 to {MAX_BACKLOG_DAYS}, not {}",
            options.backlog_days
        ));
    }
    if !(options.slots_per_arrival > 0.0 && options.slots_per_arrival <= MAX_SLOTS_PER_ARRIVAL) {
        problems.push(format!(
            "slots_per_arrival must be above 0 and at most {MAX_SLOTS_PER_ARRIVAL}, not {}",
            options.slots_per_arrival
        ));
    }
    if !(MIN_YEAR..=MAX_YEAR).contains(&options.now.year()) {
        problems.push(format!(
            "now must be in the years {MIN_YEAR} to {MAX_YEAR}, not {}",
            options.now.year()
        ));
    }
    if let RegionSet::Synthetic(n) = options.regions {
        if n == 0 || n > MAX_SYNTHETIC_REGIONS {
            problems.push(format!(
                "synthetic regions must number from 1 to {MAX_SYNTHETIC_REGIONS}, not {n}"
            ));
        }
        // At most 8 arrivals a week per region and unit of load.
        let most_slots = n as f64
            * f64::from(options.weeks)
            * 8.0
            * options.slots_per_arrival.max(0.5)
            * options.load.max(1.0);
        if most_slots > MAX_SLOTS {
            problems.push(format!(
                "synthetic:{n} over {} weeks at load {} could make some {most_slots:.0} slots, \
                 more than {MAX_SLOTS}; ask for fewer regions, weeks or load",
                options.weeks, options.load
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GeneratorError::Options(problems.join("; ")))
    }
}

/// An independent random stream per concern, so that one concern drawing
/// more numbers (more weeks, more regions) does not shift the others.
pub(crate) fn stream(seed: u64, concern: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(concern);
    rng
}

/// The regions and slots a scenario is made of, before any referral.
struct World {
    regions: Vec<WorldRegion>,
    slots: Vec<WorldSlot>,
}

struct WorldRegion {
    id: String,
    name: String,
    /// Indexes into `World::regions`, ascending.
    neighbours: Vec<usize>,
    /// Expected referrals a week, `load` included.
    arrivals_per_week: f64,
}

struct WorldSlot {
    id: String,
    region: usize,
    start: DateTime<Utc>,
    /// Local date of `start`.
    date: NaiveDate,
    minutes: u32,
}

/// The one adapter onto the configuration's calendar: Gelderland's regions
/// and the slots its sessions give from `from` up to (not including) `until`.
fn gelderland(config: &RegionsConfig, from: NaiveDate, until: NaiveDate, load: f64) -> World {
    let index = |id: &str| config.regions.iter().position(|r| r.id.as_str() == id);
    let regions = config
        .regions
        .iter()
        .map(|r| {
            let mut neighbours: Vec<usize> = r
                .neighbours
                .iter()
                .filter_map(|n| index(n.as_str()))
                .collect();
            neighbours.sort_unstable();
            WorldRegion {
                id: r.id.to_string(),
                name: r.name.clone(),
                neighbours,
                arrivals_per_week: r.arrivals_per_week * load,
            }
        })
        .collect();
    let last = until.pred_opt().unwrap_or(until);
    let mut slots: Vec<WorldSlot> = crate::calendar::generate_slots(config, from, last)
        .into_iter()
        .filter_map(|s| {
            Some(WorldSlot {
                region: index(s.region.as_str())?,
                id: s.id,
                start: s.start,
                date: s.date,
                minutes: s.minutes,
            })
        })
        .collect();
    slots.sort_by(|a, b| (a.start, a.region, &a.id).cmp(&(b.start, b.region, &b.id)));
    World { regions, slots }
}

/// Is `date` a day on which tables sit and referrals are registered?
fn working_day(config: &RegionsConfig, date: NaiveDate) -> bool {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    match config.holidays.holiday_on(date).map(|h| h.blocking) {
        None => true,
        Some(Blocking::Hard) => false,
        Some(Blocking::Soft) => config.soft_holidays == SoftHolidayPolicy::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_sets_parse_and_print() {
        assert_eq!("gelderland".parse(), Ok(RegionSet::Gelderland));
        assert_eq!("synthetic:42".parse(), Ok(RegionSet::Synthetic(42)));
        for bad in [
            "",
            "Gelderland",
            "synthetic",
            "synthetic:",
            "synthetic:0",
            "synthetic:-1",
            "synthetic:x",
        ] {
            let err = bad.parse::<RegionSet>().expect_err(bad);
            assert!(err.to_string().contains("synthetic:N"), "{err}");
        }
        assert_eq!(RegionSet::Synthetic(7).to_string(), "synthetic:7");
    }
}
