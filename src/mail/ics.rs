//! Calendar invitations (iCalendar, RFC 5545 / iTIP RFC 5546) for booked
//! conversations, sent to the table's chairs and the referrer.
//!
//! Times are written as local wall-clock times with `TZID=Europe/Amsterdam`
//! and the matching `VTIMEZONE` inside the object, so a 09:00 table stays at
//! 09:00 in every calendar, also across the summer-time change. The UID is
//! stable per referral and SEQUENCE grows with every change, so a move
//! updates the existing entry and a cancellation removes it.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};
use icalendar::{
    Attendee, Calendar, CalendarDateTime, Component, EventLike, EventStatus, PartStat, Property,
    Role,
};
use sqlx::{AnyConnection, Row};

use super::{compose, dutch_date, enqueue, message_host, recipient_tag};
use crate::config::RegionId;
use crate::state::AppState;
use crate::store::time::from_millis;

/// What happened to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteChange {
    /// Booked: a new invitation.
    Confirmed,
    /// Booked in another slot: the same entry, updated.
    Moved,
    /// No longer booked (withdrawn, cancelled, session cancelled): the
    /// entry is removed.
    Cancelled,
}

/// An iCalendar object with one event of `minutes` from `start`, written in
/// `tz`. `cancel` makes it a METHOD:CANCEL with STATUS:CANCELLED.
#[allow(clippy::too_many_arguments)] // the fields of one event; a struct would only rename them
pub fn invitation(
    uid: &str,
    sequence: u32,
    start: DateTime<Utc>,
    minutes: u32,
    summary: &str,
    location: &str,
    organizer: &str,
    attendees: &[String],
    cancel: bool,
    tz: Tz,
) -> String {
    let local_start = start.with_timezone(&tz).naive_local();
    let local_end = (start + chrono::Duration::minutes(i64::from(minutes)))
        .with_timezone(&tz)
        .naive_local();
    let mut event = icalendar::Event::new();
    event
        .uid(uid)
        .sequence(sequence)
        .summary(summary)
        .location(location)
        .starts(CalendarDateTime::from((local_start, tz)))
        .ends(CalendarDateTime::from((local_end, tz)))
        .status(if cancel {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        })
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{organizer}"))
                .add_parameter("CN", "JBT-planner")
                .done(),
        )
        .add_property("TRANSP", "OPAQUE");
    for attendee in attendees {
        event.attendee(
            Attendee::new(format!("mailto:{attendee}"))
                .role(Role::ReqParticipant)
                .partstat(PartStat::NeedsAction)
                .rsvp(!cancel),
        );
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new(
            "PRODID",
            "-//JBT-planner//Jeugdbeschermingstafels//NL",
        ))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new(
            "METHOD",
            if cancel { "CANCEL" } else { "REQUEST" },
        ))
        .push(event.done());
    // The icalendar crate has no VTIMEZONE support yet: put ours in front of
    // the event (RFC 5545 allows the components in any order).
    calendar.to_string().replacen(
        "BEGIN:VEVENT\r\n",
        &format!("{}BEGIN:VEVENT\r\n", vtimezone(tz, local_start.date())),
        1,
    )
}

/// The VTIMEZONE of `tz` with the EU summer-time rule (last Sunday of March
/// to last Sunday of October, switching at 01:00 UTC), which Europe/Amsterdam
/// and every other EU zone has followed since 1996. Offsets and names come
/// from the time-zone database; a zone without summer time gets a single
/// STANDARD part.
fn vtimezone(tz: Tz, near: NaiveDate) -> String {
    let year = near.format("%Y").to_string().parse::<i32>().unwrap_or(1970);
    let at = |month: u32| {
        let day = NaiveDate::from_ymd_opt(year, month, 15).unwrap_or(near);
        tz.offset_from_utc_datetime(&day.and_time(NaiveTime::MIN))
    };
    let (winter, summer) = (at(1), at(7));
    let (standard, daylight) = (
        winter.fix().local_minus_utc(),
        summer.fix().local_minus_utc(),
    );
    let name = |offset: &<Tz as TimeZone>::Offset, seconds: i32| {
        offset
            .abbreviation()
            .map_or_else(|| utc_offset(seconds), str::to_string)
    };
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name());
    if standard == daylight {
        out.push_str(&format!(
            "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:{o}\r\nTZOFFSETTO:{o}\r\nTZNAME:{n}\r\nEND:STANDARD\r\n",
            o = utc_offset(standard),
            n = name(&winter, standard),
        ));
    } else {
        // The switch is at 01:00 UTC; DTSTART is the local time before it.
        let local_switch = |offset: i32| {
            NaiveTime::from_num_seconds_from_midnight_opt(
                (3600 + offset).rem_euclid(86_400) as u32,
                0,
            )
            .unwrap_or(NaiveTime::MIN)
            .format("%H%M%S")
            .to_string()
        };
        out.push_str(&format!(
            "BEGIN:DAYLIGHT\r\nDTSTART:19700329T{t}\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
             TZOFFSETFROM:{from}\r\nTZOFFSETTO:{to}\r\nTZNAME:{n}\r\nEND:DAYLIGHT\r\n",
            t = local_switch(standard),
            from = utc_offset(standard),
            to = utc_offset(daylight),
            n = name(&summer, daylight),
        ));
        out.push_str(&format!(
            "BEGIN:STANDARD\r\nDTSTART:19701025T{t}\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
             TZOFFSETFROM:{from}\r\nTZOFFSETTO:{to}\r\nTZNAME:{n}\r\nEND:STANDARD\r\n",
            t = local_switch(daylight),
            from = utc_offset(daylight),
            to = utc_offset(standard),
            n = name(&winter, standard),
        ));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

/// `+0100`, `-0330`.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// Enqueues an invitation (or its update or cancellation) for the booked
/// slot of `referral_id` to each chair of the slot's region and to the
/// referrer, in the caller's transaction.
///
/// Call it in the transaction that makes the change: after the booking is
/// stored for `Confirmed` and `Moved`, and *before* the slot is taken off the
/// referral for `Cancelled` (the slot says which event to cancel). A
/// `Cancelled` for a referral without a booked slot does nothing.
///
/// # Errors
/// `Confirmed` or `Moved` for a referral without a booked slot; storage
/// errors reading the booking or the chairs, or writing the outbox.
pub async fn booking_invites(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    now: DateTime<Utc>,
    change: InviteChange,
) -> anyhow::Result<()> {
    let Some(booking) = read_booking(conn, state, referral_id).await? else {
        if change == InviteChange::Cancelled {
            tracing::debug!(
                referral = referral_id,
                "no booked slot: no invitation to cancel"
            );
            return Ok(());
        }
        anyhow::bail!("referral {referral_id} has no booked slot to send an invitation for");
    };
    let Booking {
        case_ref,
        referrer,
        region_id,
        start,
        minutes,
        region_name,
    } = booking;

    let chairs = sqlx::query("SELECT email FROM users WHERE role = 'chair' AND region_id = $1 AND active = $2 ORDER BY id")
        .bind(&region_id)
        .bind(true)
        .fetch_all(&mut *conn)
        .await
        .context("reading the chairs of the table")?;
    let mut recipients: Vec<String> = Vec::new();
    for address in chairs
        .iter()
        .map(|r| r.try_get::<String, _>("email"))
        .chain(std::iter::once(Ok(referrer)))
    {
        let address = address?;
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&address)) {
            recipients.push(address);
        }
    }
    let sequence = sent_invitations(conn, referral_id).await?;

    let tz = state.regions.timezone;
    let local = start.with_timezone(&tz);
    let when = format!(
        "{} om {}",
        dutch_date(local.date_naive()),
        local.format("%H:%M")
    );
    let (summary, location) = event_texts(&region_name, &case_ref);
    let (subject, paragraphs) = match change {
        InviteChange::Confirmed => (
            format!("Uitnodiging {summary}, {when}"),
            vec![
                format!("Aanmelding {case_ref} is geboekt voor de Jeugdbeschermingstafel {region_name} op {when} ({minutes} minuten)."),
                "De afspraak voor uw agenda zit bij dit bericht.".to_string(),
            ],
        ),
        InviteChange::Moved => (
            format!("Gewijzigd: {summary}, nu {when}"),
            vec![
                format!("De bespreking van aanmelding {case_ref} aan de Jeugdbeschermingstafel {region_name} is verplaatst naar {when} ({minutes} minuten)."),
                "De afspraak in uw agenda wordt hiermee bijgewerkt.".to_string(),
            ],
        ),
        InviteChange::Cancelled => (
            format!("Vervallen: {summary}, {when}"),
            vec![
                format!("De bespreking van aanmelding {case_ref} aan de Jeugdbeschermingstafel {region_name} op {when} gaat niet door."),
                "De afspraak wordt hiermee uit uw agenda verwijderd.".to_string(),
            ],
        ),
    };
    let settings = &state.settings;
    let (organizer, uid) = (organizer(state)?, event_uid(state, referral_id));
    let link = format!("{}/referrals/{referral_id}", settings.public_url);
    for recipient in &recipients {
        let ics = invitation(
            &uid,
            sequence,
            start,
            minutes,
            &summary,
            &location,
            &organizer,
            std::slice::from_ref(recipient),
            change == InviteChange::Cancelled,
            tz,
        );
        let mut mail = compose(
            "invitation",
            recipient,
            &subject,
            &paragraphs,
            Some(("Bekijk de aanmelding in JBT-planner", link.clone())),
            format!(
                "invite-{referral_id}-{sequence}-{}",
                recipient_tag(recipient)
            ),
            Some(referral_id),
        );
        mail.ics = Some(ics);
        enqueue(&mut *conn, &mail, now)
            .await
            .context("enqueueing an invitation")?;
    }
    Ok(())
}

/// A booked conversation as the invitations describe it.
struct Booking {
    case_ref: String,
    referrer: String,
    region_id: String,
    start: DateTime<Utc>,
    minutes: u32,
    region_name: String,
}

async fn read_booking(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
) -> anyhow::Result<Option<Booking>> {
    let row = sqlx::query(
        "SELECT r.case_ref, r.referrer_email, s.region_id, s.start_at, s.minutes
         FROM referrals r JOIN slots s ON s.id = r.booked_slot_id
         WHERE r.id = $1",
    )
    .bind(referral_id)
    .fetch_optional(&mut *conn)
    .await
    .context("reading the booking for the invitation")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let region_id: String = row.try_get("region_id")?;
    let region_name = RegionId::parse(&region_id)
        .ok()
        .and_then(|id| state.regions.region(&id).map(|r| r.name.clone()))
        .unwrap_or_else(|| region_id.clone());
    Ok(Some(Booking {
        case_ref: row.try_get("case_ref")?,
        referrer: row.try_get("referrer_email")?,
        region_id,
        start: from_millis(row.try_get("start_at")?),
        minutes: u32::try_from(row.try_get::<i64, _>("minutes")?).unwrap_or(0),
        region_name,
    }))
}

/// Every change gets a higher SEQUENCE than all invitations before it;
/// counting the earlier invitation mails gives that without extra state.
async fn sent_invitations(conn: &mut AnyConnection, referral_id: i64) -> anyhow::Result<u32> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM outbox WHERE referral_id = $1 AND kind = 'invitation'",
    )
    .bind(referral_id)
    .fetch_one(&mut *conn)
    .await
    .context("numbering the invitation")?
    .try_get("n")?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The event's summary and location: the table and the case reference only.
fn event_texts(region_name: &str, case_ref: &str) -> (String, String) {
    (
        format!("Jeugdbeschermingstafel {region_name}: {case_ref}"),
        format!("Jeugdbeschermingstafel {region_name}"),
    )
}

fn organizer(state: &AppState) -> anyhow::Result<String> {
    let from = &state.settings.mail.from;
    from.parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .with_context(|| format!("mail.from is not a mail address: {from:?}"))
}

/// One UID per referral: every invitation, change and download of its
/// booking is the same calendar entry.
fn event_uid(state: &AppState, referral_id: i64) -> String {
    format!(
        "jbt-referral-{referral_id}@{}",
        message_host(&state.settings.public_url)
    )
}

/// The booked conversation of referral `referral_id` as an iCalendar file
/// for `attendee` to download (`text/calendar`, the same UID and the
/// latest SEQUENCE as the mailed invitations, so importing it updates the
/// entry rather than adding one); `None` when it has no booking. The
/// caller has checked that the user may read the referral.
///
/// # Errors
/// Storage errors; a `mail.from` that is not an address.
pub async fn download(
    conn: &mut AnyConnection,
    state: &AppState,
    referral_id: i64,
    attendee: &str,
) -> anyhow::Result<Option<String>> {
    let Some(booking) = read_booking(conn, state, referral_id).await? else {
        return Ok(None);
    };
    let sequence = sent_invitations(conn, referral_id).await?.saturating_sub(1);
    let (summary, location) = event_texts(&booking.region_name, &booking.case_ref);
    Ok(Some(invitation(
        &event_uid(state, referral_id),
        sequence,
        booking.start,
        booking.minutes,
        &summary,
        &location,
        &organizer(state)?,
        &[attendee.to_string()],
        false,
        state.regions.timezone,
    )))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ics(start: DateTime<Utc>, cancel: bool) -> String {
        invitation(
            "jbt-referral-7@jbt.example.org",
            2,
            start,
            90,
            "Jeugdbeschermingstafel FoodValley: ST-EDE-0042",
            "Jeugdbeschermingstafel FoodValley",
            "noreply@jbt.example.org",
            &["voorzitter@example.org".to_string()],
            cancel,
            chrono_tz::Europe::Amsterdam,
        )
    }

    #[test]
    fn a_winter_invitation_is_at_nine_local_with_the_amsterdam_timezone() {
        let start = Utc
            .with_ymd_and_hms(2026, 12, 2, 8, 0, 0)
            .single()
            .expect("time");
        let text = ics(start, false);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
        assert!(text.contains("\r\nMETHOD:REQUEST\r\n"), "{text}");
        assert!(
            text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Amsterdam\r\n"),
            "{text}"
        );
        assert!(
            text.contains("TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"),
            "{text}"
        );
        assert!(text.contains("DTSTART:19701025T030000\r\n"), "{text}");
        assert!(
            text.contains("DTSTART;TZID=Europe/Amsterdam:20261202T090000\r\n"),
            "{text}"
        );
        assert!(
            text.contains("DTEND;TZID=Europe/Amsterdam:20261202T103000\r\n"),
            "{text}"
        );
        assert!(text.contains("SEQUENCE:2\r\n"), "{text}");
        assert!(
            text.contains("UID:jbt-referral-7@jbt.example.org\r\n"),
            "{text}"
        );
        assert!(text.contains("STATUS:CONFIRMED"), "{text}");
        assert!(
            text.find("END:VTIMEZONE").unwrap_or(usize::MAX)
                < text.find("BEGIN:VEVENT").unwrap_or(0)
        );
    }

    #[test]
    fn a_summer_invitation_is_also_at_nine_local() {
        let start = Utc
            .with_ymd_and_hms(2027, 6, 2, 7, 0, 0)
            .single()
            .expect("time");
        assert!(ics(start, false).contains("DTSTART;TZID=Europe/Amsterdam:20270602T090000\r\n"));
    }

    #[test]
    fn a_cancellation_says_cancel() {
        let start = Utc
            .with_ymd_and_hms(2026, 12, 2, 8, 0, 0)
            .single()
            .expect("time");
        let text = ics(start, true);
        assert!(text.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(text.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn offsets_are_written_as_hours_and_minutes() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-12_600), "-0330");
        assert_eq!(utc_offset(0), "+0000");
    }
}
