//! The professional's forms on the referral page (complete, change dates,
//! withdraw) and the table's questions with their answers. Each goes
//! through the same service as the API, via `referral::act`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;

use super::form::back;
use super::form::PageForm as Form;
use super::referral::{act, CancelForm};
use super::{PageError, Viewer};
use crate::referrals::service;
use crate::state::AppState;

/// The professional's change form: dates the family cannot come, the
/// earliest date, and what was missing.
#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    earliest: String,
    #[serde(default)]
    safety_plan: Option<String>,
    #[serde(default)]
    parents_informed: Option<String>,
    /// `unavailable_1`, `unavailable_2`, ...: as many as the page showed
    /// (at least four, and one per date already given), so none is lost.
    #[serde(flatten)]
    dates: std::collections::BTreeMap<String, String>,
}

/// The not-held form: the reason code.
#[derive(Debug, Deserialize)]
pub struct NotHeldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /referrals/{id}/not-held`: through the same service as the API;
/// the referral waits again and a re-plan follows.
///
/// # Errors
/// 403 page for a wrong form token; the service's refusals (role, scope,
/// lifecycle, not started, no reason chosen), as error pages.
pub async fn not_held(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<NotHeldForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    let body = crate::referrals::conversation::NotHeld {
        reason: form.reason,
    };
    act(
        &viewer,
        &form.csrf,
        id,
        "niet-doorgegaan",
        |id| async move { crate::referrals::conversation::record(&state, &user, id, &body).await },
    )
    .await
}

/// `POST /referrals/{id}/change`: through the same service as `PATCH
/// /api/v1/referrals/{id}`; a re-plan follows.
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<ChangeForm>,
) -> Result<Redirect, PageError> {
    let given = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    let body = crate::referrals::input::UpdateReferral {
        unavailable: Some(
            form.dates
                .iter()
                .filter(|(name, _)| name.starts_with("unavailable_"))
                .filter_map(|(_, d)| given(d))
                .collect(),
        ),
        earliest: Some(given(&form.earliest)),
        // A checked box completes the referral; an unchecked one changes
        // nothing (taking it back is what withdrawing is for).
        safety_plan: form.safety_plan.as_ref().map(|_| true),
        parents_informed: form.parents_informed.as_ref().map(|_| true),
        ..Default::default()
    };
    let user = viewer.user.clone();
    act(&viewer, &form.csrf, id, "gewijzigd", |id| async move {
        service::update(&state, &user, id, &body).await
    })
    .await
}

/// `POST /referrals/{id}/withdraw`.
pub async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<CancelForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    act(&viewer, &form.csrf, id, "ingetrokken", |id| async move {
        service::withdraw(&state, &user, id, Some(&form.reason)).await
    })
    .await
}

/// The ask and answer forms.
#[derive(Debug, Deserialize)]
pub struct InfoForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST /referrals/{id}/info`: the table asks the professional.
pub async fn ask(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
    Form(form): Form<InfoForm>,
) -> Result<Redirect, PageError> {
    let user = viewer.user.clone();
    let body = crate::referrals::info::InfoText { text: form.text };
    act(&viewer, &form.csrf, id, "gevraagd", |id| async move {
        crate::referrals::info::ask(&state, &user, id, &body).await
    })
    .await
}

/// `POST /referrals/{id}/info/{request_id}/answer`: the professional answers.
pub async fn answer(
    State(state): State<AppState>,
    viewer: Viewer,
    ids: Result<Path<(i64, i64)>, PathRejection>,
    Form(form): Form<InfoForm>,
) -> Result<Redirect, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let Path((id, request_id)) = ids.map_err(|_| PageError::NotFound)?;
    let body = crate::referrals::info::InfoText { text: form.text };
    crate::referrals::info::answer(&state, &viewer.user, id, request_id, &body).await?;
    Ok(back(id, "beantwoord"))
}
