//! `/referrals` and `/bookings`: register, read, change, book, close.
//!
//! Handlers are thin: authorize (403 for a role that may never do it),
//! load the referral within the user's scope (404 otherwise), ask the
//! lifecycle whether the event is allowed (409 with the reason), store the
//! change with its audit row in one transaction, then ask for a re-plan.
//! Every refusal is audited too ([`audited`]).

use std::future::Future;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Days, NaiveDate};
use utoipa::OpenApi;

use crate::auth::CurrentUser;
use crate::config::ReferralKind;
use crate::referrals::access::{authorize, Action, Scope};
use crate::referrals::audit;
use crate::referrals::booking;
use crate::referrals::domain::{OutcomeKind, ReferrerKind};
use crate::referrals::input::{
    self, CancelReferral, CreateBooking, CreateReferral, ListParams, RecordOutcome, UpdateReferral,
    WithdrawReferral,
};
use crate::referrals::lifecycle::{self, Event, InvalidTransition, Status};
use crate::referrals::norm::{self, Norm, NormStatus};
use crate::referrals::store::{self, NewReferral, Referral};
use crate::referrals::view::{
    MunicipalityView, OutcomeRecorded, ReferralList, ReferralView, RegionView, SlotView,
};
use crate::state::AppState;
use crate::store::is_unique_violation;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, Result};

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
        record_outcome
    ),
    components(schemas(
        CreateReferral,
        UpdateReferral,
        WithdrawReferral,
        CancelReferral,
        CreateBooking,
        RecordOutcome,
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/referrals", post(create_referral).get(list_referrals))
        .route("/referrals/{id}", get(get_referral).patch(update_referral))
        .route("/referrals/{id}/withdraw", post(withdraw_referral))
        .route("/referrals/{id}/cancel", post(cancel_referral))
        .route("/referrals/{id}/held", post(mark_held))
        .route("/referrals/{id}/outcome", post(record_outcome))
        .route("/bookings", post(create_booking))
}

/// Longest reason kept with a withdrawal or cancellation.
const MAX_REASON: usize = 500;

/// Runs `work`; a refusal it returns is audited before it goes out.
async fn audited<T>(
    state: &AppState,
    user: &CurrentUser,
    action: Action,
    referral_id: Option<i64>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match work.await {
        Ok(value) => Ok(value),
        Err(err) => Err(audit::refused(state, user, action, referral_id, err).await),
    }
}

/// A path id that is not a number names no referral.
fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64> {
    id.map(|Path(id)| id).map_err(|_| AppError::NotFound)
}

fn today(state: &AppState) -> NaiveDate {
    norm::local_date(state.now(), state.regions.timezone)
}

fn view(state: &AppState, referral: &Referral) -> ReferralView {
    ReferralView::new(
        referral,
        &state.regions,
        today(state),
        state.settings.at_risk_days,
    )
}

fn invalid_transition(err: InvalidTransition) -> AppError {
    AppError::refused(err.to_string(), err.dutch())
}

/// The guarded UPDATE found the referral in another state than it was read in.
fn changed_meanwhile() -> AppError {
    AppError::refused(
        "the referral was changed by someone else at the same time; reload it and try again",
        "Iemand anders heeft de verwijzing tegelijk gewijzigd; laad de pagina opnieuw en probeer het nog eens.",
    )
}

/// Database errors inside a change's transaction: PostgreSQL may abort one
/// of two colliding transactions (deadlock, serialization); that is a
/// conflict to retry, not a server fault.
fn db_error(err: sqlx::Error) -> AppError {
    let code = err
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned);
    match code.as_deref() {
        Some("40P01" | "40001") => changed_meanwhile(),
        _ => AppError::from(err),
    }
}

/// The referral, if the user may see it; 404 otherwise.
async fn load(conn: &mut sqlx::AnyConnection, id: i64, scope: &Scope) -> Result<Referral> {
    store::get(conn, id, scope)
        .await
        .map_err(db_error)?
        .ok_or(AppError::NotFound)
}

/// Re-reads a referral after a change the user just made (whatever their scope now).
async fn reload(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Referral> {
    load(conn, id, &Scope::All).await
}

fn created(location: String, body: impl serde::Serialize) -> Response {
    let mut response = (StatusCode::CREATED, AppJson(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A reason from a body: trimmed, at most [`MAX_REASON`] characters.
fn reason(field: &str, text: Option<&str>, required: bool) -> Result<Option<String>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None if required => Err(AppError::validation(field, "is required")),
        Some(t) if t.chars().count() > MAX_REASON => Err(AppError::validation(
            field,
            format!("at most {MAX_REASON} characters"),
        )),
        other => Ok(other.map(str::to_string)),
    }
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
    let action = Action::Create;
    let referral = audited(&state, &user, action, None, async {
        let scope = authorize(&user, action)?;
        let AppJson(body) = body?;
        let now = state.now();
        let due = norm::due_date(now, state.regions.timezone, state.regions.norm_days);
        let new = input::parse_create(&body, &scope, &state.regions, today(&state), due)?;
        let mut tx = state.store.write().await?;
        let id = insert(&mut tx, &new, &user, &state).await?;
        audit::ok(&mut tx, &state, &user, action, id, None).await?;
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(referral)
    })
    .await?;
    state.replan.request("referral registered");
    Ok(created(
        format!("/api/v1/referrals/{}", referral.id),
        view(&state, &referral),
    ))
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    new: &NewReferral,
    user: &CurrentUser,
    state: &AppState,
) -> Result<i64> {
    store::insert(conn, new, user.id, state.now())
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                AppError::Conflict(format!(
                    "a referral with case reference {} is already registered",
                    new.case_ref
                ))
            } else {
                db_error(err)
            }
        })
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
    let action = Action::Read;
    audited(&state, &user, action, None, async {
        let scope = authorize(&user, action)?;
        let Query(params) = params.map_err(|e| AppError::BadRequest(e.body_text()))?;
        let filter = input::parse_list(&params, &state.regions)?;
        let mut conn = state.store.pool.acquire().await?;
        let referrals = store::list(&mut conn, &scope, &filter).await?;
        drop(conn);
        // No referral leaves without its audit row.
        let ids: Vec<i64> = referrals.iter().map(|r| r.id).collect();
        crate::auth::audit::record_reads(
            &state.store,
            state.now(),
            &user,
            action.audit_name(),
            &ids,
            Some("list"),
        )
        .await?;
        Ok(AppJson(ReferralList {
            items: referrals.iter().map(|r| view(&state, r)).collect(),
            limit: filter.limit,
            offset: filter.offset,
        }))
    })
    .await
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
    let action = Action::Read;
    let id = id.as_ref().ok().map(|Path(id)| *id);
    audited(&state, &user, action, id, async {
        let scope = authorize(&user, action)?;
        let id = id.ok_or(AppError::NotFound)?;
        let mut conn = state.store.pool.acquire().await?;
        let referral = load(&mut conn, id, &scope).await?;
        drop(conn);
        audit::ok_now(&state, &user, action, id).await?;
        Ok(AppJson(view(&state, &referral)))
    })
    .await
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
    let action = Action::Update;
    let id = path_id(id)?;
    let (referral, replan) = audited(&state, &user, action, Some(id), async {
        let scope = authorize(&user, action)?;
        let AppJson(body) = body?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, id, &scope).await?;
        if body.version.is_some_and(|v| v != current.version) {
            return Err(AppError::Conflict(format!(
                "the referral is at version {}, not {}; reload it and try again",
                current.version,
                body.version.unwrap_or_default()
            )));
        }
        lifecycle::check_editable(current.status)
            .map_err(|e| AppError::refused(e.to_string(), e.dutch()))?;
        let patch = input::parse_update(&body, &state.regions, &current.region, current.kind, today(&state))?;
        // Once registered, the conditions for planning cannot be taken back
        // by an edit: that is what withdrawing is for.
        let allowed = if patch.makes_incomplete() {
            if current.status != Status::Incomplete {
                return Err(AppError::Conflict(
                    "a registered referral keeps its safety plan and informed parents; withdraw it instead".into(),
                ));
            }
            vec![Status::Incomplete]
        } else {
            lifecycle::EDITABLE.to_vec()
        };
        if !store::update(&mut tx, id, &patch, &allowed, now).await.map_err(db_error)? {
            return Err(changed_meanwhile());
        }
        let completed = store::complete_if_ready(&mut tx, id, now).await.map_err(db_error)?;
        let detail = format!("changed: {}", patch.field_names().join(", "));
        audit::ok(&mut tx, &state, &user, action, id, Some(detail)).await?;
        // A slot held for an offer that the change makes impossible is
        // given up now, and its table told, in this same transaction.
        let changed = reload(&mut tx, id).await?;
        let withdrawn = crate::offers::withdraw::if_slot_no_longer_fits(&mut tx, &state, &changed, now)
            .await
            .map_err(AppError::Internal)?;
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok((referral, completed || withdrawn || patch.affects_plan()))
    })
    .await?;
    if replan {
        state.replan.request("referral changed");
    }
    Ok(AppJson(view(&state, &referral)))
}

/// Applies a status `event` to a referral in the user's scope, with the
/// audit row in the same transaction. `check` may refuse on the loaded
/// referral (after the lifecycle allowed the event).
async fn apply_event(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    action: Action,
    event: Event,
    close_reason: Option<String>,
    check: impl FnOnce(&Referral) -> Result<()>,
) -> Result<Referral> {
    let scope = authorize(user, action)?;
    let mut tx = state.store.write().await?;
    let current = load(&mut tx, id, &scope).await?;
    let to = lifecycle::transition(current.status, event).map_err(invalid_transition)?;
    check(&current)?;
    // Before the transition: it clears the booked slot the cancellation names.
    if current.status == lifecycle::Status::Booked
        && matches!(event, Event::Withdraw | Event::Cancel)
    {
        crate::mail::ics::booking_invites(
            &mut tx,
            state,
            id,
            state.now(),
            crate::mail::ics::InviteChange::Cancelled,
        )
        .await
        .map_err(AppError::Internal)?;
    }
    if !store::transition(&mut tx, id, to, event, state.now())
        .await
        .map_err(db_error)?
    {
        return Err(changed_meanwhile());
    }
    if let Some(reason) = &close_reason {
        store::set_close_reason(&mut tx, id, reason)
            .await
            .map_err(db_error)?;
    }
    if matches!(event, Event::Withdraw | Event::Cancel) {
        use crate::offers::withdraw::{open_offer_of, Why};
        open_offer_of(&mut tx, state, id, Why::ReferralClosed, state.now())
            .await
            .map_err(AppError::Internal)?;
    }
    // Who did what to which referral; the reason stays with the referral.
    audit::ok(&mut tx, state, user, action, id, None).await?;
    let referral = reload(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(referral)
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
    let action = Action::Withdraw;
    let id = path_id(id)?;
    let referral = audited(&state, &user, action, Some(id), async {
        // The body is optional: an empty POST withdraws without a reason.
        let body: WithdrawReferral = if body.iter().all(u8::is_ascii_whitespace) {
            WithdrawReferral::default()
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| AppError::validation("body", e.to_string()))?
        };
        let detail = reason("reason", body.reason.as_deref(), false)?;
        apply_event(&state, &user, id, action, Event::Withdraw, detail, |_| {
            Ok(())
        })
        .await
    })
    .await?;
    state.replan.request("referral withdrawn");
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
    let action = Action::Cancel;
    let id = path_id(id)?;
    let referral = audited(&state, &user, action, Some(id), async {
        authorize(&user, action)?;
        let AppJson(body) = body?;
        let detail = reason("reason", Some(&body.reason), true)?;
        apply_event(&state, &user, id, action, Event::Cancel, detail, |_| Ok(())).await
    })
    .await?;
    state.replan.request("referral cancelled");
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
    let action = Action::Hold;
    let id = path_id(id)?;
    let now = state.now();
    let tz = state.regions.timezone;
    let referral = audited(&state, &user, action, Some(id), async {
        apply_event(&state, &user, id, action, Event::Hold, None, |r| {
            match &r.booked_slot {
                Some(slot) if slot.start > now => {
                    let start = slot.start.with_timezone(&tz);
                    Err(AppError::refused(
                        format!(
                            "the conversation is booked for {}; it can be marked as held once it has started",
                            start.format("%Y-%m-%d %H:%M")
                        ),
                        format!(
                            "Het gesprek staat gepland op {}; het kan als gehouden worden gemarkeerd zodra het is begonnen.",
                            start.format("%d-%m-%Y om %H:%M")
                        ),
                    ))
                }
                _ => Ok(()),
            }
        })
        .await
    })
    .await?;
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
    let action = Action::Confirm;
    let referral_id = body.as_ref().ok().map(|AppJson(b)| b.referral_id);
    let referral = audited(&state, &user, action, referral_id, async {
        let scope = authorize(&user, action)?;
        let AppJson(body) = body?;
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, body.referral_id, &scope).await?;
        lifecycle::transition(current.status, Event::Confirm).map_err(invalid_transition)?;
        let slot_id = body
            .slot_id
            .or_else(|| current.planned_slot.as_ref().map(|s| s.id.clone()))
            .ok_or_else(|| {
                AppError::validation(
                    "slot_id",
                    "the referral has no planned slot; name the slot to book",
                )
            })?;
        let slot = store::slot(&mut tx, &slot_id)
            .await?
            .ok_or_else(|| AppError::validation("slot_id", format!("no slot {slot_id:?}")))?;
        if let Scope::Region(own) = &scope {
            if slot.region != own.as_str() {
                return Err(AppError::Forbidden(
                    "a chair confirms bookings only for slots at the own region's table".into(),
                ));
            }
        }
        if let Some(why) = booking::refusal(&current, &slot, &state.regions, state.now()) {
            return Err(AppError::refused(
                format!("cannot book this slot: {}", why.message),
                format!("Deze plek kan niet worden geboekt: {}.", why.dutch),
            ));
        }
        let booked = store::confirm(&mut tx, current.id, &slot.id, state.now())
            .await
            .map_err(|err| {
                if is_unique_violation(&err) {
                    AppError::refused(
                        "slot already booked for another referral",
                        "Deze plek is al geboekt voor een andere verwijzing.",
                    )
                } else {
                    db_error(err)
                }
            })?;
        if !booked {
            return Err(changed_meanwhile());
        }
        // The calendar invitations go out with the booking, or not at all.
        crate::mail::ics::booking_invites(
            &mut tx,
            &state,
            current.id,
            state.now(),
            crate::mail::ics::InviteChange::Confirmed,
        )
        .await
        .map_err(AppError::Internal)?;
        audit::ok(
            &mut tx,
            &state,
            &user,
            action,
            current.id,
            Some(format!("slot {}", slot.id)),
        )
        .await?;
        let referral = reload(&mut tx, current.id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(referral)
    })
    .await?;
    state.replan.request("booking confirmed");
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
    let action = Action::RecordOutcome;
    let id = path_id(id)?;
    let (referral, evaluation) = audited(&state, &user, action, Some(id), async {
        let scope = authorize(&user, action)?;
        let AppJson(body) = body?;
        let outcome = input::parse_outcome(&body, today(&state))?;
        let now = state.now();
        let mut tx = state.store.write().await?;
        let current = load(&mut tx, id, &scope).await?;
        let to = lifecycle::transition(current.status, Event::RecordOutcome)
            .map_err(invalid_transition)?;
        if !store::transition(&mut tx, id, to, Event::RecordOutcome, now)
            .await
            .map_err(db_error)?
        {
            return Err(changed_meanwhile());
        }
        store::insert_outcome(&mut tx, id, &outcome, user.id, now)
            .await
            .map_err(db_error)?;
        audit::ok(
            &mut tx,
            &state,
            &user,
            action,
            id,
            Some(outcome.outcome.as_str().to_string()),
        )
        .await?;
        let evaluation = match outcome.evaluation_date {
            Some(date) => Some(register_evaluation(&mut tx, &state, &user, &current, date).await?),
            None => None,
        };
        let referral = reload(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok((referral, evaluation))
    })
    .await?;
    if evaluation.is_some() {
        state.replan.request("evaluation registered");
    }
    let body = OutcomeRecorded {
        referral: view(&state, &referral),
        evaluation: evaluation.as_ref().map(|e| view(&state, e)),
    };
    Ok(created(format!("/api/v1/referrals/{}", referral.id), body))
}

/// Days between an evaluation's earliest date, its date, and its due date.
const EVALUATION_MARGIN_DAYS: u64 = 7;

/// Registers the evaluation of `original` on `date`: same case, municipality
/// and referrer; to be held within a week of `date`.
async fn register_evaluation(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    user: &CurrentUser,
    original: &Referral,
    date: NaiveDate,
) -> Result<Referral> {
    let margin = Days::new(EVALUATION_MARGIN_DAYS);
    let new = NewReferral {
        case_ref: store::next_evaluation_ref(conn, &original.case_ref).await?,
        municipality: original.municipality.clone(),
        region: original.region.clone(),
        kind: ReferralKind::Evaluation,
        referrer_kind: original.referrer_kind,
        referrer_org: original.referrer_org.clone(),
        referrer_email: original.referrer_email.clone(),
        safety_plan: original.safety_plan,
        parents_informed: original.parents_informed,
        child_12_plus: original.child_12_plus,
        unavailable: Vec::new(),
        earliest: date.checked_sub_days(margin),
        cross_region: original.cross_region,
        due: date.checked_add_days(margin).unwrap_or(date),
        parent_referral_id: Some(original.id),
    };
    let id = insert(conn, &new, user, state).await?;
    let detail = format!("evaluation of referral {}", original.id);
    audit::ok(conn, state, user, Action::Create, id, Some(detail)).await?;
    reload(conn, id).await
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
