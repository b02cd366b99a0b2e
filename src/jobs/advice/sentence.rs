//! The advice in Dutch, for the dashboard, Mijn gemeente and the digest:
//! counts, dates and tables only (no personal data). For example: "Met een
//! extra zitting op di 08-12-2026 13:00 in Centraal Gelderland (2 plekken)
//! vallen alle 3 aanmeldingen die nu na de norm zouden komen maar die nog
//! kunnen halen, binnen de norm."

use super::{AdvisedSession, RegionAdvice};
use crate::config::RegionsConfig;

/// The whole advice in a few sentences.
pub fn dutch(regions: &RegionsConfig, advice: &RegionAdvice) -> String {
    let mut out = match &advice.advised {
        Some(set) if set.sessions.is_empty() => {
            "Er is geen extra zitting nodig: iedere aanmelding die de norm nog kan halen, wordt binnen de norm besproken.".to_string()
        }
        Some(set) => format!(
            "Met {} vallen alle {} aanmeldingen die nu na de norm zouden komen maar die nog kunnen halen, binnen de norm.",
            sessions(regions, &set.sessions),
            advice.before.could_make_it
        ),
        None => tradeoff(regions, advice),
    };
    if let Some(set) = advice.advised.as_ref().filter(|s| !s.sessions.is_empty()) {
        out.push_str(&format!(
            " Dagen na de norm, samen: nu {}, daarna {}.",
            advice.before.days, set.after.days
        ));
    }
    if let Some(set) = &advice.advised {
        let late = set.after.referrals;
        if late > 0 {
            out.push_str(&format!(
                " {} de norm al niet meer halen; {} zo vroeg mogelijk besproken.",
                if late == 1 {
                    "1 aanmelding kan".to_string()
                } else {
                    format!("{late} aanmeldingen kunnen")
                },
                if late == 1 { "die wordt" } else { "die worden" }
            ));
        }
    }
    if !advice.proven_optimal {
        out.push_str(" (Niet bewezen het beste: de zoektocht stopte bij haar rekenlimiet.)");
    }
    out
}

fn tradeoff(regions: &RegionsConfig, advice: &RegionAdvice) -> String {
    let mut out = format!(
        "Met {} extra zittingen lukt het niet om alle aanmeldingen die de norm nog kunnen halen binnen de norm te bespreken. Nu samen {} te laat.",
        super::MAX_EXTRA,
        days(advice.before.days)
    );
    for set in &advice.tradeoff {
        out.push_str(&format!(
            " Met {}: nog {} te laat.",
            sessions(regions, &set.sessions),
            days(set.after.days)
        ));
    }
    out
}

/// "1 dag", "3 dagen" (the mails' wording).
fn days(n: u64) -> String {
    crate::mail::dagen(i64::try_from(n).unwrap_or(i64::MAX))
}

/// "een extra zitting op di 08-12-2026 13:00 in Centraal Gelderland (2
/// plekken)", or "2 extra zittingen: op ... en op ...".
fn sessions(regions: &RegionsConfig, list: &[AdvisedSession]) -> String {
    let each: Vec<String> = list.iter().map(|s| one(regions, s)).collect();
    match each.as_slice() {
        [one] => format!("een extra zitting {one}"),
        [init @ .., last] => format!(
            "{} extra zittingen: {} en {last}",
            each.len(),
            init.join(", ")
        ),
        [] => "geen extra zitting".to_string(),
    }
}

fn one(regions: &RegionsConfig, s: &AdvisedSession) -> String {
    format!(
        "op {} in {} ({})",
        when(s),
        regions.region_name(&s.region),
        places(s.slots)
    )
}

/// The session's local start: "di 08-12-2026 13:00".
pub fn when(s: &AdvisedSession) -> String {
    format!(
        "{} {}",
        s.date
            .format_localized("%a %d-%m-%Y", chrono::Locale::nl_NL),
        s.start.format("%H:%M")
    )
}

/// "1 plek", "3 plekken".
pub fn places(n: u32) -> String {
    if n == 1 {
        "1 plek".to_string()
    } else {
        format!("{n} plekken")
    }
}

/// What each session takes, per home region: "neemt 2 aanmeldingen uit
/// Centraal Gelderland en 1 uit FoodValley".
pub fn takes(regions: &RegionsConfig, s: &AdvisedSession) -> String {
    let parts: Vec<String> = s
        .takes
        .iter()
        .map(|t| format!("{} uit {}", t.referrals, regions.region_name(&t.region)))
        .collect();
    match parts.as_slice() {
        [] => "neemt geen wachtende aanmelding".to_string(),
        [init @ .., last] if !init.is_empty() => format!("neemt {} en {last}", init.join(", ")),
        [one] => format!("neemt {one}"),
        _ => unreachable!("covered above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::advice::{Late, SessionSet, Taken};

    fn late(referrals: u32, days: u64, could: u32) -> Late {
        Late {
            referrals,
            days,
            days_sq: days * days,
            could_make_it: could,
        }
    }

    fn advice(advised: Option<SessionSet>, tradeoff: Vec<SessionSet>) -> RegionAdvice {
        RegionAdvice {
            region: "centraal-gelderland".into(),
            before: late(3, 5, 3),
            advised,
            tradeoff,
            proven_optimal: true,
            sentence: String::new(),
        }
    }

    fn session() -> AdvisedSession {
        AdvisedSession {
            region: "centraal-gelderland".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"),
            start: chrono::NaiveTime::from_hms_opt(13, 0, 0).expect("time"),
            slots: 2,
            slot_minutes: 90,
            takes: vec![
                Taken {
                    region: "centraal-gelderland".into(),
                    referrals: 2,
                },
                Taken {
                    region: "food-valley".into(),
                    referrals: 1,
                },
            ],
        }
    }

    #[test]
    fn one_session_reads_as_in_the_issue() {
        let regions = crate::config::RegionsConfig::builtin().expect("regions");
        let set = SessionSet {
            sessions: vec![session()],
            after: late(0, 0, 0),
        };
        let text = dutch(&regions, &advice(Some(set), vec![]));
        assert_eq!(
            text,
            "Met een extra zitting op di 08-12-2026 13:00 in Centraal Gelderland (2 plekken) vallen alle 3 aanmeldingen die nu na de norm zouden komen maar die nog kunnen halen, binnen de norm. Dagen na de norm, samen: nu 5, daarna 0."
        );
        assert_eq!(
            takes(&regions, &session()),
            "neemt 2 uit Centraal Gelderland en 1 uit FoodValley"
        );
    }

    #[test]
    fn nothing_needed_and_the_tradeoff_say_so() {
        let regions = crate::config::RegionsConfig::builtin().expect("regions");
        let none = SessionSet {
            sessions: vec![],
            after: late(0, 0, 0),
        };
        assert!(dutch(&regions, &advice(Some(none), vec![]))
            .starts_with("Er is geen extra zitting nodig"));
        let one = SessionSet {
            sessions: vec![session()],
            after: late(1, 2, 1),
        };
        let mut unproven = advice(None, vec![one]);
        unproven.proven_optimal = false;
        let text = dutch(&regions, &unproven);
        assert!(text.contains("lukt het niet"), "{text}");
        assert!(text.contains("Nu samen 5 dagen te laat."), "{text}");
        assert!(text.contains("nog 2 dagen te laat"), "{text}");
        assert!(text.contains("Niet bewezen"), "{text}");
    }
}
