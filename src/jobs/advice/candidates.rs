//! The extra sessions a table could hold, from the region configuration:
//! its weekly session times on the other weekdays (Monday to Friday) of the
//! coming weeks, and its `extra_options` on their own weekday. Only those
//! the session rules accept ([`extra_session_slots`]: not in the past, not
//! on a hard holiday or a closure), not on a day with a blocking holiday,
//! and not overlapping a slot the table already has or another candidate.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

use crate::advice::Candidate;
use crate::calendar::{day_status, DayStatus};
use crate::config::{RegionConfig, RegionsConfig, SessionShape, SessionTemplate};
use crate::planner::scenario::SlotFile;
use crate::slots::sessions::extra_session_slots;

/// The candidate sessions of `region` from tomorrow up to and including
/// `last` (local dates), by date. `slots` are the
/// scenario's slots (every region), to keep clear of the existing ones.
pub fn for_region(
    regions: &RegionsConfig,
    region: &RegionConfig,
    slots: &[SlotFile],
    now: DateTime<Utc>,
    last: NaiveDate,
) -> Vec<Candidate> {
    let tz = regions.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let mut taken: Vec<(DateTime<Utc>, DateTime<Utc>)> = slots
        .iter()
        .filter(|s| s.region == region.id.as_str())
        .filter_map(|s| {
            let start = DateTime::parse_from_rfc3339(&s.start)
                .ok()?
                .with_timezone(&Utc);
            Some((
                start,
                start + chrono::Duration::minutes(i64::from(s.minutes)),
            ))
        })
        .collect();
    let mut out = Vec::new();
    let mut date = today.checked_add_days(Days::new(1));
    while let Some(day) = date.filter(|d| *d <= last) {
        // Largest first, and none overlapping another: any set of the
        // candidates can then be added together, and a smaller session at
        // the same time would never plan better than the larger one.
        let mut shapes = shapes_on(region, day.weekday());
        shapes.sort_by_key(|s| std::cmp::Reverse(u64::from(s.slots) * u64::from(s.slot_minutes)));
        for shape in shapes {
            if let Some(candidate) = candidate(regions, region, day, &shape, now, &taken) {
                let end = candidate.start
                    + chrono::Duration::minutes(i64::from(
                        candidate.slots * candidate.slot_minutes,
                    ));
                taken.push((candidate.start, end));
                out.push(candidate);
            }
        }
        date = day.checked_add_days(Days::new(1));
    }
    out
}

/// The session shapes to try on a weekday: every weekly shape on a working
/// day, every extra option on its own weekday; each shape once.
fn shapes_on(region: &RegionConfig, weekday: Weekday) -> Vec<SessionShape> {
    let working = !matches!(weekday, Weekday::Sat | Weekday::Sun);
    let weekly = region.sessions.iter().filter(|_| working);
    let extra = region.extra_options.iter().filter(|s| s.weekday == weekday);
    let mut shapes: Vec<SessionShape> = Vec::new();
    for shape in weekly.chain(extra).map(SessionTemplate::shape) {
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    shapes
}

fn candidate(
    regions: &RegionsConfig,
    region: &RegionConfig,
    date: NaiveDate,
    shape: &SessionShape,
    now: DateTime<Utc>,
    taken: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Option<Candidate> {
    if !matches!(day_status(regions, &region.id, date), DayStatus::Open) {
        return None;
    }
    let slots = extra_session_slots(regions, &region.id, date, shape, now).ok()?;
    let (first, last) = (slots.first()?, slots.last()?);
    let end = last.start + chrono::Duration::minutes(i64::from(last.minutes));
    if taken
        .iter()
        .any(|&(from, to)| first.start < to && from < end)
    {
        return None;
    }
    Some(Candidate {
        id: first.id.clone(),
        region: region.id.as_str().to_string(),
        start: first.start,
        slot_minutes: shape.slot_minutes,
        slots: shape.slots,
    })
}
