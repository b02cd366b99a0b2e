//! What changed between the kept scenario and the next one, when it is a
//! change the kept network can follow: referrals withdrawn (unbooked
//! ones), referrals booked (free ones, into slots free to plan) and new
//! referrals at the end (not booked at once). Everything else (a slot, region or setting
//! changed, a slot passed, a booking undone or moved, a referral edited
//! or inserted among the others, placements another instance wrote) is
//! no such change, and the run starts cold.

use std::collections::HashMap;

use super::{Kept, Scenario};

/// How the next scenario follows from the kept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    /// `next_index[k]`: the next scenario's index of kept referral `k`,
    /// `None` when it was withdrawn.
    pub next_index: Vec<Option<usize>>,
    /// Kept referrals booked since, by kept index, with the slot.
    pub booked: Vec<(usize, usize)>,
    /// The next scenario's referrals from this index on are new.
    pub known: usize,
    /// Slot per next referral of its stored tentative placement: where
    /// "moved" counts from, as [`crate::planner::plan_from`] counts.
    pub previous: Vec<Option<usize>>,
}

impl Kept {
    /// How `next` follows from the kept scenario, when the kept network
    /// can follow it and `tentative` (the stored placements, referral id
    /// -> slot id) is the kept plan; `None` otherwise.
    pub(super) fn change_to(
        &self,
        next: &Scenario,
        tentative: &HashMap<String, String>,
    ) -> Option<Change> {
        let old = &self.scenario;
        let same_frame = old.timezone == next.timezone
            && old.norm_days == next.norm_days
            && old.unplanned_date == next.unplanned_date
            && old.regions == next.regions
            && old.slots == next.slots;
        if !same_frame || !self.same_free(next) {
            return None;
        }
        let old_pin = old.pin_of();
        // The kept referrals in order, some left out (withdrawn), then the
        // new ones. A booked referral cannot be withdrawn here.
        let mut next_index = vec![None; old.referrals.len()];
        let mut known = 0;
        for (k, referral) in old.referrals.iter().enumerate() {
            if next.referrals.get(known) == Some(referral) {
                next_index[k] = Some(known);
                known += 1;
            } else if old_pin[k].is_some() {
                return None;
            }
        }
        let booked = bookings(old, next, &next_index, known)?;
        let previous = self.placements_kept(next, &next_index, known, tentative)?;
        Some(Change {
            next_index,
            booked,
            known,
            previous,
        })
    }

    /// Are the same slots free to plan on either side? That depends on
    /// `now`: no slot may start between the two.
    fn same_free(&self, next: &Scenario) -> bool {
        let old = &self.scenario;
        let (from, to) = (old.now.min(next.now), old.now.max(next.now));
        !old.slots.iter().any(|s| s.start >= from && s.start < to)
    }

    /// When the stored placements of the next scenario's free referrals
    /// are the kept plan's and new referrals have none: the slot of each
    /// next referral's stored placement (booked ones may have one too).
    fn placements_kept(
        &self,
        next: &Scenario,
        next_index: &[Option<usize>],
        known: usize,
        tentative: &HashMap<String, String>,
    ) -> Option<Vec<Option<usize>>> {
        let old = &self.scenario;
        let next_pin = next.pin_of();
        let stored = |j: usize| tentative.get(&next.referrals[j].id).map(String::as_str);
        let mut previous = vec![None; next.referrals.len()];
        for (k, &j) in next_index.iter().enumerate() {
            let Some(j) = j else { continue };
            let kept = self.slot_of[k].filter(|&s| stored(j) == Some(old.slots[s].id.as_str()));
            previous[j] = match (kept, stored(j)) {
                (Some(s), _) => Some(s),
                (None, None) => None,
                // Free: it must be where the kept plan put it.
                (None, Some(_)) if next_pin[j].is_none() => return None,
                (None, Some(id)) => next.slots.iter().position(|slot| slot.id == id),
            };
            if next_pin[j].is_none() && previous[j] != self.slot_of[k] {
                return None;
            }
        }
        (known..next.referrals.len())
            .all(|j| stored(j).is_none())
            .then_some(previous)
    }
}

/// The bookings `next` adds to the kept scenario `old` (kept index,
/// slot), when every kept booking is still there and every added one is
/// of a kept referral that was free; `None` otherwise.
fn bookings(
    old: &Scenario,
    next: &Scenario,
    next_index: &[Option<usize>],
    known: usize,
) -> Option<Vec<(usize, usize)>> {
    let mut kept_pins: Vec<(usize, usize)> = old
        .pinned
        .iter()
        .map(|&(k, s)| next_index[k].map(|j| (j, s)))
        .collect::<Option<_>>()?;
    kept_pins.sort_unstable();
    let mut pins = next.pinned.clone();
    pins.sort_unstable();
    let mut kept_pins = kept_pins.into_iter().peekable();
    let mut added = Vec::new();
    for pin in pins {
        if kept_pins.next_if_eq(&pin).is_none() {
            added.push(pin);
        }
    }
    if kept_pins.next().is_some() {
        return None; // a booking undone or moved
    }
    let mut old_of = vec![usize::MAX; known];
    for (k, &j) in next_index.iter().enumerate() {
        if let Some(j) = j {
            old_of[j] = k;
        }
    }
    let old_pin = old.pin_of();
    let mut booked = Vec::new();
    for (j, s) in added {
        // A new referral booked at once would take a place without a node
        // to hold it: not followed.
        let k = *old_of.get(j)?;
        old_pin[k].is_none().then_some(())?;
        booked.push((k, s));
    }
    Some(booked)
}
