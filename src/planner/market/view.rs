//! One free referral as pricing and the greedy start see it: what its
//! rules and costs depend on, looked up once, since both look at many
//! classes for the same referral.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::{day, Class, Cost, Market};

/// Free referral `i` of a market, ready to judge and cost classes.
#[derive(Debug, Clone, Copy)]
pub struct ReferralView<'m> {
    classes: &'m [Class],
    class_day: &'m [i32],
    registered: i64,
    due: i64,
    home: usize,
    minutes: u32,
    earliest: Option<NaiveDate>,
    unavailable: &'m BTreeSet<NaiveDate>,
}

impl<'m> ReferralView<'m> {
    pub(super) fn new(market: &'m Market<'_>, i: usize) -> Self {
        ReferralView::of(market, market.free[i])
    }

    /// Scenario referral `r`, free or not.
    pub(super) fn of(market: &'m Market<'_>, r: usize) -> Self {
        let referral = &market.scenario.referrals[r];
        ReferralView {
            classes: &market.classes,
            class_day: &market.class_day,
            registered: i64::from(day(referral.registered_date)),
            due: i64::from(day(referral.due)),
            home: referral.region,
            minutes: referral.minutes,
            earliest: referral.earliest,
            unavailable: &referral.unavailable,
        }
    }

    /// The rules a class of an allowed region must still pass: length,
    /// own region only, earliest date, availability.
    #[inline]
    pub fn allows(&self, c: usize) -> bool {
        let class = &self.classes[c];
        class.minutes >= self.minutes
            && !(class.own_region_only && class.region != self.home)
            && self.earliest.is_none_or(|e| class.date >= e)
            && (self.unavailable.is_empty() || !self.unavailable.contains(&class.date))
    }

    /// What the referral scores in class `c` (allowed or not).
    #[inline]
    pub fn cost(&self, c: usize) -> Cost {
        let date = i64::from(self.class_day[c]);
        let wait = date - self.registered;
        let late = (date - self.due).max(0);
        Cost {
            unplanned: 0,
            late_sq: late * late,
            cross: i64::from(self.classes[c].region != self.home),
            wait_sq: wait * wait,
        }
    }
}
