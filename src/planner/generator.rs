//! Realistic planning scenarios, for what-if questions and the benchmark.
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
//!   (times `load`), and weekly sessions of about 1.1 slots per expected
//!   arrival, about one slot in four of 120 minutes. Synthetic sessions are wall-clock times in
//!   the configured time zone (a 09:00 session stays at 09:00 across the
//!   summer-time change) and skip the configured holidays. Slots cover
//!   `weeks` weeks from the local date of `now`.
//! - **Load.** A scale factor on every region's expected arrivals. For
//!   `gelderland` the calendar is the configured one, so `--load 1.5` asks
//!   "what if half as many referrals again came in?". A synthetic map is made
//!   up to fit its arrivals, so there `load` scales the regions' size (their
//!   sessions grow with it) and the pressure stays about the same: it is how
//!   the presets reach their size.
//! - **Referrals.** The open backlog: the arrivals of the two weeks before
//!   `now`, a Poisson process per region at `arrivals_per_week x load`, on
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
//! The benchmark (`jbt bench`) uses three sizes, all with seed 1 and `now` =
//! [`default_now`]; see [`preset`]:
//!
//! | preset | options | open referrals | pinned | slots |
//! |---|---|--:|--:|--:|
//! | `gelderland` | `--regions gelderland --weeks 8` | 66 | 20 | 268 |
//! | `national` | `--regions synthetic:42 --weeks 26 --load 3.25` | 1,303 | 226 | 16,593 |
//! | `stress` | `--regions synthetic:300 --weeks 26 --load 3.3` | 10,086 | 1,571 | 129,800 |
//!
//! (Counts for seed 1; other seeds give 65 to 75 open Gelderland referrals.)
//! `national` stands for the 42 Dutch youth-care regions, each about three
//! times the size of a synthetic region at load 1 (some 15 referrals a week);
//! `stress` is 300 such regions. Both keep the pressure of `gelderland`:
//! capacity about 10% over arrivals, a two-week backlog, so a sixth to a
//! third of the families cannot be helped within the norm.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, Duration, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc,
    Weekday,
};
use chrono_tz::Tz;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::scenario::{
    PinFile, ReferralFile, RegionFile, Scenario, ScenarioErrors, ScenarioFile, SlotFile,
};
use crate::calendar::{local_to_utc, Blocking};
use crate::config::{RegionsConfig, SoftHolidayPolicy};

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
    pub seed: u64,
    /// Weeks of slots from the local date of `now`.
    pub weeks: u32,
    pub regions: RegionSet,
    /// Scale factor on every region's arrivals (1.0 = as configured).
    pub load: f64,
    pub now: DateTime<FixedOffset>,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            seed: 1,
            weeks: 8,
            regions: RegionSet::Gelderland,
            load: 1.0,
            now: default_now(),
        }
    }
}

/// Monday 2026-11-30 08:00 +01:00: the start of a working week, with the
/// Christmas holidays inside an 8-week horizon.
pub fn default_now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00+01:00").expect("a valid constant instant")
}

/// The preset names, in benchmark order.
pub const PRESETS: [&str; 3] = ["gelderland", "national", "stress"];

/// The options of a benchmark preset (`gelderland`, `national`, `stress`);
/// see the module docs for what they produce.
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

/// Days of arrivals that make up the open backlog at `now`.
const BACKLOG_DAYS: i64 = 14;
/// Pins are placed in slots starting within this many days after `now`.
const PIN_DAYS: i64 = 14;

/// Builds a scenario; see the module docs. The result always passes
/// [`Scenario::from_file`].
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
            synthetic(config, n, today, until, options.load, &mut rng)
        }
    };
    let referrals = referrals(config, &world, options, now);
    let pins = pins(&world, &referrals, now, options.seed);
    let file = to_file(config, &world, &referrals, &pins, options);
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
        // At most 8 x 1.1 slots a week per region and unit of load.
        let most_slots = n as f64 * f64::from(options.weeks) * 8.8 * options.load.max(1.0);
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
fn stream(seed: u64, concern: u64) -> ChaCha8Rng {
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

/// A weekly session of a synthetic region.
struct Session {
    /// 0 for the region's first table; a large region sits at more tables
    /// at once, with slot ids ending in `-t2`, `-t3`, ...
    table: usize,
    weekday: Weekday,
    start: NaiveTime,
    slots: u32,
    minutes: u32,
}

const PREFIXES: [&str; 7] = ["Noord", "Zuid", "Oost", "West", "Midden", "Boven", "Neder"];
const STEMS: [&str; 20] = [
    "Aa",
    "Berkel",
    "Dinkel",
    "Eem",
    "Gein",
    "Hunze",
    "IJssel",
    "Kromme",
    "Linge",
    "Maas",
    "Niers",
    "Oude",
    "Regge",
    "Schipbeek",
    "Tjonger",
    "Vecht",
    "Waal",
    "Lauwers",
    "Dommel",
    "Roer",
];
const SUFFIXES: [&str; 10] = [
    "land", "streek", "dal", "waard", "veld", "kwartier", "hoek", "oord", "gouw", "mark",
];

/// A readable, distinct name for synthetic region `i` (distinct for the first
/// 1,400; beyond that the number keeps them apart).
fn synthetic_name(i: usize) -> String {
    let p = PREFIXES.len();
    let s = STEMS.len();
    let name = format!(
        "{}-{}{}",
        PREFIXES[i % p],
        STEMS[(i / p) % s],
        SUFFIXES[(i / (p * s)) % SUFFIXES.len()]
    );
    if i < p * s * SUFFIXES.len() {
        name
    } else {
        format!("{name} {}", i + 1)
    }
}

/// `n` regions on a grid about `sqrt(n)` wide: each region borders the
/// regions beside, above and below it, and some squares of the grid get one
/// diagonal, so the map stays planar with 2 to 5 neighbours a region.
fn synthetic_map(n: usize, rng: &mut ChaCha8Rng) -> Vec<BTreeSet<usize>> {
    let width = (1..=n).find(|w| w * w >= n).unwrap_or(1);
    let at = |row: usize, col: usize| {
        let i = row * width + col;
        (col < width && i < n).then_some(i)
    };
    let mut neighbours = vec![BTreeSet::new(); n];
    let link = |nb: &mut Vec<BTreeSet<usize>>, a: usize, b: usize| {
        nb[a].insert(b);
        nb[b].insert(a);
    };
    for i in 0..n {
        let (row, col) = (i / width, i % width);
        if let Some(right) = at(row, col + 1) {
            link(&mut neighbours, i, right);
        }
        if let Some(below) = at(row + 1, col) {
            link(&mut neighbours, i, below);
        }
    }
    for i in 0..n {
        let (row, col) = (i / width, i % width);
        let (Some(right), Some(below)) = (at(row, col + 1), at(row + 1, col)) else {
            continue;
        };
        let corner = at(row + 1, col + 1);
        // A square whose corner is missing (the short last row): close the
        // triangle when a region would otherwise have one neighbour.
        let Some(corner) = corner else {
            if neighbours[below].len() < 2 || neighbours[right].len() < 2 {
                link(&mut neighbours, right, below);
            }
            continue;
        };
        if !rng.random_bool(0.35) {
            continue;
        }
        let (a, b) = if rng.random_bool(0.5) {
            (i, corner)
        } else {
            (right, below)
        };
        if neighbours[a].len() < 5 && neighbours[b].len() < 5 {
            link(&mut neighbours, a, b);
        }
    }
    neighbours
}

/// Weekly sessions for `arrivals` expected referrals a week: about 1.1 slots
/// per arrival, one in four of 120 minutes; 90-minute slots in morning
/// sessions of up to three, 120-minute slots in afternoon sessions of up to
/// two, each session on its own weekday, and a second table once all five
/// weekdays are taken.
fn synthetic_sessions(arrivals: f64, rng: &mut ChaCha8Rng) -> Vec<Session> {
    let total = ((arrivals * 1.1).round() as u32).max(2);
    let long = ((f64::from(total) / 4.0).round() as u32).max(1);
    let short = total - long;
    let mut days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    days.shuffle(rng);
    // 09:00-13:30 at most, then 13:30-17:30 at most: never overlapping.
    let morning = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
    let afternoon = NaiveTime::from_hms_opt(13, 30, 0).unwrap_or_default();
    let mut sessions = Vec::new();
    let mut split = |count: u32, per_session: u32, start, minutes, first_day: usize| {
        let mut left = count;
        let mut day = first_day;
        while left > 0 {
            let slots = left.min(per_session);
            sessions.push(Session {
                table: (day - first_day) / days.len(),
                weekday: days[day % days.len()],
                start,
                slots,
                minutes,
            });
            left -= slots;
            day += 1;
        }
    };
    split(short, 3, morning, 90, 0);
    split(long, 2, afternoon, 120, 2);
    sessions
}

fn synthetic(
    config: &RegionsConfig,
    n: usize,
    from: NaiveDate,
    until: NaiveDate,
    load: f64,
    rng: &mut ChaCha8Rng,
) -> World {
    let tz = config.timezone;
    let map = synthetic_map(n, rng);
    let mut regions = Vec::with_capacity(n);
    let mut sessions = Vec::with_capacity(n);
    for (i, neighbours) in map.into_iter().enumerate() {
        let base = (rng.random_range(2.0..=8.0_f64) * 10.0).round() / 10.0;
        let arrivals = base * load;
        sessions.push(synthetic_sessions(arrivals, rng));
        regions.push(WorldRegion {
            id: format!("region-{:03}", i + 1),
            name: synthetic_name(i),
            neighbours: neighbours.into_iter().collect(),
            arrivals_per_week: arrivals,
        });
    }
    let mut slots = Vec::new();
    for date in from.iter_days().take_while(|d| *d < until) {
        if !working_day(config, date) {
            continue;
        }
        for (r, region) in regions.iter().enumerate() {
            for session in sessions[r].iter().filter(|s| s.weekday == date.weekday()) {
                for k in 0..session.slots {
                    let local = date.and_time(session.start)
                        + Duration::minutes(i64::from(k * session.minutes));
                    let table = match session.table {
                        0 => String::new(),
                        t => format!("-t{}", t + 1),
                    };
                    slots.push(WorldSlot {
                        id: format!("{}-{}{table}", region.id, local.format("%Y%m%d-%H%M")),
                        region: r,
                        start: local_to_utc(tz, local),
                        date,
                        minutes: session.minutes,
                    });
                }
            }
        }
    }
    slots.sort_by(|a, b| (a.start, a.region, &a.id).cmp(&(b.start, b.region, &b.id)));
    World { regions, slots }
}

/// A generated referral, typed; written out by [`to_file`].
struct Draft {
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
        self.minutes.unwrap_or(super::scenario::DEFAULT_MINUTES)
    }
}

/// Share of a working day's arrivals registered in the evening.
const EVENING_SHARE: f64 = 0.05;

/// The open backlog at `now`, oldest first.
fn referrals(
    config: &RegionsConfig,
    world: &World,
    options: &GeneratorOptions,
    now: DateTime<Utc>,
) -> Vec<Draft> {
    let tz = config.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let window_start = now - Duration::days(BACKLOG_DAYS);
    let first_day = today - Days::new(BACKLOG_DAYS as u64);
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
fn pins(world: &World, referrals: &[Draft], now: DateTime<Utc>, seed: u64) -> Vec<(usize, usize)> {
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

fn to_file(
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

    #[test]
    fn the_synthetic_map_is_symmetric_with_two_to_five_neighbours() {
        for n in (3..=60).chain([300, 1_000]) {
            let map = synthetic_map(n, &mut stream(1, 1));
            for (i, nb) in map.iter().enumerate() {
                assert!((2..=5).contains(&nb.len()), "n={n} region {i}: {nb:?}");
                assert!(!nb.contains(&i));
                for &j in nb {
                    assert!(map[j].contains(&i), "n={n}: {i}-{j} not symmetric");
                }
            }
        }
    }

    #[test]
    fn synthetic_sessions_give_about_a_tenth_more_slots_than_arrivals() {
        let mut rng = stream(1, 1);
        for arrivals in [2.0, 4.5, 8.0] {
            let sessions = synthetic_sessions(arrivals, &mut rng);
            let slots: u32 = sessions.iter().map(|s| s.slots).sum();
            let long: u32 = sessions
                .iter()
                .filter(|s| s.minutes == 120)
                .map(|s| s.slots)
                .sum();
            assert_eq!(slots, ((arrivals * 1.1).round() as u32).max(2));
            assert!(long >= 1 && long * 2 <= slots, "{long} of {slots}");
        }
    }

    #[test]
    fn synthetic_names_are_distinct() {
        let names: BTreeSet<String> = (0..2_000).map(synthetic_name).collect();
        assert_eq!(names.len(), 2_000);
    }
}
