//! The shape of a table session (start, slots, slot length) and the rules
//! every session meets, weekly or extra: one check for the region
//! configuration and the API alike.

use std::ops::RangeInclusive;

use chrono::{NaiveTime, Timelike};

/// Slots a session may have.
pub const SLOTS: RangeInclusive<u32> = 1..=12;
/// Minutes a slot may last: a conversation at the table takes at least half
/// an hour and at most four.
pub const SLOT_MINUTES: RangeInclusive<u32> = 30..=240;

/// A session apart from its date: local start time, number of slots and
/// slot length in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionShape {
    /// Local start time of the first slot (Europe/Amsterdam wall clock).
    pub start: NaiveTime,
    /// Number of consecutive slots.
    pub slots: u32,
    /// Length of each slot in minutes.
    pub slot_minutes: u32,
}

/// A rule a session breaks, for the field it concerns (`start`, `slots`,
/// `minutes`, `date`), in English (API, configuration) and Dutch (pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionProblem {
    /// The field it concerns (`start`, `slots`, `minutes`, `date`).
    pub field: &'static str,
    /// What is wrong, in English.
    pub message: String,
    /// The same in Dutch.
    pub dutch: String,
}

impl SessionProblem {
    pub(crate) fn new(field: &'static str, message: String, dutch: String) -> SessionProblem {
        SessionProblem {
            field,
            message,
            dutch,
        }
    }
}

impl SessionShape {
    /// Minutes from local midnight to the start, and to the end by the
    /// clock on an ordinary day.
    pub fn minute_range(&self) -> (u64, u64) {
        let from = u64::from(self.start.hour()) * 60 + u64::from(self.start.minute());
        let total = u64::from(self.slots) * u64::from(self.slot_minutes);
        (from, from.saturating_add(total))
    }

    /// The rules that hold whatever the date: [`SLOTS`] slots of
    /// [`SLOT_MINUTES`] minutes, ending by midnight. Empty when all hold.
    pub fn problems(&self) -> Vec<SessionProblem> {
        let mut out = Vec::new();
        if !SLOTS.contains(&self.slots) {
            out.push(SessionProblem::new(
                "slots",
                format!(
                    "must be {} to {}, not {}",
                    SLOTS.start(),
                    SLOTS.end(),
                    self.slots
                ),
                format!(
                    "een zitting heeft {} tot {} plekken, niet {}",
                    SLOTS.start(),
                    SLOTS.end(),
                    self.slots
                ),
            ));
        }
        if !SLOT_MINUTES.contains(&self.slot_minutes) {
            out.push(SessionProblem::new(
                "minutes",
                format!(
                    "a slot lasts {} to {} minutes, not {}",
                    SLOT_MINUTES.start(),
                    SLOT_MINUTES.end(),
                    self.slot_minutes
                ),
                format!(
                    "een plek duurt {} tot {} minuten, niet {}",
                    SLOT_MINUTES.start(),
                    SLOT_MINUTES.end(),
                    self.slot_minutes
                ),
            ));
        }
        if out.is_empty() && self.minute_range().1 > 24 * 60 {
            out.push(SessionProblem::new(
                "start",
                format!(
                    "the session runs past midnight ({} slots of {} minutes from {})",
                    self.slots,
                    self.slot_minutes,
                    self.start.format("%H:%M")
                ),
                format!(
                    "de zitting loopt door na middernacht ({} plekken van {} minuten vanaf {})",
                    self.slots,
                    self.slot_minutes,
                    self.start.format("%H:%M")
                ),
            ));
        }
        out
    }
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

    #[test]
    fn the_shape_rules_name_their_fields() {
        let fields = |s: SessionShape| -> Vec<&'static str> {
            s.problems().iter().map(|p| p.field).collect()
        };
        assert!(fields(shape("09:00", 3, 90)).is_empty());
        assert_eq!(fields(shape("09:00", 0, 20)), ["slots", "minutes"]);
        assert_eq!(fields(shape("23:00", 2, 90)), ["start"]);
        assert!(fields(shape("21:00", 2, 90)).is_empty(), "ends at midnight");
    }
}
