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

/// Every alternative an explanation names is a table and date with a slot
/// free to plan (not one whose sessions went).
fn alternatives_are_free(s: &Scenario, outcome: &Outcome) -> bool {
    let booked: Vec<usize> = s.pinned.iter().map(|p| p.1).collect();
    let free = |region: &str, date| {
        s.slots.iter().enumerate().any(|(k, slot)| {
            !booked.contains(&k)
                && slot.start >= s.now
                && slot.date == date
                && s.regions[slot.region].id == region
        })
    };
    let plan = &outcome.plan;
    let explained = plan.assignments.iter().filter_map(|a| a.explain.as_ref());
    explained
        .chain(plan.unplanned.iter().filter_map(|u| u.explain.as_ref()))
        .flat_map(|e| &e.alternatives)
        .all(|alt| free(&alt.region, alt.date))
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

/// One random change of the kinds the service sees; returns which (0: a
/// new referral, 1: a withdrawal, 2: a booking, 3: a cancelled slot, 4: an
/// added session).
fn change(file: &mut ScenarioFile, last: &Outcome, rng: &mut ChaCha8Rng, step: usize) -> usize {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .single()
        .expect("time");
    let kind = rng.random_range(0..5);
    match kind {
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
    kind
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

/// The service's planner keeps its network between runs. After every
/// change it finds what `plan_from` finds (the score of a cold plan, and
/// as few moves), and it goes on from the kept network whenever the day
/// unplanned referrals count at stayed (when the last session changed,
/// it may have to start cold: see
/// `the_warm_planner_starts_cold_for_what_it_does_not_follow`).
#[test]
fn the_warm_planner_plans_as_plan_from_and_goes_on_from_the_kept_network() {
    let options = Options {
        explain: true,
        anonymous: true,
        ..Options::default()
    };
    let mut went_on = 0;
    for seed in 0..5 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let mut file = gelderland();
        let mut warm_planner = planner::WarmPlanner::default();
        let mut last = warm_planner
            .plan(valid(&file), options, &HashMap::new())
            .expect("first plan");
        assert!(!last.stats.warm, "nothing to go on from");
        for step in 0..14 {
            let before = valid(&file);
            let mut kind = change(&mut file, &last, &mut rng, step);
            if kind == 0 && rng.random_bool(0.3) {
                // Two at once now and then.
                let mut id = 100 * (step + 1);
                while change(&mut file, &last, &mut rng, id) != 0 {
                    kind = 5; // something else changed too
                    id += 1;
                }
            }
            let s = valid(&file);
            let cold = planner::plan(&s, Options::default()).expect("cold");
            let from = planner::plan_from(&s, Options::default(), &tentative(&last)).expect("from");
            let warm = warm_planner
                .plan(s.clone(), options, &tentative(&last))
                .expect("warm");
            let at = format!("seed {seed} step {step} change {kind}");
            assert_eq!(warm.plan.score, cold.plan.score, "{at}");
            assert_eq!(warm.moves, from.moves, "{at}");
            assert!(violations(&s, &warm.slot_of).is_empty(), "{at}");
            assert!(alternatives_are_free(&s, &warm), "{at}");
            if s.unplanned_date == before.unplanned_date {
                assert!(warm.stats.warm, "{at}");
            }
            went_on += usize::from(warm.stats.warm);
            last = warm;
        }
    }
    assert!(went_on >= 5, "only {went_on} warm runs");
}

/// The kept network is a cache: when the stored placements are not the
/// ones it made (another instance planned in between), it starts cold.
#[test]
fn the_warm_planner_starts_cold_when_the_stored_placements_changed() {
    let mut file = gelderland();
    let mut warm_planner = planner::WarmPlanner::default();
    let first = warm_planner
        .plan(valid(&file), Options::default(), &HashMap::new())
        .expect("first plan");
    let mut stored = tentative(&first);
    let someone = stored.keys().next().cloned().expect("a placement");
    stored.remove(&someone);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut id = 0;
    while change(&mut file, &first, &mut rng, id) != 0 {
        id += 1;
    }
    let s = valid(&file);
    let warm = warm_planner
        .plan(s.clone(), Options::default(), &stored)
        .expect("plan");
    let from = planner::plan_from(&s, Options::default(), &stored).expect("plan");
    assert!(!warm.stats.warm);
    assert_eq!(warm.plan.score, from.plan.score);
    assert_eq!(warm.moves, from.moves);
    // With the placements it made itself, the next run goes on again.
    file.referrals.push(ReferralFile {
        id: "ONE-MORE".into(),
        ..file.referrals[0].clone()
    });
    let s = valid(&file);
    let next = warm_planner
        .plan(s.clone(), Options::default(), &tentative(&warm))
        .expect("plan");
    assert!(next.stats.warm);
    let cold = planner::plan(&s, Options::default()).expect("plan");
    assert_eq!(next.plan.score, cold.plan.score);
}

/// A small, tight scenario: three tables in a row, few slots, referrals
/// of mixed urgency and length, so places fill up and a new referral
/// pushes others along (the hardest case for going on from the optimum).
fn tight(rng: &mut ChaCha8Rng) -> ScenarioFile {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .single()
        .expect("time");
    let ids = ["a", "b", "c"];
    let regions = ids
        .iter()
        .enumerate()
        .map(|(i, id)| jbt::planner::scenario::RegionFile {
            id: (*id).into(),
            neighbours: (0..3)
                .filter(|&j| j + 1 == i || i + 1 == j)
                .map(|j| ids[j].to_string())
                .collect(),
            name: None,
        })
        .collect();
    let slots = (0..rng.random_range(6..14))
        .map(|k| SlotFile {
            id: format!("s{k}"),
            region: ids[rng.random_range(0..3)].into(),
            start: (now + Duration::hours(rng.random_range(2..24 * 28))).to_rfc3339(),
            minutes: if rng.random_bool(0.3) { 120 } else { 90 },
            own_region_only: rng.random_bool(0.15),
        })
        .collect();
    ScenarioFile {
        version: 1,
        now: now.to_rfc3339(),
        timezone: "Europe/Amsterdam".into(),
        norm_days: 14,
        regions,
        slots,
        referrals: Vec::new(),
        pinned: Vec::new(),
    }
}

/// A random referral of a tight scenario.
fn newcomer(rng: &mut ChaCha8Rng, k: usize) -> ReferralFile {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .single()
        .expect("time");
    ReferralFile {
        id: format!("T{k}"),
        region: ["a", "b", "c"][rng.random_range(0..3)].into(),
        // Arrivals come in order, as in the service: k-th one later.
        registered: (now - Duration::hours(24 * 30) + Duration::hours(6 * k as i64)).to_rfc3339(),
        due: None,
        earliest: rng.random_bool(0.15).then(|| {
            (now + Duration::days(rng.random_range(1..10)))
                .date_naive()
                .to_string()
        }),
        unavailable: Vec::new(),
        minutes: rng.random_bool(0.25).then_some(120),
        cross_region: rng.random_bool(0.2).then_some(false),
        excluded_regions: Vec::new(),
    }
}

/// Referrals arrive one or two at a time in tight scenarios: every warm
/// run goes on from the kept network and ends where a cold plan ends,
/// with the moves of `plan_from`.
#[test]
fn going_on_after_arrivals_keeps_the_cold_score_in_tight_scenarios() {
    for seed in 0..100 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut file = tight(&mut rng);
        file.referrals = (0..3).map(|k| newcomer(&mut rng, k)).collect();
        let mut warm_planner = planner::WarmPlanner::default();
        let mut last = warm_planner
            .plan(valid(&file), Options::default(), &HashMap::new())
            .expect("first plan");
        let mut k = 3;
        for step in 0..12 {
            for _ in 0..rng.random_range(1..=2) {
                file.referrals.push(newcomer(&mut rng, k));
                k += 1;
            }
            let s = valid(&file);
            let cold = planner::plan(&s, Options::default()).expect("cold");
            let from = planner::plan_from(&s, Options::default(), &tentative(&last)).expect("from");
            let warm = warm_planner
                .plan(s.clone(), Options::default(), &tentative(&last))
                .expect("warm");
            let at = format!("seed {seed} step {step}");
            assert!(warm.stats.warm, "{at}");
            assert_eq!(warm.plan.score, cold.plan.score, "{at}");
            assert_eq!(warm.moves, from.moves, "{at}");
            assert!(violations(&s, &warm.slot_of).is_empty(), "{at}");
            last = warm;
        }
    }
}

/// In tight scenarios, a few changes at a time of every kind the service
/// sees: referrals arrive, are withdrawn, are booked (in their tentative
/// slot or another free one) and unbooked; sessions are cancelled and
/// added (after the last one too, which moves the day unplanned referrals
/// count at); time passes sessions. Every run goes on from the kept
/// network when that day stayed, and most runs where it moved (the
/// weights have room for two weeks), and ends where a cold plan ends, with
/// the moves of `plan_from`.
#[test]
fn going_on_after_every_kind_of_change_keeps_the_cold_score_in_tight_scenarios() {
    let mut made = [0usize; CHANGE_KINDS];
    let (mut warm_runs, mut runs) = (0, 0);
    let (mut horizon_warm, mut horizon_runs, mut earlier) = (0, 0, 0);
    for seed in 0..100 {
        let mut rng = ChaCha8Rng::seed_from_u64(1_000 + seed);
        let mut file = tight(&mut rng);
        file.referrals = (0..6).map(|k| newcomer(&mut rng, k)).collect();
        let mut warm_planner = planner::WarmPlanner::default();
        let mut last = warm_planner
            .plan(valid(&file), Options::default(), &HashMap::new())
            .expect("first plan");
        let mut k = 6;
        for step in 0..12 {
            let before = valid(&file);
            for _ in 0..rng.random_range(1..=2) {
                let kind = rng.random_range(0..CHANGE_KINDS);
                made[kind] += usize::from(one_change(&mut file, &last, &mut rng, kind, k));
                k += 1;
            }
            let s = valid(&file);
            let mut stored = tentative(&last);
            if rng.random_bool(0.5) {
                // As the service does: placements in slots that went, or
                // that passed, are forgotten.
                let free = |id: &String| {
                    s.slots
                        .iter()
                        .any(|slot| &slot.id == id && slot.start >= s.now)
                };
                stored.retain(|_, slot| free(slot));
            }
            let cold = planner::plan(&s, Options::default()).expect("cold");
            let from = planner::plan_from(&s, Options::default(), &stored).expect("from");
            let warm = warm_planner
                .plan(s.clone(), Options::default(), &stored)
                .expect("warm");
            let at = format!("seed {seed} step {step}");
            if s.unplanned_date == before.unplanned_date {
                assert!(warm.stats.warm, "{at}");
            } else {
                horizon_warm += usize::from(warm.stats.warm);
                horizon_runs += 1;
                earlier += usize::from(s.unplanned_date < before.unplanned_date);
            }
            assert_eq!(warm.plan.score, cold.plan.score, "{at}");
            assert_eq!(warm.moves, from.moves, "{at}");
            assert!(violations(&s, &warm.slot_of).is_empty(), "{at}");
            let pinned_in_plan = warm.plan.assignments.iter().filter(|a| a.pinned).count();
            assert_eq!(pinned_in_plan, s.pinned.len(), "{at}");
            warm_runs += usize::from(warm.stats.warm);
            runs += 1;
            last = warm;
        }
    }
    // Every kind happened often, and most runs went on warm.
    assert!(made.iter().all(|&n| n > 50), "{made:?}");
    assert!(warm_runs * 10 > runs * 7, "{warm_runs} of {runs}");
    // The last session changed often, later and earlier (its only
    // session cancelled or passed), and was mostly followed.
    assert!(horizon_runs > 100, "{horizon_runs}");
    assert!(earlier > 5, "{earlier} of {horizon_runs} earlier");
    assert!(
        horizon_warm * 2 > horizon_runs,
        "{horizon_warm} of {horizon_runs}"
    );
}

/// The start of the scenario's last slot.
fn last_start(file: &ScenarioFile) -> chrono::DateTime<chrono::FixedOffset> {
    file.slots
        .iter()
        .map(|s| chrono::DateTime::parse_from_rfc3339(&s.start).expect("start"))
        .max()
        .expect("slots")
}

/// Kinds of [`one_change`].
const CHANGE_KINDS: usize = 9;

/// One change of a tight scenario: 0 a new referral, 1 a withdrawal of an
/// unbooked referral, 2 a booking of a tentative placement, 3 a booking
/// of a planned or unplanned referral into another free slot its rules
/// allow, 4 a booking undone, 5 a session cancelled (not a booked one), 6
/// a session added before the last one, 7 time passing (up to two days),
/// 8 a session added up to ten days after the last one.
/// Returns whether anything changed.
fn one_change(
    file: &mut ScenarioFile,
    last: &Outcome,
    rng: &mut ChaCha8Rng,
    kind: usize,
    k: usize,
) -> bool {
    let booked: Vec<String> = file.pinned.iter().map(|p| p.referral.clone()).collect();
    let taken: Vec<String> = file.pinned.iter().map(|p| p.slot.clone()).collect();
    // Bookings are of referrals planned before (the service books after
    // a plan); withdrawals of any unbooked one.
    let planned: Vec<&String> = last.plan.assignments.iter().map(|a| &a.referral).collect();
    let unbooked: Vec<usize> = (0..file.referrals.len())
        .filter(|&i| !booked.contains(&file.referrals[i].id))
        .collect();
    let now = chrono::DateTime::parse_from_rfc3339(&file.now).expect("now");
    let pick = |rng: &mut ChaCha8Rng, n: usize| rng.random_range(0..n);
    match kind {
        0 => file.referrals.push(newcomer(rng, k)),
        1 if !unbooked.is_empty() => {
            file.referrals.remove(unbooked[pick(rng, unbooked.len())]);
        }
        2 => {
            let present = |id: &String| unbooked.iter().any(|&i| &file.referrals[i].id == id);
            let free: Vec<_> = last
                .plan
                .assignments
                .iter()
                .filter(|a| !a.pinned && present(&a.referral) && !taken.contains(&a.slot))
                .filter(|a| a.start > now && file.slots.iter().any(|s| s.id == a.slot))
                .collect();
            if free.is_empty() {
                return false;
            }
            let a = free[pick(rng, free.len())];
            file.pinned.push(PinFile {
                referral: a.referral.clone(),
                slot: a.slot.clone(),
            });
        }
        3 => {
            let known: Vec<usize> = unbooked
                .into_iter()
                .filter(|&i| {
                    let id = &file.referrals[i].id;
                    planned.contains(&id) || last.plan.unplanned.iter().any(|u| &u.referral == id)
                })
                .collect();
            let open: Vec<String> = file
                .slots
                .iter()
                .filter(|s| !taken.contains(&s.id))
                .filter(|s| chrono::DateTime::parse_from_rfc3339(&s.start).expect("start") > now)
                .map(|s| s.id.clone())
                .collect();
            if known.is_empty() || open.is_empty() {
                return false;
            }
            let referral = file.referrals[known[pick(rng, known.len())]].id.clone();
            let slot = open[pick(rng, open.len())].clone();
            file.pinned.push(PinFile { referral, slot });
            if Scenario::from_file(file).is_err() {
                // Its rules refuse that slot: no booking.
                file.pinned.pop();
                return false;
            }
        }
        4 if !file.pinned.is_empty() => {
            let n = file.pinned.len();
            file.pinned.remove(pick(rng, n));
        }
        5 => {
            let open: Vec<usize> = (0..file.slots.len())
                .filter(|&t| !taken.contains(&file.slots[t].id))
                .collect();
            if open.len() < 2 {
                return false;
            }
            file.slots.remove(open[pick(rng, open.len())]);
        }
        6 => {
            let last_start = last_start(file);
            let hours = (last_start - now).num_hours().max(2);
            let start = now + Duration::hours(rng.random_range(1..hours));
            // Now and then at the time of another session: its class.
            let start = match rng.random_bool(0.3) {
                true => chrono::DateTime::parse_from_rfc3339(
                    &file.slots[pick(rng, file.slots.len())].start,
                )
                .expect("start"),
                false => start,
            };
            let like = file.slots[pick(rng, file.slots.len())].clone();
            file.slots.push(SlotFile {
                id: format!("added-{k}"),
                start: start.to_rfc3339(),
                ..like
            });
        }
        8 => {
            let last_start = last_start(file);
            let like = file.slots[pick(rng, file.slots.len())].clone();
            file.slots.push(SlotFile {
                id: format!("later-{k}"),
                start: (last_start + Duration::hours(rng.random_range(2..240))).to_rfc3339(),
                ..like
            });
        }
        7 => {
            file.now = (now + Duration::hours(rng.random_range(1..48))).to_rfc3339();
            // A booking in a session that passed is no longer the
            // planner's: it has happened.
            let valid_now = |file: &ScenarioFile| Scenario::from_file(file).is_ok();
            if !valid_now(file) {
                file.now = now.to_rfc3339();
                return false;
            }
        }
        _ => return false,
    }
    true
}

/// What the kept network does not follow starts cold, and the run after
/// goes on again: a referral edited among the others, a session more than
/// two weeks after the last one (the day unplanned referrals count at
/// moves beyond the room the weights have), and withdrawals beyond the
/// number of referrals that may pile up in the kept network. A booking
/// undone, a referral booked as it arrives and a session a few days after
/// the last one are followed.
#[test]
fn the_warm_planner_starts_cold_for_what_it_does_not_follow() {
    let mut file = gelderland();
    let mut warm_planner = planner::WarmPlanner::default();
    let mut last = warm_planner
        .plan(valid(&file), Options::default(), &HashMap::new())
        .expect("first plan");
    let mut replan = |file: &ScenarioFile, last: &mut Outcome| {
        let s = valid(file);
        let warm = warm_planner
            .plan(s.clone(), Options::default(), &tentative(last))
            .expect("warm");
        let cold = planner::plan(&s, Options::default()).expect("cold");
        assert_eq!(warm.plan.score, cold.plan.score);
        *last = warm;
        last.stats.warm
    };
    // A booking undone, and made again.
    let undone = file.pinned.pop().expect("the preset has bookings");
    assert!(replan(&file, &mut last), "booking undone");
    file.pinned.push(undone);
    assert!(replan(&file, &mut last), "booked again");
    // A referral booked as it arrives, like the one placed first (so its
    // rules allow that slot).
    let a = last
        .plan
        .assignments
        .iter()
        .find(|a| !a.pinned)
        .expect("placed");
    let slot = a.slot.clone();
    let mut newcomer = file
        .referrals
        .iter()
        .find(|r| r.id == a.referral)
        .cloned()
        .expect("placed referral");
    newcomer.id = "BOOKED-AT-ONCE".into();
    file.referrals.push(newcomer);
    file.pinned.push(PinFile {
        referral: "BOOKED-AT-ONCE".into(),
        slot,
    });
    assert!(replan(&file, &mut last), "booked at once");
    // A referral edited: it and everyone after it would be new, but they
    // hold placements.
    file.referrals[0].minutes = Some(150);
    assert!(!replan(&file, &mut last), "edited");
    // Sessions after the last one: three days, then a month later.
    let after_the_last = |file: &mut ScenarioFile, id: &str, days: i64| {
        let mut late = file.slots.last().expect("slots").clone();
        late.id = id.into();
        late.start = (last_start(file) + Duration::days(days)).to_rfc3339();
        file.slots.push(late);
    };
    after_the_last(&mut file, "AFTER-THE-LAST", 3);
    assert!(
        replan(&file, &mut last),
        "three days after the last session"
    );
    after_the_last(&mut file, "A-MONTH-LATER", 30);
    assert!(!replan(&file, &mut last), "a month after the last session");
    assert!(replan(&file, &mut last), "nothing changed");
    // Withdrawals one at a time: the kept network carries up to 32 of
    // them (a quarter of the gelderland referrals is fewer), then starts
    // cold and carries none.
    let withdraw = |file: &mut ScenarioFile| {
        let booked: Vec<String> = file.pinned.iter().map(|p| p.referral.clone()).collect();
        let k = (0..file.referrals.len())
            .find(|&k| !booked.contains(&file.referrals[k].id))
            .expect("an unbooked referral");
        file.referrals.remove(k);
    };
    let mut warm_runs = 0;
    loop {
        withdraw(&mut file);
        if !replan(&file, &mut last) {
            break;
        }
        warm_runs += 1;
    }
    assert_eq!(warm_runs, 32);
    withdraw(&mut file);
    assert!(replan(&file, &mut last), "after a cold run, going on again");
}
