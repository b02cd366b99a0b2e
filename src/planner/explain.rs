//! Explanations: why a referral got its slot, in words a chair understands.
//!
//! The reasoning rests on optimality: in an optimal plan every place that
//! would have been better for a referral is taken by another referral
//! (otherwise moving it there would improve the score). So the explanation
//! names those places and who holds them, and, for a move to another table,
//! what the home table could have offered.

use chrono::NaiveDate;

use super::model::{Cost, Market};
use super::plan::{Alternative, Explanation};
use super::scenario::Scenario;

/// How many alternatives an explanation lists.
const ALTERNATIVES: usize = 3;

/// Occupancy of the free slot classes in a finished plan.
pub struct Occupancy {
    /// Referral indexes holding places of each class.
    pub holders: Vec<Vec<usize>>,
    /// Leave out who holds a place (the service: a referral's explanation
    /// must not show other families' references).
    pub anonymous: bool,
}

impl Occupancy {
    /// Who holds each class, from the chosen class per free referral
    /// (`class_of[i]` belongs to `market.free[i]`, `None` = unplanned).
    pub fn new(market: &Market<'_>, class_of: &[Option<usize>], anonymous: bool) -> Occupancy {
        let mut holders = vec![Vec::new(); market.classes.len()];
        for (i, class) in class_of.iter().enumerate() {
            if let (Some(c), false) = (class, market.is_gone(i)) {
                holders[*c].push(market.free[i]);
            }
        }
        Occupancy { holders, anonymous }
    }

    /// Who holds the places of class `c`, unless anonymous.
    fn holder_ids(&self, scenario: &Scenario, c: usize) -> Vec<String> {
        if self.anonymous {
            return Vec::new();
        }
        self.holders[c]
            .iter()
            .map(|&h| scenario.referrals[h].id.clone())
            .collect()
    }

    fn free(&self, market: &Market<'_>, c: usize) -> usize {
        market.classes[c].slots.len() - self.holders[c].len()
    }
}

fn taken_text(holders: &[String]) -> String {
    if holders.is_empty() {
        "bezet".into()
    } else {
        format!("bezet door {}", holders.join(", "))
    }
}

/// A date as Dutch chairs write it: `dd-mm`, e.g. `02-12`.
pub fn dutch_date(date: NaiveDate) -> String {
    date.format("%d-%m").to_string()
}

fn norm_text(late_days: i64) -> String {
    match late_days {
        0 => "binnen de norm".into(),
        1 => "1 dag over de norm".into(),
        n => format!("{n} dagen over de norm"),
    }
}

fn late_of(cost: Cost) -> i64 {
    // late_sq is a perfect square by construction.
    (cost.late_sq as f64).sqrt().round() as i64
}

/// Explanation for free referral `i` (index into `market.free`) placed in
/// class `chosen` (`None` = unplanned).
pub fn explain_free(
    scenario: &Scenario,
    market: &Market<'_>,
    occupancy: &Occupancy,
    i: usize,
    chosen: Option<usize>,
) -> Explanation {
    let r = market.free[i];
    let referral = &scenario.referrals[r];
    let home = &scenario.regions[referral.region];
    // A class whose slots all went (a warm run holds their places with
    // stand-ins) is no alternative.
    let mut candidates = market.candidates(i);
    candidates.retain(|cand| !market.classes[cand.class].slots.is_empty());
    let chosen_cost = match chosen {
        Some(c) => candidates
            .iter()
            .find(|cand| cand.class == c)
            .map(|cand| cand.cost),
        None => Some(market.unplanned_cost[i]),
    }
    .unwrap_or_default();

    let mut parts = Vec::new();
    match chosen {
        Some(c) => {
            let class = &market.classes[c];
            let region = &scenario.regions[class.region];
            parts.push(format!(
                "Gepland aan de tafel van {} op {} ({}).",
                region.name,
                dutch_date(class.date),
                norm_text(late_of(chosen_cost))
            ));
        }
        None => parts.push(format!(
            "Geen plek van {} minuten vrij in de planperiode (tot en met {}).",
            referral.minutes,
            dutch_date(
                scenario
                    .unplanned_date
                    .pred_opt()
                    .unwrap_or(scenario.unplanned_date)
            )
        )),
    }

    let better: Vec<&super::model::Candidate> = candidates
        .iter()
        .filter(|cand| cand.cost < chosen_cost)
        .collect();
    if !better.is_empty() {
        let named: Vec<String> = better
            .iter()
            .take(ALTERNATIVES)
            .map(|cand| {
                let class = &market.classes[cand.class];
                format!(
                    "{} {} ({})",
                    scenario.regions[class.region].name,
                    dutch_date(class.date),
                    taken_text(&occupancy.holder_ids(scenario, cand.class))
                )
            })
            .collect();
        parts.push(format!(
            "Eerdere geschikte plekken zijn al vergeven aan aanmeldingen die langer wachten of dichter bij hun normdatum zitten: {}.",
            named.join("; ")
        ));
    }

    let cross = chosen.is_some_and(|c| market.classes[c].region != referral.region);
    if cross {
        let first_home = candidates
            .iter()
            .filter(|cand| market.classes[cand.class].region == referral.region)
            .filter(|cand| occupancy.free(market, cand.class) > 0)
            .min_by_key(|cand| market.classes[cand.class].date);
        let chosen_class = chosen.map(|c| &market.classes[c]);
        let here = chosen_class
            .map(|class| {
                format!(
                    "{} {} {}",
                    scenario.regions[class.region].name,
                    dutch_date(class.date),
                    if late_of(chosen_cost) == 0 {
                        "blijft binnen de norm".to_string()
                    } else {
                        format!("is {}", norm_text(late_of(chosen_cost)))
                    }
                )
            })
            .unwrap_or_default();
        match first_home {
            Some(cand) => parts.push(format!(
                "De eerste vrije plek van {} minuten in {} is {} ({}); {}.",
                referral.minutes,
                home.name,
                dutch_date(market.classes[cand.class].date),
                norm_text(late_of(cand.cost)),
                here
            )),
            None => parts.push(format!(
                "In {} is geen vrije plek van {} minuten in de planperiode; {}.",
                home.name, referral.minutes, here
            )),
        }
    } else if chosen.is_some() && late_of(chosen_cost) > 0 {
        parts.push(if referral.cross_region {
            format!(
                "Ook bij de buurtafels ({}) is er geen vrije plek binnen de norm (uiterlijk {}).",
                neighbour_names(scenario, referral.region),
                dutch_date(referral.due)
            )
        } else {
            format!(
                "Deze aanmelding blijft in {} (geen buurtafel toegestaan); daar is geen vrije plek binnen de norm (uiterlijk {}).",
                home.name,
                dutch_date(referral.due)
            )
        });
    }
    if !referral.unavailable.is_empty() || referral.earliest.is_some() {
        parts.push(availability_text(referral.earliest, &referral.unavailable));
    }

    let alternatives = candidates
        .iter()
        .filter(|cand| Some(cand.class) != chosen)
        .take(ALTERNATIVES)
        .map(|cand| alternative(scenario, market, occupancy, cand))
        .collect();
    Explanation {
        summary: parts.join(" "),
        alternatives,
    }
}

fn alternative(
    scenario: &Scenario,
    market: &Market<'_>,
    occupancy: &Occupancy,
    cand: &super::model::Candidate,
) -> Alternative {
    let class = &market.classes[cand.class];
    let region = &scenario.regions[class.region];
    let free = occupancy.free(market, cand.class);
    let taken_by = occupancy.holder_ids(scenario, cand.class);
    let late = late_of(cand.cost);
    let status = if free > 0 {
        format!("{free} vrij")
    } else {
        taken_text(&taken_by)
    };
    Alternative {
        region: region.id.clone(),
        date: class.date,
        late_days: late,
        cross_region: cand.cost.cross == 1,
        free,
        taken_by,
        text: format!(
            "{} {}: {}, {}",
            region.name,
            dutch_date(class.date),
            norm_text(late),
            status
        ),
    }
}

fn neighbour_names(scenario: &Scenario, region: usize) -> String {
    let names: Vec<&str> = scenario.regions[region]
        .neighbours
        .iter()
        .map(|&n| scenario.regions[n].name.as_str())
        .collect();
    if names.is_empty() {
        "geen".into()
    } else {
        names.join(", ")
    }
}

fn availability_text(
    earliest: Option<NaiveDate>,
    unavailable: &std::collections::BTreeSet<NaiveDate>,
) -> String {
    let mut parts = Vec::new();
    if let Some(e) = earliest {
        parts.push(format!("kan niet vóór {}", dutch_date(e)));
    }
    if !unavailable.is_empty() {
        let dates: Vec<String> = unavailable.iter().map(|d| dutch_date(*d)).collect();
        parts.push(format!("kan niet op {}", dates.join(", ")));
    }
    format!("Het gezin {}.", parts.join(" en "))
}

/// Explanation for a confirmed booking.
pub fn explain_pinned() -> Explanation {
    Explanation {
        summary: "Bevestigde afspraak: blijft staan zoals geboekt.".into(),
        alternatives: Vec::new(),
    }
}

/// The reason an unplanned referral has no slot, in the format's words.
pub fn unplanned_reason(scenario: &Scenario, market: &Market<'_>, i: usize) -> String {
    let referral = &scenario.referrals[market.free[i]];
    let home = &scenario.regions[referral.region].id;
    let place = if referral.cross_region && !scenario.regions[referral.region].neighbours.is_empty()
    {
        format!("{home} or its neighbours")
    } else {
        home.clone()
    };
    let suitable: usize = market
        .candidates_of(i)
        .map(|cand| market.classes[cand.class].slots.len())
        .sum();
    if suitable == 0 {
        format!("no free slot of {} minutes in {place}", referral.minutes)
    } else {
        format!(
            "all {suitable} suitable free slots of {} minutes in {place} go to referrals that are further past or closer to their due date",
            referral.minutes
        )
    }
}
