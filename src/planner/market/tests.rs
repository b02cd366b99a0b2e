use chrono::{Duration, SecondsFormat};

use super::*;
use crate::config::RegionsConfig;
use crate::generator;
use crate::planner::cost::cost;

/// Gelderland with awkward referrals: some registered after the first
/// slots (not monotone in waiting), some with an earliest date, a day they
/// cannot come, or a longer conversation.
fn awkward() -> Scenario {
    let config = RegionsConfig::builtin().expect("built-in config");
    let options = generator::preset("gelderland").expect("preset");
    let mut file = generator::generate(&config, &options).expect("scenario");
    // Bookings would break the rules changed below; the market ignores
    // pinned referrals anyway.
    file.pinned.clear();
    let now = Scenario::from_file(&file).expect("valid").now;
    for (k, r) in file.referrals.iter_mut().enumerate() {
        if k % 7 == 0 {
            let later = now + Duration::days(10 + k as i64 % 20);
            r.registered = later.to_rfc3339_opts(SecondsFormat::Secs, true);
            r.due = None;
        }
        if k % 5 == 1 {
            let date = (now + Duration::days(9)).date_naive();
            r.unavailable = vec![date.to_string()];
        }
        if k % 3 == 2 {
            r.earliest = Some(
                (now + Duration::days(k as i64 % 15))
                    .date_naive()
                    .to_string(),
            );
        }
        if k % 4 == 3 {
            r.minutes = Some(120);
        }
    }
    Scenario::from_file(&file).expect("still valid")
}

/// Every allowed class, costed and sorted: the market as it was built
/// before lanes.
fn materialised(market: &Market, i: usize) -> Vec<Candidate> {
    let scenario = market.scenario();
    let r = market.free[i];
    let mut list: Vec<Candidate> = (0..market.classes.len())
        .filter(|&c| {
            let slot = market.classes[c].slots[0];
            scenario.refusal(r, slot, true).is_none()
        })
        .map(|c| Candidate {
            class: c,
            cost: cost(
                scenario,
                r,
                market.classes[c].date,
                Some(market.classes[c].region),
            ),
        })
        .collect();
    list.sort_by_key(|cand| (cand.cost, cand.class));
    list
}

#[test]
fn lanes_give_every_allowed_class_in_cost_order() {
    let s = awkward();
    let market = Market::build(&s);
    let mut pairs = 0;
    for i in 0..market.free.len() {
        let expected = materialised(&market, i);
        assert_eq!(market.candidates(i), expected, "referral {i}");
        for cand in &expected {
            assert!(market.allows(i, cand.class));
            assert_eq!(market.cost(i, cand.class), cand.cost);
        }
        pairs += expected.len();
        assert_eq!(market.pairs_of(i), expected.len(), "referral {i}");
        let (low, high) = market.level_ranges(i);
        for j in 0..Cost::LEVELS {
            let levels = expected
                .iter()
                .map(|c| c.cost)
                .chain([market.unplanned_cost[i]])
                .map(|c| c.level(j));
            assert_eq!(low[j], levels.clone().min().expect("unplanned"));
            assert_eq!(high[j], levels.max().expect("unplanned"));
        }
    }
    assert_eq!(market.candidate_pairs(), pairs);
}

#[test]
fn a_bound_drops_whole_lanes() {
    let s = awkward();
    let market = Market::build(&s);
    for i in 0..market.free.len() {
        let home = s.referrals[market.free[i]].region;
        let mut lanes = market.candidates_of(i);
        let mut kept = Vec::new();
        while let Some(cand) = lanes.next_bounded(|g, _, _| g == home) {
            kept.push(cand);
        }
        let expected: Vec<Candidate> = market
            .candidates(i)
            .into_iter()
            .filter(|c| {
                // Classes before the registration are never dropped.
                let registered = s.referrals[market.free[i]].registered_date;
                let class = &market.classes[c.class];
                class.region == home || class.date < registered
            })
            .collect();
        assert_eq!(kept, expected, "referral {i}");
    }
}
