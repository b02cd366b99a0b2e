//! Who hears about offers and what they are told. Every message leaves
//! through [`send`], the one place that hands mail to the outbox; it runs in
//! the transaction of the change it reports.
//!
//! Mails name a case by its case reference only, like the chair's view of
//! an offer: no referrer, no family details.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::store::{self, Offer};
use crate::config::RegionsConfig;
use crate::mail::{self, dutch_date};
use crate::state::AppState;

/// One logical message, to be sent to several people.
pub struct Notice {
    /// The mail kind (`offer`, `offer_accepted`, ...; see [`mail::Mail::kind`]).
    pub kind: &'static str,
    /// The subject line, in Dutch.
    pub subject: String,
    /// The body's paragraphs, in Dutch.
    pub paragraphs: Vec<String>,
    /// Stable per event: a repeat (a second plan run, a retried request)
    /// finds the mail already in the outbox and sends nothing.
    pub key: String,
    /// The referral the message is about.
    pub referral_id: i64,
}

/// Writes one mail per recipient to the outbox (each recipient once).
///
/// # Errors
/// Storage errors from the outbox.
pub async fn send(
    conn: &mut AnyConnection,
    state: &AppState,
    mut recipients: Vec<String>,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    recipients.sort();
    recipients.dedup();
    let link = Some(link_for(notice, &state.settings.public_url));
    for to in recipients {
        let key = format!("{}-{}", notice.key, mail::recipient_tag(&to));
        let mail = mail::compose(
            notice.kind,
            &to,
            &notice.subject,
            &notice.paragraphs,
            link.clone(),
            key,
            Some(notice.referral_id),
        );
        mail::enqueue(conn, &mail, now).await?;
    }
    Ok(())
}

/// The page a mail points to: the receiving chairs' inbox for an offer and
/// its end; the referral's page for the home table and the referrer; the
/// dashboard for a message that also reaches municipal contacts, who see
/// no case pages. Never the JSON API.
fn link_for(notice: &Notice, base: &str) -> (&'static str, String) {
    match notice.kind {
        "offer" | "offer_withdrawn" | "offer_expired" => {
            ("Aanbiedingen in uw inbox", format!("{base}/inbox"))
        }
        "offers_exhausted" => ("Het dashboard", format!("{base}/dashboard")),
        _ => (
            "De aanmelding bekijken",
            format!("{base}/referrals/{}", notice.referral_id),
        ),
    }
}

/// The chairs of `region`.
///
/// # Errors
/// Storage errors.
pub async fn chairs(conn: &mut AnyConnection, region: &str) -> Result<Vec<String>, sqlx::Error> {
    store::user_emails(conn, "chair", Some(region)).await
}

/// Every coordinator.
///
/// # Errors
/// Storage errors.
pub async fn coordinators(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    store::user_emails(conn, "coordinator", None).await
}

/// The chairs of the referral's home region and the coordinators: those
/// who plan again when a neighbouring table cannot help.
///
/// # Errors
/// Storage errors.
pub async fn home(conn: &mut AnyConnection, offer: &Offer) -> Result<Vec<String>, sqlx::Error> {
    let mut to = chairs(conn, &offer.from_region).await?;
    to.extend(coordinators(conn).await?);
    Ok(to)
}

/// The name of the municipality with CBS code `cbs`; the code itself if no
/// such municipality is configured.
pub fn municipality_name(regions: &RegionsConfig, cbs: &str) -> String {
    regions
        .municipality(cbs)
        .map_or_else(|| cbs.to_string(), |(_, m)| m.name.clone())
}

/// "woensdag 2 december 2026 om 09:00".
fn moment(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} om {}",
        dutch_date(local.date_naive()),
        local.format("%H:%M")
    )
}

fn table(regions: &RegionsConfig, id: &str) -> String {
    format!("de tafel {}", regions.region_name(id))
}

fn case_line(regions: &RegionsConfig, offer: &Offer) -> String {
    format!(
        "Aanmelding {} ({}, gemeente {}, regio {}), uiterlijk te bespreken op {}; nodig: {} minuten.",
        offer.case_ref,
        kind_name(&offer.kind),
        municipality_name(regions, &offer.municipality_cbs),
        regions.region_name(&offer.from_region),
        dutch_date(offer.due),
        offer.minutes,
    )
}

/// To the receiving table's chairs: a new offer to answer.
pub fn offered(regions: &RegionsConfig, offer: &Offer) -> Notice {
    let tz = regions.timezone;
    Notice {
        kind: "offer",
        subject: format!("Verzoek om een aanmelding te bespreken aan uw tafel: {}", offer.case_ref),
        paragraphs: vec![
            format!(
                "{} heeft voor deze aanmelding geen tijdige plek. De planning stelt voor haar te bespreken aan {} op {}.",
                capitalise(&table(regions, &offer.from_region)),
                table(regions, &offer.to_region),
                moment(offer.slot_start, tz),
            ),
            case_line(regions, offer),
            format!(
                "Wilt u het aanbod vóór {} accepteren of afwijzen? Zonder antwoord vervalt het aanbod \
                 en zoekt de planning een andere tafel. Tot dan houden wij de plek voor deze aanmelding vrij.",
                moment(offer.expires_at, tz)
            ),
        ],
        key: format!("offer-{}", offer.id),
        referral_id: offer.referral_id,
    }
}

/// To both tables and the referring professional: the booking stands.
pub fn accepted(regions: &RegionsConfig, offer: &Offer) -> Notice {
    Notice {
        kind: "offer_accepted",
        subject: format!("Bespreking bevestigd: {}", offer.case_ref),
        paragraphs: vec![
            format!(
                "{} heeft het aanbod geaccepteerd: aanmelding {} wordt besproken op {}.",
                capitalise(&table(regions, &offer.to_region)),
                offer.case_ref,
                moment(offer.slot_start, regions.timezone),
            ),
            "De bespreking is bevestigd en staat vast in de planning.".to_string(),
        ],
        key: format!("offer-{}-accepted", offer.id),
        referral_id: offer.referral_id,
    }
}

/// To the home region: the neighbour cannot help; the planner goes on.
/// The chair's reason is free text, so it stays in the service (the offer
/// shows it to those who may see it) and never goes into a mail.
pub fn declined(regions: &RegionsConfig, offer: &Offer) -> Notice {
    Notice {
        kind: "offer_declined",
        subject: format!("Aanbod afgewezen: {}", offer.case_ref),
        paragraphs: vec![
            format!(
                "{} kan aanmelding {} niet bespreken op {}. De reden staat bij het aanbod in JBT-planner.",
                capitalise(&table(regions, &offer.to_region)),
                offer.case_ref,
                moment(offer.slot_start, regions.timezone),
            ),
            "De planning zoekt nu de volgende beste plek, aan de eigen tafel of bij een andere buurregio."
                .to_string(),
        ],
        key: format!("offer-{}-declined", offer.id),
        referral_id: offer.referral_id,
    }
}

/// To the home region: nobody answered in time; treated as declined.
pub fn expired(regions: &RegionsConfig, offer: &Offer) -> Notice {
    Notice {
        kind: "offer_expired",
        subject: format!("Aanbod verlopen: {}", offer.case_ref),
        paragraphs: vec![
            format!(
                "{} heeft niet vóór {} gereageerd op het aanbod voor aanmelding {}. Het aanbod is vervallen \
                 en geldt als afgewezen.",
                capitalise(&table(regions, &offer.to_region)),
                moment(offer.expires_at, regions.timezone),
                offer.case_ref,
            ),
            "De planning zoekt nu de volgende beste plek, aan de eigen tafel of bij een andere buurregio."
                .to_string(),
        ],
        key: format!("offer-{}-expired", offer.id),
        referral_id: offer.referral_id,
    }
}

/// To the receiving table's chairs: no answer needed any more (the plan
/// found another place for the case).
pub fn withdrawn(regions: &RegionsConfig, offer: &Offer) -> Notice {
    withdrawn_because(
        regions,
        offer,
        "de planning heeft een andere plek voor de aanmelding",
    )
}

/// [`withdrawn`], saying `why` (Dutch, no case content).
pub fn withdrawn_because(regions: &RegionsConfig, offer: &Offer, why: &str) -> Notice {
    Notice {
        kind: "offer_withdrawn",
        subject: format!("Aanbod ingetrokken: {}", offer.case_ref),
        paragraphs: vec![format!(
            "Het aanbod om aanmelding {} te bespreken op {} is ingetrokken: {why}. U hoeft niet meer te reageren.",
            offer.case_ref,
            moment(offer.slot_start, regions.timezone),
        )],
        key: format!("offer-{}-withdrawn", offer.id),
        referral_id: offer.referral_id,
    }
}

/// To the coordinators and the municipal contact: no table can take the
/// case in the planning horizon. `refused` (declined and expired offers so
/// far) is in the key, so a later exhaustion is told again.
pub fn exhausted(
    regions: &RegionsConfig,
    referral_id: i64,
    case_ref: &str,
    municipality_cbs: &str,
    refused: i64,
) -> Notice {
    Notice {
        kind: "offers_exhausted",
        subject: format!("Geen tafel beschikbaar: {case_ref}"),
        paragraphs: vec![
            format!(
                "Voor aanmelding {case_ref} (gemeente {}) is binnen de planningshorizon geen plek gevonden: \
                 de eigen tafel is vol en {}.",
                municipality_name(regions, municipality_cbs),
                if refused == 1 {
                    "het aanbod aan een buurregio is afgewezen of verlopen".to_string()
                } else {
                    format!("{refused} aanbiedingen aan buurregio's zijn afgewezen of verlopen")
                },
            ),
            "Overleg met de tafels over een extra zitting of een andere oplossing.".to_string(),
        ],
        key: format!("offers-exhausted-{referral_id}-{refused}"),
        referral_id,
    }
}

/// The kind of conversation in words.
fn kind_name(kind: &str) -> &str {
    match kind {
        "vtb" => "verzoek tot beschermingsonderzoek",
        "ots_end" => "beëindiging of verlenging van een OTS",
        "evaluation" => "evaluatie",
        other => other,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_configuration() {
        let regions = RegionsConfig::builtin().expect("regions");
        assert_eq!(regions.region_name("food-valley"), "FoodValley");
        assert_eq!(regions.region_name("nowhere"), "nowhere");
        assert_eq!(municipality_name(&regions, "GM0202"), "Arnhem");
        assert_eq!(capitalise("de tafel X"), "De tafel X");
    }
}
