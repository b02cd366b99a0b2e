//! From weekly session templates to concrete, dated slots.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;

use super::session::{overlap, session_slots, InGap};
use super::slot::CalendarSlot;
use crate::config::holidays::{Blocking, Holiday};
use crate::config::{RegionConfig, RegionId, RegionsConfig, SoftHolidayPolicy};

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
/// later session that would overlap it is left out. A session whose slots
/// would then run past midnight (only one that fills nearly the whole day)
/// gets no slots that day at all: [`session_slots`] refuses it whole.
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
