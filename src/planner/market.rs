//! What the optimisation sees: slot classes with a capacity and, per
//! referral still to plan, the classes it may use with their cost.
//!
//! Slots of one region, local date and length (and alike in
//! `own_region_only`) are interchangeable for the score, so they form one
//! *class*; a referral chooses a class or "unplanned". That makes the plan a
//! transportation problem (see [`super::flow`]).
//!
//! **Candidates are not materialised.** A large scenario has millions of
//! allowed referral x class pairs and the network needs a few per referral,
//! so the market keeps, per referral, one *lane* per region it may go to:
//! a range of that region's classes in date order. Within a lane every
//! score level is non-decreasing in the date (late days and waiting grow,
//! the region is fixed) once the date is on or after the referral's
//! registration, so a lane is already sorted by cost; [`Candidates`]
//! merges a referral's lanes into one list in cost order, on demand. Dates
//! before the registration (a referral registered in the future) are not
//! monotone in waiting; those few are sorted when asked for.

use chrono::{Datelike, NaiveDate};

use super::cost::{unplanned_cost, Cost, LevelRanges};
use super::scenario::Scenario;

mod count;
mod kept;
mod lanes;
mod view;

pub use kept::{Parts, Put, GONE};
pub use lanes::Candidates;
pub use view::ReferralView;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Index into [`Market::classes`].
    pub class: usize,
    /// What the referral scores in this class.
    pub cost: Cost,
}

/// One region a referral may go to: positions `early..end` of
/// [`Market::by_region`]`[region]` are on or after its earliest date,
/// `start..end` also on or after its registration date (sorted by cost:
/// every level is non-decreasing there, waiting strictly increasing, so
/// the order is that of `(cost, class)`). Not every class in the range is
/// allowed: see [`Market::allowed_in_lane`].
#[derive(Debug, Clone, Copy)]
pub struct Lane {
    /// Region index.
    pub region: u32,
    /// First position on or after the earliest date.
    pub early: u32,
    /// First position on or after the registration (and earliest) date.
    pub start: u32,
    /// The end of the region's list.
    pub end: u32,
}

/// What the model needs: the free classes and, per referral to plan, the
/// classes it may use with their cost, in cost order on demand.
pub struct Market<'s> {
    scenario: &'s Scenario,
    /// The classes of free slots; [`Candidate::class`] indexes into this.
    pub classes: Vec<Class>,
    /// Referral indexes still to plan (not pinned); in a kept market also
    /// [`GONE`] entries: referrals that left the plan since the network
    /// was built, and stand-ins holding the places of slots that left
    /// (see `market/kept.rs`).
    pub free: Vec<usize>,
    /// `unplanned_cost[i]`: the cost of leaving `free[i]` without a slot.
    pub unplanned_cost: Vec<Cost>,
    /// `by_region[g]`: the classes of region `g`, by date, then index.
    pub by_region: Vec<Vec<u32>>,
    /// Day number of each class's date (days from the common era).
    class_day: Vec<i32>,
    /// `lanes[lane_offset[i]..lane_offset[i + 1]]` belong to `free[i]`.
    lanes: Vec<Lane>,
    lane_offset: Vec<usize>,
}

/// Day number of a date, for cheap differences.
fn day(date: NaiveDate) -> i32 {
    date.num_days_from_ce()
}

impl<'s> Market<'s> {
    /// The market of a validated scenario: free slots (not pinned, not
    /// before `now`) grouped into classes, and for every unpinned referral
    /// the regions it may use (no pair is costed yet).
    pub fn build(scenario: &'s Scenario) -> Market<'s> {
        let classes = build_classes(scenario);
        let mut by_region: Vec<Vec<u32>> = vec![Vec::new(); scenario.regions.len()];
        let class_day: Vec<i32> = classes.iter().map(|c| day(c.date)).collect();
        for (c, class) in classes.iter().enumerate() {
            by_region[class.region].push(c as u32);
        }
        // Usually in date order already (classes come in order of start);
        // a zone that falls back across midnight could break that.
        for list in &mut by_region {
            list.sort_by_key(|&c| (class_day[c as usize], c));
        }
        let mut pinned_referrals = vec![false; scenario.referrals.len()];
        for &(r, _) in &scenario.pinned {
            pinned_referrals[r] = true;
        }
        let free: Vec<usize> = (0..scenario.referrals.len())
            .filter(|&r| !pinned_referrals[r])
            .collect();
        let mut market = Market {
            scenario,
            classes,
            unplanned_cost: free.iter().map(|&r| unplanned_cost(scenario, r)).collect(),
            free,
            by_region,
            class_day,
            lanes: Vec::new(),
            lane_offset: Vec::new(),
        };
        market.build_lanes();
        market
    }

    /// The lanes of every free entry, anew ([`GONE`] ones have none).
    fn build_lanes(&mut self) {
        self.lanes = Vec::new();
        self.lane_offset = Vec::with_capacity(self.free.len() + 1);
        self.lane_offset.push(0);
        for k in 0..self.free.len() {
            match self.free[k] {
                GONE => self.lane_offset.push(self.lanes.len()),
                r => self.push_lanes(r),
            }
        }
    }

    /// Appends the lanes of referral `r` and closes its range of them.
    fn push_lanes(&mut self, r: usize) {
        let lanes = self.lanes_for(r);
        self.lanes.extend(lanes);
        self.lane_offset.push(self.lanes.len());
    }

    /// The lanes of scenario referral `r`, one per region it may use.
    fn lanes_for(&self, r: usize) -> Vec<Lane> {
        let scenario = self.scenario;
        let referral = &scenario.referrals[r];
        let earliest = referral.earliest.map_or(i32::MIN, day);
        let registered = day(referral.registered_date).max(earliest);
        scenario
            .allowed_regions(r)
            .into_iter()
            .map(|g| {
                let list = &self.by_region[g];
                let position =
                    |from: i32| list.partition_point(|&c| self.class_day[c as usize] < from) as u32;
                Lane {
                    region: g as u32,
                    early: position(earliest),
                    start: position(registered),
                    end: list.len() as u32,
                }
            })
            .collect()
    }

    /// Takes scenario referral `r` in as the next free referral (index
    /// `free.len()` before the call) and returns that index. The caller
    /// knows `r` is not pinned and that the classes are those of the
    /// scenario (see [`Parts::attach`]).
    pub fn push_free(&mut self, r: usize) -> usize {
        let scenario = self.scenario;
        self.free.push(r);
        self.unplanned_cost.push(unplanned_cost(scenario, r));
        self.push_lanes(r);
        self.free.len() - 1
    }

    /// The market without its scenario, to be kept and attached to the
    /// next one ([`Parts::attach`]).
    pub fn into_parts(self) -> Parts {
        Parts {
            classes: self.classes,
            free: self.free,
            unplanned_cost: self.unplanned_cost,
            by_region: self.by_region,
            class_day: self.class_day,
            lanes: self.lanes,
            lane_offset: self.lane_offset,
        }
    }

    /// The scenario this market was built from.
    pub fn scenario(&self) -> &'s Scenario {
        self.scenario
    }

    /// May free referral `i` use class `c`? The placement rules of
    /// [`Scenario::refusal`] for new placements, on the class.
    pub fn allows(&self, i: usize, c: usize) -> bool {
        let region = self.classes[c].region as u32;
        self.lanes_of(i)
            .iter()
            .any(|lane| lane.region == region && self.allowed_in_lane(i, c))
    }

    /// The rules a class of an allowed region must still pass for free
    /// referral `i`: length, own region only, earliest date, availability.
    pub fn allowed_in_lane(&self, i: usize, c: usize) -> bool {
        self.view(i).allows(c)
    }

    /// What free referral `i` scores in class `c` (allowed or not).
    pub fn cost(&self, i: usize, c: usize) -> Cost {
        self.view(i).cost(c)
    }

    /// The class of each scenario slot, `None` for slots not free to plan.
    pub fn class_of_slot(&self) -> Vec<Option<usize>> {
        let mut class_of_slot = vec![None; self.scenario.slots.len()];
        for (c, class) in self.classes.iter().enumerate() {
            for &s in &class.slots {
                class_of_slot[s] = Some(c);
            }
        }
        class_of_slot
    }

    /// Free referral `i`, looked up once for judging and costing many
    /// classes. Not for a [`GONE`] entry: it has no referral (its callers
    /// check [`Market::is_gone`] first; in debug builds this checks too).
    pub fn view(&self, i: usize) -> ReferralView<'_> {
        debug_assert!(!self.is_gone(i), "free entry {i} is gone");
        ReferralView::new(self, i)
    }

    /// The lanes of free referral `i`, one per region it may use.
    /// None for a [`GONE`] entry.
    pub fn lanes_of(&self, i: usize) -> &[Lane] {
        if self.is_gone(i) {
            return &[];
        }
        &self.lanes[self.lane_offset[i]..self.lane_offset[i + 1]]
    }

    /// Every class free referral `i` may use, cheapest first (ties by
    /// class), generated as they are read.
    pub fn candidates_of(&self, i: usize) -> Candidates<'_, 's> {
        Candidates::new(self, i)
    }

    /// Every class free referral `i` may use with its cost, cheapest first
    /// (ties by class): [`Market::candidates_of`] collected.
    pub fn candidates(&self, i: usize) -> Vec<Candidate> {
        self.candidates_of(i).collect()
    }

    /// Number of referral x class pairs the rules allow (counted from
    /// prefix counts, not costed; see `count::PairCounter`).
    pub fn candidate_pairs(&self) -> usize {
        let counter = count::PairCounter::new(self);
        (0..self.free.len()).map(|i| counter.pairs(self, i)).sum()
    }

    /// The classes free referral `i` may use, counted one by one (for a
    /// few referrals; [`Market::candidate_pairs`] counts all at once).
    pub fn pairs_of(&self, i: usize) -> usize {
        let view = self.view(i);
        self.lanes_of(i)
            .iter()
            .map(|lane| {
                let list = &self.by_region[lane.region as usize];
                list[lane.early as usize..lane.end as usize]
                    .iter()
                    .filter(|&&c| view.allows(c as usize))
                    .count()
            })
            .sum()
    }

    /// The smallest and largest cost of free referral `i` at each score
    /// level over all its options (candidate classes and unplanned):
    /// `(low, high)`. Every level is monotone along a lane's sorted part,
    /// so its first and last allowed class bound it.
    pub fn level_ranges(&self, i: usize) -> LevelRanges {
        self.ranges_over(self.view(i), self.lanes_of(i), self.unplanned_cost[i])
    }

    /// [`Market::level_ranges`] of any scenario referral `r` (a booked one
    /// too: what it would take in if the booking were undone).
    pub fn level_ranges_of(&self, r: usize) -> LevelRanges {
        let scenario = self.scenario;
        let unplanned = unplanned_cost(scenario, r);
        self.ranges_over(ReferralView::of(self, r), &self.lanes_for(r), unplanned)
    }

    fn ranges_over(&self, view: ReferralView<'_>, lanes: &[Lane], unplanned: Cost) -> LevelRanges {
        let mut low = [i64::MAX; Cost::LEVELS];
        let mut high = [i64::MIN; Cost::LEVELS];
        let mut include = |cost: Cost| {
            for j in 0..Cost::LEVELS {
                low[j] = low[j].min(cost.level(j));
                high[j] = high[j].max(cost.level(j));
            }
        };
        include(unplanned);
        for lane in lanes {
            let list = &self.by_region[lane.region as usize];
            let allowed = |&&c: &&u32| view.allows(c as usize);
            let early = &list[lane.early as usize..lane.start as usize];
            for &c in early.iter().filter(allowed) {
                include(view.cost(c as usize));
            }
            let sorted = &list[lane.start as usize..lane.end as usize];
            if let Some(&first) = sorted.iter().find(allowed) {
                include(view.cost(first as usize));
            }
            if let Some(&last) = sorted.iter().rev().find(allowed) {
                include(view.cost(last as usize));
            }
        }
        (low, high)
    }
}

/// The classes of a scenario's free slots (not pinned, not before `now`),
/// in order of their first slot's start (so by date within a region).
fn build_classes(scenario: &Scenario) -> Vec<Class> {
    let free = scenario.free_to_plan();
    let key = |s: usize| {
        let slot = &scenario.slots[s];
        (slot.region, slot.date, slot.minutes, slot.own_region_only)
    };
    // Sorting groups the slots of a class together (a hash map of keys
    // cost more on the large presets), earliest start first in each.
    let mut order: Vec<usize> = (0..scenario.slots.len()).filter(|&s| free[s]).collect();
    order.sort_unstable_by_key(|&s| (key(s), scenario.slots[s].start, s));
    let mut classes: Vec<Class> = Vec::new();
    for s in order {
        let slot = &scenario.slots[s];
        match classes.last_mut() {
            Some(class) if key(class.slots[0]) == key(s) => class.slots.push(s),
            _ => classes.push(Class {
                region: slot.region,
                date: slot.date,
                minutes: slot.minutes,
                own_region_only: slot.own_region_only,
                slots: vec![s],
            }),
        }
    }
    // Classes in order of their first slot, as they always were numbered.
    classes.sort_unstable_by_key(|class| (scenario.slots[class.slots[0]].start, class.slots[0]));
    classes
}

#[cfg(test)]
mod tests;
