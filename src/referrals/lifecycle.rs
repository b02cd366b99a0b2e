//! The status lifecycle of a referral, in one place.
//!
//! ```text
//! incomplete --complete--> registered <--plan/unplan--> planned
//! registered, planned --confirm--> booked --hold--> held --record_outcome--> outcome_recorded
//! planned, booked --release (slot cancelled)--> registered
//! booked --not_held (did not take place)--> registered (the due date stays)
//! any state before held --withdraw--> withdrawn, --cancel--> cancelled
//! ```
//!
//! Every status change in the service goes through [`transition`]; the SQL
//! that stores a change guards on the same table ([`Event::allowed_from`]),
//! so two concurrent requests cannot both pass.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a referral is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered without a safety plan or without informed parents: cannot be planned yet.
    Incomplete,
    /// Waiting for a slot.
    Registered,
    /// Tentatively placed in a slot by the planner; may still move.
    Planned,
    /// Confirmed by a chair or coordinator; the planner keeps it where it is.
    Booked,
    /// The conversation took place.
    Held,
    /// The chair recorded the outcome of the conversation.
    OutcomeRecorded,
    /// Withdrawn by the referrer.
    Withdrawn,
    /// Cancelled by the table.
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 8] = [
        Status::Incomplete,
        Status::Registered,
        Status::Planned,
        Status::Booked,
        Status::Held,
        Status::OutcomeRecorded,
        Status::Withdrawn,
        Status::Cancelled,
    ];

    /// The name stored in `referrals.status` and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Incomplete => "incomplete",
            Status::Registered => "registered",
            Status::Planned => "planned",
            Status::Booked => "booked",
            Status::Held => "held",
            Status::OutcomeRecorded => "outcome_recorded",
            Status::Withdrawn => "withdrawn",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status with this name (as [`Status::as_str`] writes it); `None` for
    /// any other text.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still waiting for its conversation (the norm clock runs).
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            Status::Incomplete | Status::Registered | Status::Planned | Status::Booked
        )
    }

    /// Plain words for messages: "the referral is ...".
    fn described(self) -> &'static str {
        match self {
            Status::Incomplete => "still incomplete",
            Status::Registered => "registered and waiting for a slot",
            Status::Planned => "tentatively planned",
            Status::Booked => "booked",
            Status::Held => "already held",
            Status::OutcomeRecorded => "closed with a recorded outcome",
            Status::Withdrawn => "withdrawn",
            Status::Cancelled => "cancelled",
        }
    }
}

impl Status {
    /// [`Status::described`] in Dutch, for the pages.
    fn described_nl(self) -> &'static str {
        match self {
            Status::Incomplete => "nog onvolledig",
            Status::Registered => "aangemeld en wacht op een plek",
            Status::Planned => "voorlopig ingepland",
            Status::Booked => "geboekt",
            Status::Held => "al besproken",
            Status::OutcomeRecorded => "afgesloten met een vastgelegde uitkomst",
            Status::Withdrawn => "ingetrokken",
            Status::Cancelled => "geannuleerd",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happens to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The missing safety plan or parents' information was supplied.
    Complete,
    /// The planner placed it in a slot (or moved it to another one).
    Plan,
    /// The planner took it out of its slot.
    Unplan,
    /// A chair or coordinator confirmed a slot.
    Confirm,
    /// Its slot's session was cancelled.
    Release,
    /// The conversation took place.
    Hold,
    /// The booked conversation did not take place (the family did not
    /// come, it was postponed): the referral waits again, with the due
    /// date it had (the norm clock does not restart).
    NotHeld,
    /// The chair recorded the outcome.
    RecordOutcome,
    /// The referrer withdrew it.
    Withdraw,
    /// The table cancelled it.
    Cancel,
}

impl Event {
    /// Every event, in lifecycle order.
    pub const ALL: [Event; 10] = [
        Event::Complete,
        Event::Plan,
        Event::Unplan,
        Event::Confirm,
        Event::Release,
        Event::Hold,
        Event::NotHeld,
        Event::RecordOutcome,
        Event::Withdraw,
        Event::Cancel,
    ];

    /// The statuses this event may happen in (derived from [`transition`],
    /// for SQL guards such as `WHERE status IN (...)`).
    pub fn allowed_from(self) -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|s| transition(*s, self).is_ok())
            .collect()
    }

    /// Whether the referral gives up its slot (planned or booked), so the
    /// slot is free for others.
    pub fn frees_slot(self) -> bool {
        matches!(
            self,
            Event::Unplan | Event::Release | Event::NotHeld | Event::Withdraw | Event::Cancel
        )
    }

    /// Infinitive for messages: "cannot ...".
    fn verb(self) -> &'static str {
        match self {
            Event::Complete => "complete the referral",
            Event::Plan => "plan the referral",
            Event::Unplan => "take the referral out of its slot",
            Event::Confirm => "confirm a booking",
            Event::Release => "release the referral's slot",
            Event::Hold => "mark the conversation as held",
            Event::NotHeld => "record that the conversation did not take place",
            Event::RecordOutcome => "record an outcome",
            Event::Withdraw => "withdraw the referral",
            Event::Cancel => "cancel the referral",
        }
    }

    /// [`Event::verb`] in Dutch, as the subject of "... kan niet".
    fn verb_nl(self) -> &'static str {
        match self {
            Event::Complete => "De aanmelding compleet maken",
            Event::Plan => "De aanmelding inplannen",
            Event::Unplan => "De aanmelding uit de planning halen",
            Event::Confirm => "Een boeking bevestigen",
            Event::Release => "De plek van de aanmelding vrijgeven",
            Event::Hold => "Het gesprek als gehouden markeren",
            Event::NotHeld => "Vastleggen dat het gesprek niet doorging",
            Event::RecordOutcome => "Een uitkomst vastleggen",
            Event::Withdraw => "De aanmelding intrekken",
            Event::Cancel => "De aanmelding annuleren",
        }
    }

    /// [`Event::rule`] in Dutch.
    fn rule_nl(self) -> &'static str {
        match self {
            Event::Complete => "alleen een onvolledige aanmelding kan compleet worden gemaakt",
            Event::Plan | Event::Confirm => {
                "alleen een aangemelde of voorlopig ingeplande aanmelding kan worden ingepland of geboekt"
            }
            Event::Unplan => {
                "alleen een voorlopig ingeplande aanmelding kan uit de planning worden gehaald"
            }
            Event::Release => "alleen een ingeplande of geboekte aanmelding heeft een plek om vrij te geven",
            Event::Hold => "alleen een geboekt gesprek kan als gehouden worden gemarkeerd",
            Event::NotHeld => "alleen van een geboekt gesprek kan worden vastgelegd dat het niet doorging",
            Event::RecordOutcome => {
                "een uitkomst kan pas worden vastgelegd als het gesprek is gehouden"
            }
            Event::Withdraw | Event::Cancel => "dat kan alleen voordat het gesprek is gehouden",
        }
    }

    /// When the event is possible, in plain words.
    fn rule(self) -> &'static str {
        match self {
            Event::Complete => "only an incomplete referral can be completed",
            Event::Plan => "only a registered or planned referral can be planned",
            Event::Unplan => "only a planned referral can be taken out of its slot",
            Event::Confirm => "only a registered or planned referral can be booked",
            Event::Release => "only a planned or booked referral has a slot to release",
            Event::Hold => "only a booked conversation can be marked as held",
            Event::NotHeld => "only a booked conversation can be recorded as not held",
            Event::RecordOutcome => {
                "an outcome can only be recorded after the conversation was held"
            }
            Event::Withdraw | Event::Cancel => {
                "this is only possible before the conversation is held"
            }
        }
    }
}

/// An event that the referral's status does not allow; its `Display` says
/// why in plain words (it becomes the 409 message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {}: the referral is {}; {}", event.verb(), from.described(), event.rule())]
pub struct InvalidTransition {
    /// The referral's status when the event was tried.
    pub from: Status,
    /// The event that was tried.
    pub event: Event,
}

impl InvalidTransition {
    /// The same explanation in Dutch, for the pages.
    pub fn dutch(&self) -> String {
        format!(
            "{} kan niet: de aanmelding is {}; {}.",
            self.event.verb_nl(),
            self.from.described_nl(),
            self.event.rule_nl()
        )
    }
}

impl From<InvalidTransition> for crate::error::Error {
    fn from(err: InvalidTransition) -> Self {
        crate::error::Error::refused(err.to_string(), err.dutch())
    }
}

impl From<NotEditable> for crate::error::Error {
    fn from(err: NotEditable) -> Self {
        crate::error::Error::refused(err.to_string(), err.dutch())
    }
}

/// Statuses in which a referral's details may still change: until a slot
/// is booked (a booking was confirmed for the details as they were).
pub const EDITABLE: [Status; 3] = [Status::Incomplete, Status::Registered, Status::Planned];

/// A change of details in a status that does not allow it (a 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot change the referral: it is {}; details can change until a slot is booked", status.described())]
pub struct NotEditable {
    /// The referral's status.
    pub status: Status,
}

impl NotEditable {
    /// The same explanation in Dutch, for the pages.
    pub fn dutch(&self) -> String {
        format!(
            "De aanmelding wijzigen kan niet: ze is {}; gegevens kunnen wijzigen tot er een plek is geboekt.",
            self.status.described_nl()
        )
    }
}

/// Whether a referral in `status` may still have its details changed
/// (see [`EDITABLE`]).
///
/// # Errors
/// [`NotEditable`] when `status` is booked or later, or withdrawn or
/// cancelled.
pub fn check_editable(status: Status) -> Result<(), NotEditable> {
    if EDITABLE.contains(&status) {
        Ok(())
    } else {
        Err(NotEditable { status })
    }
}

/// The status after `event` happens in status `from`.
pub fn transition(from: Status, event: Event) -> Result<Status, InvalidTransition> {
    use Status::*;
    let to = match (event, from) {
        (Event::Complete, Incomplete) => Registered,
        // Plan also moves an already planned referral to another slot.
        (Event::Plan, Registered | Planned) => Planned,
        (Event::Unplan, Planned) => Registered,
        (Event::Confirm, Registered | Planned) => Booked,
        (Event::Release, Planned | Booked) => Registered,
        (Event::Hold, Booked) => Held,
        (Event::NotHeld, Booked) => Registered,
        (Event::RecordOutcome, Held) => OutcomeRecorded,
        (Event::Withdraw, Incomplete | Registered | Planned | Booked) => Withdrawn,
        (Event::Cancel, Incomplete | Registered | Planned | Booked) => Cancelled,
        _ => return Err(InvalidTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// The whole table, written out independently of the `match` above.
    fn expected(from: Status, event: Event) -> Option<Status> {
        let before_held = [Incomplete, Registered, Planned, Booked];
        match event {
            Event::Complete => (from == Incomplete).then_some(Registered),
            Event::Plan => [Registered, Planned].contains(&from).then_some(Planned),
            Event::Unplan => (from == Planned).then_some(Registered),
            Event::Confirm => [Registered, Planned].contains(&from).then_some(Booked),
            Event::Release => [Planned, Booked].contains(&from).then_some(Registered),
            Event::Hold => (from == Booked).then_some(Held),
            Event::NotHeld => (from == Booked).then_some(Registered),
            Event::RecordOutcome => (from == Held).then_some(OutcomeRecorded),
            Event::Withdraw => before_held.contains(&from).then_some(Withdrawn),
            Event::Cancel => before_held.contains(&from).then_some(Cancelled),
        }
    }

    #[test]
    fn every_status_and_event_pair_follows_the_table() {
        for from in Status::ALL {
            for event in Event::ALL {
                assert_eq!(
                    transition(from, event).ok(),
                    expected(from, event),
                    "{from:?} + {event:?}"
                );
            }
        }
    }

    #[test]
    fn invalid_transitions_report_their_status_and_event() {
        for from in Status::ALL {
            for event in Event::ALL {
                if let Err(err) = transition(from, event) {
                    assert_eq!(err, InvalidTransition { from, event });
                }
            }
        }
    }

    #[test]
    fn closed_referrals_accept_no_event() {
        for from in [OutcomeRecorded, Withdrawn, Cancelled] {
            for event in Event::ALL {
                assert!(transition(from, event).is_err(), "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn refusals_say_why_in_plain_words() {
        let err = transition(Registered, Event::RecordOutcome).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "cannot record an outcome: the referral is registered and waiting for a slot; \
             an outcome can only be recorded after the conversation was held"
        );
        let err = transition(Held, Event::Withdraw).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "cannot withdraw the referral: the referral is already held; \
             this is only possible before the conversation is held"
        );
    }

    /// The store guards a change with `status IN (allowed_from)` and sets
    /// one status; that is only right if each event has a single target.
    #[test]
    fn each_event_leads_to_one_status() {
        for event in Event::ALL {
            let mut targets: Vec<Status> = Status::ALL
                .into_iter()
                .filter_map(|from| transition(from, event).ok())
                .collect();
            targets.dedup();
            assert_eq!(targets.len(), 1, "{event:?} leads to {targets:?}");
        }
    }

    #[test]
    fn allowed_from_lists_the_statuses_of_the_table() {
        assert_eq!(Event::Confirm.allowed_from(), vec![Registered, Planned]);
        assert_eq!(Event::Release.allowed_from(), vec![Planned, Booked]);
        assert_eq!(
            Event::Withdraw.allowed_from(),
            vec![Incomplete, Registered, Planned, Booked]
        );
    }

    #[test]
    fn details_change_until_booked() {
        for status in Status::ALL {
            assert_eq!(
                check_editable(status).is_ok(),
                matches!(status, Incomplete | Registered | Planned),
                "{status:?}"
            );
        }
        assert_eq!(
            check_editable(Booked).map_err(|e| e.to_string()),
            Err("cannot change the referral: it is booked; details can change until a slot is booked".into())
        );
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).ok();
            assert_eq!(json, Some(format!("\"{}\"", s.as_str())));
        }
        assert_eq!(Status::parse("Booked"), None);
    }
}
