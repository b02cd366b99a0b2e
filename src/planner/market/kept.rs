//! The market kept by the warm planner between runs, and how it follows a
//! changed scenario: referrals that left the plan (withdrawn, or booked)
//! stay in it as *gone* entries, so every index the kept network uses
//! stays valid; the others, and the slots, are renumbered to the next
//! scenario. Slots that are no longer free leave their class (the network
//! holds their place with a stand-in); new free slots join their class,
//! or a new class at the end.

use super::{day, unplanned_cost, Class, Cost, Lane, Market, Scenario};

/// [`Market::free`] entry of a referral that left the plan since the
/// network was built (withdrawn, or booked), or of a stand-in holding the
/// place of a slot that left: it has no referral in the scenario, no lanes
/// and no candidates ([`Market::is_gone`]).
pub const GONE: usize = usize::MAX;

/// A [`Market`] without its scenario (everything but the borrow), kept by
/// the warm planner between runs.
#[derive(Debug, Clone)]
pub struct Parts {
    pub(super) classes: Vec<Class>,
    pub(super) free: Vec<usize>,
    pub(super) unplanned_cost: Vec<Cost>,
    pub(super) by_region: Vec<Vec<u32>>,
    pub(super) class_day: Vec<i32>,
    pub(super) lanes: Vec<Lane>,
    pub(super) lane_offset: Vec<usize>,
}

impl Parts {
    /// The market again, on `scenario`. The caller promises that its
    /// regions are those of the scenario the market was built from, and
    /// that the market is made to follow the changes since (a moved
    /// unplanned date with [`Market::renew_unplanned_costs`]): free
    /// referrals renumbered ([`Parts::renumber`]), slots that
    /// left taken out and the rest renumbered ([`Parts::take_slot`],
    /// [`Parts::renumber_slots`]); new slots and referrals come in with
    /// [`Market::put_slot`] and [`Market::push_free`].
    pub fn attach(self, scenario: &Scenario) -> Market<'_> {
        Market {
            scenario,
            classes: self.classes,
            free: self.free,
            unplanned_cost: self.unplanned_cost,
            by_region: self.by_region,
            class_day: self.class_day,
            lanes: self.lanes,
            lane_offset: self.lane_offset,
        }
    }

    /// Follows the referrals into the next scenario: `next_index[r]` is the
    /// next scenario's index of the kept scenario's referral `r`, `None`
    /// when it is no longer free (withdrawn, or booked): its entry becomes
    /// [`GONE`].
    ///
    /// # Panics
    ///
    /// When a free entry is outside `next_index` (the caller's bug).
    pub fn renumber(&mut self, next_index: &[Option<usize>]) {
        for r in self.free.iter_mut().filter(|r| **r != GONE) {
            *r = next_index[*r].unwrap_or(GONE);
        }
    }

    /// Renumbers the slots of every class to the next scenario's
    /// (`next_slot[s]` for slot `s` now); a slot without a number there
    /// must have been taken out first ([`Parts::take_slot`]).
    ///
    /// # Panics
    ///
    /// When a class holds a slot `next_slot` has no number for (the
    /// caller's bug).
    pub fn renumber_slots(&mut self, next_slot: &[Option<usize>]) {
        for class in &mut self.classes {
            for s in &mut class.slots {
                *s = next_slot[*s].expect("a slot without a number was taken out first");
            }
        }
    }

    /// Takes slot `s` (cancelled, passed or booked) out of its class and
    /// returns the class; `None` when `s` is in no class (not free to plan).
    pub fn take_slot(&mut self, s: usize) -> Option<usize> {
        self.classes.iter_mut().enumerate().find_map(|(c, class)| {
            let at = class.slots.iter().position(|&x| x == s)?;
            class.slots.remove(at);
            Some(c)
        })
    }

    /// Free entries that are [`GONE`].
    pub fn gone(&self) -> usize {
        self.free.iter().filter(|&&r| r == GONE).count()
    }

    /// Free entries that are referrals still to plan.
    pub fn to_plan(&self) -> usize {
        self.free.len() - self.gone()
    }
}

/// Where [`Market::put_slot`] put a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// Into class `.0`, which was there.
    Into(usize),
    /// Into class `.0`, new (the last one); the lanes need building again
    /// ([`Market::rebuild_lanes`]).
    New(usize),
}

impl Market<'_> {
    /// Puts slot `s` of the scenario (free to plan) into the class of its
    /// region, date, length and own-region flag, after the slots that start
    /// earlier; a new class (the last) when there is none.
    pub fn put_slot(&mut self, s: usize) -> Put {
        let slot = &self.scenario.slots[s];
        let key = (slot.region, slot.date, slot.minutes, slot.own_region_only);
        let found = self
            .classes
            .iter()
            .position(|c| (c.region, c.date, c.minutes, c.own_region_only) == key);
        let by_start = |&x: &usize| (self.scenario.slots[x].start, x);
        match found {
            Some(c) => {
                let at = self.classes[c]
                    .slots
                    .partition_point(|x| by_start(x) < by_start(&s));
                self.classes[c].slots.insert(at, s);
                Put::Into(c)
            }
            None => {
                let c = self.classes.len();
                self.classes.push(Class {
                    region: slot.region,
                    date: slot.date,
                    minutes: slot.minutes,
                    own_region_only: slot.own_region_only,
                    slots: vec![s],
                });
                let d = day(slot.date);
                self.class_day.push(d);
                let list = &mut self.by_region[slot.region];
                let days = &self.class_day;
                let at = list.partition_point(|&x| (days[x as usize], x) < (d, c as u32));
                list.insert(at, c as u32);
                Put::New(c)
            }
        }
    }

    /// Counts every free referral's unplanned cost again, at the
    /// scenario's unplanned date: after the last session changed, which
    /// moves that date ([`Parts::attach`]). [`GONE`] entries keep theirs.
    pub fn renew_unplanned_costs(&mut self) {
        let scenario = self.scenario;
        for (i, &r) in self.free.iter().enumerate().filter(|&(_, &r)| r != GONE) {
            self.unplanned_cost[i] = unplanned_cost(scenario, r);
        }
    }

    /// Builds every free entry's lanes again, after classes were added.
    pub fn rebuild_lanes(&mut self) {
        self.build_lanes();
    }

    /// Takes in a stand-in: a [`GONE`] entry that holds one place of a
    /// class in the network ([`crate::planner::model::Step`]), and returns
    /// its free index.
    pub fn push_gone(&mut self) -> usize {
        self.free.push(GONE);
        self.unplanned_cost.push(Cost::default());
        self.lane_offset.push(self.lanes.len());
        self.free.len() - 1
    }

    /// Did free entry `i` leave the plan ([`GONE`])?
    #[inline]
    pub fn is_gone(&self, i: usize) -> bool {
        self.free[i] == GONE
    }

    /// Free entries that are referrals still to plan (not [`GONE`]).
    pub fn to_plan(&self) -> usize {
        self.free.iter().filter(|&&r| r != GONE).count()
    }
}
