//! The score of one referral in one place: the four levels of the format.

use chrono::NaiveDate;
use serde::Serialize;

use super::scenario::Scenario;

/// One referral's cost for one placement; compared lexicographically in the
/// order of the fields, which is the order of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Cost {
    /// 1 when the referral gets no slot, else 0.
    pub unplanned: i64,
    /// Days past the due date, squared.
    pub late_sq: i64,
    /// 1 when held at another region's table, else 0.
    pub cross: i64,
    /// Days from registration to the date, squared.
    pub wait_sq: i64,
}

impl Cost {
    /// Number of score levels.
    pub const LEVELS: usize = 4;

    /// Level `k` of the score (0 = unplanned ... 3 = waiting; any larger
    /// `k` is waiting too).
    pub fn level(&self, k: usize) -> i64 {
        match k {
            0 => self.unplanned,
            1 => self.late_sq,
            2 => self.cross,
            _ => self.wait_sq,
        }
    }
}

/// One referral's smallest and largest cost per score level over its
/// options, `(low, high)` (`Market::level_ranges` in the planner's
/// market).
pub type LevelRanges = ([i64; Cost::LEVELS], [i64; Cost::LEVELS]);

/// Cost of leaving referral `r` unplanned: counted at the scenario's
/// unplanned date, the day after the horizon.
pub fn unplanned_cost(scenario: &Scenario, r: usize) -> Cost {
    cost(scenario, r, scenario.unplanned_date, None)
}

/// Cost of holding referral `r` on local `date` in region `region`, or of
/// leaving it unplanned (`region == None`, date = the day after the horizon).
pub fn cost(scenario: &Scenario, r: usize, date: NaiveDate, region: Option<usize>) -> Cost {
    let referral = &scenario.referrals[r];
    let wait = (date - referral.registered_date).num_days();
    let late = (date - referral.due).num_days().max(0);
    Cost {
        unplanned: i64::from(region.is_none()),
        late_sq: late * late,
        cross: i64::from(region.is_some_and(|g| g != referral.region)),
        wait_sq: wait * wait,
    }
}
