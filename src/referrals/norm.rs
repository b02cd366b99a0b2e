//! The norm clock: a referral should be discussed within `norm_days`
//! calendar days of its registration. Pure: dates in, verdict out.
//!
//! Days are counted on the local calendar (Europe/Amsterdam from the region
//! configuration), never in UTC: a referral registered at 23:30 on
//! 30 November in Amsterdam is 22:30 UTC the same day, but one registered at
//! 00:30 on 1 December is still 30 November in UTC and counts from 1 December.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::lifecycle::Status;

/// How a referral stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NormStatus {
    /// Neither at risk nor late.
    OnTrack,
    /// Not late yet, but not booked and either without a planned slot or
    /// close to its due date.
    AtRisk,
    /// Past its due date without being held, or planned/booked after it.
    Late,
}

/// The norm clock of one referral at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Norm {
    /// Local date by which it should be discussed.
    pub due: NaiveDate,
    /// Calendar days since the local date of registration (until the
    /// conversation, once held).
    pub days_waiting: i64,
    /// On track, at risk or late.
    pub status: NormStatus,
}

/// What the clock needs to know about a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormInput {
    /// When the referral was registered (UTC); the clock counts from its
    /// local date.
    pub registered_at: DateTime<Utc>,
    /// The local date by which it should be discussed.
    pub due: NaiveDate,
    /// The referral's lifecycle status.
    pub status: Status,
    /// Local date of the planned or booked slot, if any.
    pub slot_date: Option<NaiveDate>,
}

/// The local calendar date of an instant.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The due date of a referral registered at `registered_at`.
pub fn due_date(registered_at: DateTime<Utc>, tz: Tz, norm_days: u32) -> NaiveDate {
    let registered = local_date(registered_at, tz);
    registered
        .checked_add_days(Days::new(u64::from(norm_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The clock of a referral on local date `today`.
pub fn assess(input: &NormInput, tz: Tz, today: NaiveDate, at_risk_days: i64) -> Norm {
    let registered = local_date(input.registered_at, tz);
    let held = matches!(input.status, Status::Held | Status::OutcomeRecorded);
    // Once the conversation took place, the wait ended on its date.
    let wait_end = match (held, input.slot_date) {
        (true, Some(date)) => date,
        _ => today,
    };
    let days_waiting = (wait_end - registered).num_days().max(0);
    let overdue = input.status.is_waiting() && today > input.due;
    let slot_late = input.slot_date.is_some_and(|d| d > input.due);
    let status = if overdue || slot_late {
        NormStatus::Late
    } else if matches!(
        input.status,
        Status::Incomplete | Status::Registered | Status::Planned
    ) && (input.slot_date.is_none() || (input.due - today).num_days() <= at_risk_days)
    {
        NormStatus::AtRisk
    } else {
        NormStatus::OnTrack
    };
    Norm {
        due: input.due,
        days_waiting,
        status,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const TZ: Tz = chrono_tz::Europe::Amsterdam;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid instant")
    }

    fn input(status: Status, slot_date: Option<NaiveDate>) -> NormInput {
        NormInput {
            registered_at: utc(2026, 11, 30, 9, 0),
            due: date(2026, 12, 14),
            status,
            slot_date,
        }
    }

    #[test]
    fn due_date_counts_from_the_local_date_of_registration() {
        assert_eq!(
            due_date(utc(2026, 11, 30, 9, 0), TZ, 14),
            date(2026, 12, 14)
        );
    }

    #[test]
    fn a_late_evening_utc_registration_counts_from_the_next_local_day() {
        // 23:30 UTC on 30 November is 00:30 on 1 December in Amsterdam.
        let registered_at = utc(2026, 11, 30, 23, 30);
        assert_eq!(local_date(registered_at, TZ), date(2026, 12, 1));
        assert_eq!(due_date(registered_at, TZ, 14), date(2026, 12, 15));
        let norm = assess(
            &NormInput {
                registered_at,
                due: date(2026, 12, 15),
                status: Status::Planned,
                slot_date: Some(date(2026, 12, 8)),
            },
            TZ,
            date(2026, 12, 3),
            4,
        );
        assert_eq!(norm.days_waiting, 2);
        assert_eq!(norm.status, NormStatus::OnTrack);
    }

    #[test]
    fn summer_time_registration_just_before_midnight_stays_on_its_day() {
        // 21:59 UTC in June is 23:59 in Amsterdam (UTC+2).
        assert_eq!(local_date(utc(2026, 6, 10, 21, 59), TZ), date(2026, 6, 10));
        assert_eq!(local_date(utc(2026, 6, 10, 22, 0), TZ), date(2026, 6, 11));
    }

    #[test]
    fn days_waiting_counts_calendar_days_since_registration() {
        let norm = assess(
            &input(Status::Planned, Some(date(2026, 12, 10))),
            TZ,
            date(2026, 12, 5),
            4,
        );
        assert_eq!(norm.days_waiting, 5);
        assert_eq!(norm.due, date(2026, 12, 14));
    }

    #[test]
    fn a_planned_slot_well_before_the_due_date_is_on_track() {
        let norm = assess(
            &input(Status::Planned, Some(date(2026, 12, 10))),
            TZ,
            date(2026, 12, 1),
            4,
        );
        assert_eq!(norm.status, NormStatus::OnTrack);
    }

    #[test]
    fn without_a_planned_slot_a_referral_is_at_risk() {
        for status in [Status::Registered, Status::Incomplete] {
            let norm = assess(&input(status, None), TZ, date(2026, 12, 1), 4);
            assert_eq!(norm.status, NormStatus::AtRisk, "{status:?}");
        }
    }

    #[test]
    fn a_planned_referral_close_to_its_due_date_is_at_risk() {
        let slot = Some(date(2026, 12, 14));
        let at_edge = assess(&input(Status::Planned, slot), TZ, date(2026, 12, 10), 4);
        assert_eq!(at_edge.status, NormStatus::AtRisk);
        let before = assess(&input(Status::Planned, slot), TZ, date(2026, 12, 9), 4);
        assert_eq!(before.status, NormStatus::OnTrack);
    }

    #[test]
    fn a_booked_referral_is_not_at_risk_close_to_its_due_date() {
        let norm = assess(
            &input(Status::Booked, Some(date(2026, 12, 14))),
            TZ,
            date(2026, 12, 13),
            4,
        );
        assert_eq!(norm.status, NormStatus::OnTrack);
    }

    #[test]
    fn past_the_due_date_without_a_conversation_is_late() {
        for status in [
            Status::Incomplete,
            Status::Registered,
            Status::Planned,
            Status::Booked,
        ] {
            let norm = assess(&input(status, None), TZ, date(2026, 12, 15), 4);
            assert_eq!(norm.status, NormStatus::Late, "{status:?}");
        }
    }

    #[test]
    fn on_the_due_date_itself_it_is_not_late_yet() {
        let norm = assess(
            &input(Status::Booked, Some(date(2026, 12, 14))),
            TZ,
            date(2026, 12, 14),
            4,
        );
        assert_eq!(norm.status, NormStatus::OnTrack);
    }

    #[test]
    fn a_slot_after_the_due_date_is_late_already_today() {
        for status in [Status::Planned, Status::Booked] {
            let norm = assess(
                &input(status, Some(date(2026, 12, 16))),
                TZ,
                date(2026, 12, 1),
                4,
            );
            assert_eq!(norm.status, NormStatus::Late, "{status:?}");
        }
    }

    #[test]
    fn a_held_conversation_stops_the_clock() {
        let held_on = Some(date(2026, 12, 10));
        let norm = assess(&input(Status::Held, held_on), TZ, date(2027, 1, 20), 4);
        assert_eq!(norm.status, NormStatus::OnTrack);
        assert_eq!(norm.days_waiting, 10);
        let late = assess(
            &input(Status::OutcomeRecorded, Some(date(2026, 12, 17))),
            TZ,
            date(2027, 1, 20),
            4,
        );
        assert_eq!(late.status, NormStatus::Late);
    }

    #[test]
    fn withdrawn_and_cancelled_referrals_are_not_late_or_at_risk() {
        for status in [Status::Withdrawn, Status::Cancelled] {
            let norm = assess(&input(status, None), TZ, date(2027, 1, 20), 4);
            assert_eq!(norm.status, NormStatus::OnTrack, "{status:?}");
        }
    }
}
