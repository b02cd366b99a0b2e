//! One table session on one date: its slots in real time.
//!
//! The weekly sessions of the region configuration and the extra sessions
//! added through the API are checked by the same rules
//! ([`SessionShape::problems`]) and laid out by the same function
//! ([`session_slots`]): the first slot
//! starts at the session's local start, each next one when the previous one
//! ends, counted in real time. Across a clock change the local times shift
//! (an hour later on the spring-forward day), but two slots of one session
//! never overlap, and on the autumn day, when local times repeat, the second
//! occurrence gets its own id.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::slot::{local_to_utc, CalendarSlot};
use crate::config::{RegionId, SessionProblem, SessionShape};

/// What to do with a start time that does not exist on the date (the hour
/// skipped when summer time starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InGap {
    /// Start at the first instant after the gap (weekly sessions: the
    /// template says "Sunday 02:30", which one night a year does not exist).
    MoveForward,
    /// Refuse (an extra session: someone typed a time that does not exist).
    Refuse,
}

/// The slots of a session at `region`'s table on local `date` in `tz`, in
/// real time from the session's start (see the module documentation).
/// Extra sessions (`extra`) get ids ending in `-extra`.
///
/// # Errors
/// A [`SessionProblem`] on `start` when the start does not exist on that
/// date and `in_gap` is [`InGap::Refuse`], or when a slot would start or end
/// after the date's midnight (possible on the spring-forward day only,
/// since [`SessionShape::problems`] keeps sessions within the day by the
/// clock).
pub fn session_slots(
    tz: Tz,
    region: &RegionId,
    date: NaiveDate,
    shape: &SessionShape,
    in_gap: InGap,
    extra: bool,
) -> Result<Vec<CalendarSlot>, SessionProblem> {
    let local = date.and_time(shape.start);
    if in_gap == InGap::Refuse && tz.from_local_datetime(&local) == LocalResult::None {
        return Err(SessionProblem::new(
            "start",
            format!(
                "{} does not exist on {date}: the clocks go forward an hour that night",
                shape.start.format("%H:%M")
            ),
            format!(
                "{} bestaat niet op {}: de klok gaat die nacht een uur vooruit",
                shape.start.format("%H:%M"),
                date.format("%d-%m-%Y")
            ),
        ));
    }
    let first = local_to_utc(tz, local);
    let next_midnight = date
        .succ_opt()
        .map(|d| local_to_utc(tz, d.and_time(NaiveTime::MIN)));
    let mut slots = Vec::with_capacity(shape.slots as usize);
    for i in 0..shape.slots {
        let offset = TimeDelta::minutes(i64::from(i) * i64::from(shape.slot_minutes));
        let start = first + offset;
        let end = start + TimeDelta::minutes(i64::from(shape.slot_minutes));
        if next_midnight.is_some_and(|midnight| end > midnight) {
            return Err(SessionProblem::new(
                "start",
                format!("the session runs past midnight on {date}"),
                format!(
                    "de zitting loopt op {} door na middernacht",
                    date.format("%d-%m-%Y")
                ),
            ));
        }
        slots.push(CalendarSlot {
            id: slot_id(tz, region, start, extra),
            region: region.clone(),
            date,
            start,
            minutes: shape.slot_minutes,
        });
    }
    Ok(slots)
}

/// A slot's stable id: region, local date and local start time
/// (`food-valley-20261202-0900`). On the autumn day, when 02:00-03:00
/// happens twice, a slot in the second one gets a `b`
/// (`food-valley-20261025-0230b`); extra sessions end in `-extra`.
pub fn slot_id(tz: Tz, region: &RegionId, start: DateTime<Utc>, extra: bool) -> String {
    let local = start.with_timezone(&tz);
    let repeat = match tz.from_local_datetime(&local.naive_local()) {
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc) != start,
        _ => false,
    };
    format!(
        "{region}-{}{}{}",
        local.format("%Y%m%d-%H%M"),
        if repeat { "b" } else { "" },
        if extra { "-extra" } else { "" }
    )
}

/// Do two slots overlap in real time? (Touching is not overlapping.)
pub fn overlap(a: &CalendarSlot, b: &CalendarSlot) -> bool {
    a.start < b.end() && b.start < a.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(start: &str, slots: u32, slot_minutes: u32) -> SessionShape {
        SessionShape {
            start: NaiveTime::parse_from_str(start, "%H:%M").expect("time"),
            slots,
            slot_minutes,
        }
    }

    fn region() -> RegionId {
        RegionId::parse("rijk-van-nijmegen").expect("id")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn local_starts(slots: &[CalendarSlot]) -> Vec<String> {
        slots
            .iter()
            .map(|s| s.local_start(chrono_tz::Europe::Amsterdam).to_rfc3339())
            .collect()
    }

    #[test]
    fn on_the_spring_day_slots_follow_in_real_time_through_the_gap() {
        let tz = chrono_tz::Europe::Amsterdam;
        let slots = session_slots(
            tz,
            &region(),
            day(2028, 3, 26),
            &shape("01:00", 3, 90),
            InGap::Refuse,
            true,
        )
        .expect("slots");
        assert_eq!(
            local_starts(&slots),
            [
                "2028-03-26T01:00:00+01:00",
                "2028-03-26T03:30:00+02:00",
                "2028-03-26T05:00:00+02:00"
            ]
        );
        assert_eq!(slots[1].id, "rijk-van-nijmegen-20280326-0330-extra");
    }

    #[test]
    fn a_start_in_the_gap_is_refused_or_moved_forward() {
        let tz = chrono_tz::Europe::Amsterdam;
        let sunday_two = shape("02:00", 4, 30);
        let refused = session_slots(
            tz,
            &region(),
            day(2028, 3, 26),
            &sunday_two,
            InGap::Refuse,
            true,
        )
        .expect_err("02:00 does not exist");
        assert_eq!(refused.field, "start");
        assert!(
            refused.dutch.contains("bestaat niet op 26-03-2028"),
            "{refused:?}"
        );
        let moved = session_slots(
            tz,
            &region(),
            day(2028, 3, 26),
            &sunday_two,
            InGap::MoveForward,
            false,
        )
        .expect("moved");
        assert_eq!(
            local_starts(&moved),
            [
                "2028-03-26T03:00:00+02:00",
                "2028-03-26T03:30:00+02:00",
                "2028-03-26T04:00:00+02:00",
                "2028-03-26T04:30:00+02:00"
            ]
        );
    }

    #[test]
    fn on_the_autumn_day_repeated_local_times_get_their_own_ids() {
        let tz = chrono_tz::Europe::Amsterdam;
        let slots = session_slots(
            tz,
            &region(),
            day(2026, 10, 25),
            &shape("01:30", 4, 30),
            InGap::Refuse,
            false,
        )
        .expect("slots");
        let ids: Vec<&str> = slots.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "rijk-van-nijmegen-20261025-0130",
                "rijk-van-nijmegen-20261025-0200",
                "rijk-van-nijmegen-20261025-0230",
                "rijk-van-nijmegen-20261025-0200b"
            ]
        );
    }
}
