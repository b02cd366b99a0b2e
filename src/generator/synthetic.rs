//! Made-up regions for `synthetic:N`: a planar map, names, and weekly
//! sessions sized to each region's arrivals.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{working_day, GeneratorOptions, World, WorldRegion, WorldSlot};
use crate::calendar::local_to_utc;
use crate::config::RegionsConfig;

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

/// Weekly sessions for `arrivals` expected referrals a week: about
/// `slots_per_arrival` slots per arrival, one in four of 120 minutes; 90-minute slots in morning
/// sessions of up to three, 120-minute slots in afternoon sessions of up to
/// two, each session on its own weekday, and a second table once all five
/// weekdays are taken.
fn synthetic_sessions(arrivals: f64, slots_per_arrival: f64, rng: &mut ChaCha8Rng) -> Vec<Session> {
    let total = ((arrivals * slots_per_arrival).round() as u32).max(2);
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

pub(super) fn synthetic(
    config: &RegionsConfig,
    n: usize,
    from: NaiveDate,
    until: NaiveDate,
    options: &GeneratorOptions,
    rng: &mut ChaCha8Rng,
) -> World {
    let tz = config.timezone;
    let map = synthetic_map(n, rng);
    let mut regions = Vec::with_capacity(n);
    let mut sessions = Vec::with_capacity(n);
    for (i, neighbours) in map.into_iter().enumerate() {
        let base = (rng.random_range(2.0..=8.0_f64) * 10.0).round() / 10.0;
        let arrivals = base * options.load;
        sessions.push(synthetic_sessions(arrivals, options.slots_per_arrival, rng));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::stream;

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
            let sessions = synthetic_sessions(arrivals, 1.1, &mut rng);
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
