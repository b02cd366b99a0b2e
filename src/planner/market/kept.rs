//! The market kept by the warm planner between runs, and how it follows a
//! changed scenario: referrals that left the plan (withdrawn, or booked)
//! stay in it as *gone* entries, so every index the kept network uses
//! stays valid; the others are renumbered to the next scenario.

use super::{Class, Cost, Lane, Market, Scenario};

/// [`Market::free`] entry of a referral that left the plan since the
/// network was built (withdrawn, or booked): it has no referral in the
/// scenario, no lanes and no candidates ([`Market::is_gone`]).
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
    /// regions, slots, `now` (for which slots are free) and unplanned date
    /// are those of the scenario the market was built from, and that the
    /// free referrals have their data and the indexes the market holds
    /// ([`Parts::renumber`] after a change); new ones come in with
    /// [`Market::push_free`].
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
    /// when it is no longer free (withdrawn, or booked). Returns the free
    /// indexes that became [`GONE`].
    ///
    /// # Panics
    ///
    /// When a free entry is outside `next_index` (the caller's bug).
    pub fn renumber(&mut self, next_index: &[Option<usize>]) -> Vec<usize> {
        let mut gone = Vec::new();
        for (i, r) in self.free.iter_mut().enumerate() {
            if *r == GONE {
                continue;
            }
            match next_index[*r] {
                Some(next) => *r = next,
                None => {
                    *r = GONE;
                    gone.push(i);
                }
            }
        }
        gone
    }

    /// Takes slot `s` (booked) out of its class and returns the class;
    /// `None` when `s` is in no class (not free to plan).
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

impl Market<'_> {
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
