//! A slot in time: one bookable conversation at a region's table, and the
//! reading of local wall-clock times as instants (Europe/Amsterdam's clock
//! changes included).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::RegionId;

/// One bookable slot at a region's table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CalendarSlot {
    /// Stable id: region, local date and local start time, e.g.
    /// `food-valley-20261202-0900` (see [`super::slot_id`]). Regenerating the
    /// calendar gives the same id for the same slot.
    pub id: String,
    /// The region whose table holds it.
    pub region: RegionId,
    /// Local date (in the configured time zone).
    pub date: NaiveDate,
    /// The instant it starts.
    pub start: DateTime<Utc>,
    /// Its length in minutes.
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
