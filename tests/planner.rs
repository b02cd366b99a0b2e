//! The planner against the format's example and against brute force.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use jbt::planner::model::{Market, Settings};
use jbt::planner::plan::{referral_cost, violations};
use jbt::planner::scenario::{PinFile, ReferralFile, RegionFile, SlotFile};
use jbt::planner::verify::lp_score;
use jbt::planner::{self, Options, Plan, Scenario, ScenarioFile, Score};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EXAMPLE: &str = include_str!("../examples/example-scenario.json");

/// One candidate arc per referral and no greedy start, so pricing has to
/// find every other place.
const LEAN: Settings = Settings {
    initial_candidates: 1,
    greedy_start: false,
};

fn scenario(text: &str) -> Scenario {
    Scenario::parse_json(text, &mut |w| panic!("unexpected warning {w}")).expect("valid scenario")
}

#[test]
fn the_example_gets_the_optimal_plan_of_the_format() {
    let s = scenario(EXAMPLE);
    let out = planner::plan(&s, Options::default()).expect("plan");
    let p = &out.plan;
    assert_eq!(
        p.score,
        Score {
            unplanned: 1,
            late_days_sq: 4,
            cross_region: 1,
            wait_days_sq: 481
        }
    );
    let placed: Vec<(&str, &str, i64, i64, bool)> = p
        .assignments
        .iter()
        .map(|a| {
            (
                a.referral.as_str(),
                a.slot.as_str(),
                a.wait_days,
                a.late_days,
                a.cross_region,
            )
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            ("R-0999", "fv-1202-a", 12, 0, true),
            ("R-1001", "fv-1203-a", 9, 0, false)
        ]
    );
    assert_eq!(p.unplanned.len(), 1);
    assert_eq!(p.unplanned[0].referral, "R-1002");
    assert_eq!(
        p.unplanned[0].reason,
        "no free slot of 120 minutes in food-valley or its neighbours"
    );
}

#[test]
fn the_plan_json_has_the_fields_of_the_format() {
    let s = scenario(EXAMPLE);
    let out = planner::plan(&s, Options::default()).expect("plan");
    let json: serde_json::Value = serde_json::to_value(&out.plan).expect("json");
    let a = &json["assignments"][0];
    for field in [
        "referral",
        "slot",
        "region",
        "date",
        "wait_days",
        "late_days",
        "cross_region",
    ] {
        assert!(a.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["assignments"][0]["date"], "2026-12-02");
    assert_eq!(json["score"]["wait_days_sq"], 481);
    assert!(a.get("explain").is_none(), "no explanation unless asked");
}

#[test]
fn explanations_name_the_home_table_and_the_taken_places() {
    // Two food-valley referrals, one early home slot, one neighbour slot in norm.
    let text = r#"{
      "version": 1, "now": "2026-12-01T08:00:00+01:00", "timezone": "Europe/Amsterdam", "norm_days": 14,
      "regions": [
        {"id": "food-valley", "name": "FoodValley", "neighbours": ["centraal-gelderland"]},
        {"id": "centraal-gelderland", "name": "Centraal Gelderland", "neighbours": ["food-valley"]}
      ],
      "slots": [
        {"id": "fv-1", "region": "food-valley", "start": "2026-12-02T09:00:00+01:00", "minutes": 120},
        {"id": "fv-2", "region": "food-valley", "start": "2026-12-16T09:00:00+01:00", "minutes": 120},
        {"id": "cg-1", "region": "centraal-gelderland", "start": "2026-12-10T09:00:00+01:00", "minutes": 120}
      ],
      "referrals": [
        {"id": "R-1", "region": "food-valley", "registered": "2026-11-20T10:00:00+01:00", "minutes": 120},
        {"id": "R-2", "region": "food-valley", "registered": "2026-11-30T10:00:00+01:00", "minutes": 120}
      ]
    }"#;
    let s = scenario(text);
    let out = planner::plan(
        &s,
        Options {
            explain: true,
            ..Options::default()
        },
    )
    .expect("plan");
    let r1 = out
        .plan
        .assignments
        .iter()
        .find(|a| a.referral == "R-1")
        .expect("R-1");
    let r2 = out
        .plan
        .assignments
        .iter()
        .find(|a| a.referral == "R-2")
        .expect("R-2");
    // R-1 is due 04-12: the first slot keeps it in norm. R-2 (due 14-12) would be
    // 2 days late at home on 16-12, so it goes to Centraal Gelderland on 10-12.
    assert_eq!((r1.slot.as_str(), r2.slot.as_str()), ("fv-1", "cg-1"));
    let why = &r2.explain.as_ref().expect("explanation").summary;
    assert!(
        why.contains("De eerste vrije plek van 120 minuten in FoodValley is 16-12 (2 dagen over de norm); Centraal Gelderland 10-12 blijft binnen de norm."),
        "{why}"
    );
    assert!(why.contains("FoodValley 02-12 (bezet door R-1)"), "{why}");
    let alternatives = &r2.explain.as_ref().expect("explanation").alternatives;
    assert_eq!(
        alternatives[0].text,
        "FoodValley 02-12: binnen de norm, bezet door R-1"
    );
    assert_eq!(
        alternatives[1].text,
        "FoodValley 16-12: 2 dagen over de norm, 1 vrij"
    );
}

#[test]
fn slots_before_now_are_not_used_but_pins_in_the_past_are_kept() {
    let text = EXAMPLE.replace(
        "\"now\": \"2026-12-01T08:00:00+01:00\"",
        "\"now\": \"2026-12-02T10:00:00+01:00\"",
    );
    let s = scenario(&text);
    let out = planner::plan(&s, Options::default()).expect("plan");
    // The pinned R-0999 keeps fv-1202-a though it started at 09:00.
    assert!(out
        .plan
        .assignments
        .iter()
        .any(|a| a.referral == "R-0999" && a.pinned));
    assert!(violations(&s, &out.slot_of).is_empty());
}

#[test]
fn dates_follow_the_local_calendar_across_daylight_saving_time() {
    // 2026-10-25 03:00 CEST -> 02:00 CET. 23:30Z on 24 Oct is 01:30 CEST on the 25th;
    // 23:30Z on 25 Oct is 00:30 CET on the 26th.
    let text = r#"{
      "version": 1, "now": "2026-10-20T08:00:00Z", "timezone": "Europe/Amsterdam", "norm_days": 14,
      "regions": [{"id": "a", "neighbours": []}],
      "slots": [{"id": "s1", "region": "a", "start": "2026-10-25T23:30:00Z", "minutes": 90}],
      "referrals": [{"id": "R-1", "region": "a", "registered": "2026-10-24T23:30:00Z"}]
    }"#;
    let s = scenario(text);
    let out = planner::plan(&s, Options::default()).expect("plan");
    let a = &out.plan.assignments[0];
    assert_eq!(a.date.to_string(), "2026-10-26");
    assert_eq!(a.wait_days, 1);
    assert_eq!(a.start.to_rfc3339(), "2026-10-26T00:30:00+01:00");
}

/// A small random scenario, described by its seed so failures reproduce.
fn random_scenario(seed: u64) -> ScenarioFile {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 7, 0, 0)
        .single()
        .expect("time");
    let region_count = rng.random_range(1..=3);
    let ids = ["a", "b", "c"];
    let regions: Vec<RegionFile> = (0..region_count)
        .map(|i| RegionFile {
            id: ids[i].into(),
            // A chain a - b - c: b neighbours both, a and c only b.
            neighbours: (0..region_count)
                .filter(|&j| j + 1 == i || i + 1 == j)
                .map(|j| ids[j].to_string())
                .collect(),
            name: None,
        })
        .collect();
    let slot_count = rng.random_range(0..=6);
    let slots: Vec<SlotFile> = (0..slot_count)
        .map(|i| {
            let start = now + Duration::hours(rng.random_range(-30..24 * 30));
            SlotFile {
                id: format!("s{i}"),
                region: ids[rng.random_range(0..region_count)].into(),
                start: start.to_rfc3339(),
                minutes: if rng.random_bool(0.3) { 120 } else { 90 },
                own_region_only: rng.random_bool(0.2),
            }
        })
        .collect();
    let referral_count = rng.random_range(0..=5);
    let referrals: Vec<ReferralFile> = (0..referral_count)
        .map(|i| {
            let registered = now - Duration::hours(rng.random_range(0..24 * 25));
            let start_date = (now + Duration::days(rng.random_range(0..20))).date_naive();
            ReferralFile {
                id: format!("R{i}"),
                region: ids[rng.random_range(0..region_count)].into(),
                registered: registered.to_rfc3339(),
                due: rng.random_bool(0.2).then(|| start_date.to_string()),
                earliest: rng.random_bool(0.2).then(|| start_date.to_string()),
                unavailable: if rng.random_bool(0.3) {
                    vec![(now + Duration::days(rng.random_range(0..20)))
                        .date_naive()
                        .to_string()]
                } else {
                    Vec::new()
                },
                minutes: rng.random_bool(0.3).then_some(120),
                cross_region: rng.random_bool(0.2).then_some(false),
                excluded_regions: Vec::new(),
            }
        })
        .collect();
    let mut file = ScenarioFile {
        version: 1,
        now: now.to_rfc3339(),
        timezone: "Europe/Amsterdam".into(),
        norm_days: 14,
        regions,
        slots,
        referrals,
        pinned: Vec::new(),
    };
    // Pin a referral where the rules allow it, sometimes.
    if rng.random_bool(0.5) {
        if let Ok(s) = Scenario::from_file(&file) {
            let found = (0..s.referrals.len())
                .flat_map(|r| (0..s.slots.len()).map(move |k| (r, k)))
                .find(|&(r, k)| s.refusal(r, k, false).is_none());
            if let Some((r, k)) = found {
                file.pinned.push(PinFile {
                    referral: s.referrals[r].id.clone(),
                    slot: s.slots[k].id.clone(),
                });
            }
        }
    }
    file
}

/// The best score over every possible placement, by enumeration.
fn brute_force(s: &Scenario) -> Score {
    fn go(
        s: &Scenario,
        r: usize,
        slot_of: &mut Vec<Option<usize>>,
        used: &mut Vec<bool>,
        best: &mut Option<Score>,
    ) {
        if r == s.referrals.len() {
            let score = Plan::score_of(s, slot_of);
            if best.is_none_or(|b| score < b) {
                *best = Some(score);
            }
            return;
        }
        if let Some(&(_, k)) = s.pinned.iter().find(|(pr, _)| *pr == r) {
            slot_of[r] = Some(k);
            go(s, r + 1, slot_of, used, best);
            return;
        }
        slot_of[r] = None;
        go(s, r + 1, slot_of, used, best);
        for k in 0..s.slots.len() {
            if !used[k] && s.refusal(r, k, true).is_none() {
                used[k] = true;
                slot_of[r] = Some(k);
                go(s, r + 1, slot_of, used, best);
                used[k] = false;
            }
        }
        slot_of[r] = None;
    }
    let mut used = vec![false; s.slots.len()];
    for &(_, k) in &s.pinned {
        used[k] = true;
    }
    let mut best = None;
    go(
        s,
        0,
        &mut vec![None; s.referrals.len()],
        &mut used,
        &mut best,
    );
    best.unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_planner_matches_brute_force_and_keeps_every_rule(seed in any::<u64>()) {
        let file = random_scenario(seed);
        let s = Scenario::from_file(&file).expect("generated scenarios are valid");
        // Start from one candidate per referral, so pricing has to find the rest.
        let lean = Options { explain: true, model: LEAN, ..Options::default() };
        let out = planner::plan(&s, lean).expect("plan");
        prop_assert!(violations(&s, &out.slot_of).is_empty(), "{:?}", violations(&s, &out.slot_of));
        prop_assert_eq!(out.plan.score, brute_force(&s));
        prop_assert_eq!(out.plan.score, Plan::score_of(&s, &out.slot_of));
        // Every referral exactly once, in assignments or unplanned.
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for id in out.plan.assignments.iter().map(|a| &a.referral).chain(out.plan.unplanned.iter().map(|u| &u.referral)) {
            *seen.entry(id.as_str()).or_default() += 1;
        }
        prop_assert_eq!(seen.len(), s.referrals.len());
        prop_assert!(seen.values().all(|&n| n == 1));
        // Reported days agree with the scenario.
        for a in &out.plan.assignments {
            let r = s.referrals.iter().position(|x| x.id == a.referral).expect("known");
            let k = s.slots.iter().position(|x| x.id == a.slot).expect("known");
            let cost = referral_cost(&s, r, Some(k));
            prop_assert_eq!(a.late_days * a.late_days, cost.late_sq);
            prop_assert_eq!(a.wait_days * a.wait_days, cost.wait_sq);
        }
    }
}

/// A medium scenario: too big to enumerate, big enough for pricing to matter.
fn medium_scenario(seed: u64) -> ScenarioFile {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut file = random_scenario(seed);
    let regions: Vec<String> = file.regions.iter().map(|r| r.id.clone()).collect();
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 7, 0, 0)
        .single()
        .expect("time");
    for i in 0..rng.random_range(10..40) {
        file.slots.push(SlotFile {
            id: format!("m{i}"),
            region: regions[rng.random_range(0..regions.len())].clone(),
            start: (now + Duration::hours(rng.random_range(0..24 * 40))).to_rfc3339(),
            minutes: if rng.random_bool(0.25) { 120 } else { 90 },
            own_region_only: rng.random_bool(0.1),
        });
    }
    for i in 0..rng.random_range(10..45) {
        file.referrals.push(ReferralFile {
            id: format!("M{i}"),
            region: regions[rng.random_range(0..regions.len())].clone(),
            registered: (now - Duration::hours(rng.random_range(0..24 * 20))).to_rfc3339(),
            due: None,
            earliest: None,
            unavailable: Vec::new(),
            minutes: rng.random_bool(0.25).then_some(120),
            cross_region: None,
            excluded_regions: Vec::new(),
        });
    }
    file
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn pricing_left_out_arcs_finds_the_score_of_the_full_network(seed in any::<u64>()) {
        let s = Scenario::from_file(&medium_scenario(seed)).expect("valid");
        let lean = planner::plan(&s, Options { explain: false, model: LEAN, ..Options::default() }).expect("plan");
        let usual = planner::plan(&s, Options::default()).expect("plan");
        let naive = planner::plan(&s, Options { explain: false, model: Settings::NAIVE, ..Options::default() }).expect("plan");
        prop_assert_eq!(lean.plan.score, naive.plan.score);
        prop_assert_eq!(usual.plan.score, naive.plan.score);
        prop_assert!(violations(&s, &lean.slot_of).is_empty());
        prop_assert!(naive.stats.arcs_in_model >= lean.stats.arcs_in_model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// The flow planner and the general LP formulation (good_lp on
    /// microlp), two independent methods, find the same score.
    #[test]
    fn the_flow_and_the_lp_formulation_agree(seed in any::<u64>()) {
        for file in [random_scenario(seed), medium_scenario(seed)] {
            let s = Scenario::from_file(&file).expect("valid");
            let flow = planner::plan(&s, Options::default()).expect("plan");
            let market = Market::build(&s);
            let lp = lp_score(&s, &market).expect("LP solves");
            prop_assert_eq!(flow.plan.score, lp);
        }
    }
}

#[test]
fn pricing_adds_the_places_a_lean_start_leaves_out() {
    // Three referrals of one region whose cheapest place is the same slot:
    // starting with one candidate each, only pricing can find the others.
    let text = r#"{
      "version": 1, "now": "2026-12-01T08:00:00+01:00", "timezone": "Europe/Amsterdam", "norm_days": 14,
      "regions": [{"id": "a", "neighbours": []}],
      "slots": [
        {"id": "s1", "region": "a", "start": "2026-12-02T09:00:00+01:00", "minutes": 90},
        {"id": "s2", "region": "a", "start": "2026-12-09T09:00:00+01:00", "minutes": 90},
        {"id": "s3", "region": "a", "start": "2026-12-16T09:00:00+01:00", "minutes": 90}
      ],
      "referrals": [
        {"id": "R-1", "region": "a", "registered": "2026-11-20T10:00:00+01:00"},
        {"id": "R-2", "region": "a", "registered": "2026-11-25T10:00:00+01:00"},
        {"id": "R-3", "region": "a", "registered": "2026-11-30T10:00:00+01:00"}
      ]
    }"#;
    let s = scenario(text);
    let lean = Options {
        explain: false,
        model: LEAN,
        anonymous: false,
    };
    let out = planner::plan(&s, lean).expect("plan");
    let order: Vec<(&str, &str)> = out
        .plan
        .assignments
        .iter()
        .map(|a| (a.referral.as_str(), a.slot.as_str()))
        .collect();
    // Squared waiting favours the longest waiter: first come, first served.
    assert_eq!(order, vec![("R-1", "s1"), ("R-2", "s2"), ("R-3", "s3")]);
    // One candidate arc per referral at the start, everyone unplanned;
    // pricing added the others.
    assert!(out.stats.arcs_in_model > 3, "{:?}", out.stats);
    assert!(out.stats.pricing_rounds > 1, "{:?}", out.stats);
}

/// Two tables; `b-1` is the earliest slot but kept for region b's own
/// referrals (`own_region_only`). R-A (region a, may cross) would be in norm
/// only there.
const OWN_REGION_ONLY: &str = r#"{
  "version": 1, "now": "2026-12-01T08:00:00+01:00", "timezone": "Europe/Amsterdam", "norm_days": 14,
  "regions": [
    {"id": "a", "name": "Alfa", "neighbours": ["b"]},
    {"id": "b", "name": "Bravo", "neighbours": ["a"]}
  ],
  "slots": [
    {"id": "b-1", "region": "b", "start": "2026-12-02T09:00:00+01:00", "minutes": 90, "own_region_only": true},
    {"id": "a-1", "region": "a", "start": "2026-12-23T09:00:00+01:00", "minutes": 90}
  ],
  "referrals": [
    {"id": "R-A", "region": "a", "registered": "2026-11-20T10:00:00+01:00"}
  ]
}"#;

#[test]
fn an_own_region_only_slot_is_not_given_to_a_neighbouring_region() {
    let s = scenario(OWN_REGION_ONLY);
    let out = planner::plan(
        &s,
        Options {
            explain: true,
            ..Options::default()
        },
    )
    .expect("plan");
    let placed: Vec<(&str, &str)> = out
        .plan
        .assignments
        .iter()
        .map(|a| (a.referral.as_str(), a.slot.as_str()))
        .collect();
    // 19 days late at home rather than in norm at b's table: b-1 is b's own.
    assert_eq!(placed, vec![("R-A", "a-1")]);
    assert_eq!(out.plan.assignments[0].late_days, 19);
    let explanation = out.plan.assignments[0].explain.as_ref().expect("explained");
    assert!(
        explanation.alternatives.iter().all(|alt| alt.region != "b"),
        "{explanation:?}"
    );
    // Without the flag the same referral goes to b-1, in norm.
    let open = scenario(&OWN_REGION_ONLY.replace(", \"own_region_only\": true", ""));
    let out = planner::plan(&open, Options::default()).expect("plan");
    assert_eq!(out.plan.assignments[0].slot, "b-1");
}

#[test]
fn the_plan_checker_refuses_a_neighbour_in_an_own_region_only_slot() {
    let s = scenario(OWN_REGION_ONLY);
    let b1 = s.slots.iter().position(|x| x.id == "b-1").expect("b-1");
    let problems = violations(&s, &[Some(b1)]);
    assert_eq!(problems, vec!["R-A in b-1: OwnRegionOnly".to_string()]);
    // Region b's own referrals may take it.
    let own = scenario(&OWN_REGION_ONLY.replace(
        r#""id": "R-A", "region": "a""#,
        r#""id": "R-A", "region": "b""#,
    ));
    assert!(violations(&own, &[Some(b1)]).is_empty());
}

#[test]
fn a_confirmed_booking_in_an_own_region_only_slot_is_kept() {
    // A booking made through an accepted offer before the slot was marked.
    let text = OWN_REGION_ONLY.replace(
        r#""referrals": ["#,
        r#""pinned": [{"referral": "R-A", "slot": "b-1"}], "referrals": ["#,
    );
    let s = scenario(&text);
    let out = planner::plan(&s, Options::default()).expect("plan");
    assert_eq!(out.plan.assignments[0].slot, "b-1");
    assert!(out.plan.assignments[0].pinned);
    assert!(violations(&s, &out.slot_of).is_empty());
}
