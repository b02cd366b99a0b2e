//! The outcome of a held conversation, parsed.

use chrono::NaiveDate;

use super::{coming_date, Problems, RecordOutcome, MAX_TEXT};
use crate::error::Error;
use crate::referrals::domain::OutcomeKind;
use crate::referrals::store::NewOutcome;

/// Parses an outcome; an evaluation date must lie ahead.
pub fn parse_outcome(body: &RecordOutcome, today: NaiveDate) -> Result<NewOutcome, Error> {
    let mut p = Problems::default();
    let outcome = p.required("outcome", body.outcome.as_deref()).and_then(|text| {
        let kind = OutcomeKind::parse(text.trim());
        if kind.is_none() {
            p.add(
                "outcome",
                "must be one of voluntary_local_team, voluntary_binding, voluntary_binding_raad, raad_investigation",
            );
        }
        kind
    });
    for (field, text) in [
        ("route", &body.route),
        ("help", &body.help),
        ("safety_agreements", &body.safety_agreements),
    ] {
        if text.chars().count() > MAX_TEXT {
            p.add(field, format!("at most {MAX_TEXT} characters"));
        }
    }
    let evaluation_date = body.evaluation_date.as_deref().and_then(|text| {
        let date = coming_date(&mut p, "evaluation_date", text, today)?;
        if date == today {
            p.add("evaluation_date", "must lie after today");
            return None;
        }
        Some(date)
    });
    let written = written_evaluation(&mut p, body, today);
    p.finish()?;
    let outcome = outcome
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("outcome parsing lost a field problem")))?;
    Ok(NewOutcome {
        outcome,
        route: body.route.trim().to_string(),
        help: body.help.trim().to_string(),
        safety_agreements: body.safety_agreements.trim().to_string(),
        evaluation_date,
        written_evaluation: written,
    })
}

/// The written evaluation, if planned: a date after today and who
/// delivers it, both or neither.
fn written_evaluation(
    p: &mut Problems,
    body: &RecordOutcome,
    today: NaiveDate,
) -> Option<(NaiveDate, String)> {
    let given = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let (date, by) = (
        given(&body.written_evaluation_date),
        given(&body.written_evaluation_by),
    );
    match (date, by) {
        (None, None) => None,
        (Some(_), None) => {
            p.add(
                "written_evaluation_by",
                "is required with a written evaluation date",
            );
            None
        }
        (None, Some(_)) => {
            p.add(
                "written_evaluation_date",
                "is required with who delivers it",
            );
            None
        }
        (Some(date), Some(by)) => {
            let date = coming_date(p, "written_evaluation_date", &date, today)?;
            if date == today {
                p.add("written_evaluation_date", "must lie after today");
                return None;
            }
            if by.chars().count() > 200 || by.chars().any(char::is_control) {
                p.add(
                    "written_evaluation_by",
                    "at most 200 characters, no control characters",
                );
                return None;
            }
            Some((date, by))
        }
    }
}
