//! Working days in the configured time zone, for deadlines such as the
//! answer time of an offer to a neighbouring table.
//!
//! A working day is a Monday to Friday that is not a *hard* holiday of
//! `[holidays]`. Soft holidays (Good Friday, the Friday after Ascension Day,
//! the days between Christmas and New Year) count as working days whatever
//! `soft_holidays` says: that policy is about whether tables sit, while
//! offices are open on those days and can answer. Counting them out would
//! hold a slot for a week over Christmas. Region closures are ignored too:
//! they close one table, not the offices.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};

use super::{local_to_utc, Blocking};
use crate::config::RegionsConfig;

/// Non-working days in a row after which a day counts anyway, so a
/// configuration that blocks a whole year cannot make the count run forever.
const MAX_SKIPPED_IN_A_ROW: u32 = 400;

/// Whether `date` (a local date) is a working day: see the module docs.
pub fn is_working_day(config: &RegionsConfig, date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        && config
            .holidays
            .holiday_on(date)
            .is_none_or(|h| h.blocking != Blocking::Hard)
}

/// Office hours of a working day, local time: 09:00 to 17:00. Answer times
/// counted in working hours count only these.
pub const OFFICE_HOURS: (NaiveTime, NaiveTime) = (
    NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
    NaiveTime::from_hms_opt(17, 0, 0).expect("17:00"),
);

/// The same local wall-clock time as `at`, `days` working days earlier: a
/// slot on Monday 15:00 less one working day is the Friday before at 15:00.
/// `days == 0` gives `at`.
pub fn sub_working_days(config: &RegionsConfig, at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    if days == 0 {
        return at;
    }
    let local = at.with_timezone(&config.timezone).naive_local();
    let mut date = local.date();
    let mut counted = 0;
    let mut skipped = 0;
    while counted < days {
        let Some(previous) = date.pred_opt() else {
            return DateTime::<Utc>::MIN_UTC;
        };
        date = previous;
        if is_working_day(config, date) || skipped >= MAX_SKIPPED_IN_A_ROW {
            counted += 1;
            skipped = 0;
        } else {
            skipped += 1;
        }
    }
    local_to_utc(config.timezone, date.and_time(local.time()))
}

/// Office time between two instants: the part of `from..to` that falls
/// within [`OFFICE_HOURS`] on working days, local time. Zero when `to` is
/// not after `from`.
pub fn working_time_between(
    config: &RegionsConfig,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> TimeDelta {
    let tz = config.timezone;
    let mut total = TimeDelta::zero();
    let mut date = from.with_timezone(&tz).date_naive();
    let last = to.with_timezone(&tz).date_naive();
    while date <= last && from < to {
        if is_working_day(config, date) {
            let open = local_to_utc(tz, date.and_time(OFFICE_HOURS.0)).max(from);
            let close = local_to_utc(tz, date.and_time(OFFICE_HOURS.1)).min(to);
            if close > open {
                total += close - open;
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    total
}

/// The same local wall-clock time as `from`, `days` working days later, in
/// `config.timezone`. From a Friday 10:00, two working days on is Tuesday
/// 10:00; from a Saturday, Monday is the first working day. The local time
/// is kept across a change of summer time (see [`local_to_utc`] for a time
/// that does not exist on the day it lands on). `days == 0` gives `from`.
pub fn add_working_days(config: &RegionsConfig, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    if days == 0 {
        return from;
    }
    let local = from.with_timezone(&config.timezone).naive_local();
    let mut date = local.date();
    let mut counted = 0;
    let mut skipped = 0;
    while counted < days {
        let Some(next) = date.succ_opt() else {
            return DateTime::<Utc>::MAX_UTC;
        };
        date = next;
        if is_working_day(config, date) || skipped >= MAX_SKIPPED_IN_A_ROW {
            counted += 1;
            skipped = 0;
        } else {
            skipped += 1;
        }
    }
    local_to_utc(config.timezone, date.and_time(local.time()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Amsterdam;

    use super::*;
    use crate::calendar::{HolidayPeriod, HolidayRules, MonthDay};

    fn config() -> RegionsConfig {
        RegionsConfig::builtin().expect("built-in regions")
    }

    /// An instant given as Amsterdam wall-clock time.
    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Amsterdam
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("unambiguous local time")
            .with_timezone(&Utc)
    }

    #[test]
    fn two_working_days_from_a_friday_is_the_tuesday_at_the_same_time() {
        let friday = local(2026, 12, 4, 10, 0);
        assert_eq!(
            add_working_days(&config(), friday, 2),
            local(2026, 12, 8, 10, 0)
        );
    }

    #[test]
    fn weekdays_without_holidays_count_one_by_one() {
        let monday = local(2026, 11, 30, 8, 0);
        assert_eq!(
            add_working_days(&config(), monday, 1),
            local(2026, 12, 1, 8, 0)
        );
        assert_eq!(
            add_working_days(&config(), monday, 5),
            local(2026, 12, 7, 8, 0)
        );
        assert_eq!(add_working_days(&config(), monday, 0), monday);
    }

    #[test]
    fn christmas_days_and_the_weekend_are_skipped_but_soft_days_count() {
        // Thu 24 Dec; 25 and 26 Dec are hard holidays, 27 is a Sunday;
        // Mon 28 Dec lies in the soft Christmas period and counts.
        let christmas_eve = local(2026, 12, 24, 16, 0);
        assert_eq!(
            add_working_days(&config(), christmas_eve, 2),
            local(2026, 12, 29, 16, 0)
        );
        // New Year's Day 2027, a Friday, is hard.
        let thursday = local(2026, 12, 31, 9, 0);
        assert_eq!(
            add_working_days(&config(), thursday, 1),
            local(2027, 1, 4, 9, 0)
        );
    }

    #[test]
    fn a_start_on_a_non_working_day_counts_from_the_next_one() {
        let saturday = local(2026, 12, 5, 11, 0);
        assert_eq!(
            add_working_days(&config(), saturday, 1),
            local(2026, 12, 7, 11, 0)
        );
    }

    #[test]
    fn the_local_time_is_kept_over_the_october_change_of_summer_time() {
        // Summer time ends on Sunday 25 October 2026: 10:00 is 08:00Z on the
        // Friday before and 09:00Z on the Tuesday after.
        let friday = local(2026, 10, 23, 10, 0);
        assert_eq!(
            friday,
            Utc.with_ymd_and_hms(2026, 10, 23, 8, 0, 0)
                .single()
                .expect("t")
        );
        let due = add_working_days(&config(), friday, 2);
        assert_eq!(
            due,
            Utc.with_ymd_and_hms(2026, 10, 27, 9, 0, 0)
                .single()
                .expect("t")
        );
        assert_eq!(due, local(2026, 10, 27, 10, 0));
    }

    #[test]
    fn holidays_from_easter_count_out() {
        // Easter Monday 2027 is 29 March; Good Friday (26 March) is soft.
        let thursday = local(2027, 3, 25, 12, 0);
        assert_eq!(
            add_working_days(&config(), thursday, 2),
            local(2027, 3, 30, 12, 0)
        );
    }

    #[test]
    fn one_working_day_before_a_monday_is_the_friday() {
        let monday = local(2026, 11, 30, 15, 0);
        assert_eq!(
            sub_working_days(&config(), monday, 1),
            local(2026, 11, 27, 15, 0)
        );
        // Before Mon 28 Dec 2026: Sun 27, Sat 26 and Fri 25 Dec (hard).
        let after_christmas = local(2026, 12, 28, 9, 0);
        assert_eq!(
            sub_working_days(&config(), after_christmas, 1),
            local(2026, 12, 24, 9, 0)
        );
        assert_eq!(sub_working_days(&config(), monday, 0), monday);
    }

    #[test]
    fn working_time_counts_office_hours_of_working_days_only() {
        let hours =
            |from, to| working_time_between(&config(), from, to).num_minutes() as f64 / 60.0;
        // Friday 07:37 to 15:00: 09:00-15:00.
        assert_eq!(
            hours(local(2026, 11, 27, 7, 37), local(2026, 11, 27, 15, 0)),
            6.0
        );
        // Friday 16:00 to Monday 10:00: one hour each side of the weekend.
        assert_eq!(
            hours(local(2026, 11, 27, 16, 0), local(2026, 11, 30, 10, 0)),
            2.0
        );
        // Christmas Day (hard) counts nothing; backwards is nothing.
        assert_eq!(
            hours(local(2026, 12, 25, 8, 0), local(2026, 12, 25, 18, 0)),
            0.0
        );
        assert_eq!(
            hours(local(2026, 11, 30, 10, 0), local(2026, 11, 27, 10, 0)),
            0.0
        );
    }

    #[test]
    fn a_year_of_hard_holidays_does_not_loop_forever() {
        let mut blocked = config();
        blocked.holidays = HolidayRules {
            rules: Vec::new(),
            periods: vec![HolidayPeriod {
                id: "always".into(),
                name: "Always".into(),
                start: MonthDay { month: 1, day: 1 },
                end: MonthDay { month: 12, day: 31 },
                blocking: Blocking::Hard,
            }],
        };
        let from = local(2026, 12, 1, 9, 0);
        assert!(add_working_days(&blocked, from, 2) > from);
    }
}
