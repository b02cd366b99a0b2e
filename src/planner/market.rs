//! What the optimisation sees: slot classes with a capacity and, per
//! referral still to plan, the classes it may use with their cost.
//!
//! Slots of one region, local date and length (and alike in
//! `own_region_only`) are interchangeable for the score, so they form one
//! *class*; a referral chooses a class or "unplanned". That makes the plan a
//! transportation problem (see [`super::flow`]).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::cost::{cost, Cost};
use super::scenario::Scenario;

/// Slots of one region, date and length that are free to plan (and alike
/// in `own_region_only`).
#[derive(Debug, Clone)]
pub struct Class {
    /// Region index in the scenario.
    pub region: usize,
    /// Local date of the slots.
    pub date: NaiveDate,
    /// Length of the slots, in minutes.
    pub minutes: u32,
    /// Only referrals of `region` may use these slots.
    pub own_region_only: bool,
    /// Slot indexes, earliest start first.
    pub slots: Vec<usize>,
}

/// A class a referral may use, and what it costs there.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    /// Index into [`Market::classes`].
    pub class: usize,
    /// What the referral scores in this class.
    pub cost: Cost,
}

/// What the model needs: the free classes and, per referral to plan, every
/// class it may use with its cost, cheapest first.
pub struct Market {
    /// The classes of free slots; [`Candidate::class`] indexes into this.
    pub classes: Vec<Class>,
    /// Referral indexes still to plan (not pinned).
    pub free: Vec<usize>,
    /// `candidates[i]` belongs to `free[i]`.
    pub candidates: Vec<Vec<Candidate>>,
    /// `unplanned_cost[i]`: the cost of leaving `free[i]` without a slot.
    pub unplanned_cost: Vec<Cost>,
}

impl Market {
    /// The market of a validated scenario: free slots (not pinned, not
    /// before `now`) grouped into classes, and every placement the rules
    /// allow for every unpinned referral, cheapest first (ties by class).
    pub fn build(scenario: &Scenario) -> Market {
        let pinned_slots: Vec<bool> = {
            let mut v = vec![false; scenario.slots.len()];
            for &(_, s) in &scenario.pinned {
                v[s] = true;
            }
            v
        };
        let mut by_key: HashMap<(usize, NaiveDate, u32, bool), usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut order: Vec<usize> = (0..scenario.slots.len()).collect();
        order.sort_by_key(|&s| (scenario.slots[s].start, s));
        for s in order {
            let slot = &scenario.slots[s];
            if pinned_slots[s] || slot.start < scenario.now {
                continue;
            }
            let key = (slot.region, slot.date, slot.minutes, slot.own_region_only);
            let c = *by_key.entry(key).or_insert_with(|| {
                classes.push(Class {
                    region: slot.region,
                    date: slot.date,
                    minutes: slot.minutes,
                    own_region_only: slot.own_region_only,
                    slots: Vec::new(),
                });
                classes.len() - 1
            });
            classes[c].slots.push(s);
        }
        let mut per_region: Vec<Vec<usize>> = vec![Vec::new(); scenario.regions.len()];
        for (c, class) in classes.iter().enumerate() {
            per_region[class.region].push(c);
        }
        let pinned_referrals: Vec<bool> = {
            let mut v = vec![false; scenario.referrals.len()];
            for &(r, _) in &scenario.pinned {
                v[r] = true;
            }
            v
        };
        let free: Vec<usize> = (0..scenario.referrals.len())
            .filter(|&r| !pinned_referrals[r])
            .collect();
        let candidates = free
            .iter()
            .map(|&r| {
                let referral = &scenario.referrals[r];
                let mut list: Vec<Candidate> = scenario
                    .allowed_regions(r)
                    .into_iter()
                    .flat_map(|g| per_region[g].iter().copied())
                    .filter(|&c| {
                        let class = &classes[c];
                        class.minutes >= referral.minutes
                            && !(class.own_region_only && class.region != referral.region)
                            && referral.earliest.is_none_or(|e| class.date >= e)
                            && !referral.unavailable.contains(&class.date)
                    })
                    .map(|c| Candidate {
                        class: c,
                        cost: cost(scenario, r, classes[c].date, Some(classes[c].region)),
                    })
                    .collect();
                list.sort_by_key(|cand| (cand.cost, cand.class));
                list
            })
            .collect();
        let unplanned_cost = free
            .iter()
            .map(|&r| cost(scenario, r, scenario.unplanned_date, None))
            .collect();
        Market {
            classes,
            free,
            candidates,
            unplanned_cost,
        }
    }
}
