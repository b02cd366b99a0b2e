//! A warm run: the kept market follows a [`Change`] to the next scenario,
//! and the kept network follows the market ([`model::solve_changed`]).

use std::cell::OnceCell;

use super::change::Change;
use super::{drop_aside, finish, Kept, Outcome, PlanError, Scenario, WarmPlanner, GONE_LIMIT};
use crate::planner::market::{Parts, Put};
use crate::planner::model::{self, Changes, Market, Step};
use crate::planner::Options;

impl WarmPlanner {
    /// Follows `change` in the kept market and network and solves from
    /// there; `Err(scenario)` back when they cannot follow it (the weights
    /// have no room for what came in, or too many referrals and places
    /// left: see [`GONE_LIMIT`]).
    pub(super) fn go_on(
        &mut self,
        kept: Kept,
        scenario: Scenario,
        options: Options,
        change: &Change,
    ) -> Result<Result<Outcome, Scenario>, PlanError> {
        let Kept {
            market: parts,
            flow,
            scenario: superseded,
            slot_of,
        } = kept;
        let next_pin = scenario.pin_of();
        // The kept referrals still free: neither withdrawn nor booked.
        let next_free: Vec<Option<usize>> = change
            .next_index
            .iter()
            .map(|&j| j.filter(|&j| next_pin[j].is_none()))
            .collect();
        let old = parts.attach(&superseded);
        let leaving: Vec<usize> = (0..old.free.len())
            .filter(|&i| !old.is_gone(i) && next_free[old.free[i]].is_none())
            .collect();
        let mut changes = Changes {
            from: old.free.len(),
            pairs_gone: leaving.iter().map(|&i| old.pairs_of(i)).sum(),
            ..Changes::default()
        };
        let slots = SlotChanges::between(&old, &scenario, change);
        let coming = coming(&old, &scenario, change, &next_pin);
        let unseated = unseated(&old, &slot_of, &next_free, &slots.removed);
        let mut parts = old.into_parts();
        parts.renumber(&next_free);
        changes.steps = leaving.into_iter().map(Step::Leave).collect();
        let Some(less) = take_slots(&mut parts, &slots.removed, change) else {
            return Ok(Err(scenario));
        };
        if parts.gone() + less.len() > GONE_LIMIT.max(parts.to_plan() / 4) {
            return Ok(Err(scenario));
        }
        let mut market = parts.attach(&scenario);
        moved_horizon(&mut market, superseded.unplanned_date, &mut changes);
        put_slots(&mut market, &slots.added, &mut changes);
        for class in less {
            let stand_in = market.push_gone();
            changes.steps.push(Step::LessPlace { class, stand_in });
        }
        let mut renew = unseated;
        for j in coming {
            renew.push((market.push_free(j), j));
        }
        renewed_previous(&market, &renew, change, &mut changes);
        let solved = model::solve_changed(&market, flow, options.model, &changes)?;
        let Some((solved, flow)) = solved else {
            drop(market);
            return Ok(Err(scenario));
        };
        let flow = flow.rebase(&market, &solved.choice)?;
        let outcome = finish(&scenario, &market, solved, Some(&change.previous), options)?;
        let market = market.into_parts();
        self.keep(scenario, market, flow, &outcome);
        // Freed on another thread once the run is done: freeing it while
        // the run allocates made both wait on the allocator's lock.
        drop_aside(superseded);
        Ok(Ok(outcome))
    }
}

/// The slots that stop being free to plan (kept numbers) and those that
/// start being free (next numbers).
struct SlotChanges {
    removed: Vec<usize>,
    added: Vec<usize>,
}

impl SlotChanges {
    /// Free to plan is a slot of a class of the market: in the next
    /// scenario, one not booked and not before `now`. A slot whose data
    /// changed counts as removed and added.
    fn between(old: &Market<'_>, next: &Scenario, change: &Change) -> SlotChanges {
        let kept = old.scenario();
        let next_free = next.free_to_plan();
        let mut stays = vec![false; next.slots.len()];
        let mut removed = Vec::new();
        for class in &old.classes {
            for &s in &class.slots {
                let t = change.same_slot_in_next(kept, next, s);
                match t.filter(|&t| next_free[t]) {
                    Some(t) => stays[t] = true,
                    None => removed.push(s),
                }
            }
        }
        let added = (0..next.slots.len())
            .filter(|&t| next_free[t] && !stays[t])
            .collect();
        SlotChanges { removed, added }
    }
}

/// Kept referrals still free whose tentative slot is no longer free to
/// plan (`removed`, kept numbers), as `(free index, next index)`: "moved"
/// counts from what the next scenario's slot of that id is, if anything.
fn unseated(
    old: &Market<'_>,
    slot_of: &[Option<usize>],
    next_free: &[Option<usize>],
    removed: &[usize],
) -> Vec<(usize, usize)> {
    let mut lost = vec![false; old.scenario().slots.len()];
    for &s in removed {
        lost[s] = true;
    }
    (0..old.free.len())
        .filter(|&i| !old.is_gone(i))
        .filter_map(|i| {
            let k = old.free[i];
            let j = next_free[k]?;
            slot_of[k].is_some_and(|s| lost[s]).then_some((i, j))
        })
        .collect()
}

/// The next scenario's free referrals the kept market does not have: new
/// ones, and kept ones whose booking was undone.
fn coming(
    old: &Market<'_>,
    next: &Scenario,
    change: &Change,
    next_pin: &[Option<usize>],
) -> Vec<usize> {
    let mut was_free = vec![false; next.referrals.len()];
    for i in (0..old.free.len()).filter(|&i| !old.is_gone(i)) {
        if let Some(j) = change.next_index[old.free[i]] {
            was_free[j] = true;
        }
    }
    (0..next.referrals.len())
        .filter(|&j| next_pin[j].is_none() && !was_free[j])
        .collect()
}

/// Takes the removed slots (kept numbers) out of their classes and
/// renumbers the rest; the class of each removed slot, or `None` when one
/// is in no class (a bug: start cold).
fn take_slots(parts: &mut Parts, removed: &[usize], change: &Change) -> Option<Vec<usize>> {
    let less = removed
        .iter()
        .map(|&s| parts.take_slot(s))
        .collect::<Option<Vec<usize>>>()?;
    if let Some(map) = &change.next_slot {
        parts.renumber_slots(map);
    }
    Some(less)
}

/// When the day unplanned referrals count at moved from `kept_date` (the
/// last session changed): their unplanned costs counted again, the step
/// recorded, and every kept referral's level ranges from before in
/// `changes.widened`, to be widened in the weights (they cover the
/// referrals a new class widens too: `put_slots` comes after and leaves
/// them).
fn moved_horizon(market: &mut Market<'_>, kept_date: chrono::NaiveDate, changes: &mut Changes) {
    if market.scenario().unplanned_date == kept_date {
        return;
    }
    changes.widened = (0..market.free.len())
        .filter(|&i| !market.is_gone(i))
        .map(|i| (i, market.level_ranges(i)))
        .collect();
    market.renew_unplanned_costs();
    changes.steps.push(Step::Horizon);
}

/// Puts the added slots (next numbers) into their classes, new ones at the
/// end, and records the steps; with a new class, the level ranges of the
/// referrals that may use its region, from before (unless
/// `moved_horizon` recorded those of every referral).
fn put_slots(market: &mut Market<'_>, added: &[usize], changes: &mut Changes) {
    if added.is_empty() {
        return;
    }
    let classes_before = market.classes.len();
    let scenario = market.scenario();
    let mut regions = vec![false; scenario.regions.len()];
    for &t in added {
        regions[scenario.slots[t].region] = true;
    }
    let recorded = !changes.widened.is_empty();
    let users = (0..market.free.len()).filter(|&i| {
        market
            .lanes_of(i)
            .iter()
            .any(|lane| regions[lane.region as usize])
    });
    let before: Vec<_> = match recorded {
        true => Vec::new(),
        false => users.map(|i| (i, market.level_ranges(i))).collect(),
    };
    for &t in added {
        match market.put_slot(t) {
            Put::Into(c) if c < classes_before => changes.steps.push(Step::MorePlace(c)),
            Put::Into(_) => {} // a class new in this run: counted when placed
            Put::New(c) => changes.steps.push(Step::NewClass(c)),
        }
    }
    if market.classes.len() > classes_before {
        market.rebuild_lanes();
        if !recorded {
            changes.widened = before;
        }
    }
}

/// The previous class of each `(free index, next referral)` in `renew`:
/// the class of its stored tentative slot when that is free to plan, as
/// [`crate::planner::plan_from`] counts moves. A step for each kept one
/// (the network holds the class it had) and each new one that has a
/// class (the network holds none).
fn renewed_previous(
    market: &Market<'_>,
    renew: &[(usize, usize)],
    change: &Change,
    changes: &mut Changes,
) {
    let class_of_slot = OnceCell::new();
    let class_of = |t: usize| class_of_slot.get_or_init(|| market.class_of_slot())[t];
    for &(i, j) in renew {
        let class = change.previous[j].and_then(class_of);
        if i < changes.from || class.is_some() {
            changes.steps.push(Step::Previous { referral: i, class });
        }
    }
}
