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
    p.finish()?;
    let outcome = outcome
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("outcome parsing lost a field problem")))?;
    Ok(NewOutcome {
        outcome,
        route: body.route.trim().to_string(),
        help: body.help.trim().to_string(),
        safety_agreements: body.safety_agreements.trim().to_string(),
        evaluation_date,
    })
}
