//! `/slots`: the slots of the tables, cancelling a session, adding one.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Days, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::audit::record_reads;
use crate::auth::{CurrentUser, Role};
use crate::config::{RegionId, SessionShape};
use crate::slots::{self as slots, sees_case, AddSessionError, SlotView};
use crate::state::AppState;
use crate::web::{AppError, AppJson, FieldError, Result};

#[derive(OpenApi)]
#[openapi(
    paths(list_slots, cancel_session, add_session),
    components(schemas(SlotView, CancelSession, CancelledSession, AddSession, AddedSession))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slots", get(list_slots))
        .route("/slots/sessions", post(add_session))
        .route("/slots/sessions/cancel", post(cancel_session))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotQuery {
    /// Region id; repeatable as a comma-separated list. Default: all
    /// (coordinator) or the chair's own region.
    pub region: Option<String>,
    /// First local date (YYYY-MM-DD); default today.
    pub from: Option<String>,
    /// Number of weeks from `from`; default 4, at most 26.
    pub weeks: Option<u32>,
}

/// Slots with their state; case references only within the viewer's scope.
#[utoipa::path(get, path = "/slots", params(SlotQuery), responses((status = 200, body = [SlotView]), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "GET /api/v1/slots")]
pub async fn list_slots(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<SlotQuery>,
) -> Result<Json<Vec<SlotView>>> {
    user.require(&[Role::Coordinator, Role::Chair])?;
    let mut problems = Vec::new();
    let regions: Vec<String> = match &query.region {
        Some(text) => text
            .split(',')
            .filter_map(|r| {
                match RegionId::parse(r.trim())
                    .ok()
                    .filter(|id| state.regions.region(id).is_some())
                {
                    Some(id) => Some(id.as_str().to_string()),
                    None => {
                        problems.push(FieldError::new("region", format!("unknown region {r:?}")));
                        None
                    }
                }
            })
            .collect(),
        None => match (&user.role, &user.region) {
            (Role::Chair, Some(own)) => vec![own.as_str().to_string()],
            _ => state
                .regions
                .regions
                .iter()
                .map(|r| r.id.as_str().to_string())
                .collect(),
        },
    };
    let today = state
        .now()
        .with_timezone(&state.regions.timezone)
        .date_naive();
    let from = match &query.from {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| {
                problems.push(FieldError::new(
                    "from",
                    format!("not a date (YYYY-MM-DD): {text:?}"),
                ))
            })
            .unwrap_or(today),
        None => today,
    };
    let weeks = query.weeks.unwrap_or(4);
    if !(1..=26).contains(&weeks) {
        problems.push(FieldError::new("weeks", "must be 1 to 26"));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let to = from
        .checked_add_days(Days::new(u64::from(weeks) * 7 - 1))
        .unwrap_or(from);
    let mut slots = slots::list(&state, &regions, from, to).await?;
    let mut shown = Vec::new();
    for slot in &mut slots {
        if !sees_case(&user, slot) {
            slot.hide_referral();
        } else if let Some(id) = slot.referral_id {
            shown.push(id);
        }
    }
    // No case leaves without its audit row.
    record_reads(&state.store, state.now(), &user, "slot.read", &shown, None).await?;
    Ok(Json(slots))
}

fn may_manage(user: &CurrentUser, region: &RegionId) -> Result<()> {
    match user.role {
        Role::Coordinator => Ok(()),
        Role::Chair if user.region.as_ref() == Some(region) => Ok(()),
        _ => Err(AppError::Forbidden(
            "only a coordinator or the region's chair manages its sessions".into(),
        )),
    }
}

fn parse_region(state: &AppState, text: &str, problems: &mut Vec<FieldError>) -> Option<RegionId> {
    let id = RegionId::parse(text)
        .ok()
        .filter(|id| state.regions.region(id).is_some());
    if id.is_none() {
        problems.push(FieldError::new(
            "region",
            format!("unknown region {text:?}"),
        ));
    }
    id
}

fn parse_date(field: &str, text: &str, problems: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(FieldError::new(
            field,
            format!("not a date (YYYY-MM-DD): {text:?}"),
        ));
    }
    date
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelSession {
    pub region: String,
    /// Local date of the session.
    pub date: String,
    /// Why (shown to coordinators; no personal data).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledSession {
    pub cancelled_slots: usize,
    /// Referrals that lost their slot; the planner places them again.
    pub released_referrals: Vec<i64>,
}

/// Cancels a region's session on a date; its referrals are re-planned.
#[utoipa::path(post, path = "/slots/sessions/cancel", request_body = CancelSession,
    responses((status = 200, body = CancelledSession), (status = 404, body = crate::web::error::ErrorBody), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "POST /api/v1/slots/sessions/cancel")]
pub async fn cancel_session(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<CancelSession>,
) -> Result<Json<CancelledSession>> {
    let mut problems = Vec::new();
    let region = parse_region(&state, &body.region, &mut problems);
    let date = parse_date("date", &body.date, &mut problems);
    if body.reason.trim().is_empty() || body.reason.len() > 200 {
        problems.push(FieldError::new("reason", "must be 1 to 200 characters"));
    }
    let (Some(region), Some(date), true) = (region, date, problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    may_manage(&user, &region)?;
    let (cancelled_slots, released_referrals) =
        slots::cancel_session(&state, &user, &region, date, body.reason.trim()).await?;
    if cancelled_slots == 0 {
        return Err(AppError::NotFound);
    }
    Ok(Json(CancelledSession {
        cancelled_slots,
        released_referrals,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddSession {
    pub region: String,
    pub date: String,
    /// Local start time, HH:MM.
    pub start: String,
    pub slots: u32,
    pub minutes: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedSession {
    pub slot_ids: Vec<String>,
}

/// Adds an extra session of `slots` consecutive slots.
#[utoipa::path(post, path = "/slots/sessions", request_body = AddSession,
    responses((status = 201, body = AddedSession), (status = 409, body = crate::web::error::ErrorBody), (status = 422, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "POST /api/v1/slots/sessions")]
pub async fn add_session(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<AddSession>,
) -> Result<(StatusCode, Json<AddedSession>)> {
    let mut problems = Vec::new();
    let region = parse_region(&state, &body.region, &mut problems);
    let date = parse_date("date", &body.date, &mut problems);
    let start = NaiveTime::parse_from_str(&body.start, "%H:%M").ok();
    if start.is_none() {
        problems.push(FieldError::new(
            "start",
            format!("not a time (HH:MM): {:?}", body.start),
        ));
    }
    // The rules of every session, also when the date or start is unreadable.
    let shape = SessionShape {
        start: start.unwrap_or(NaiveTime::MIN),
        slots: body.slots,
        slot_minutes: body.minutes,
    };
    problems.extend(
        shape
            .problems()
            .into_iter()
            .filter(|p| start.is_some() || p.field != "start")
            .map(|p| FieldError::new(p.field, p.message)),
    );
    let (Some(region), Some(date), Some(_), true) = (region, date, start, problems.is_empty())
    else {
        return Err(AppError::Validation(problems));
    };
    may_manage(&user, &region)?;
    match slots::add_session(&state, &region, date, &shape).await {
        Ok(slot_ids) => Ok((StatusCode::CREATED, Json(AddedSession { slot_ids }))),
        Err(AddSessionError::Invalid(problems)) => Err(AppError::Validation(
            problems
                .into_iter()
                .map(|p| FieldError::new(p.field, p.message))
                .collect(),
        )),
        Err(AddSessionError::Exists) => Err(AppError::Conflict(
            "an extra session at that time exists already".into(),
        )),
        Err(AddSessionError::Database(e)) => Err(e.into()),
    }
}
