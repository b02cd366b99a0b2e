//! The answer deadline of an offer: never after the slot it holds.
//!
//! An offer is answered within `offers.expiry_working_days` working days,
//! but at the latest `offers.family_notice_working_days` working days
//! before the slot starts, so that the family can still be told. When that
//! leaves the receiving table less than `offers.min_answer_working_hours`
//! of office time, the slot is not offered at all: the plan run marks other
//! regions' slots starting that soon as their own region's only (the same
//! function decides both, so the planner never proposes an offer that
//! would not be made).

use chrono::{DateTime, TimeDelta, Utc};

use crate::calendar::{add_working_days, sub_working_days, working_time_between};
use crate::config::RegionsConfig;
use crate::settings::OfferSettings;

/// The deadline for an offer made at `now` of a slot starting at
/// `slot_start`; `None` when the receiving table would have less than the
/// minimum answer time (or the slot has started).
pub fn answer_deadline(
    regions: &RegionsConfig,
    settings: &OfferSettings,
    now: DateTime<Utc>,
    slot_start: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let answer_time = add_working_days(regions, now, settings.expiry_working_days);
    let tell_family = sub_working_days(regions, slot_start, settings.family_notice_working_days);
    let deadline = answer_time.min(tell_family);
    let minimum = TimeDelta::hours(i64::from(settings.min_answer_working_hours));
    (working_time_between(regions, now, deadline) >= minimum).then_some(deadline)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Amsterdam;

    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Amsterdam
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("local time")
            .with_timezone(&Utc)
    }

    fn settings() -> OfferSettings {
        OfferSettings {
            expiry_working_days: 2,
            family_notice_working_days: 1,
            min_answer_working_hours: 4,
        }
    }

    fn regions() -> RegionsConfig {
        RegionsConfig::builtin().expect("regions")
    }

    #[test]
    fn the_deadline_is_a_working_day_before_a_slot_that_comes_soon() {
        // Made Friday 27-11 07:37 for Monday 30-11 15:00: two working days
        // would be Tuesday 01-12, after the slot; the family must be told by
        // Friday 15:00, which still leaves six working hours.
        let got = answer_deadline(
            &regions(),
            &settings(),
            local(2026, 11, 27, 7, 37),
            local(2026, 11, 30, 15, 0),
        );
        assert_eq!(got, Some(local(2026, 11, 27, 15, 0)));
    }

    #[test]
    fn a_slot_far_enough_ahead_keeps_the_full_answer_time() {
        let got = answer_deadline(
            &regions(),
            &settings(),
            local(2026, 11, 27, 7, 37),
            local(2026, 12, 9, 9, 0),
        );
        assert_eq!(got, Some(local(2026, 12, 1, 7, 37)));
    }

    #[test]
    fn too_little_answer_time_means_no_offer() {
        // Friday 12:00 for Monday 15:00: only 12:00-15:00 on Friday.
        let regions = regions();
        let (now, slot) = (local(2026, 11, 27, 12, 0), local(2026, 11, 30, 15, 0));
        assert_eq!(answer_deadline(&regions, &settings(), now, slot), None);
        // The deadline never lies after the slot, whatever the settings.
        let lenient = OfferSettings {
            family_notice_working_days: 0,
            min_answer_working_hours: 1,
            ..settings()
        };
        let deadline = answer_deadline(&regions, &lenient, now, slot).expect("offered");
        assert!(deadline <= slot);
    }
}
