//! Plan runs of the service: build a scenario from the database, call the
//! pure planner, write the result back in one transaction.
//!
//! - Every change that affects the plan asks for a run through
//!   [`Replanner::request`]; requests within the debounce window are
//!   planned together by [`run_loop`].
//! - [`daily_jobs`] extends the slot horizon and re-plans each morning.
//! - Two runs never interleave: on PostgreSQL a transaction-scoped advisory
//!   lock serialises runs across instances; on SQLite the store's single
//!   writer does. The run reads, plans and writes inside that one
//!   transaction, so it never applies a plan made from stale data.

mod scenario;

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use tokio::sync::{mpsc, watch};

pub use crate::placement::{Placement, PlanContext};
pub use crate::replan::Replanner;
use utoipa::ToSchema;

use crate::planner::{self, Plan, Score};
use crate::state::AppState;
use crate::store::time::to_millis;
use crate::store::WriteTx;

pub use scenario::scenario_from_db;

/// Any number that is the same on every instance will do; it names the lock.
const PLAN_LOCK_KEY: i64 = 0x4a42_5450; // "JBTP"

/// What a run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunSummary {
    pub run_id: i64,
    pub reason: String,
    pub referrals: usize,
    pub planned: usize,
    pub unplanned: usize,
    pub cross_region: usize,
    pub late: usize,
    #[schema(value_type = Object)]
    pub score: Score,
    pub solve_millis: f64,
    /// Referral ids whose tentative slot changed in this run.
    pub moved: Vec<i64>,
}

/// Plans now: lock, read, plan, write, commit.
pub async fn replan_now(state: &AppState, reason: &str) -> anyhow::Result<RunSummary> {
    let started = state.now();
    let mut tx = state.store.write().await.context("starting the plan run")?;
    tx.lock(PLAN_LOCK_KEY)
        .await
        .context("taking the plan lock")?;
    let now = state.now();
    let built = scenario_from_db(&mut tx, &state.regions, &state.settings.offers, now).await?;
    let scenario = built.scenario.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        planner::plan(
            &scenario,
            planner::Options {
                explain: true,
                anonymous: true,
                ..Default::default()
            },
        )
    })
    .await
    .context("planner task")??;
    let moved = apply(&mut tx, &built, &outcome.plan, now).await?;
    let context = PlanContext {
        state,
        now,
        placements: placements(&built, &outcome.plan),
    };
    crate::offers::after_plan(&mut tx, &context)
        .await
        .context("offers after the plan run")?;
    crate::alerts::after_plan(&mut tx, &context)
        .await
        .context("delay alerts after the plan run")?;
    let summary = record_run(&mut tx, reason, &built, &outcome, started, now, moved).await?;
    tx.commit().await.context("committing the plan run")?;
    metrics::counter!("jbt_plan_runs_total").increment(1);
    metrics::histogram!("jbt_plan_solve_seconds").record(outcome.stats.millis / 1000.0);
    tracing::info!(
        run = summary.run_id,
        reason,
        planned = summary.planned,
        unplanned = summary.unplanned,
        millis = outcome.stats.millis,
        "plan run"
    );
    Ok(summary)
}

fn placements(built: &scenario::Built, plan: &Plan) -> Vec<Placement> {
    let by_id: std::collections::HashMap<&str, &crate::planner::scenario::Referral> = built
        .scenario
        .referrals
        .iter()
        .map(|r| (r.id.as_str(), r))
        .collect();
    let starts: std::collections::HashMap<&str, DateTime<Utc>> = built
        .scenario
        .slots
        .iter()
        .map(|s| (s.id.as_str(), s.start))
        .collect();
    let home = |scenario_id: &str| {
        by_id
            .get(scenario_id)
            .map(|r| (built.scenario.regions[r.region].id.clone(), r.due))
    };
    let mut out = Vec::new();
    for a in &plan.assignments {
        let (Some(id), Some((home_region, due))) =
            (scenario::referral_id(&a.referral), home(&a.referral))
        else {
            continue;
        };
        out.push(Placement {
            referral_id: id,
            home_region,
            due,
            slot_id: Some(a.slot.clone()),
            slot_region: Some(a.region.clone()),
            slot_start: starts.get(a.slot.as_str()).copied(),
            date: a.date,
            late_days: a.late_days,
            pinned: a.pinned,
        });
    }
    for u in &plan.unplanned {
        let (Some(id), Some((home_region, due))) =
            (scenario::referral_id(&u.referral), home(&u.referral))
        else {
            continue;
        };
        out.push(Placement {
            referral_id: id,
            home_region,
            due,
            slot_id: None,
            slot_region: None,
            slot_start: None,
            date: u.date,
            late_days: u.late_days,
            pinned: false,
        });
    }
    out
}

/// Writes the plan: tentative slots and explanations of the free referrals.
/// Pinned (booked) referrals keep their booking; only their explanation
/// is refreshed. Returns the referrals whose tentative slot changed.
async fn apply(
    tx: &mut WriteTx,
    built: &scenario::Built,
    plan: &Plan,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<i64>> {
    let mut target: std::collections::HashMap<i64, Option<String>> =
        built.free.iter().map(|f| (f.id, None)).collect();
    let mut explanations: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for a in &plan.assignments {
        let Some(id) = scenario::referral_id(&a.referral) else {
            continue;
        };
        if let Some(slot) = target.get_mut(&id) {
            *slot = Some(a.slot.clone());
        }
        if let Some(e) = &a.explain {
            explanations.insert(id, serde_json::to_string(e)?);
        }
    }
    for u in &plan.unplanned {
        let Some(id) = scenario::referral_id(&u.referral) else {
            continue;
        };
        let mut value = serde_json::to_value(&u.explain)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert(
                "unplanned_reason".into(),
                serde_json::Value::String(u.reason.clone()),
            );
        }
        explanations.insert(id, value.to_string());
    }
    let moved: Vec<i64> = built
        .free
        .iter()
        .filter(|f| target.get(&f.id).cloned().flatten() != f.planned_slot)
        .map(|f| f.id)
        .collect();
    let at = to_millis(now);
    // Clear the moved ones first: the unique index on planned_slot_id is
    // checked per statement, and two referrals may swap slots.
    for id in &moved {
        sqlx::query("UPDATE referrals SET planned_slot_id = NULL WHERE id = $1 AND status IN ('registered', 'planned')")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    for id in &moved {
        let slot = target.get(id).cloned().flatten();
        let status = if slot.is_some() {
            "planned"
        } else {
            "registered"
        };
        // A booking may have committed on PostgreSQL since this run read
        // the slots (bookings do not take the plan lock): never plan a
        // referral into a slot that is booked by now; the booking asked for
        // a new run anyway.
        sqlx::query(
            "UPDATE referrals SET planned_slot_id = $1, status = $2, updated_at = $3
             WHERE id = $4 AND status IN ('registered', 'planned')
               AND NOT EXISTS (SELECT 1 FROM referrals b WHERE b.booked_slot_id = $1)",
        )
        .bind(slot.clone())
        .bind(status)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    annotate(built, &mut explanations)?;
    for (id, text) in explanations {
        sqlx::query("UPDATE referrals SET plan_explanation = $1 WHERE id = $2")
            .bind(text)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(moved)
}

/// Says first in the explanations what the service knows and the planner
/// does not: why the own table is ruled out by the configuration, and that
/// a slot held for an open offer is not a confirmed booking (the planner
/// sees it as pinned).
fn annotate(
    built: &scenario::Built,
    explanations: &mut std::collections::HashMap<i64, String>,
) -> anyhow::Result<()> {
    for free in &built.free {
        let Some(text) = explanations.get_mut(&free.id) else {
            continue;
        };
        let mut value: serde_json::Value = serde_json::from_str(text)?;
        let said = value
            .get("summary")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        let mut summary = match &free.offered_slot {
            Some(slot) => offered_summary(built, slot),
            None => said,
        };
        if let Some(note) = &free.own_table_note {
            summary = format!("{note} {summary}");
        }
        if let Some(obj) = value.as_object_mut() {
            obj.insert("summary".into(), serde_json::Value::String(summary));
        }
        *text = value.to_string();
    }
    Ok(())
}

/// The explanation of a slot held for an open offer, in Dutch.
fn offered_summary(built: &scenario::Built, slot_id: &str) -> String {
    let scenario = &built.scenario;
    let Some(slot) = scenario.slots.iter().find(|s| s.id == slot_id) else {
        return "Aangeboden aan een tafel in de buurt; wacht op het antwoord van de voorzitter daar."
            .to_string();
    };
    let region = &scenario.regions[slot.region];
    let name = &region.name;
    format!(
        "Aangeboden aan de tafel van {name} voor {}; wacht op het antwoord van de voorzitter daar. \
         Tot dan houdt de planning deze plek vast; een bevestigde afspraak is het nog niet.",
        slot.date.format("%d-%m-%Y")
    )
}

async fn record_run(
    tx: &mut WriteTx,
    reason: &str,
    built: &scenario::Built,
    outcome: &planner::Outcome,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    moved: Vec<i64>,
) -> anyhow::Result<RunSummary> {
    let plan = &outcome.plan;
    let row = sqlx::query(
        "INSERT INTO plan_runs (started_at, finished_at, reason, referrals, planned, unplanned, score, solve_millis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(to_millis(started))
    .bind(to_millis(now))
    .bind(reason)
    .bind(built.scenario.referrals.len() as i64)
    .bind(plan.assignments.len() as i64)
    .bind(plan.unplanned.len() as i64)
    .bind(serde_json::to_string(&plan.score)?)
    .bind(outcome.stats.millis)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RunSummary {
        run_id: row.try_get("id")?,
        reason: reason.to_string(),
        referrals: built.scenario.referrals.len(),
        planned: plan.assignments.len(),
        unplanned: plan.unplanned.len(),
        cross_region: plan.assignments.iter().filter(|a| a.cross_region).count(),
        late: plan.assignments.iter().filter(|a| a.late_days > 0).count() + plan.unplanned.len(),
        score: plan.score,
        solve_millis: outcome.stats.millis,
        moved,
    })
}

/// Waits for requests, lets a burst settle for the debounce window, then
/// runs once for the whole burst. Ends on shutdown after the current run.
pub async fn run_loop(
    state: AppState,
    mut requests: mpsc::UnboundedReceiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let debounce = Duration::from_millis(state.settings.debounce_millis);
    // After a failed run (typically the database gone for a while) the
    // changes that asked for it are still unplanned: try again after a
    // pause that doubles while runs keep failing, up to a minute.
    let mut retry_after = RETRY_FIRST;
    loop {
        let first = tokio::select! {
            r = requests.recv() => r,
            _ = shutdown.wait_for(|&s| s) => None,
        };
        let Some(first) = first else { return };
        let mut reasons = vec![first];
        let deadline = tokio::time::sleep(debounce);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                r = requests.recv() => match r {
                    Some(r) => reasons.push(r),
                    None => break,
                },
            }
        }
        reasons.dedup();
        let reason = reasons.join(", ");
        match replan_now(&state, &reason).await {
            Ok(_) => retry_after = RETRY_FIRST,
            Err(err) => {
                tracing::error!(error = ?err, retry_in = ?retry_after, "plan run failed");
                tokio::select! {
                    () = tokio::time::sleep(retry_after) => {
                        state.replan.request("retry after a failed run");
                    },
                    _ = shutdown.wait_for(|&s| s) => return,
                }
                retry_after = (retry_after * 2).min(RETRY_MAX);
            }
        }
    }
}

/// First pause before a failed plan run is tried again, and the longest.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Once a day at `planning.morning_replan` (local time): extend the slot
/// horizon, forget old idempotency keys, and re-plan (dates move on even
/// when nothing else changed). Also runs once at start-up.
pub async fn daily_jobs(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(err) = crate::slots::sync_horizon(&state).await {
            tracing::error!(error = ?err, "extending the slot horizon failed");
        }
        if let Err(err) = crate::web::idempotency::purge(&state).await {
            tracing::warn!(error = ?err, "purging idempotency keys failed");
        }
        state.replan.request("daily");
        match crate::alerts::forecast_digest(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "forecast digests enqueued"),
            Err(err) => tracing::error!(error = ?err, "forecast digest failed"),
        }
        let wait = until_next(&state, state.settings.morning_replan);
        tokio::select! {
            () = tokio::time::sleep(wait) => {},
            _ = shutdown.wait_for(|&s| s) => return,
        }
    }
}

/// Every minute: expire unanswered offers (each expiry asks for a re-plan).
pub async fn minute_jobs(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        match crate::offers::expire_due(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "offers expired"),
            Err(err) => tracing::error!(error = ?err, "expiring offers failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {},
            _ = shutdown.wait_for(|&s| s) => return,
        }
    }
}

/// Real time until the next local `at` (at least a minute, to never spin).
fn until_next(state: &AppState, at: chrono::NaiveTime) -> Duration {
    let tz = state.regions.timezone;
    let now = state.now().with_timezone(&tz);
    let today = now.date_naive();
    let now = now.with_timezone(&Utc);
    [Some(today), today.succ_opt()]
        .into_iter()
        .flatten()
        .map(|day| crate::calendar::local_to_utc(tz, day.and_time(at)))
        .find(|next| *next > now)
        .map_or(Duration::from_secs(24 * 3600), |next| {
            Duration::from_secs((next - now).num_seconds().max(60).unsigned_abs())
        })
}
