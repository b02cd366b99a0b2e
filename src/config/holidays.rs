//! Dutch holidays: Easter computus and the rule engine behind `[holidays]` in
//! `config/regions.toml`.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Serialize;

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous algorithm
/// published by Meeus, Jones and Butcher). Always a Sunday between 22 March
/// and 25 April.
///
/// For years outside the range chrono can represent (about ±262,000) there is
/// no such date; the function then returns `NaiveDate::MIN` or `NaiveDate::MAX`
/// instead of panicking.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 is 1..=31, so the casts are exact.
    let month = u32::try_from(n.div_euclid(31)).unwrap_or(3);
    let day = u32::try_from(n.rem_euclid(31) + 1).unwrap_or(1);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// How strongly a holiday keeps tables from sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocking {
    /// Never schedule on this day.
    Hard,
    /// Avoided or allowed according to `soft_holidays` in the configuration.
    Soft,
}

impl Blocking {
    /// Parses the configuration value (`hard`, `soft`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hard" => Some(Self::Hard),
            "soft" => Some(Self::Soft),
            _ => None,
        }
    }
}

/// A holiday that falls on some date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// The id of the rule or period it comes from (`koningsdag`).
    pub id: String,
    /// Display name, in Dutch (`Koningsdag`).
    pub name: String,
    /// Whether tables may still sit on it.
    pub blocking: Blocking,
}

/// A day of the year, without the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MonthDay {
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

impl MonthDay {
    /// The month and day of `date`.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            month: date.month(),
            day: date.day(),
        }
    }
}

/// When a holiday rule falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HolidayDate {
    /// Same day every year (in years where it exists: 29 February only in
    /// leap years).
    Fixed {
        /// 1 to 12.
        month: u32,
        /// 1 to 31.
        day: u32,
    },
    /// `offset_days` after Easter Sunday (negative: before).
    EasterOffset {
        /// Days after Easter Sunday; negative for before.
        offset_days: i32,
    },
    /// `month`/`day`, moved by `if_sunday_offset_days` when that is a Sunday
    /// (Koningsdag: 27 April, or 26 April when the 27th is a Sunday).
    FixedUnlessSunday {
        /// 1 to 12.
        month: u32,
        /// 1 to 31.
        day: u32,
        /// Days to move the date by when it is a Sunday (negative: earlier).
        if_sunday_offset_days: i32,
    },
}

/// A holiday occurring once a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolidayRule {
    /// Stable identifier (`koningsdag`).
    pub id: String,
    /// Display name, in Dutch.
    pub name: String,
    /// When it falls.
    pub date: HolidayDate,
    /// Whether tables may still sit on it.
    pub blocking: Blocking,
}

impl HolidayRule {
    /// The date this rule gives for `year` (the year the rule is computed
    /// for; an offset may move the result into a neighbouring year). `None`
    /// if the date does not exist that year.
    pub fn date_for_year(&self, year: i32) -> Option<NaiveDate> {
        match self.date {
            HolidayDate::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayDate::EasterOffset { offset_days } => add_days(easter_sunday(year), offset_days),
            HolidayDate::FixedUnlessSunday {
                month,
                day,
                if_sunday_offset_days,
            } => {
                let date = NaiveDate::from_ymd_opt(year, month, day)?;
                if date.weekday() == Weekday::Sun {
                    add_days(date, if_sunday_offset_days)
                } else {
                    Some(date)
                }
            }
        }
    }

    /// True if the rule falls on `date`. Years on either side are checked too,
    /// so a rule whose offset crosses New Year is still found.
    pub fn falls_on(&self, date: NaiveDate) -> bool {
        let year = date.year();
        [year.checked_sub(1), Some(year), year.checked_add(1)]
            .into_iter()
            .flatten()
            .any(|y| self.date_for_year(y) == Some(date))
    }

    fn holiday(&self) -> Holiday {
        Holiday {
            id: self.id.clone(),
            name: self.name.clone(),
            blocking: self.blocking,
        }
    }
}

/// A stretch of days, from `start` to `end` inclusive, every year. When `end`
/// comes before `start` the period runs over New Year (e.g. 20 Dec - 3 Jan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolidayPeriod {
    /// Stable identifier.
    pub id: String,
    /// Display name, in Dutch.
    pub name: String,
    /// First day, inclusive.
    pub start: MonthDay,
    /// Last day, inclusive.
    pub end: MonthDay,
    /// Whether tables may still sit in it.
    pub blocking: Blocking,
}

impl HolidayPeriod {
    /// Whether `date` lies in the period (in any year).
    pub fn contains(&self, date: NaiveDate) -> bool {
        let d = MonthDay::of(date);
        if self.start <= self.end {
            self.start <= d && d <= self.end
        } else {
            d >= self.start || d <= self.end
        }
    }

    fn holiday(&self) -> Holiday {
        Holiday {
            id: self.id.clone(),
            name: self.name.clone(),
            blocking: self.blocking,
        }
    }
}

/// All holiday rules and periods of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HolidayRules {
    /// Single days (`[[holidays.rule]]`), in file order.
    pub rules: Vec<HolidayRule>,
    /// Stretches of days (`[[holidays.period]]`), in file order.
    pub periods: Vec<HolidayPeriod>,
}

impl HolidayRules {
    /// The holiday on `date`, if any. When several match, a hard one wins
    /// over a soft one; otherwise rules come before periods, in file order.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<Holiday> {
        let mut matches = self
            .rules
            .iter()
            .filter(|r| r.falls_on(date))
            .map(HolidayRule::holiday)
            .chain(
                self.periods
                    .iter()
                    .filter(|p| p.contains(date))
                    .map(HolidayPeriod::holiday),
            );
        let first = matches.next()?;
        if first.blocking == Blocking::Hard {
            return Some(first);
        }
        Some(
            matches
                .find(|h| h.blocking == Blocking::Hard)
                .unwrap_or(first),
        )
    }

    /// Every date from `from` to `to` (inclusive) that has a holiday.
    pub fn holidays_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, Holiday)> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter_map(|d| self.holiday_on(d).map(|h| (d, h)))
            .collect()
    }
}

fn add_days(date: NaiveDate, offset: i32) -> Option<NaiveDate> {
    let days = Days::new(u64::from(offset.unsigned_abs()));
    if offset >= 0 {
        date.checked_add_days(days)
    } else {
        date.checked_sub_days(days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn easter_matches_known_dates() {
        assert_eq!(easter_sunday(1961), ymd(1961, 4, 2));
        assert_eq!(easter_sunday(2000), ymd(2000, 4, 23));
        assert_eq!(easter_sunday(2008), ymd(2008, 3, 23));
        assert_eq!(easter_sunday(2011), ymd(2011, 4, 24));
        assert_eq!(easter_sunday(2285), ymd(2285, 3, 22));
        assert_eq!(easter_sunday(2038), ymd(2038, 4, 25));
    }

    #[test]
    fn easter_does_not_panic_outside_chrono_range() {
        assert_eq!(easter_sunday(i32::MAX), NaiveDate::MAX);
        assert_eq!(easter_sunday(i32::MIN), NaiveDate::MIN);
    }

    #[test]
    fn period_over_new_year_wraps() {
        let period = HolidayPeriod {
            id: "winter".into(),
            name: "Winter".into(),
            start: MonthDay { month: 12, day: 20 },
            end: MonthDay { month: 1, day: 3 },
            blocking: Blocking::Soft,
        };
        assert!(period.contains(ymd(2026, 12, 31)));
        assert!(period.contains(ymd(2027, 1, 2)));
        assert!(!period.contains(ymd(2027, 1, 4)));
        assert!(!period.contains(ymd(2026, 12, 19)));
    }

    #[test]
    fn easter_offset_crossing_new_year_is_found() {
        let rule = HolidayRule {
            id: "odd".into(),
            name: "Odd".into(),
            date: HolidayDate::EasterOffset { offset_days: 280 },
            blocking: Blocking::Soft,
        };
        // Easter 2026 is 5 April; 280 days later is 10 January 2027.
        assert!(rule.falls_on(ymd(2027, 1, 10)));
    }

    #[test]
    fn hard_holiday_wins_over_soft_on_the_same_day() {
        let rules = HolidayRules {
            rules: vec![
                HolidayRule {
                    id: "soft".into(),
                    name: "Soft".into(),
                    date: HolidayDate::Fixed { month: 5, day: 5 },
                    blocking: Blocking::Soft,
                },
                HolidayRule {
                    id: "hard".into(),
                    name: "Hard".into(),
                    date: HolidayDate::Fixed { month: 5, day: 5 },
                    blocking: Blocking::Hard,
                },
            ],
            periods: vec![],
        };
        let h = rules.holiday_on(ymd(2026, 5, 5)).expect("holiday");
        assert_eq!(h.id, "hard");
    }
}
