//! The advice against a brute force over every subset of the candidates,
//! on small random scenarios; and the promise against a re-plan of the
//! file with the advised sessions added.
//!
//! The brute force shares nothing with the search but the planner: it
//! adds the sessions to the *file*, validates and plans it, and reads the
//! late days from the plan's own output.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::*;
use crate::planner::scenario::SlotFile;
use crate::planner::{self, Scenario};

/// A random small scenario (UTC, `now` 2026-12-01 08:00, slots up to
/// 2026-12-20) and candidates in its horizon.
fn random_case(seed: u64) -> (ScenarioFile, Vec<Candidate>, Options) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let regions = rng.random_range(2..=3);
    let ids = ["a", "b", "c"];
    let mut neighbours: Vec<Vec<&str>> = vec![Vec::new(); regions];
    for i in 0..regions {
        for j in i + 1..regions {
            if rng.random_bool(0.6) {
                neighbours[i].push(ids[j]);
                neighbours[j].push(ids[i]);
            }
        }
    }
    let day = |d: i64| NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date") + Duration::days(d);
    let instant = |d: i64, hour: u32| format!("{}T{hour:02}:00:00Z", day(d));
    let minutes = |rng: &mut ChaCha8Rng| if rng.random_bool(0.25) { 120 } else { 90 };
    let mut slots =
        vec![json!({ "id": "last", "region": "a", "start": instant(19, 9), "minutes": 90 })];
    for i in 0..rng.random_range(0..=4) {
        let region = ids[rng.random_range(0..regions)];
        let start = instant(rng.random_range(0..19), 9);
        let m = minutes(&mut rng);
        slots
            .push(json!({ "id": format!("S{i}"), "region": region, "start": start, "minutes": m }));
    }
    let referrals: Vec<_> = (0..rng.random_range(2..=8))
        .map(|i| {
            let registered = instant(rng.random_range(-21..0), 10);
            let mut r = json!({
                "id": format!("R{i}"),
                "region": ids[rng.random_range(0..regions)],
                "registered": registered,
                "minutes": minutes(&mut rng),
                "cross_region": rng.random_bool(0.8),
            });
            if rng.random_bool(0.2) {
                r["unavailable"] = json!([day(rng.random_range(0..14)).to_string()]);
            }
            r
        })
        .collect();
    let candidates = (0..rng.random_range(1..=7))
        .map(|i| Candidate {
            id: format!("c{i}"),
            region: ids[rng.random_range(0..regions)].into(),
            start: instant(rng.random_range(0..19), 14)
                .parse()
                .expect("an instant"),
            slot_minutes: minutes(&mut rng),
            slots: rng.random_range(1..=2),
        })
        .collect();
    let regions: Vec<_> = (0..regions)
        .map(|g| json!({ "id": ids[g], "neighbours": neighbours[g] }))
        .collect();
    let file = serde_json::from_value(json!({
        "version": 1, "now": "2026-12-01T08:00:00Z", "timezone": "UTC", "norm_days": 14,
        "regions": regions, "slots": slots, "referrals": referrals,
    }))
    .expect("a valid scenario file");
    let options = Options {
        max_extra: rng.random_range(1..=3),
        budget: u64::MAX,
        region: rng.random_bool(0.3).then(|| "a".to_owned()),
    };
    (file, candidates, options)
}

/// The file with the sessions of `set` added, in that order.
fn with_sessions(file: &ScenarioFile, candidates: &[Candidate], set: &[usize]) -> ScenarioFile {
    let mut file = file.clone();
    for &c in set {
        let candidate = &candidates[c];
        for n in 0..candidate.slots {
            let start = candidate.start + Duration::minutes(i64::from(n * candidate.slot_minutes));
            file.slots.push(SlotFile {
                id: format!("advice:{}:{}", candidate.id, n + 1),
                region: candidate.region.clone(),
                start: start.to_rfc3339(),
                minutes: candidate.slot_minutes,
                own_region_only: false,
            });
        }
    }
    file
}

/// Referrals that can still make the norm, of `region` if one, by the
/// definition's words.
fn can_make_it(file: &ScenarioFile, candidates: &[Candidate], region: Option<&str>) -> Vec<bool> {
    let all: Vec<usize> = (0..candidates.len()).collect();
    let s = Scenario::from_file(&with_sessions(file, candidates, &all)).expect("valid");
    let today = s.local_date(s.now);
    (0..s.referrals.len())
        .map(|r| {
            region.is_none_or(|id| s.regions[s.referrals[r].region].id == id)
                && s.referrals[r].due >= today
                && (0..s.slots.len()).any(|x| {
                    s.slots[x].date <= s.referrals[r].due && s.refusal(r, x, true).is_none()
                })
        })
        .collect()
}

/// Plans the file with `set` added; lateness read from the plan's output.
fn replan(
    file: &ScenarioFile,
    candidates: &[Candidate],
    set: &[usize],
    target: &[bool],
) -> Lateness {
    let scenario = Scenario::from_file(&with_sessions(file, candidates, set)).expect("valid");
    let plan = planner::plan(&scenario, planner::Options::default())
        .expect("a plan")
        .plan;
    let late = plan
        .assignments
        .iter()
        .map(|a| (&a.referral, a.late_days))
        .chain(plan.unplanned.iter().map(|u| (&u.referral, u.late_days)));
    let mut out = Lateness {
        score: plan.score,
        unplanned: plan.unplanned.len() as u32,
        ..Lateness::default()
    };
    for (id, days) in late.filter(|(_, d)| *d > 0) {
        let r = scenario
            .referrals
            .iter()
            .position(|x| &x.id == id)
            .expect("known");
        let days = days.unsigned_abs();
        out.late_referrals += 1;
        out.late_days += days;
        out.late_days_sq += days * days;
        out.can_make_it_late += u32::from(target[r]);
    }
    out
}

/// Every subset of `allowed` with at most `k` members, smallest first.
fn subsets(allowed: &[usize], k: usize) -> Vec<Vec<usize>> {
    let n = allowed.len();
    let mut all: Vec<Vec<usize>> = (0u32..1 << n)
        .map(|bits| {
            (0..n)
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| allowed[i])
                .collect::<Vec<_>>()
        })
        .filter(|s| s.len() <= k)
        .collect();
    all.sort_by_key(|s| s.len());
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn advice_equals_the_brute_force_and_keeps_its_promise(seed in any::<u64>()) {
        let (file, candidates, options) = random_case(seed);
        let max_extra = options.max_extra;
        let region = options.region.clone();
        let advice = advise(&file, &candidates, options).expect("advice");
        let target = can_make_it(&file, &candidates, region.as_deref());
        // With a region: its own table's sessions and its neighbours'.
        let tables: Vec<String> = match &region {
            Some(id) => {
                let r = file.regions.iter().find(|r| &r.id == id).expect("known");
                r.neighbours.iter().chain([id]).cloned().collect()
            }
            None => file.regions.iter().map(|r| r.id.clone()).collect(),
        };
        let allowed: Vec<usize> = (0..candidates.len())
            .filter(|&c| tables.contains(&candidates[c].region))
            .collect();

        let plans: Vec<(Vec<usize>, Lateness)> = subsets(&allowed, max_extra)
            .into_iter()
            .map(|set| { let l = replan(&file, &candidates, &set, &target); (set, l) })
            .collect();
        let best_of = |size: usize, meeting: bool| plans.iter()
            .filter(|(s, l)| s.len() == size && (!meeting || l.can_make_it_late == 0))
            .map(|(_, l)| l.score)
            .min();

        prop_assert!(advice.proven_optimal);
        prop_assert_eq!(advice.before, plans[0].1);
        let smallest = (0..=max_extra).find(|&k| best_of(k, true).is_some());
        match (&advice.chosen, smallest) {
            (Some(chosen), Some(k)) => {
                prop_assert_eq!(chosen.sessions.len(), k);
                prop_assert_eq!(Some(chosen.after.score), best_of(k, true));
                prop_assert_eq!(chosen.after, replan(&file, &candidates, &chosen.sessions, &target));
                prop_assert!(advice.tradeoff.is_empty());
            }
            (None, None) => {
                prop_assert_eq!(advice.tradeoff.len(), max_extra.min(advice.usable_candidates));
                for (i, choice) in advice.tradeoff.iter().enumerate() {
                    prop_assert_eq!(choice.sessions.len(), i + 1);
                    prop_assert_eq!(Some(choice.after.score), best_of(i + 1, false));
                    prop_assert_eq!(choice.after, replan(&file, &candidates, &choice.sessions, &target));
                }
            }
            (chosen, smallest) => prop_assert!(false, "advice {:?}, brute force {:?}", chosen, smallest),
        }
    }
}
