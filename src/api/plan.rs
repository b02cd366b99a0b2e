//! `/plan`: the current plan with its explanations, and a run on demand.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sqlx::Row;
use utoipa::{OpenApi, ToSchema};

use crate::auth::audit::record_reads;
use crate::auth::{CurrentUser, Role};
use crate::jobs::{self as planning, RunSummary};
use crate::state::AppState;
use crate::store::time::from_millis;
use crate::web::{AppError, Result};

/// The OpenAPI description of `/plan` and `/plan/run`.
#[derive(OpenApi)]
#[openapi(
    paths(current_plan, run_plan),
    components(schemas(PlanView, PlanEntry, LastRun, RunSummary))
)]
pub struct Api;

/// The routes of this module (read the plan, run the planner), relative
/// to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plan", get(current_plan))
        .route("/plan/run", post(run_plan))
}

/// The most recent planner run, from `plan_runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastRun {
    /// The run's id in `plan_runs`.
    pub id: i64,
    /// When the run finished: an RFC 3339 UTC instant.
    pub finished_at: String,
    /// Why it ran, e.g. `requested by coordinator`, or the reasons of the
    /// re-plan requests it served, joined with `, `.
    pub reason: String,
    /// How many referrals the run gave a slot.
    pub planned: i64,
    /// How many referrals it could not place.
    pub unplanned: i64,
    /// The planner's score as JSON: `unplanned`, `late_days_sq`,
    /// `cross_region`, `wait_days_sq` (lower is better, compared in that order).
    #[schema(value_type = Object)]
    pub score: serde_json::Value,
    /// How long the solver took, in milliseconds.
    pub solve_millis: f64,
}

/// One referral in the plan: its (tentative or booked) slot and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanEntry {
    /// The referral's id.
    pub referral_id: i64,
    /// The pseudonymous case reference (never personal data).
    pub case_ref: String,
    /// The id of the referral's own region.
    pub home_region: String,
    /// `registered`, `planned` or `booked`.
    pub status: String,
    /// The booked slot, or else the planned one; `None` when unplanned.
    pub slot_id: Option<String>,
    /// The id of the region whose table holds that slot.
    pub slot_region: Option<String>,
    /// The slot's local date (Europe/Amsterdam), `YYYY-MM-DD`.
    pub slot_date: Option<String>,
    /// The slot's start as RFC 3339 in the regions' time zone (Europe/Amsterdam).
    pub slot_start: Option<String>,
    /// The norm's due date (local date, `YYYY-MM-DD`).
    pub due_date: String,
    /// Whether the slot is at another region's table than the home region.
    pub cross_region: bool,
    /// The planner's explanation (Dutch), as stored by the last run.
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<serde_json::Value>,
}

/// The answer of `GET /plan`: the last run and the referrals in the plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    /// The most recent run; `None` before the first.
    pub last_run: Option<LastRun>,
    /// The referrals in the viewer's scope, earliest due date first.
    pub entries: Vec<PlanEntry>,
}

/// The current plan: every referral waiting for or booked into a
/// conversation, in the viewer's scope.
#[utoipa::path(get, path = "/plan", responses((status = 200, body = PlanView), (status = 403, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "GET /api/v1/plan")]
pub async fn current_plan(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<PlanView>> {
    user.require(&[Role::Coordinator, Role::Chair, Role::Secretary])?;
    let last_run = last_run(&state).await?;
    let rows = sqlx::query(
        "SELECT r.id, r.case_ref, r.region_id, r.status, r.due_date, r.plan_explanation,
                s.id AS slot_id, s.region_id AS slot_region, s.local_date, s.start_at
         FROM referrals r LEFT JOIN slots s ON s.id = COALESCE(r.booked_slot_id, r.planned_slot_id)
         WHERE r.status IN ('registered', 'planned', 'booked')
         ORDER BY r.due_date, r.id",
    )
    .fetch_all(&state.store.pool)
    .await?;
    let mut entries = Vec::new();
    for row in rows {
        let home: String = row.try_get("region_id")?;
        let slot_region: Option<String> = row.try_get("slot_region")?;
        if !in_scope(&user, &home, slot_region.as_deref()) {
            continue;
        }
        let start: Option<i64> = row.try_get("start_at")?;
        let explanation: Option<String> = row.try_get("plan_explanation")?;
        entries.push(PlanEntry {
            referral_id: row.try_get("id")?,
            case_ref: row.try_get("case_ref")?,
            cross_region: slot_region.as_deref().is_some_and(|s| s != home),
            home_region: home,
            status: row.try_get("status")?,
            slot_id: row.try_get("slot_id")?,
            slot_region,
            slot_date: row.try_get("local_date")?,
            slot_start: start.map(|ms| {
                from_millis(ms)
                    .with_timezone(&state.regions.timezone)
                    .to_rfc3339()
            }),
            due_date: row.try_get("due_date")?,
            explanation: explanation.and_then(|e| serde_json::from_str(&e).ok()),
        });
    }
    // One audit row for the whole plan, naming every referral shown.
    let shown: Vec<i64> = entries.iter().map(|e| e.referral_id).collect();
    record_reads(&state.store, state.now(), &user, "plan.read", &shown, None).await?;
    Ok(Json(PlanView { last_run, entries }))
}

/// Chairs see their own table: referrals from their region and those
/// planned at their table.
fn in_scope(user: &CurrentUser, home: &str, slot_region: Option<&str>) -> bool {
    match user.role {
        Role::Coordinator => true,
        Role::Chair | Role::Secretary => user
            .region
            .as_ref()
            .is_some_and(|r| r.as_str() == home || Some(r.as_str()) == slot_region),
        _ => false,
    }
}

async fn last_run(state: &AppState) -> Result<Option<LastRun>> {
    let row = sqlx::query(
        "SELECT id, finished_at, reason, planned, unplanned, score, solve_millis
         FROM plan_runs ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&state.store.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let score: String = row.try_get("score")?;
    Ok(Some(LastRun {
        id: row.try_get("id")?,
        finished_at: from_millis(row.try_get("finished_at")?).to_rfc3339(),
        reason: row.try_get("reason")?,
        planned: row.try_get("planned")?,
        unplanned: row.try_get("unplanned")?,
        score: serde_json::from_str(&score).map_err(|e| AppError::Internal(e.into()))?,
        solve_millis: row.try_get("solve_millis")?,
    }))
}

/// Plans now and returns what the run did (coordinators).
#[utoipa::path(post, path = "/plan/run", responses((status = 200, body = RunSummary), (status = 403, body = crate::web::error::ErrorBody)))]
#[tracing::instrument(skip_all, name = "POST /api/v1/plan/run")]
pub async fn run_plan(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<RunSummary>> {
    user.require(&[Role::Coordinator])?;
    let summary =
        planning::replan_now(&state, &format!("requested by {}", user.role.as_str())).await?;
    Ok(Json(summary))
}
