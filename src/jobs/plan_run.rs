//! One plan run: read the scenario from the database, call the pure
//! planner, write the tentative placements and explanations back, and let
//! offers and alerts act on the result, all in one transaction.
//!
//! Two runs never interleave: the run takes the plan lock (an advisory lock
//! on PostgreSQL; SQLite's single writer does it there) and reads, plans
//! and writes inside that one transaction, so it never applies a plan made
//! from stale data.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::placement::{Placement, PlanContext};
use utoipa::ToSchema;

use crate::planner::{self, Plan, Score};
use crate::state::AppState;
use crate::store::time::to_millis;
use crate::store::WriteTx;

use super::scenario::{self, scenario_from_db};

use crate::placement::PLAN_LOCK_KEY;

/// What a run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunSummary {
    /// The run's row in `plan_runs`.
    pub run_id: i64,
    /// Why it ran (`referral registered`, `morning`, ...).
    pub reason: String,
    /// Referrals in the scenario.
    pub referrals: usize,
    /// Referrals with a slot (tentative, offered or booked).
    pub planned: usize,
    /// Referrals without a slot.
    pub unplanned: usize,
    /// Referrals at a neighbouring region's table.
    pub cross_region: usize,
    /// Referrals whose slot is after their due date.
    pub late: usize,
    /// The plan's score (the four lexicographic levels).
    #[schema(value_type = Object)]
    pub score: Score,
    /// Wall-clock time of the planner call, in milliseconds.
    pub solve_millis: f64,
    /// The planner went on from the previous run's network (a change it
    /// follows since, and the stored placements its own) instead of
    /// building it again.
    pub warm: bool,
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
    let tentative = tentative(&built);
    let warm = state.planner.clone();
    let timed = tokio::task::spawn_blocking(move || {
        // A panic in an earlier run left nothing kept (the planner takes
        // its state out before it works), so a poisoned lock is usable.
        let mut planner = warm
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The planner has no clock: its time is measured here.
        let clock = std::time::Instant::now();
        planner
            .plan(
                scenario,
                planner::Options {
                    explain: true,
                    anonymous: true,
                    ..Default::default()
                },
                &tentative,
            )
            .map(|outcome| Timed {
                outcome,
                millis: clock.elapsed().as_secs_f64() * 1e3,
            })
    })
    .await
    .context("planner task")??;
    let outcome = &timed.outcome;
    let moved = apply(&mut tx, &built, &outcome.plan, now).await?;
    let context = PlanContext {
        state,
        now,
        placements: placements(&built, &outcome.plan),
    };
    crate::offers::after_plan(&mut tx, &context)
        .await
        .context("offers after the plan run")?;
    explain_new_offers(&mut tx, &built, now).await?;
    crate::alerts::after_plan(&mut tx, &context)
        .await
        .context("delay alerts after the plan run")?;
    let summary = record_run(&mut tx, reason, &built, &timed, started, now, moved).await?;
    tx.commit().await.context("committing the plan run")?;
    metrics::counter!("jbt_plan_runs_total").increment(1);
    metrics::histogram!("jbt_plan_solve_seconds").record(timed.millis / 1000.0);
    tracing::info!(
        run = summary.run_id,
        reason,
        planned = summary.planned,
        unplanned = summary.unplanned,
        millis = timed.millis,
        warm = timed.outcome.stats.warm,
        "plan run"
    );
    Ok(summary)
}

/// The previous run's tentative placements, as the database holds them
/// (scenario referral id -> slot id): the warm start and the stability
/// preference of the re-plan. They are read in the same transaction, under
/// the plan lock, as the scenario itself, so they can never be stale: a
/// change made by another instance is in both, and the warm planner
/// compares both with what it kept before it goes on from its network.
fn tentative(built: &scenario::Built) -> std::collections::HashMap<String, String> {
    built
        .free
        .iter()
        .filter_map(|f| Some((scenario::scenario_id(f.id), f.planned_slot.clone()?)))
        .collect()
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
    // Clear the moved ones first: the unique index on planned slots is
    // checked per statement, and two referrals may swap slots.
    crate::referrals::store::clear_tentative(tx, &moved).await?;
    for id in &moved {
        let slot = target.get(id).cloned().flatten();
        crate::referrals::store::set_tentative(tx, *id, slot.as_deref(), now).await?;
    }
    annotate(built, &target, &mut explanations)?;
    for (id, text) in explanations {
        crate::referrals::store::set_explanation(tx, id, &text).await?;
    }
    Ok(moved)
}

/// Says first in the explanations what the service knows and the planner
/// does not: why the own table is ruled out by the configuration, and that
/// a slot held for an open offer is not a confirmed booking (the planner
/// sees it as pinned).
fn annotate(
    built: &scenario::Built,
    target: &std::collections::HashMap<i64, Option<String>>,
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
        let summary = match &free.offered_slot {
            Some(slot) => offered_summary(built, slot),
            None if free.pinned_by_hand => {
                "Met de hand op deze plek gezet door de tafel; de planning houdt de aanmelding hier \
                 zolang de plek bruikbaar is. Een bevestigde afspraak is het nog niet."
                    .to_string()
            }
            None => said,
        };
        // A tentative slot that passed unconfirmed is said, not left silent.
        // It stays said while the referral stays where it was moved to.
        let stays = target.get(&free.id).cloned().flatten() == free.planned_slot;
        let passed = free
            .passed_slot
            .as_deref()
            .map(|date| {
                format!(
                    "De voorlopige plek van {} is voorbij zonder bevestiging; de planner heeft opnieuw gezocht.",
                    crate::store::time::from_date_text(date)
                        .map_or_else(|_| date.to_string(), |d| d.format("%d-%m-%Y").to_string())
                )
            })
            .or_else(|| free.passed_note.clone().filter(|_| stays));
        if let (Some(note), Some(obj)) = (&passed, value.as_object_mut()) {
            obj.insert(
                "passed_note".into(),
                serde_json::Value::String(note.clone()),
            );
        }
        let note = match (passed, free.own_table_note.as_deref()) {
            (Some(passed), Some(own)) => Some(format!("{passed} {own}")),
            (Some(passed), None) => Some(passed),
            (None, own) => own.map(str::to_string),
        };
        set_summary(&mut value, note.as_deref(), summary);
        *text = value.to_string();
    }
    Ok(())
}

/// Offers made in this run: their referrals say at once that the slot is
/// offered (with the own-table note first, as [`annotate`] writes it), not
/// only from the next run on.
async fn explain_new_offers(
    tx: &mut WriteTx,
    built: &scenario::Built,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "SELECT o.referral_id, o.slot_id, r.plan_explanation FROM offers o
         JOIN referrals r ON r.id = o.referral_id
         WHERE o.status = 'open' AND o.created_at = $1",
    )
    .bind(crate::store::time::to_millis(now))
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        let id: i64 = row.try_get("referral_id")?;
        let slot: String = row.try_get("slot_id")?;
        let stored: Option<String> = row.try_get("plan_explanation")?;
        let mut value: serde_json::Value = stored
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        let own = built.free.iter().find(|f| f.id == id);
        let note = own.and_then(|f| f.own_table_note.as_deref());
        set_summary(&mut value, note, offered_summary(built, &slot));
        crate::referrals::store::set_explanation(tx, id, &value.to_string()).await?;
    }
    Ok(())
}

/// Writes `summary` into an explanation, the own-table note (why the own
/// table could not hold it) first.
fn set_summary(value: &mut serde_json::Value, note: Option<&str>, summary: String) {
    let summary = match note {
        Some(note) => format!("{note} {summary}"),
        None => summary,
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("summary".into(), serde_json::Value::String(summary));
    }
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

/// A plan and how long the planner took for it, in milliseconds.
struct Timed {
    outcome: planner::Outcome,
    millis: f64,
}

async fn record_run(
    tx: &mut WriteTx,
    reason: &str,
    built: &scenario::Built,
    timed: &Timed,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    moved: Vec<i64>,
) -> anyhow::Result<RunSummary> {
    let plan = &timed.outcome.plan;
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
    .bind(timed.millis)
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
        solve_millis: timed.millis,
        warm: timed.outcome.stats.warm,
        moved,
    })
}
