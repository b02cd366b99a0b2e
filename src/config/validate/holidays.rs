//! The `[holidays]` section: rules and periods, checked.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::values::non_empty;
use crate::config::error::Problems;
use crate::config::holidays::{
    Blocking, HolidayDate, HolidayPeriod, HolidayRule, HolidayRules, MonthDay,
};
use crate::config::raw::{RawHolidayPeriod, RawHolidayRule, RawHolidays, RawMonthDay};

pub(super) fn holidays(raw: &RawHolidays, p: &mut Problems) -> HolidayRules {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut note_id = |p: &mut Problems, id: &str, key: String| {
        if let Some(first) = ids.get(id) {
            p.push(key, format!("duplicate holiday id \"{id}\" (also {first})"));
        } else {
            ids.insert(id.to_owned(), key);
        }
    };

    let mut rules = Vec::new();
    for (i, r) in raw.rule.iter().flatten().enumerate() {
        let key = format!("holidays.rule[{i}]");
        if let Some(rule) = holiday_rule(r, &key, p) {
            note_id(p, &rule.id, format!("{key}.id"));
            rules.push(rule);
        }
    }
    let mut periods = Vec::new();
    for (i, r) in raw.period.iter().flatten().enumerate() {
        let key = format!("holidays.period[{i}]");
        if let Some(period) = holiday_period(r, &key, p) {
            note_id(p, &period.id, format!("{key}.id"));
            periods.push(period);
        }
    }
    HolidayRules { rules, periods }
}

pub(super) fn holiday_rule(r: &RawHolidayRule, key: &str, p: &mut Problems) -> Option<HolidayRule> {
    let id = p
        .required(&r.id, &format!("{key}.id"))
        .and_then(|s| non_empty(p, s, &format!("{key}.id")));
    let name = p
        .required(&r.name, &format!("{key}.name"))
        .and_then(|s| non_empty(p, s, &format!("{key}.name")));
    let blocking = blocking(&r.blocking, key, p);

    let unused = |p: &mut Problems, present: bool, field: &str, kind: &str| {
        if present {
            p.push(
                format!("{key}.{field}"),
                format!("not used by kind = \"{kind}\""),
            );
        }
    };
    let date = match p
        .required(&r.kind, &format!("{key}.kind"))
        .map(String::as_str)
    {
        None => None,
        Some(kind @ "fixed") => {
            unused(p, r.offset_days.is_some(), "offset_days", kind);
            unused(
                p,
                r.if_sunday_offset_days.is_some(),
                "if_sunday_offset_days",
                kind,
            );
            month_day(r.month, r.day, key, p).map(|md| HolidayDate::Fixed {
                month: md.month,
                day: md.day,
            })
        }
        Some(kind @ "easter_offset") => {
            unused(p, r.month.is_some(), "month", kind);
            unused(p, r.day.is_some(), "day", kind);
            unused(
                p,
                r.if_sunday_offset_days.is_some(),
                "if_sunday_offset_days",
                kind,
            );
            offset(&r.offset_days, &format!("{key}.offset_days"), p)
                .map(|offset_days| HolidayDate::EasterOffset { offset_days })
        }
        Some(kind @ "fixed_unless_sunday") => {
            unused(p, r.offset_days.is_some(), "offset_days", kind);
            let md = month_day(r.month, r.day, key, p);
            let shift = offset(
                &r.if_sunday_offset_days,
                &format!("{key}.if_sunday_offset_days"),
                p,
            );
            match (md, shift) {
                (Some(md), Some(if_sunday_offset_days)) => Some(HolidayDate::FixedUnlessSunday {
                    month: md.month,
                    day: md.day,
                    if_sunday_offset_days,
                }),
                _ => None,
            }
        }
        Some(other) => {
            p.push(
                format!("{key}.kind"),
                format!(
                    "unknown holiday rule kind \"{other}\" (expected \"fixed\", \"easter_offset\" or \"fixed_unless_sunday\")"
                ),
            );
            None
        }
    };
    Some(HolidayRule {
        id: id?,
        name: name?,
        date: date?,
        blocking: blocking?,
    })
}

pub(super) fn holiday_period(
    r: &RawHolidayPeriod,
    key: &str,
    p: &mut Problems,
) -> Option<HolidayPeriod> {
    let id = p
        .required(&r.id, &format!("{key}.id"))
        .and_then(|s| non_empty(p, s, &format!("{key}.id")));
    let name = p
        .required(&r.name, &format!("{key}.name"))
        .and_then(|s| non_empty(p, s, &format!("{key}.name")));
    let start = p
        .required(&r.start, &format!("{key}.start"))
        .and_then(|md: &RawMonthDay| month_day(md.month, md.day, &format!("{key}.start"), p));
    let end = p
        .required(&r.end, &format!("{key}.end"))
        .and_then(|md: &RawMonthDay| month_day(md.month, md.day, &format!("{key}.end"), p));
    let blocking = blocking(&r.blocking, key, p);
    Some(HolidayPeriod {
        id: id?,
        name: name?,
        start: start?,
        end: end?,
        blocking: blocking?,
    })
}

pub(super) fn blocking(raw: &Option<String>, key: &str, p: &mut Problems) -> Option<Blocking> {
    let key = format!("{key}.blocking");
    p.required(raw, &key).and_then(|s| {
        let parsed = Blocking::parse(s);
        if parsed.is_none() {
            p.push(
                key,
                format!("unknown blocking \"{s}\" (expected \"hard\" or \"soft\")"),
            );
        }
        parsed
    })
}

/// `month` and `day` under `key`; the day must exist in that month in some
/// year (29 February is accepted).
pub(super) fn month_day(
    month: Option<i64>,
    day: Option<i64>,
    key: &str,
    p: &mut Problems,
) -> Option<MonthDay> {
    let month_key = format!("{key}.month");
    let day_key = format!("{key}.day");
    let month = p
        .required(&month, &month_key)
        .and_then(|&m| match u32::try_from(m) {
            Ok(m) if (1..=12).contains(&m) => Some(m),
            _ => {
                p.push(
                    &month_key,
                    format!("must be a month from 1 to 12 (got {m})"),
                );
                None
            }
        });
    let day = p
        .required(&day, &day_key)
        .and_then(|&d| match u32::try_from(d) {
            Ok(d) if (1..=31).contains(&d) => Some(d),
            _ => {
                p.push(&day_key, format!("must be a day from 1 to 31 (got {d})"));
                None
            }
        });
    let (month, day) = (month?, day?);
    // 2000 is a leap year, so this accepts exactly the days that exist.
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        p.push(day_key, format!("month {month} has no day {day}"));
        return None;
    }
    Some(MonthDay { month, day })
}

pub(super) fn offset(raw: &Option<i64>, key: &str, p: &mut Problems) -> Option<i32> {
    p.required(raw, key).and_then(|&days| {
        if (-MAX_OFFSET_DAYS..=MAX_OFFSET_DAYS).contains(&days) {
            i32::try_from(days).ok()
        } else {
            p.push(
                key,
                format!(
                    "offset of {days} days is too large (at most {MAX_OFFSET_DAYS} either way)"
                ),
            );
            None
        }
    })
}

/// Largest Easter or Sunday offset accepted, in days; keeps every rule's date
/// within a year of the year it is computed for.
const MAX_OFFSET_DAYS: i64 = 200;
