//! What changed between the kept scenario and the next one, when it is a
//! change the kept network can follow: referrals withdrawn, referrals
//! booked, bookings undone or moved, new referrals at the end, sessions
//! cancelled, added or passed (the last one too, which moves the day
//! unplanned referrals are counted at). What it cannot follow (a region or
//! setting changed, a referral edited or inserted among the others,
//! placements another instance wrote) is no such change, and the run
//! starts cold.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::{Kept, Scenario};

/// How the next scenario follows from the kept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    /// `next_index[k]`: the next scenario's index of kept referral `k`,
    /// `None` when it was withdrawn.
    pub next_index: Vec<Option<usize>>,
    /// The next scenario's referrals from this index on are new.
    pub known: usize,
    /// `next_slot[s]`: the next scenario's index of the slot with kept slot
    /// `s`'s id (it may have changed); `None` when the slots are the same.
    pub next_slot: Option<Vec<Option<usize>>>,
    /// Slot per next referral of its stored tentative placement: where
    /// "moved" counts from, as [`crate::planner::plan_from`] counts.
    pub previous: Vec<Option<usize>>,
}

impl Change {
    /// The next scenario's number of kept slot `s` (by id; its data may
    /// have changed).
    pub fn slot_in_next(&self, s: usize) -> Option<usize> {
        match &self.next_slot {
            None => Some(s),
            Some(map) => map[s],
        }
    }

    /// [`Change::slot_in_next`] when the slot's data is unchanged (`old`,
    /// `next`: the kept and the next scenario).
    pub fn same_slot_in_next(&self, old: &Scenario, next: &Scenario, s: usize) -> Option<usize> {
        self.slot_in_next(s)
            .filter(|&t| self.next_slot.is_none() || next.slots[t] == old.slots[s])
    }
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
            && old.regions == next.regions;
        if !same_frame {
            return None;
        }
        let next_slot = (old.slots != next.slots).then(|| slot_numbers(old, next));
        // The kept referrals in order, some left out (withdrawn), then the
        // new ones.
        let mut next_index = vec![None; old.referrals.len()];
        let mut known = 0;
        for (k, referral) in old.referrals.iter().enumerate() {
            if next.referrals.get(known) == Some(referral) {
                next_index[k] = Some(known);
                known += 1;
            }
        }
        let mut change = Change {
            next_index,
            known,
            next_slot,
            previous: Vec::new(),
        };
        change.previous = self.placements_kept(next, &change, tentative)?;
        Some(change)
    }

    /// When the stored placements of the referrals free in both scenarios
    /// are the kept plan's (or forgotten, where the slot is no longer free
    /// to plan) and new referrals have none: the slot of each next
    /// referral's stored placement (others may have one too).
    fn placements_kept(
        &self,
        next: &Scenario,
        change: &Change,
        tentative: &HashMap<String, String>,
    ) -> Option<Vec<Option<usize>>> {
        let old = &self.scenario;
        let (old_pin, next_pin) = (old.pin_of(), next.pin_of());
        let stored = |j: usize| tentative.get(&next.referrals[j].id).map(String::as_str);
        // Still free to plan in the next scenario: there, unchanged, not
        // booked, not passed (looked up only for forgotten placements).
        let free = OnceCell::new();
        let free_in_next = |s: usize| {
            change
                .same_slot_in_next(old, next, s)
                .is_some_and(|t| free.get_or_init(|| next.free_to_plan())[t])
        };
        let mut previous = vec![None; next.referrals.len()];
        for (k, &j) in change.next_index.iter().enumerate() {
            let Some(j) = j else { continue };
            let kept = self.slot_of[k];
            let stored = stored(j);
            let same = stored == kept.map(|s| old.slots[s].id.as_str());
            // The service forgets a placement in a slot that went.
            let forgotten = stored.is_none() && kept.is_some_and(|s| !free_in_next(s));
            if old_pin[k].is_none() && next_pin[j].is_none() && !same && !forgotten {
                return None;
            }
            previous[j] = match (same, stored) {
                (true, _) => kept.and_then(|s| change.slot_in_next(s)),
                (false, None) => None,
                (false, Some(id)) => next.slots.iter().position(|slot| slot.id == id),
            };
        }
        (change.known..next.referrals.len())
            .all(|j| stored(j).is_none())
            .then_some(previous)
    }
}

/// The next scenario's index of each old slot's id (`None`: gone).
fn slot_numbers(old: &Scenario, next: &Scenario) -> Vec<Option<usize>> {
    let old_ids: Vec<&str> = old.slots.iter().map(|s| s.id.as_str()).collect();
    let next_ids: Vec<&str> = next.slots.iter().map(|s| s.id.as_str()).collect();
    numbers_by_id(&old_ids, &next_ids)
}

/// `next`'s index of each of `old`'s ids (unique in each). Lists that
/// differ by slots removed and inserted here and there (the service's
/// slots come in order of start) are walked side by side; when a step is
/// neither, or an id taken for inserted turns out to be an old one, a map
/// of ids does it instead.
fn numbers_by_id(old: &[&str], next: &[&str]) -> Vec<Option<usize>> {
    let mut numbers = vec![None; old.len()];
    let mut inserted = Vec::new();
    let (mut k, mut j) = (0, 0);
    while k < old.len() && j < next.len() {
        if old[k] == next[j] {
            numbers[k] = Some(j);
            (k, j) = (k + 1, j + 1);
        } else if next.get(j + 1) == Some(&old[k]) {
            inserted.push(next[j]);
            j += 1;
        } else if old.get(k + 1) == Some(&next[j]) {
            k += 1; // removed
        } else {
            return numbers_by_map(old, next);
        }
    }
    inserted.extend(&next[j..]);
    // Ids are unique: an id taken for inserted that is an old one is an
    // old id left without its number.
    let unmatched: Vec<&str> = (0..old.len())
        .filter(|&k| numbers[k].is_none())
        .map(|k| old[k])
        .collect();
    let many = inserted.len() * unmatched.len() > 10_000;
    if many || inserted.iter().any(|id| unmatched.contains(id)) {
        return numbers_by_map(old, next);
    }
    numbers
}

fn numbers_by_map(old: &[&str], next: &[&str]) -> Vec<Option<usize>> {
    let by_id: HashMap<&str, usize> = next.iter().enumerate().map(|(t, &id)| (id, t)).collect();
    old.iter().map(|id| by_id.get(id).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::numbers_by_id;
    use std::collections::HashMap;

    /// Walking side by side gives what a map of ids gives, whatever the
    /// difference: removals, insertions, both, and reordering.
    #[test]
    fn slots_are_numbered_by_id() {
        let old = ["a", "b", "c", "d", "e", "f"];
        let cases: [&[&str]; 9] = [
            &["a", "b", "c", "d", "e", "f"],
            &["a", "c", "d", "e", "f"],
            &["a", "b", "x", "c", "d", "e", "f", "y"],
            &["x", "a", "c", "d", "y", "f"],
            &["f", "e", "d", "c", "b", "a"],
            &["a", "b", "y", "z", "e", "f"],
            // Taken for inserted by the walk, but old ids moved.
            &["a", "e", "b", "c", "d", "f"],
            &["a", "b", "c", "d", "f", "e"],
            &[],
        ];
        for next in cases {
            let map: HashMap<&str, usize> =
                next.iter().enumerate().map(|(t, &id)| (id, t)).collect();
            let expected: Vec<Option<usize>> = old.iter().map(|id| map.get(id).copied()).collect();
            assert_eq!(numbers_by_id(&old, next), expected, "{next:?}");
        }
    }
}
