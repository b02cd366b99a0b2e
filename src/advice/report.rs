//! The advice as a readable table (`jbt advise --format table`): English
//! headings with the Dutch beside them, for the chair and the municipality.

use std::fmt::Write;

use chrono::Datelike;
use chrono_tz::Tz;

use super::{Advice, Choice, Lateness, SessionTakes};

/// The advice as text; times in `timezone` (the scenario's).
pub fn render_table(advice: &Advice, timezone: Tz) -> String {
    let mut out = String::new();
    let proven = if advice.proven_optimal {
        "proven optimal / bewezen optimaal"
    } else {
        "NOT proven optimal, budget used up / NIET bewezen optimaal, budget op"
    };
    let _ = writeln!(
        out,
        "Capacity advice / Capaciteitsadvies: {} usable candidate sessions, {} plans made, {proven}\n",
        advice.usable_candidates, advice.evaluations
    );
    let _ = writeln!(
        out,
        "{:<22} {:>5} {:>11} {:>10} {:>11} {:>10}",
        "", "late", "can make it", "late days", "late days²", "unplanned"
    );
    row(&mut out, "before / nu", &advice.before);
    match &advice.chosen {
        Some(choice) if choice.sessions.is_empty() => {
            let _ = writeln!(
                out,
                "\nNo extra session needed / Geen extra zitting nodig: every referral that can make the norm does."
            );
        }
        Some(choice) => {
            row(&mut out, "after / daarna", &choice.after);
            let _ = writeln!(
                out,
                "\nAdvice / Advies: {} extra session(s) / extra zitting(en)",
                choice.sessions.len()
            );
            sessions(&mut out, choice, timezone);
        }
        None => tradeoff(&mut out, advice, timezone),
    }
    out
}

fn tradeoff(out: &mut String, advice: &Advice, timezone: Tz) {
    let _ = writeln!(
        out,
        "\nNo set of extra sessions brings every referral within the norm; the trade-off:\n\
         Geen set extra zittingen brengt alle aanmeldingen binnen de norm; de afweging:"
    );
    for choice in &advice.tradeoff {
        row(
            out,
            &format!(
                "+{} / +{} zitting(en)",
                choice.sessions.len(),
                choice.sessions.len()
            ),
            &choice.after,
        );
    }
    for choice in &advice.tradeoff {
        let _ = writeln!(out, "\n+{}:", choice.sessions.len());
        sessions(out, choice, timezone);
    }
}

fn row(out: &mut String, label: &str, l: &Lateness) {
    let _ = writeln!(
        out,
        "{label:<22} {:>5} {:>11} {:>10} {:>11} {:>10}",
        l.late_referrals, l.can_make_it_late, l.late_days, l.late_days_sq, l.unplanned
    );
}

fn sessions(out: &mut String, choice: &Choice, timezone: Tz) {
    for takes in &choice.takes {
        let _ = writeln!(out, "  {}", session_line(takes, timezone));
    }
}

/// One session: `di 08-12-2026 13:00  region  2 x 90 min  takes / neemt: a 1, b 1`.
fn session_line(takes: &SessionTakes, timezone: Tz) -> String {
    let s = &takes.session;
    let local = s.start.with_timezone(&timezone);
    let day =
        ["ma", "di", "wo", "do", "vr", "za", "zo"][local.weekday().num_days_from_monday() as usize];
    let by_region = if takes.by_region.is_empty() {
        "-".to_owned()
    } else {
        takes
            .by_region
            .iter()
            .map(|c| format!("{} {}", c.region, c.referrals))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{day} {}  {}  {} x {} min  takes / neemt: {by_region}",
        local.format("%d-%m-%Y %H:%M"),
        s.region,
        s.slots,
        s.slot_minutes
    )
}
