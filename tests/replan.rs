//! Re-plans from the previous plan (`planner::plan_from`): the same score
//! as a cold plan after any change, and no move without a reason.

use std::collections::HashMap;

use chrono::{Duration, TimeZone, Utc};
use jbt::config::RegionsConfig;
use jbt::generator;
use jbt::planner::plan::violations;
use jbt::planner::scenario::{PinFile, ReferralFile, SlotFile};
use jbt::planner::{self, Options, Outcome, Scenario, ScenarioFile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gelderland() -> ScenarioFile {
    let config = RegionsConfig::builtin().expect("built-in config");
    let options = generator::preset("gelderland").expect("preset");
    generator::generate(&config, &options).expect("scenario")
}

/// Referral id -> slot id of every planned, unpinned referral.
fn tentative(outcome: &Outcome) -> HashMap<String, String> {
    outcome
        .plan
        .assignments
        .iter()
        .filter(|a| !a.pinned)
        .map(|a| (a.referral.clone(), a.slot.clone()))
        .collect()
}

fn valid(file: &ScenarioFile) -> Scenario {
    Scenario::from_file(file).expect("valid scenario")
}

#[test]
fn an_unchanged_scenario_is_planned_again_without_a_single_move() {
    let s = valid(&gelderland());
    let cold = planner::plan(&s, Options::default()).expect("plan");
    let again = planner::plan_from(&s, Options::default(), &tentative(&cold)).expect("plan");
    assert_eq!(again.plan.score, cold.plan.score);
    assert_eq!(again.moves, 0);
    assert_eq!(again.slot_of, cold.slot_of);
}

/// Two referrals registered on the same day, two slots a week apart:
/// either way round has the same score, so the previous way is kept.
#[test]
fn among_plans_of_equal_score_the_previous_placements_are_kept() {
    let text = r#"{
      "version": 1, "now": "2026-12-01T08:00:00+01:00", "timezone": "Europe/Amsterdam", "norm_days": 14,
      "regions": [{"id": "a", "neighbours": []}],
      "slots": [
        {"id": "s1", "region": "a", "start": "2026-12-02T09:00:00+01:00", "minutes": 90},
        {"id": "s2", "region": "a", "start": "2026-12-09T09:00:00+01:00", "minutes": 90}
      ],
      "referrals": [
        {"id": "R-1", "region": "a", "registered": "2026-11-25T09:00:00+01:00"},
        {"id": "R-2", "region": "a", "registered": "2026-11-25T15:00:00+01:00"}
      ]
    }"#;
    let s = Scenario::parse_json(text, &mut |w| panic!("{w}")).expect("valid");
    let cold = planner::plan(&s, Options::default()).expect("plan");
    for (first, second) in [("s1", "s2"), ("s2", "s1")] {
        let before: HashMap<String, String> = [("R-1", first), ("R-2", second)]
            .into_iter()
            .map(|(r, slot)| (r.to_string(), slot.to_string()))
            .collect();
        let out = planner::plan_from(&s, Options::default(), &before).expect("plan");
        assert_eq!(out.plan.score, cold.plan.score);
        assert_eq!(out.moves, 0, "kept {first}/{second}");
        assert_eq!(tentative(&out), before);
    }
}

/// One random change of the kinds the service sees.
fn change(file: &mut ScenarioFile, last: &Outcome, rng: &mut ChaCha8Rng, step: usize) {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .single()
        .expect("time");
    match rng.random_range(0..5) {
        // A new referral.
        0 => {
            let region = file.regions[rng.random_range(0..file.regions.len())]
                .id
                .clone();
            file.referrals.push(ReferralFile {
                id: format!("NEW-{step}"),
                region,
                registered: (now - Duration::hours(rng.random_range(0..24 * 10))).to_rfc3339(),
                due: None,
                earliest: None,
                unavailable: Vec::new(),
                minutes: rng.random_bool(0.25).then_some(120),
                cross_region: None,
                excluded_regions: Vec::new(),
            });
        }
        // A withdrawal (of an unpinned referral).
        1 => {
            let pinned: Vec<String> = file.pinned.iter().map(|p| p.referral.clone()).collect();
            let open: Vec<usize> = (0..file.referrals.len())
                .filter(|&i| !pinned.contains(&file.referrals[i].id))
                .collect();
            if !open.is_empty() {
                file.referrals.remove(open[rng.random_range(0..open.len())]);
            }
        }
        // A booking: a tentative placement becomes a confirmed one.
        2 => {
            let free: Vec<_> = last.plan.assignments.iter().filter(|a| !a.pinned).collect();
            if !free.is_empty() {
                let a = free[rng.random_range(0..free.len())];
                file.pinned.push(PinFile {
                    referral: a.referral.clone(),
                    slot: a.slot.clone(),
                });
            }
        }
        // A cancelled slot (not one that is booked).
        3 => {
            let booked: Vec<String> = file.pinned.iter().map(|p| p.slot.clone()).collect();
            let open: Vec<usize> = (0..file.slots.len())
                .filter(|&k| !booked.contains(&file.slots[k].id))
                .collect();
            if !open.is_empty() {
                file.slots.remove(open[rng.random_range(0..open.len())]);
            }
        }
        // An added session of two slots.
        _ => {
            let region = file.regions[rng.random_range(0..file.regions.len())]
                .id
                .clone();
            let start = now + Duration::days(rng.random_range(1..40)) + Duration::hours(2);
            for k in 0..2 {
                file.slots.push(SlotFile {
                    id: format!("EXTRA-{step}-{k}"),
                    region: region.clone(),
                    start: (start + Duration::hours(2 * k)).to_rfc3339(),
                    minutes: 120,
                    own_region_only: false,
                });
            }
        }
    }
}

#[test]
fn warm_re_plans_have_the_score_of_a_cold_plan_after_every_change() {
    for seed in 0..4 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut file = gelderland();
        let mut last = planner::plan(&valid(&file), Options::default()).expect("plan");
        for step in 0..12 {
            change(&mut file, &last, &mut rng, step);
            let s = valid(&file);
            let cold = planner::plan(&s, Options::default()).expect("cold");
            let warm = planner::plan_from(&s, Options::default(), &tentative(&last)).expect("warm");
            assert_eq!(warm.plan.score, cold.plan.score, "seed {seed} step {step}");
            assert!(violations(&s, &warm.slot_of).is_empty());
            last = warm;
        }
    }
}
