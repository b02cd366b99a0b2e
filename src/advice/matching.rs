//! A necessary condition for meeting the norm, without the planner: the
//! referrals that can still make it must fit, one each, into distinct
//! on-time places of the base and the chosen sessions. A plan that holds
//! them all in time is such a fit, so a set without one cannot meet the
//! norm, and neither can any set drawn from a pool without one.
//!
//! Places are grouped as the planner groups them (region, local date,
//! length, own-region-only), so the fit is a small bipartite b-matching.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::evaluate::Evaluator;

/// The on-time graph: target referrals and the place classes they may use.
pub(super) struct OnTime {
    /// Per target referral: the classes it may use in time.
    edges: Vec<Vec<usize>>,
    /// Free places per class in the base scenario.
    base: Vec<u32>,
    /// Per candidate: (class, places) it adds.
    adds: Vec<Vec<(usize, u32)>>,
    /// Per candidate: does some target referral have a class of it?
    useful: Vec<bool>,
}

type Key = (usize, NaiveDate, u32, bool);

impl OnTime {
    /// Builds the graph from the base and every candidate.
    pub fn new(ev: &Evaluator) -> OnTime {
        let all: Vec<usize> = (0..ev.candidates.len()).collect();
        let scenario = ev.scenario_with(&all);
        let pinned: HashSet<usize> = scenario.pinned.iter().map(|&(_, s)| s).collect();
        let mut class_of: HashMap<Key, usize> = HashMap::new();
        let mut first_slot: Vec<usize> = Vec::new();
        let mut slot_class: Vec<Option<usize>> = vec![None; scenario.slots.len()];
        for (s, slot) in scenario.slots.iter().enumerate() {
            // The planner's own rule: pinned and past slots are not free.
            if pinned.contains(&s) || slot.start < scenario.now {
                continue;
            }
            let key = (slot.region, slot.date, slot.minutes, slot.own_region_only);
            let c = *class_of.entry(key).or_insert_with(|| {
                first_slot.push(s);
                first_slot.len() - 1
            });
            slot_class[s] = Some(c);
        }
        let mut base = vec![0; first_slot.len()];
        let base_slots = ev.base.slots.len();
        for c in slot_class[..base_slots].iter().flatten() {
            base[*c] += 1;
        }
        let mut adds = Vec::new();
        let mut at = base_slots;
        for slots in &ev.extra {
            let mut add: HashMap<usize, u32> = HashMap::new();
            for c in slot_class[at..at + slots.len()].iter().flatten() {
                *add.entry(*c).or_default() += 1;
            }
            at += slots.len();
            let mut add: Vec<(usize, u32)> = add.into_iter().collect();
            add.sort_unstable();
            adds.push(add);
        }
        // Every slot of a class refuses or accepts a referral alike (the
        // rules look at region, date, length and own-region-only; the start
        // only against `now`, and past slots are in no class).
        let edges: Vec<Vec<usize>> = (0..scenario.referrals.len())
            .filter(|&r| ev.target[r])
            .map(|r| {
                (0..first_slot.len())
                    .filter(|&c| {
                        let s = first_slot[c];
                        scenario.slots[s].date <= scenario.referrals[r].due
                            && scenario.refusal(r, s, true).is_none()
                    })
                    .collect()
            })
            .collect();
        let useful = adds
            .iter()
            .map(|add| {
                add.iter()
                    .any(|&(c, _)| edges.iter().any(|classes| classes.contains(&c)))
            })
            .collect();
        OnTime {
            edges,
            base,
            adds,
            useful,
        }
    }

    /// Number of target referrals.
    pub fn targets(&self) -> usize {
        self.edges.len()
    }

    /// Can candidate `c` hold some target referral in time?
    pub fn useful(&self, c: usize) -> bool {
        self.useful[c]
    }

    /// Places per class with `set` added to the base.
    pub fn capacity(&self, set: impl IntoIterator<Item = usize>) -> Vec<u32> {
        let mut cap = self.base.clone();
        for c in set {
            for &(class, n) in &self.adds[c] {
                cap[class] += n;
            }
        }
        cap
    }

    /// The most target referrals that fit in time into `capacity`
    /// (augmenting paths; classes hold up to their capacity).
    pub fn fit(&self, capacity: &[u32]) -> usize {
        let mut holders: Vec<Vec<usize>> = vec![Vec::new(); capacity.len()];
        let mut fitted = 0;
        for t in 0..self.edges.len() {
            let mut seen = vec![false; capacity.len()];
            if self.augment(t, capacity, &mut holders, &mut seen) {
                fitted += 1;
            }
        }
        fitted
    }

    fn augment(
        &self,
        t: usize,
        capacity: &[u32],
        holders: &mut [Vec<usize>],
        seen: &mut [bool],
    ) -> bool {
        for &c in &self.edges[t] {
            if seen[c] {
                continue;
            }
            seen[c] = true;
            if holders[c].len() < capacity[c] as usize {
                holders[c].push(t);
                return true;
            }
            for i in 0..holders[c].len() {
                let other = holders[c][i];
                if self.augment(other, capacity, holders, seen) {
                    holders[c][i] = t;
                    return true;
                }
            }
        }
        false
    }
}
