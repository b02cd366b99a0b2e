//! From weekly session templates to concrete, dated slots.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::holidays::{Blocking, Holiday};
use super::session::{overlap, session_slots, InGap};
use crate::config::{RegionConfig, RegionId, RegionsConfig, SoftHolidayPolicy};

/// One bookable slot at a region's table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CalendarSlot {
    /// Stable id: region, local date and local start time, e.g.
    /// `food-valley-20261202-0900` (see [`super::slot_id`]). Regenerating the
    /// calendar gives the same id for the same slot.
    pub id: String,
    pub region: RegionId,
    /// Local date (in the configured time zone).
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub minutes: u32,
}

impl CalendarSlot {
    /// End of the slot; `start` if the length cannot be represented.
    pub fn end(&self) -> DateTime<Utc> {
        self.start
            .checked_add_signed(TimeDelta::minutes(i64::from(self.minutes)))
            .unwrap_or(self.start)
    }

    /// Start of the slot as wall-clock time in `tz`.
    pub fn local_start(&self, tz: Tz) -> DateTime<Tz> {
        self.start.with_timezone(&tz)
    }
}

/// Whether a region's table can sit on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum DayStatus {
    /// No blocking holiday and no closure. (The region may still have no
    /// session on that weekday.)
    Open,
    /// A hard holiday, or a soft one while the policy is `avoid`. A soft
    /// holiday under `allow` gives `Open`; use
    /// [`HolidayRules::holiday_on`](super::HolidayRules::holiday_on) to show it anyway.
    Holiday(Holiday),
    /// The region's table is closed that day; the closure's reason.
    Closed(String),
}

/// The status of `region`'s table on local date `date`. A blocking holiday
/// takes precedence over a closure.
pub fn day_status(config: &RegionsConfig, region: &RegionId, date: NaiveDate) -> DayStatus {
    status_with(config, blocking_holiday(config, date), region, date)
}

fn blocking_holiday(config: &RegionsConfig, date: NaiveDate) -> Option<Holiday> {
    config
        .holidays
        .holiday_on(date)
        .filter(|h| match h.blocking {
            Blocking::Hard => true,
            Blocking::Soft => config.soft_holidays == SoftHolidayPolicy::Avoid,
        })
}

fn status_with(
    config: &RegionsConfig,
    holiday: Option<Holiday>,
    region: &RegionId,
    date: NaiveDate,
) -> DayStatus {
    if let Some(h) = holiday {
        return DayStatus::Holiday(h);
    }
    match config.closure_on(region, date) {
        Some(c) => DayStatus::Closed(c.reason.clone()),
        None => DayStatus::Open,
    }
}

/// All slots of all regions on local dates `from..=to` (empty if `to` is
/// before `from`), sorted by start time, then region.
///
/// Days that are not [`DayStatus::Open`] for a region get no slots for that
/// region. Session times are local wall-clock times in `config.timezone`, so a
/// 09:00 session is at 09:00 local time in winter and in summer; each
/// session's slots follow each other in real time ([`session_slots`]), a start
/// in the spring gap moves to the first instant after it.
///
/// No two slots of one table overlap in real time: on the spring-forward
/// day, when a session's run takes an hour longer by the clock, a slot of a
/// later session that would overlap it is left out, as is a slot that would
/// run past midnight.
pub fn generate_slots(config: &RegionsConfig, from: NaiveDate, to: NaiveDate) -> Vec<CalendarSlot> {
    let mut slots = Vec::new();
    for date in from.iter_days().take_while(|d| *d <= to) {
        let holiday = blocking_holiday(config, date);
        for region in &config.regions {
            if status_with(config, holiday.clone(), &region.id, date) != DayStatus::Open {
                continue;
            }
            slots.extend(day_slots(config.timezone, region, date));
        }
    }
    slots.sort_by(|a, b| (a.start, &a.region, &a.id).cmp(&(b.start, &b.region, &b.id)));
    slots
}

/// One table's slots on one open day, without overlaps.
fn day_slots(tz: Tz, region: &RegionConfig, date: NaiveDate) -> Vec<CalendarSlot> {
    let mut candidates: Vec<CalendarSlot> = region
        .sessions
        .iter()
        .filter(|s| s.weekday == date.weekday())
        .filter_map(|s| {
            session_slots(tz, &region.id, date, &s.shape(), InGap::MoveForward, false).ok()
        })
        .flatten()
        .collect();
    candidates.sort_by_key(|s| s.start);
    let mut kept: Vec<CalendarSlot> = Vec::with_capacity(candidates.len());
    for slot in candidates {
        if kept.last().is_none_or(|last| !overlap(last, &slot)) {
            kept.push(slot);
        }
    }
    kept
}

/// The instant of local wall-clock time `local` in `tz`.
///
/// - A time that exists twice (the hour repeated when summer time ends) maps
///   to the earlier instant.
/// - A time that does not exist (the hour skipped when summer time starts) is
///   read with the UTC offset in force just before the gap, which moves it
///   forward by the length of the gap: in Europe/Amsterdam 02:30 on the last
///   Sunday of March becomes 03:30 CEST (01:30 UTC).
///
/// Never panics; if no offset can be found at all, `local` is read as UTC.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap: look back for the offset in force before it (gaps are at most
    // a few hours; look back up to two days to be safe).
    (1..=48)
        .filter_map(|hours| local.checked_sub_signed(TimeDelta::hours(hours)))
        .find_map(|before| tz.from_local_datetime(&before).earliest())
        .and_then(|before| {
            let offset = i64::from(before.offset().fix().local_minus_utc());
            local.checked_sub_signed(TimeDelta::seconds(offset))
        })
        .map_or_else(
            || Utc.from_utc_datetime(&local),
            |utc| Utc.from_utc_datetime(&utc),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test time")
    }

    #[test]
    fn ordinary_times_map_with_the_current_offset() {
        let tz = chrono_tz::Europe::Amsterdam;
        assert_eq!(
            local_to_utc(tz, at(2026, 1, 6, 9, 0)),
            Utc.from_utc_datetime(&at(2026, 1, 6, 8, 0))
        );
        assert_eq!(
            local_to_utc(tz, at(2026, 7, 7, 9, 0)),
            Utc.from_utc_datetime(&at(2026, 7, 7, 7, 0))
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward() {
        // 2026-03-29 02:30 does not exist in Amsterdam; it is read as CET.
        let utc = local_to_utc(chrono_tz::Europe::Amsterdam, at(2026, 3, 29, 2, 30));
        assert_eq!(utc, Utc.from_utc_datetime(&at(2026, 3, 29, 1, 30)));
        let local = utc.with_timezone(&chrono_tz::Europe::Amsterdam);
        assert_eq!(local.naive_local(), at(2026, 3, 29, 3, 30));
    }

    #[test]
    fn a_repeated_autumn_time_takes_the_earlier_instant() {
        // 2026-10-25 02:30 happens twice: 00:30Z (CEST) and 01:30Z (CET).
        let utc = local_to_utc(chrono_tz::Europe::Amsterdam, at(2026, 10, 25, 2, 30));
        assert_eq!(utc, Utc.from_utc_datetime(&at(2026, 10, 25, 0, 30)));
    }
}
