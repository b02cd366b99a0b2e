//! Capacity advice on the dashboard (issue 16): for every region whose
//! forecast wait exceeds the norm, the advice in a sentence and, per
//! advised session, what it would take and a button that adds it through
//! the sessions service (with all its checks) and re-plans. The button is
//! there for who may add it: a coordinator, or the chair or secretary of
//! the table that would hold the session.

use axum::extract::State;
use axum::response::Redirect;
use serde::Deserialize;

use super::form::PageForm as Form;
use super::{PageError, Viewer};
use crate::config::{RegionConfig, RegionId};
use crate::jobs::advice::{self, sentence};
use crate::slots::service::{self as slots, AddSession};
use crate::state::AppState;

/// One region's advice as the dashboard shows it.
pub struct AdviceBlock {
    /// The region's name.
    pub region: String,
    /// The advice in Dutch.
    pub sentence: String,
    /// The advised sessions (empty when none are needed or none do it).
    pub sessions: Vec<SessionButton>,
}

/// An advised session, its effect, and the form that adds it.
pub struct SessionButton {
    /// "di 08-12-2026 13:00, Centraal Gelderland, 2 plekken van 90 minuten".
    pub label: String,
    /// "neemt 2 uit Centraal Gelderland en 1 uit FoodValley".
    pub takes: String,
    /// Whether the viewer may add it (else the text only).
    pub may_add: bool,
    /// The form's fields.
    pub region: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub start: String,
    /// Conversations.
    pub slots: u32,
    /// Minutes each.
    pub minutes: u32,
}

/// The advice for each of `regions` (those over the norm).
///
/// # Errors
/// None so far: a region whose advice fails gets a sentence saying so.
pub async fn blocks(
    state: &AppState,
    viewer: &Viewer,
    regions: &[&RegionConfig],
) -> Vec<AdviceBlock> {
    let mut out = Vec::new();
    for region in regions {
        // Advice is an aid: when it cannot be given, the dashboard still
        // shows its figures, and says so.
        let found = match advice::region_advice(state, region).await {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(region = region.id.as_str(), error = ?err, "no capacity advice");
                out.push(AdviceBlock {
                    region: region.name.clone(),
                    sentence:
                        "Er is nu geen advies: de berekening lukte niet. Probeer het later opnieuw."
                            .into(),
                    sessions: Vec::new(),
                });
                continue;
            }
        };
        let sessions = found
            .advised
            .iter()
            .flat_map(|set| &set.sessions)
            .map(|s| SessionButton {
                label: format!(
                    "{}, {}, {} van {} minuten",
                    sentence::when(s),
                    state.regions.region_name(&s.region),
                    sentence::places(s.slots),
                    s.slot_minutes
                ),
                takes: sentence::takes(&state.regions, s),
                may_add: RegionId::parse(&s.region)
                    .is_ok_and(|id| slots::may_manage(&viewer.user, &id).is_ok()),
                region: s.region.clone(),
                date: s.date.to_string(),
                start: s.start.format("%H:%M").to_string(),
                slots: s.slots,
                minutes: s.slot_minutes,
            })
            .collect();
        out.push(AdviceBlock {
            region: region.name.clone(),
            sentence: found.sentence.clone(),
            sessions,
        });
    }
    out
}

/// The button's form.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    region: String,
    date: String,
    start: String,
    slots: u32,
    minutes: u32,
}

/// `POST /dashboard/extra-zitting`: adds the advised session through the
/// same service as `POST /api/v1/slots/sessions` (role, region and session
/// rules checked there); the re-plan follows.
///
/// # Errors
/// 403 for a wrong form token or a user who may not manage that table; the
/// session rules' refusals, as error pages.
pub async fn add_session(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<AddForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let body = AddSession {
        region: form.region,
        date: form.date,
        start: form.start,
        slots: form.slots,
        minutes: form.minutes,
    };
    slots::add(&state, &viewer.user, &body).await?;
    Ok(Redirect::to("/dashboard?gedaan=zitting"))
}
