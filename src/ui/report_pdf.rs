//! `/referrals/{id}/verslag.pdf?versie=N`: a sent version of the report
//! (the newest without `versie`) as an accessible PDF in Dutch, to go
//! through with the family. It names the case reference only. Same scope
//! and audit as the page (`reports::show_for`: `report.read`); coordinators
//! and others who see only that a report exists get 404.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::form::path_id;
use super::report::{shown, VersionShown};
use super::{format, PageError, Viewer};
use crate::error::{Error, FieldError};
use crate::pdf::Block;
use crate::reports;
use crate::state::AppState;

/// `?versie=N`: which sent version (default the newest).
#[derive(Debug, Deserialize)]
pub struct PdfQuery {
    versie: Option<String>,
}

/// The PDF of one sent version.
///
/// # Errors
/// As the page (403, 404 outside the scope); 404 when nothing was sent or
/// the user may not read the content, or no such version; 422 for a
/// `versie` that is not a number.
pub async fn pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<PdfQuery>,
) -> Result<Response, PageError> {
    let id = path_id(id)?;
    let wanted = match query.versie.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            Error::Invalid(vec![FieldError::both(
                "versie",
                "must be a version number",
                "Geen versienummer.",
            )])
        })?),
    };
    let referral = crate::referrals::service::get(&state, &viewer.user, id).await?;
    let view = reports::show_for(&state, &viewer.user, &referral).await?;
    let version = view
        .versions
        .iter()
        .find(|v| wanted.is_none_or(|n| v.version == n))
        .ok_or(Error::NotFound)?;
    let outcome = crate::referrals::view::outcome(&state, id).await?;
    let table = referral.booked_slot.as_ref().map(|s| {
        (
            state.regions.region_name(&s.region),
            format::moment(s.start, state.regions.timezone),
        )
    });
    let case_ref = referral.case_ref.as_str();
    let shown = shown(version, state.regions.timezone);
    let title = format!("Verslag van de bespreking {case_ref}");
    let blocks = blocks(
        &title,
        &shown,
        table,
        outcome.map(|o| format::outcome(&o.outcome)),
    );
    let name = format!("verslag-{case_ref}-versie-{}", shown.version);
    super::export::pdf(&name, &title, &blocks)
}

/// The report as blocks: title, what it is about, who was present, the
/// text, the safety agreements, the reactions.
fn blocks(
    title: &str,
    version: &VersionShown,
    table: Option<(String, String)>,
    outcome: Option<&str>,
) -> Vec<Block> {
    let mut facts = vec![format!(
        "Versie {}, vastgesteld {}.",
        version.version, version.sent
    )];
    if let Some((name, when)) = table {
        facts.push(format!("Jeugdbeschermingstafel {name}, gesprek op {when}."));
    }
    if let Some(outcome) = outcome {
        facts.push(format!("Uitkomst: {outcome}."));
    }
    let mut blocks = vec![
        Block::Heading(1, title.to_string()),
        Block::Paragraph(facts.join("\n")),
        Block::Heading(2, "Aanwezig".into()),
        Block::Paragraph(if version.participants.is_empty() {
            "Niet vastgelegd.".into()
        } else {
            version.participants.clone()
        }),
        Block::Heading(2, "Besproken en besloten".into()),
        Block::Paragraph(version.text.clone()),
        Block::Heading(2, "Veiligheidsafspraken".into()),
    ];
    let agreements = version
        .agreements
        .iter()
        .map(|(what, who, by)| match by.as_str() {
            "" => format!("{what}. Verantwoordelijk: {who}."),
            by => format!("{what}. Verantwoordelijk: {who}, uiterlijk {by}."),
        });
    blocks.push(Block::list_or(
        agreements.collect(),
        "Geen afspraken vastgelegd.",
    ));
    for (who, received, text) in &version.reactions {
        blocks.push(Block::Heading(2, format!("{who}, ontvangen {received}")));
        blocks.push(Block::Paragraph(text.clone()));
    }
    blocks
}
