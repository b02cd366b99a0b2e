//! Unit tests of the advice on hand-made scenarios (UTC, norm 14 days,
//! `now` Tuesday 2026-12-01 08:00).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;

/// A scenario: `regions` as (id, neighbours), `slots` as (region, start),
/// `referrals` as (region, registered): 90-minute slots, referrals due 14
/// days after registration.
fn scenario(
    regions: &[(&str, &[&str])],
    slots: &[(&str, &str)],
    referrals: &[(&str, &str)],
) -> ScenarioFile {
    let regions: Vec<_> = regions
        .iter()
        .map(|(id, n)| json!({ "id": id, "neighbours": n }))
        .collect();
    let slots: Vec<_> = slots
        .iter()
        .enumerate()
        .map(|(i, (region, start))| {
            json!({ "id": format!("S{i}"), "region": region, "start": start, "minutes": 90 })
        })
        .collect();
    let referrals: Vec<_> = referrals
        .iter()
        .enumerate()
        .map(|(i, (region, registered))| {
            json!({ "id": format!("R{i}"), "region": region, "registered": registered })
        })
        .collect();
    serde_json::from_value(json!({
        "version": 1, "now": "2026-12-01T08:00:00Z", "timezone": "UTC", "norm_days": 14,
        "regions": regions, "slots": slots, "referrals": referrals,
    }))
    .expect("a valid scenario file")
}

fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().expect("an RFC 3339 instant")
}

fn candidate(id: &str, region: &str, start: &str, slots: u32) -> Candidate {
    Candidate {
        id: id.into(),
        region: region.into(),
        start: at(start),
        slot_minutes: 90,
        slots,
    }
}

fn options(max_extra: usize) -> Options {
    Options {
        max_extra,
        budget: 10_000,
        region: None,
    }
}

/// Two regions, each the other's neighbour; the horizon ends on 2026-12-31.
const AB: &[(&str, &[&str])] = &[("a", &["b"]), ("b", &["a"])];

#[test]
fn a_plan_already_within_the_norm_needs_no_extra_session() {
    let file = scenario(
        AB,
        &[("a", "2026-12-03T09:00:00Z"), ("a", "2026-12-31T09:00:00Z")],
        &[("a", "2026-11-25T10:00:00Z")],
    );
    let candidates = [candidate("x", "a", "2026-12-02T09:00:00Z", 1)];

    let advice = advise(&file, &candidates, options(3)).expect("advice");

    let chosen = advice.chosen.expect("a choice");
    assert!(chosen.sessions.is_empty());
    assert_eq!(chosen.after, advice.before);
    assert!(advice.tradeoff.is_empty());
    assert!(advice.proven_optimal);
    assert_eq!(advice.evaluations, 1);
}

#[test]
fn the_fewest_sessions_are_chosen_and_their_promise_is_the_plan() {
    // Three referrals due 2026-12-04/05; only one slot in time.
    let file = scenario(
        AB,
        &[("a", "2026-12-02T09:00:00Z"), ("a", "2026-12-31T09:00:00Z")],
        &[
            ("a", "2026-11-20T10:00:00Z"),
            ("a", "2026-11-21T10:00:00Z"),
            ("a", "2026-11-21T11:00:00Z"),
        ],
    );
    let candidates = [
        candidate("late", "a", "2026-12-10T09:00:00Z", 2),
        candidate("one", "a", "2026-12-03T09:00:00Z", 1),
        candidate("two", "a", "2026-12-03T13:00:00Z", 2),
    ];

    let advice = advise(&file, &candidates, options(3)).expect("advice");

    assert_eq!(advice.before.can_make_it_late, 2);
    let chosen = advice.chosen.expect("a choice");
    assert_eq!(chosen.sessions, vec![2]);
    assert_eq!(chosen.after.can_make_it_late, 0);
    assert_eq!(
        chosen.takes[0].by_region,
        vec![RegionCount {
            region: "a".into(),
            referrals: 2
        }]
    );
    assert!(advice.proven_optimal);
}

#[test]
fn a_neighbours_extra_session_can_be_the_answer_for_another_regions_families() {
    // a's own table has nothing in time; b, its neighbour, could.
    let file = scenario(
        AB,
        &[("a", "2026-12-31T09:00:00Z"), ("b", "2026-12-31T09:00:00Z")],
        &[("a", "2026-11-20T10:00:00Z")],
    );
    let candidates = [
        candidate("a-late", "a", "2026-12-08T09:00:00Z", 1),
        candidate("b-soon", "b", "2026-12-03T09:00:00Z", 1),
    ];

    let advice = advise(&file, &candidates, options(2)).expect("advice");

    let chosen = advice.chosen.expect("a choice");
    assert_eq!(chosen.sessions, vec![1]);
    assert_eq!(chosen.takes[0].session.region, "b");
    assert_eq!(
        chosen.takes[0].by_region,
        vec![RegionCount {
            region: "a".into(),
            referrals: 1
        }]
    );
}

#[test]
fn advice_for_one_region_counts_its_referrals_and_tries_its_tables_and_neighbours() {
    // a's referral is late and could use b's session; so could c's, and c
    // is no neighbour of a. b's session has a place for each.
    let regions: &[(&str, &[&str])] = &[("a", &["b"]), ("b", &["a", "c"]), ("c", &["b"])];
    let file = scenario(
        regions,
        &[("a", "2026-12-31T09:00:00Z")],
        &[("a", "2026-11-20T10:00:00Z"), ("c", "2026-11-20T10:00:00Z")],
    );
    let candidates = [
        candidate("c-soon", "c", "2026-12-02T09:00:00Z", 1),
        candidate("b-soon", "b", "2026-12-03T09:00:00Z", 2),
    ];
    let for_region = |id: &str| Options {
        region: Some(id.into()),
        ..options(2)
    };

    let a = advise(&file, &candidates, for_region("a")).expect("advice for a");
    let nowhere = advise(&file, &candidates, for_region("x")).expect_err("unknown");

    assert_eq!(a.before.can_make_it_late, 1, "c's referral is not counted");
    assert_eq!(a.usable_candidates, 1, "c is no neighbour of a");
    assert_eq!(a.chosen.expect("a choice").sessions, vec![1]);
    assert!(matches!(nowhere, AdviceError::Region(_)));
}

#[test]
fn when_no_set_does_it_the_tradeoff_per_number_of_sessions_is_given() {
    // Four referrals due 2026-12-05, one place per candidate: two extra
    // sessions rescue two of them at most.
    let file = scenario(
        AB,
        &[("a", "2026-12-31T09:00:00Z")],
        &[
            ("a", "2026-11-21T10:00:00Z"),
            ("a", "2026-11-21T11:00:00Z"),
            ("a", "2026-11-21T12:00:00Z"),
            ("b", "2026-11-21T13:00:00Z"),
        ],
    );
    let candidates = [
        candidate("x", "a", "2026-12-02T09:00:00Z", 1),
        candidate("y", "a", "2026-12-04T09:00:00Z", 1),
    ];

    let advice = advise(&file, &candidates, options(3)).expect("advice");

    assert!(advice.chosen.is_none());
    assert_eq!(advice.tradeoff.len(), 2, "only two usable candidates");
    let [one, two] = [&advice.tradeoff[0], &advice.tradeoff[1]];
    assert_eq!(one.sessions.len(), 1);
    assert_eq!(two.sessions, vec![0, 1]);
    assert!(two.after.late_days < one.after.late_days);
    assert!(one.after.late_days < advice.before.late_days);
    assert_eq!(two.after.can_make_it_late, 2);
    assert!(advice.proven_optimal);
}

#[test]
fn a_used_up_budget_says_the_answer_is_not_proven_optimal() {
    let file = scenario(
        AB,
        &[("a", "2026-12-31T09:00:00Z")],
        &[("a", "2026-11-21T10:00:00Z"), ("a", "2026-11-21T11:00:00Z")],
    );
    let candidates: Vec<Candidate> = (2..9)
        .map(|d| candidate(&format!("c{d}"), "a", &format!("2026-12-0{d}T09:00:00Z"), 1))
        .collect();
    let tight = Options {
        max_extra: 2,
        budget: 3,
        region: None,
    };

    let advice = advise(&file, &candidates, tight).expect("advice");

    assert!(!advice.proven_optimal);
    assert!(advice.evaluations <= 3);
}

#[test]
fn a_budget_used_up_looking_for_the_norm_still_leaves_a_tradeoff() {
    // T (due 2026-12-04) and L (due 2026-11-24, already late) share one
    // early place at best with one extra session, and the planner gives it
    // to L: every single session passes the matching and fails the plan.
    let file = scenario(
        AB,
        &[("a", "2026-12-31T09:00:00Z")],
        &[("a", "2026-11-20T10:00:00Z"), ("a", "2026-11-10T10:00:00Z")],
    );
    let candidates: Vec<Candidate> = ["02T09", "02T14", "03T09", "03T14", "04T09", "04T14"]
        .iter()
        .map(|at| candidate(at, "a", &format!("2026-12-{at}:00:00Z"), 1))
        .collect();
    let tight = Options {
        max_extra: 2,
        budget: 6,
        region: None,
    };

    let advice = advise(&file, &candidates, tight).expect("advice");

    assert!(advice.chosen.is_none(), "the norm's share ran out first");
    assert!(!advice.tradeoff.is_empty());
    assert!(!advice.proven_optimal);
    assert!(advice.evaluations <= 6);
}

#[test]
fn candidates_that_cannot_be_used_are_refused_by_name() {
    let file = scenario(AB, &[("a", "2026-12-31T09:00:00Z")], &[]);
    let unknown = [candidate("x", "nowhere", "2026-12-02T09:00:00Z", 1)];
    let beyond = [candidate("y", "a", "2027-01-05T09:00:00Z", 1)];

    let unknown = advise(&file, &unknown, options(1)).expect_err("unknown region");
    let beyond = advise(&file, &beyond, options(1)).expect_err("after the horizon");
    let zero = advise(&file, &[], options(0)).expect_err("max_extra 0");

    assert!(unknown.to_string().contains("unknown region \"nowhere\""));
    assert!(beyond
        .to_string()
        .contains("after the scenario's last slot date"));
    assert!(matches!(zero, AdviceError::MaxExtra(0)));
}

#[test]
fn scenario_file_candidates_are_the_tables_sessions_on_its_other_weekdays() {
    // Region a: Tuesdays 09:00, two back-to-back slots; now is Tuesday
    // 2026-12-01 08:00; the horizon is Tuesday 2026-12-08.
    let file = scenario(
        AB,
        &[
            ("a", "2026-12-01T09:00:00Z"),
            ("a", "2026-12-01T10:30:00Z"),
            ("a", "2026-12-08T09:00:00Z"),
            ("a", "2026-12-08T10:30:00Z"),
        ],
        &[],
    );

    let candidates = from_scenario_file(&file).expect("candidates");

    let days: Vec<String> = candidates.iter().map(|c| c.start.to_rfc3339()).collect();
    assert_eq!(
        days,
        [
            "2026-12-02T09:00:00+00:00",
            "2026-12-03T09:00:00+00:00",
            "2026-12-04T09:00:00+00:00",
            "2026-12-07T09:00:00+00:00",
        ]
    );
    assert!(candidates
        .iter()
        .all(|c| c.region == "a" && c.slots == 2 && c.slot_minutes == 90));
    assert_eq!(candidates[0].id, "a-2026-12-02-0900");
}
