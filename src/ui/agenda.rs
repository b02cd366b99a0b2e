//! `/referrals/{id}/agenda.ics`: the booked conversation as a calendar file,
//! for whoever may read the referral (the professional, the table, a
//! coordinator) to put in their own agenda when the mailed invitation did
//! not reach it. The same entry as the invitations (one UID per referral),
//! so importing it twice does not add a second appointment.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{PageError, Said, Viewer};
use crate::referrals::service;
use crate::state::AppState;

/// `GET /referrals/{id}/agenda.ics`: `text/calendar` as an attachment named
/// after the case reference; the read of the referral is audited.
///
/// # Errors
/// 404 outside the viewer's scope (as the referral page); 409 with a Dutch
/// message when the referral has no booking.
pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(id) = id.map_err(|_| PageError::NotFound)?;
    let referral = service::get(&state, &viewer.user, id).await?;
    let mut conn = state.store.pool.acquire().await?;
    let ics = crate::mail::ics::download(&mut conn, &state, id, &viewer.user.email).await?;
    let Some(ics) = ics else {
        return Err(PageError::Conflict(Said::nl(
            "Deze aanmelding is (nog) niet geboekt: er is geen afspraak om in de agenda te zetten.",
        )));
    };
    let file = format!("attachment; filename=\"jbt-{}.ics\"", referral.case_ref);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, file),
        ],
        ics,
    )
        .into_response())
}
