//! `/referrals` and `/bookings`: register, read, change, book, close.
//!
//! Thin: read the request, call `referrals::service` (which authorizes,
//! scopes, checks the lifecycle, audits and asks for re-plans), write the
//! answer.

use crate::referrals::conversation::NotHeld;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::referrals::access::{authorize, Action};
use crate::referrals::audit;
use crate::referrals::domain::{OutcomeKind, ReferrerKind};
use crate::referrals::input::{
    CancelReferral, CreateBooking, CreateReferral, ListParams, RecordOutcome, UpdateReferral,
    WithdrawReferral,
};
use crate::referrals::lifecycle::Status;
use crate::referrals::norm::{Norm, NormStatus};
use crate::referrals::service;
use crate::referrals::store::Referral;
use crate::referrals::view::{
    MunicipalityView, OutcomeRecorded, ReferralList, ReferralView, RegionView, SlotView,
};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

/// The OpenAPI description of `/referrals` and `/bookings`.
#[derive(OpenApi)]
#[openapi(
    paths(
        create_referral,
        list_referrals,
        get_referral,
        update_referral,
        withdraw_referral,
        cancel_referral,
        create_booking,
        mark_held,
        not_held,
        record_outcome
    ),
    components(schemas(
        CreateReferral,
        UpdateReferral,
        WithdrawReferral,
        CancelReferral,
        CreateBooking,
        RecordOutcome,
        NotHeld,
        ReferralView,
        ReferralList,
        OutcomeRecorded,
        MunicipalityView,
        RegionView,
        SlotView,
        Norm,
        NormStatus,
        Status,
        ReferrerKind,
        OutcomeKind
    )),
    tags((name = "referrals", description = "Referrals to a table (verzoeken tot bespreking) and their bookings"))
)]
pub struct Api;

/// The routes of this module (`/referrals`, `/bookings`), relative to
/// `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/referrals", post(create_referral).get(list_referrals))
        .route("/referrals/{id}", get(get_referral).patch(update_referral))
        .route("/referrals/{id}/withdraw", post(withdraw_referral))
        .route("/referrals/{id}/cancel", post(cancel_referral))
        .route("/referrals/{id}/held", post(mark_held))
        .route("/referrals/{id}/not-held", post(not_held))
        .route("/referrals/{id}/outcome", post(record_outcome))
        .route("/bookings", post(create_booking))
}

/// A path id that is not a number names no referral.
pub(super) fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64> {
    id.map(|Path(id)| id).map_err(|_| AppError::NotFound)
}

/// The request body, or the refusal with its audit row: a role that may
/// never do `action` hears that first (as the service would say), a body
/// that could not be read next (the service never sees it).
pub(super) async fn audit_unreadable<T>(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: Option<i64>,
    body: Result<T, AppError>,
) -> Result<T> {
    if let Err(refusal) = authorize(user, action) {
        return Err(audit::refused(state, user, action, referral_id, refusal)
            .await
            .into());
    }
    match body {
        Ok(body) => Ok(body),
        Err(err) => {
            let refusal = match &err {
                AppError::Validation(fields) => Error::Invalid(fields.clone()),
                _ => Error::invalid("body", "unreadable"),
            };
            let _ = audit::refused(state, user, action, referral_id, refusal).await;
            Err(err)
        }
    }
}

pub(super) fn view(state: &AppState, referral: &Referral) -> ReferralView {
    crate::referrals::view::of(state, referral)
}

fn created(location: String, body: impl serde::Serialize) -> Response {
    let mut response = (StatusCode::CREATED, AppJson(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Register a referral. Without a safety plan or informed parents it is
/// `incomplete` and `missing` says what to supply.
#[utoipa::path(
    post,
    path = "/referrals",
    tag = "referrals",
    request_body = CreateReferral,
    responses(
        (status = 201, description = "Registered", body = ReferralView),
        (status = 403, description = "Role may not register referrals", body = ErrorBody),
        (status = 409, description = "Case reference already registered", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals", skip_all, fields(user = user.id))]
pub async fn create_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<AppJson<CreateReferral>, AppError>,
) -> Result<Response> {
    let AppJson(body) = audit_unreadable(&state, &user, Action::Create, None, body).await?;
    let referral = service::register(&state, &user, &body).await?;
    Ok(created(
        format!("/api/v1/referrals/{}", referral.id),
        view(&state, &referral),
    ))
}
/// Referrals the user may see, by due date. Each one returned is audited as read.
#[utoipa::path(
    get,
    path = "/referrals",
    tag = "referrals",
    params(ListParams),
    responses(
        (status = 200, body = ReferralList),
        (status = 403, description = "Role has no access to referral data", body = ErrorBody),
        (status = 422, description = "Invalid filters", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "GET /referrals", skip_all, fields(user = user.id))]
pub async fn list_referrals(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<ReferralList>> {
    let Query(params) = params.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (referrals, filter) = service::list(&state, &user, &params).await?;
    Ok(AppJson(ReferralList {
        items: referrals.iter().map(|r| view(&state, r)).collect(),
        limit: filter.limit,
        offset: filter.offset,
    }))
}
/// One referral, with its norm clock, slots and the planner's explanation.
#[utoipa::path(
    get,
    path = "/referrals/{id}",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role has no access to referral data", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "GET /referrals/{id}", skip_all, fields(user = user.id))]
pub async fn get_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    let referral = service::get(&state, &user, id).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Change dates, length, cross-region permission, the referrer's e-mail, or
/// supply the safety plan / parents' information (which completes an
/// incomplete referral). Possible until a slot is booked.
#[utoipa::path(
    patch,
    path = "/referrals/{id}",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = UpdateReferral,
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role may not change referrals", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Not changeable in its status, or changed meanwhile", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "PATCH /referrals/{id}", skip_all, fields(user = user.id))]
pub async fn update_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Result<AppJson<UpdateReferral>, AppError>,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    let AppJson(body) = audit_unreadable(&state, &user, Action::Update, Some(id), body).await?;
    let referral = service::update(&state, &user, id, &body).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Withdraw a referral (the referrer's decision); possible until the
/// conversation is held. Frees its slot.
#[utoipa::path(
    post,
    path = "/referrals/{id}/withdraw",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body(content = Option<WithdrawReferral>, description = "Optional reason"),
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role may not withdraw referrals", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Already held or closed", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/withdraw", skip_all, fields(user = user.id))]
pub async fn withdraw_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    // The body is optional: an empty POST withdraws without a reason.
    let body: WithdrawReferral = if body.iter().all(u8::is_ascii_whitespace) {
        WithdrawReferral::default()
    } else {
        let parsed =
            serde_json::from_slice(&body).map_err(|e| AppError::validation("body", e.to_string()));
        audit_unreadable(&state, &user, Action::Withdraw, Some(id), parsed).await?
    };
    let referral = service::withdraw(&state, &user, id, body.reason.as_deref()).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Cancel a referral (the table's decision), with a reason; possible until
/// the conversation is held. Frees its slot.
#[utoipa::path(
    post,
    path = "/referrals/{id}/cancel",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = CancelReferral,
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role may not cancel referrals", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Already held or closed", body = ErrorBody),
        (status = 422, description = "Reason missing or too long", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/cancel", skip_all, fields(user = user.id))]
pub async fn cancel_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Result<AppJson<CancelReferral>, AppError>,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    let AppJson(body) = audit_unreadable(&state, &user, Action::Cancel, Some(id), body).await?;
    let referral = service::cancel(&state, &user, id, Some(&body.reason)).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Mark the conversation as held, once its booked slot has started.
#[utoipa::path(
    post,
    path = "/referrals/{id}/held",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role may not mark conversations as held", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Not booked, or its slot has not started yet", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/held", skip_all, fields(user = user.id))]
pub async fn mark_held(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    let referral = crate::referrals::conversation::mark_held(&state, &user, id).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Record that the booked conversation did not take place (the family did
/// not come, it was postponed, the table could not sit), once its slot has
/// started. The referral waits again with the due date it had, and is
/// planned again.
#[utoipa::path(
    post,
    path = "/referrals/{id}/not-held",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = NotHeld,
    responses(
        (status = 200, body = ReferralView),
        (status = 403, description = "Role may not record conversations as not held", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Not booked, or its slot has not started yet", body = ErrorBody),
        (status = 422, description = "Unknown reason", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/not-held", skip_all, fields(user = user.id))]
pub async fn not_held(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Result<AppJson<NotHeld>, AppError>,
) -> Result<AppJson<ReferralView>> {
    let id = path_id(id)?;
    let AppJson(body) = audit_unreadable(&state, &user, Action::NotHeld, Some(id), body).await?;
    let referral = crate::referrals::conversation::record(&state, &user, id, &body).await?;
    Ok(AppJson(view(&state, &referral)))
}
/// Confirm a booking: the referral gets the slot for certain and the planner
/// keeps it there. Without `slot_id` the planned slot is booked. Of several
/// bookings of one slot at the same time exactly one succeeds.
#[utoipa::path(
    post,
    path = "/bookings",
    tag = "referrals",
    request_body = CreateBooking,
    responses(
        (status = 201, description = "Booked", body = ReferralView),
        (status = 403, description = "Role may not book, or a chair booking another region's slot", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "Slot already booked or unsuitable, or the referral cannot be booked", body = ErrorBody),
        (status = 422, description = "No slot named and none planned, or unknown slot", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /bookings", skip_all, fields(user = user.id))]
pub async fn create_booking(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<AppJson<CreateBooking>, AppError>,
) -> Result<Response> {
    let AppJson(body) = audit_unreadable(&state, &user, Action::Confirm, None, body).await?;
    let referral = service::book(&state, &user, body.referral_id, body.slot_id.as_deref()).await?;
    Ok(created(
        format!("/api/v1/referrals/{}", referral.id),
        view(&state, &referral),
    ))
}
/// Record the outcome of a held conversation. With `evaluation_date` an
/// `evaluation` referral is registered for it (earliest a week before, due
/// a week after), in the same transaction.
#[utoipa::path(
    post,
    path = "/referrals/{id}/outcome",
    tag = "referrals",
    params(("id" = i64, Path, description = "Referral id")),
    request_body = RecordOutcome,
    responses(
        (status = 201, description = "Recorded", body = OutcomeRecorded),
        (status = 403, description = "Role may not record outcomes", body = ErrorBody),
        (status = 404, description = "No such referral in the user's scope", body = ErrorBody),
        (status = 409, description = "The conversation was not held (yet), or already has an outcome", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody)
    )
)]
#[tracing::instrument(name = "POST /referrals/{id}/outcome", skip_all, fields(user = user.id))]
pub async fn record_outcome(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    body: Result<AppJson<RecordOutcome>, AppError>,
) -> Result<Response> {
    let id = path_id(id)?;
    let AppJson(body) =
        audit_unreadable(&state, &user, Action::RecordOutcome, Some(id), body).await?;
    let (referral, evaluation) = service::record_outcome(&state, &user, id, &body).await?;
    let body = OutcomeRecorded {
        referral: view(&state, &referral),
        evaluation: evaluation.as_ref().map(|e| view(&state, e)),
    };
    Ok(created(format!("/api/v1/referrals/{}", referral.id), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_every_route_without_the_prefix() {
        let doc = Api::openapi();
        let mut paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            vec![
                "/bookings",
                "/referrals",
                "/referrals/{id}",
                "/referrals/{id}/cancel",
                "/referrals/{id}/held",
                "/referrals/{id}/not-held",
                "/referrals/{id}/outcome",
                "/referrals/{id}/withdraw",
            ]
        );
        let schemas = doc.components.map(|c| c.schemas).unwrap_or_default();
        for name in ["ReferralView", "CreateReferral", "Norm", "Status"] {
            assert!(schemas.contains_key(name), "schema {name} missing");
        }
    }
}
