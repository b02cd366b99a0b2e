//! The scenario generator: deterministic, valid, and shaped as asked.

use jbt::config::RegionsConfig;
use jbt::generator::{self, generate, GeneratorOptions, RegionSet};
use jbt::planner::baseline::first_come_first_served;
use jbt::planner::{self, Options, Plan, Scenario, ScenarioFile};

fn config() -> RegionsConfig {
    RegionsConfig::builtin().expect("the built-in configuration is valid")
}

fn options(seed: u64, regions: RegionSet, weeks: u32, load: f64) -> GeneratorOptions {
    GeneratorOptions {
        seed,
        weeks,
        regions,
        load,
        now: generator::default_now(),
        ..GeneratorOptions::default()
    }
}

fn gelderland(seed: u64) -> GeneratorOptions {
    options(seed, RegionSet::Gelderland, 8, 1.0)
}

fn generated(options: &GeneratorOptions) -> ScenarioFile {
    generate(&config(), options).expect("generates")
}

fn validated(file: &ScenarioFile) -> Scenario {
    Scenario::from_file(file).unwrap_or_else(|e| panic!("generated scenario is not valid:\n{e}"))
}

#[test]
fn the_same_seed_gives_byte_identical_json() {
    for regions in [RegionSet::Gelderland, RegionSet::Synthetic(10)] {
        let a = serde_json::to_string(&generated(&options(7, regions, 8, 1.0))).expect("json");
        let b = serde_json::to_string(&generated(&options(7, regions, 8, 1.0))).expect("json");
        assert_eq!(a, b, "{regions}");
    }
}

#[test]
fn different_seeds_give_different_backlogs() {
    let a = generated(&gelderland(1));
    let b = generated(&gelderland(2));
    assert_ne!(a.referrals, b.referrals);
    // Gelderland's calendar does not depend on the seed.
    assert_eq!(a.slots, b.slots);
}

#[test]
fn more_weeks_add_slots_but_keep_the_same_backlog() {
    let short = generated(&options(3, RegionSet::Synthetic(10), 4, 1.0));
    let long = generated(&options(3, RegionSet::Synthetic(10), 8, 1.0));
    assert_eq!(short.referrals, long.referrals);
    assert!(long.slots.len() > short.slots.len() * 3 / 2);
}

#[test]
fn every_region_set_and_seed_generates_a_valid_scenario_with_pins() {
    let cases = [
        gelderland(1),
        gelderland(2),
        options(1, RegionSet::Synthetic(1), 4, 1.0),
        options(1, RegionSet::Synthetic(2), 4, 1.0),
        options(1, RegionSet::Synthetic(10), 8, 1.0),
        options(5, RegionSet::Synthetic(42), 4, 3.1),
        options(1, RegionSet::Gelderland, 8, 0.0),
    ];
    for case in &cases {
        let file = generated(case);
        // from_file checks every pin against the placement rules.
        let scenario = validated(&file);
        assert_eq!(scenario.pinned.len(), file.pinned.len());
        for &(r, s) in &scenario.pinned {
            assert!(
                scenario.slots[s].start > scenario.now,
                "{case:?}: pin before now"
            );
            assert_eq!(
                scenario.slots[s].region, scenario.referrals[r].region,
                "{case:?}"
            );
            assert_eq!(scenario.refusal(r, s, true), None, "{case:?}");
        }
    }
}

#[test]
fn the_gelderland_backlog_has_about_two_weeks_of_arrivals() {
    let config = config();
    let weekly: f64 = config.regions.iter().map(|r| r.arrivals_per_week).sum();
    let mut total = 0;
    for seed in 1..=10 {
        let file = generated(&gelderland(seed));
        assert_eq!(file.regions.len(), config.regions.len());
        total += file.referrals.len();
    }
    let mean = total as f64 / 10.0;
    assert!(
        (mean - 2.0 * weekly).abs() < 0.2 * 2.0 * weekly,
        "mean {mean}, weekly {weekly}"
    );
}

#[test]
fn referrals_are_numbered_in_registration_order_before_now() {
    let file = generated(&options(4, RegionSet::Synthetic(10), 4, 1.0));
    let scenario = validated(&file);
    for (i, (r, f)) in scenario.referrals.iter().zip(&file.referrals).enumerate() {
        assert_eq!(f.id, format!("R-{:05}", i + 1));
        assert!(r.registered < scenario.now);
        assert!(scenario.now - r.registered <= chrono::Duration::days(14));
    }
    assert!(scenario
        .referrals
        .windows(2)
        .all(|w| w[0].registered <= w[1].registered));
}

#[test]
fn about_a_quarter_of_referrals_need_120_minutes() {
    let file = generated(&options(1, RegionSet::Synthetic(42), 4, 3.0));
    let n = file.referrals.len() as f64;
    let share = |count: usize| count as f64 / n;
    let long = share(
        file.referrals
            .iter()
            .filter(|r| r.minutes == Some(120))
            .count(),
    );
    let unavailable = share(
        file.referrals
            .iter()
            .filter(|r| !r.unavailable.is_empty())
            .count(),
    );
    let earliest = share(
        file.referrals
            .iter()
            .filter(|r| r.earliest.is_some())
            .count(),
    );
    let home_only = share(
        file.referrals
            .iter()
            .filter(|r| r.cross_region == Some(false))
            .count(),
    );
    let pinned = share(file.pinned.len());
    assert!(n > 500.0, "{n} referrals");
    assert!((0.18..=0.32).contains(&long), "120 minutes: {long}");
    assert!(
        (0.22..=0.38).contains(&unavailable),
        "unavailable: {unavailable}"
    );
    assert!((0.05..=0.15).contains(&earliest), "earliest: {earliest}");
    assert!((0.05..=0.15).contains(&home_only), "home only: {home_only}");
    assert!((0.08..=0.20).contains(&pinned), "pinned: {pinned}");
}

#[test]
fn synthetic_regions_have_symmetric_neighbours_and_about_a_quarter_long_slots() {
    let file = generated(&options(1, RegionSet::Synthetic(42), 8, 1.0));
    assert_eq!(file.regions.len(), 42);
    assert_eq!(file.regions[0].id, "region-001");
    for region in &file.regions {
        assert!((2..=5).contains(&region.neighbours.len()), "{region:?}");
        for n in &region.neighbours {
            let other = file
                .regions
                .iter()
                .find(|r| &r.id == n)
                .expect("known neighbour");
            assert!(other.neighbours.contains(&region.id), "{} - {n}", region.id);
        }
    }
    let long = file.slots.iter().filter(|s| s.minutes == 120).count() as f64;
    let share = long / file.slots.len() as f64;
    assert!((0.15..=0.35).contains(&share), "{share}");
}

#[test]
fn synthetic_sessions_keep_local_time_across_the_summer_time_change() {
    // 2027-03-28 is the last Sunday of March: 09:00 is +01:00 before, +02:00 after.
    let now = chrono::DateTime::parse_from_rfc3339("2027-03-22T08:00:00+01:00").expect("instant");
    let file = generated(&GeneratorOptions {
        now,
        ..options(1, RegionSet::Synthetic(10), 2, 1.0)
    });
    let offsets: std::collections::BTreeSet<&str> = file
        .slots
        .iter()
        .map(|s| &s.start[s.start.len() - 6..])
        .collect();
    assert_eq!(
        offsets.into_iter().collect::<Vec<_>>(),
        vec!["+01:00", "+02:00"]
    );
    assert!(file.slots.iter().all(|s| s.start.contains("T09:00")
        || s.start.contains("T10:30")
        || s.start.contains("T12:00")
        || s.start.contains("T13:30")
        || s.start.contains("T15:30")));
}

#[test]
fn synthetic_slots_skip_christmas_and_new_year() {
    let file = generated(&options(1, RegionSet::Synthetic(10), 6, 1.0));
    for day in ["2026-12-25", "2026-12-26", "2027-01-01"] {
        assert!(
            !file.slots.iter().any(|s| s.start.starts_with(day)),
            "slot on {day}"
        );
    }
}

#[test]
fn double_load_gives_about_twice_the_referrals() {
    let count = |load| {
        generated(&options(1, RegionSet::Synthetic(42), 2, load))
            .referrals
            .len()
    };
    let (single, double) = (count(1.0) as f64, count(2.0) as f64);
    let ratio = double / single;
    assert!((1.7..=2.3).contains(&ratio), "{single} -> {double}");
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    let err = generate(&config(), &options(1, RegionSet::Gelderland, 0, 1.0)).expect_err("0 weeks");
    assert!(err.to_string().contains("weeks"), "{err}");
    let err =
        generate(&config(), &options(1, RegionSet::Gelderland, 8, f64::NAN)).expect_err("NaN");
    assert!(err.to_string().contains("load"), "{err}");
    let huge = options(1, RegionSet::Synthetic(10_000), 520, 1.0);
    let err = generate(&config(), &huge).expect_err("too many slots");
    assert!(
        err.to_string().contains("fewer regions, weeks or load"),
        "{err}"
    );
    let long = GeneratorOptions {
        backlog_days: 400,
        ..options(1, RegionSet::Gelderland, 8, 1.0)
    };
    let err = generate(&config(), &long).expect_err("too long a backlog");
    assert!(err.to_string().contains("backlog_days"), "{err}");
    let none = GeneratorOptions {
        slots_per_arrival: 0.0,
        ..options(1, RegionSet::Synthetic(3), 8, 1.0)
    };
    let err = generate(&config(), &none).expect_err("no slots");
    assert!(err.to_string().contains("slots_per_arrival"), "{err}");
    let err = "synthetic:0"
        .parse::<RegionSet>()
        .expect_err("zero regions");
    assert!(err.to_string().contains("synthetic:N"), "{err}");
}

#[test]
fn presets_exist_for_the_benchmark_sizes() {
    for name in generator::PRESETS {
        let p = generator::preset(name).expect("preset");
        assert_eq!(p.seed, 1);
        assert_eq!(p.now, generator::default_now());
    }
    assert_eq!(generator::preset("gelderland").map(|p| p.weeks), Some(8));
    assert_eq!(
        generator::preset("national").map(|p| p.regions),
        Some(RegionSet::Synthetic(42))
    );
    assert!(generator::preset("galaxy").is_none());
}

#[test]
fn a_longer_backlog_keeps_earlier_arrivals_waiting() {
    let two_weeks = generated(&options(2, RegionSet::Synthetic(10), 4, 1.0));
    let twelve_weeks = generated(&GeneratorOptions {
        backlog_days: 84,
        ..options(2, RegionSet::Synthetic(10), 4, 1.0)
    });
    let ratio = twelve_weeks.referrals.len() as f64 / two_weeks.referrals.len() as f64;
    assert!((4.8..=7.2).contains(&ratio), "{ratio}");
    let scenario = validated(&twelve_weeks);
    let oldest = scenario
        .referrals
        .iter()
        .map(|r| r.registered)
        .min()
        .expect("referrals");
    assert!(scenario.now - oldest > chrono::Duration::days(70));
    assert!(scenario.now - oldest <= chrono::Duration::days(84));
}

#[test]
fn slots_per_arrival_sets_the_synthetic_capacity() {
    let slots = |per_arrival| {
        generated(&GeneratorOptions {
            slots_per_arrival: per_arrival,
            ..options(1, RegionSet::Synthetic(42), 4, 3.0)
        })
        .slots
        .len() as f64
    };
    let ratio = slots(0.55) / slots(1.1);
    assert!((0.4..=0.6).contains(&ratio), "{ratio}");
}

#[test]
fn the_overload_preset_has_about_one_slot_per_waiting_referral() {
    let file = generated(&generator::preset("overload").expect("preset"));
    let (referrals, slots) = (file.referrals.len() as f64, file.slots.len() as f64);
    assert_eq!(file.regions.len(), 42);
    assert!((9_000.0..=11_000.0).contains(&referrals), "{referrals}");
    assert!(
        (0.85..=1.15).contains(&(slots / referrals)),
        "{slots} / {referrals}"
    );
}

#[test]
fn the_planner_is_no_worse_than_first_come_first_served_on_gelderland() {
    for seed in 1..=3 {
        let scenario = validated(&generated(&gelderland(seed)));
        let outcome = planner::plan(&scenario, Options::default()).expect("plans");
        let baseline = Plan::score_of(&scenario, &first_come_first_served(&scenario));
        let ours = Plan::score_of(&scenario, &outcome.slot_of);
        assert_eq!(ours, outcome.plan.score);
        assert!(
            !baseline.better_than(&ours),
            "seed {seed}: {baseline:?} beats {ours:?}"
        );
    }
}
