//! Dutch words for what the pages show: dates, states, kinds, events.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::auth::{CurrentUser, Role};
use crate::config::RegionsConfig;

/// `ma 30-11`.
pub fn day(date: NaiveDate) -> String {
    format!("{} {}", weekday_short(date.weekday()), date.format("%d-%m"))
}

/// `ma 30-11-2026`: a date standing alone carries its weekday and year.
pub fn date(date: NaiveDate) -> String {
    format!(
        "{} {}",
        weekday_short(date.weekday()),
        date.format("%d-%m-%Y")
    )
}

/// `ma 30-11-2026 09:00`, local time.
pub fn moment(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!("{} {}", date(local.date_naive()), local.format("%H:%M"))
}

/// A moment written in RFC 3339 (as views carry it), shown as [`moment`].
pub fn moment_text(rfc3339: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| moment(t.with_timezone(&Utc), tz))
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The Dutch two-letter weekday: `ma`, `di`, `wo`, `do`, `vr`, `za`, `zo`.
pub fn weekday_short(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "ma",
        Weekday::Tue => "di",
        Weekday::Wed => "wo",
        Weekday::Thu => "do",
        Weekday::Fri => "vr",
        Weekday::Sat => "za",
        Weekday::Sun => "zo",
    }
}

/// The Dutch word for a slot state, so no state is told by colour alone.
pub fn slot_state(state: &str) -> &'static str {
    match state {
        "free" => "vrij",
        "tentative" => "voorlopig",
        "offered" => "aangeboden",
        "booked" => "geboekt",
        "held" => "gehouden",
        "cancelled" => "geannuleerd",
        "holiday" => "feestdag",
        "closed" => "gesloten",
        _ => "onbekend",
    }
}

/// The Dutch name of a referral kind (`vtb`, `ots_end`, `evaluation`);
/// `onbekend` for any other text.
pub fn kind(kind: &str) -> &'static str {
    match kind {
        "vtb" => "VTB-gesprek",
        "ots_end" => "einde OTS",
        "evaluation" => "evaluatie",
        _ => "onbekend",
    }
}

/// The Dutch name of a referral status (as stored); `onbekend` for any
/// other text.
pub fn referral_status(status: &str) -> &'static str {
    match status {
        "registered" => "aangemeld",
        "incomplete" => "onvolledig",
        "planned" => "voorlopig gepland",
        "booked" => "geboekt",
        "held" => "gesprek gehouden",
        "outcome_recorded" => "uitkomst vastgelegd",
        "withdrawn" => "ingetrokken",
        "cancelled" => "geannuleerd",
        _ => "onbekend",
    }
}

/// Norm state: the word and the CSS class.
pub fn norm(status: crate::referrals::norm::NormStatus) -> (&'static str, &'static str) {
    use crate::referrals::norm::NormStatus;
    match status {
        NormStatus::OnTrack => ("op schema", "ok"),
        NormStatus::AtRisk => ("risico", "risk"),
        NormStatus::Late => ("te laat", "late"),
    }
}

/// The Dutch name of a role.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Coordinator => "coördinator",
        Role::Chair => "voorzitter",
        Role::Referrer => "verwijzer",
        Role::MunicipalContact => "gemeentelijk contactpersoon",
        Role::Admin => "beheerder",
        Role::Secretary => "secretaris",
    }
}

/// "voorzitter FoodValley (a@example.org)" for the page header.
pub fn who(user: &CurrentUser, regions: &RegionsConfig) -> String {
    match &user.region {
        Some(region) => format!(
            "{} {} ({})",
            role(user.role),
            regions.region_name(region.as_str()),
            user.email
        ),
        None => format!("{} ({})", role(user.role), user.email),
    }
}

/// Every audit action (see `auth::audit::ACTIONS`) with its Dutch words.
pub const AUDIT_ACTIONS: [(&str, &str); 40] = [
    ("session.login", "inloggen"),
    ("session.logout", "uitloggen"),
    ("user.list", "gebruikers bekeken"),
    ("user.create", "gebruiker aangemaakt"),
    ("user.update", "gebruiker gewijzigd"),
    ("user.password_change", "wachtwoord gewijzigd"),
    ("user.second_factor_enrol", "tweede factor ingesteld"),
    ("token.list", "API-sleutels bekeken"),
    ("token.create", "API-sleutel gemaakt"),
    ("token.revoke", "API-sleutel ingetrokken"),
    ("audit.read", "auditlog bekeken"),
    ("audit.archive", "auditlog gearchiveerd"),
    ("referral.read", "ingezien"),
    ("referral.create", "aangemeld"),
    ("referral.update", "gewijzigd"),
    ("referral.withdraw", "ingetrokken"),
    ("referral.cancel", "geannuleerd"),
    ("referral.confirm", "afspraak bevestigd"),
    ("referral.move", "met de hand verplaatst"),
    ("referral.held", "gesprek gehouden"),
    ("referral.not_held", "gesprek niet doorgegaan"),
    ("referral.release", "plek vrijgegeven"),
    ("referral.outcome", "uitkomst vastgelegd"),
    ("referral.info_request", "vraag van de tafel gesteld"),
    ("referral.info_answer", "vraag van de tafel beantwoord"),
    ("report.read", "verslag ingezien"),
    ("report.write", "verslag bewerkt (concept)"),
    ("report.send", "verslag vastgesteld en verstuurd"),
    ("report.reaction", "reactie op het verslag vastgelegd"),
    (
        "report.purge",
        "inhoud van verslagen verwijderd (bewaartermijn)",
    ),
    ("evaluation.read", "halfjaarlijkse evaluatie ingezien"),
    ("slot.read", "op het planbord getoond"),
    ("plan.read", "in het plan ingezien"),
    ("plan.place", "ingepland door de planner"),
    ("offer.read", "aanbieding ingezien"),
    ("offer.create", "aangeboden aan een andere tafel"),
    ("offer.accept", "aanbieding geaccepteerd"),
    ("offer.decline", "aanbieding afgewezen"),
    ("offer.expire", "aanbieding verlopen"),
    ("offer.withdraw", "aanbieding ingetrokken"),
];

/// An audit action in Dutch words; the stored name itself when unknown.
pub fn audit_action(action: &str) -> &str {
    AUDIT_ACTIONS
        .iter()
        .find(|(name, _)| *name == action)
        .map_or(action, |(_, words)| words)
}

/// An audit action in words, for a referral's timeline.
pub fn event(action: &str, result: &str) -> String {
    let what = audit_action(action);
    if result == "ok" {
        what.to_string()
    } else {
        format!("{what}: geweigerd ({result})")
    }
}

/// What a referral still lacks, in Dutch (`safety_plan` -> veiligheidsplan).
pub fn missing(what: &str) -> &'static str {
    match what {
        "safety_plan" => "veiligheidsplan",
        "parents_informed" => "ouders geïnformeerd",
        _ => "gegevens",
    }
}

/// An outcome of the conversation, in Dutch.
pub fn outcome(outcome: &str) -> &'static str {
    match outcome {
        "voluntary_local_team" => "vrijwillig, lokaal team",
        "voluntary_binding" => "vrijwillig met bindende afspraken",
        "voluntary_binding_raad" => "vrijwillig bindend, met de Raad",
        "raad_investigation" => "verzoek tot onderzoek door de Raad",
        _ => "onbekend",
    }
}

/// A refused field as the form shows it: "`label`: Dutch message". The
/// service's own Dutch text is used where it has one; otherwise the common
/// English messages are put in Dutch (`required` is the Dutch for "is
/// required", which differs between a choice and a text field).
pub fn field_problem(problem: crate::error::FieldError, label: &str, required: &str) -> String {
    let text = problem
        .dutch
        .unwrap_or_else(|| match problem.message.as_str() {
            "is required" => required.to_string(),
            m if m.contains("in the past") => "deze datum ligt in het verleden.".to_string(),
            m if m.contains("at most") => "de tekst is te lang.".to_string(),
            m => m.to_string(),
        });
    format!("{label}: {text}")
}

/// A slot in words for lists: "di 01-12-2026 13:00, tafel FoodValley".
pub fn slot(regions: &RegionsConfig, slot: &crate::referrals::view::SlotView) -> String {
    format!(
        "{}, tafel {}",
        moment_text(&slot.start, regions.timezone),
        regions.region_name(&slot.region)
    )
}

/// A number with one decimal in Dutch style: `4,7`; whole numbers without
/// decimals (`5`).
pub fn decimal(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimals_have_a_comma() {
        assert_eq!(super::decimal(4.7), "4,7");
        assert_eq!(super::decimal(5.0), "5");
        assert_eq!(super::decimal(1.25), "1,3");
    }

    #[test]
    fn every_audit_action_has_dutch_words_in_the_same_order() {
        let named: Vec<&str> = super::AUDIT_ACTIONS.iter().map(|(a, _)| *a).collect();
        assert_eq!(named, crate::auth::audit::ACTIONS);
        assert_eq!(super::audit_action("offer.expire"), "aanbieding verlopen");
        assert_eq!(super::audit_action("something.new"), "something.new");
    }

    use super::*;

    #[test]
    fn every_board_state_has_a_word() {
        for state in [
            "free",
            "tentative",
            "offered",
            "booked",
            "held",
            "cancelled",
            "holiday",
            "closed",
        ] {
            assert_ne!(slot_state(state), "onbekend", "{state}");
        }
    }

    #[test]
    fn days_are_written_the_dutch_way() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        assert_eq!(day(date), "ma 30-11");
        assert_eq!(super::date(date), "ma 30-11-2026");
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 8, 0, 0)
            .single()
            .expect("at");
        assert_eq!(
            moment(at, chrono_tz::Europe::Amsterdam),
            "di 01-12-2026 09:00"
        );
    }
}
