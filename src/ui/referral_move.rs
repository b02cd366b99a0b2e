//! The referral page's move form (issue 14): the slots the rules allow, by
//! table, and `POST /referrals/{id}/verplaatsen` through the same service
//! as `POST /api/v1/referrals/{id}/move`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;

use super::form::back;
use super::form::PageForm as Form;
use super::{PageError, Viewer};
use crate::offers::moves::{self, Moved};
use crate::referrals::store::Referral;
use crate::state::AppState;

/// One table's slots in the move form's list.
pub struct MoveGroup {
    /// "Eigen tafel: FoodValley", or "Aanbod aan de tafel van Rivierenland".
    pub label: String,
    /// (slot id, "di 08-12-2026 13:00 (90 minuten)").
    pub slots: Vec<(String, String)>,
}

/// The slots `referral` may move to, by table (its own first), in words;
/// empty when the viewer may not move it or it cannot move.
///
/// # Errors
/// Storage errors.
pub async fn choices(
    state: &AppState,
    viewer: &Viewer,
    referral: &Referral,
) -> Result<Vec<MoveGroup>, PageError> {
    let tz = state.regions.timezone;
    let mut groups: Vec<MoveGroup> = Vec::new();
    for option in moves::options(state, &viewer.user, referral).await? {
        let name = state.regions.region_name(&option.slot.region);
        let label = if option.offer {
            format!("Aanbod aan de tafel van {name}")
        } else {
            format!("Eigen tafel: {name}")
        };
        let local = option.slot.start.with_timezone(&tz);
        let text = format!(
            "{} ({} minuten)",
            local.format_localized("%a %d-%m-%Y %H:%M", chrono::Locale::nl_NL),
            option.slot.minutes
        );
        match groups.last_mut() {
            Some(group) if group.label == label => group.slots.push((option.slot.id, text)),
            _ => groups.push(MoveGroup {
                label,
                slots: vec![(option.slot.id, text)],
            }),
        }
    }
    Ok(groups)
}

/// The move form.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slot_id: String,
}

/// `POST /referrals/{id}/verplaatsen`: moves the referral to the chosen
/// slot and goes back to its page saying what happened (placed and kept
/// there, booking moved and invitations updated, or offered).
///
/// # Errors
/// 403 page for a wrong form token; the service's refusals (role, scope,
/// status, rules, a taken slot) as error pages in Dutch.
pub async fn move_referral(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<MoveForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let id = id.map(|Path(id)| id).map_err(|_| PageError::NotFound)?;
    let (_, moved) = moves::move_to(&state, &viewer.user, id, form.slot_id.trim()).await?;
    Ok(back(
        id,
        match moved {
            Moved::Pinned => "vastgezet",
            Moved::Rebooked => "verplaatst",
            Moved::Offered => "aangeboden",
        },
    ))
}
