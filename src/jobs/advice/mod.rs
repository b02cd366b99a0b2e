//! Capacity advice in the service (issue 16): for one region's table, the
//! fewest extra sessions (at that table or a neighbouring one) that bring
//! every waiting referral that can still make the norm within it, from the
//! database as it is now. The search is [`crate::advice`]'s, on the
//! scenario a plan run would use ([`super::scenario`]) cut down to the
//! region and its neighbours; the candidates come from the region
//! configuration ([`candidates`]); the answer is put in Dutch
//! ([`sentence`]) for the dashboard, Mijn gemeente and the digest mail.
//! No personal data: counts, dates and tables only.
//!
//! The search takes up to about a second per region, so answers are kept
//! per region until the next plan run (a new plan, a new answer:
//! [`crate::state::AdviceCache`]).

pub mod candidates;
pub mod sentence;

use std::collections::HashSet;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::scenario::scenario_from_db;
use crate::advice::{self, Advice, Candidate, Options};
use crate::config::{RegionConfig, RegionId};
use crate::planner::ScenarioFile;
use crate::state::AppState;

/// Most extra sessions in one advice.
pub const MAX_EXTRA: usize = 3;
/// Planner evaluations per advice: well within a second for one region.
const BUDGET: u64 = 4_000;

/// One advised session, as a coordinator would add it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdvisedSession {
    /// The region whose table would hold it.
    pub region: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Local start, `HH:MM`.
    #[schema(value_type = String, example = "13:00")]
    pub start: NaiveTime,
    /// Conversations in the session.
    pub slots: u32,
    /// Minutes per conversation.
    pub slot_minutes: u32,
    /// Referrals the plan would put in it, per home region.
    pub takes: Vec<Taken>,
}

/// Referrals of one home region an advised session would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Taken {
    /// The home region's id.
    pub region: String,
    /// How many.
    pub referrals: u32,
}

/// Late days of a plan (see [`crate::advice::Lateness`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Late {
    /// Referrals held after their due date, or not at all.
    pub referrals: u32,
    /// Days over the norm, summed.
    pub days: u64,
    /// Days over the norm, squared and summed (as the score counts them).
    pub days_sq: u64,
    /// Late ones that could still make the norm: what the advice is about.
    pub could_make_it: u32,
}

impl From<&advice::Lateness> for Late {
    fn from(l: &advice::Lateness) -> Late {
        Late {
            referrals: l.late_referrals,
            days: l.late_days,
            days_sq: l.late_days_sq,
            could_make_it: l.can_make_it_late,
        }
    }
}

/// A set of sessions and what it leaves late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionSet {
    /// The sessions, by date.
    pub sessions: Vec<AdvisedSession>,
    /// Late days with them added.
    pub after: Late,
}

/// The advice for one region's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegionAdvice {
    /// The region asked about.
    pub region: String,
    /// Late days of the current plan (the region and its neighbours).
    pub before: Late,
    /// The fewest sessions that bring within the norm every referral that
    /// can still make it; empty when none are needed; `None` when no set
    /// of up to [`MAX_EXTRA`] does it (see `tradeoff`).
    pub advised: Option<SessionSet>,
    /// When nothing meets the norm: the best 1, 2, ... sessions.
    pub tradeoff: Vec<SessionSet>,
    /// `false` when the search stopped at its limit: the best found, not
    /// proven the best.
    pub proven_optimal: bool,
    /// The advice in one Dutch sentence (or a few).
    pub sentence: String,
}

/// The advice for `region` now, from the cache when the plan has not
/// changed since it was given.
///
/// # Errors
/// Storage errors, or the search failing (a planner error: never expected).
pub async fn region_advice(
    state: &AppState,
    region: &RegionConfig,
) -> anyhow::Result<RegionAdvice> {
    let run = last_plan_run(state).await?;
    let id = region.id.as_str();
    let found = match state.advice.get(run, id) {
        Some(hit) => hit,
        None => {
            let found = std::sync::Arc::new(search(state, region).await?);
            state.advice.put(run, id, found.clone());
            found
        }
    };
    Ok(view(state, region, &found.0, &found.1))
}

/// Searches the advice for `region` on the database as it is now.
async fn search(
    state: &AppState,
    region: &RegionConfig,
) -> anyhow::Result<(Advice, Vec<Candidate>)> {
    let now = state.now();
    let mut conn = state.store.pool.acquire().await?;
    let built = scenario_from_db(&mut conn, &state.regions, &state.settings.offers, now).await?;
    drop(conn);
    let file = focus(&built.file, region);
    let last = last_slot_date(&file, state);
    let mut offered = Vec::new();
    for id in std::iter::once(&region.id).chain(&region.neighbours) {
        if let (Some(config), Some(last)) = (state.regions.region(id), last) {
            offered.extend(candidates::for_region(
                &state.regions,
                config,
                &file.slots,
                now,
                last,
            ));
        }
    }
    // Only the region's own families count: its advice need not mend a
    // neighbour's lateness, but may use the neighbour's table.
    let options = Options {
        max_extra: MAX_EXTRA,
        budget: BUDGET,
        region: Some(region.id.as_str().to_string()),
    };
    // A thread of its own, not the runtime's blocking pool: a search still
    // running when the service stops must not hold up its exit (the
    // runtime waits for its blocking tasks; the process does not wait for
    // a detached thread).
    let (tx, rx) = tokio::sync::oneshot::channel();
    let offered_copy = offered.clone();
    std::thread::Builder::new()
        .name("advice".into())
        .spawn(move || {
            let _ = tx.send(advice::advise(&file, &offered_copy, options));
        })
        .context("starting the advice search")?;
    let found = rx.await.context("the advice search stopped")??;
    Ok((found, offered))
}

/// The advice in Dutch for every region whose forecast wait exceeds the
/// norm and whose digest has not gone today, by region id, for the digest
/// mail. A region whose advice fails is left out (and logged): the digest
/// still goes.
pub async fn over_norm(state: &AppState) -> std::collections::HashMap<String, String> {
    let now = state.now();
    let mut out = std::collections::HashMap::new();
    for region in &state.regions.regions {
        let over = match state.store.pool.acquire().await {
            Ok(mut conn) => wants_advice(&mut conn, state, region, now).await,
            Err(err) => Err(err.into()),
        };
        let advice = match over {
            Ok(false) => continue,
            Ok(true) => region_advice(state, region).await,
            Err(err) => Err(err),
        };
        match advice {
            Ok(advice) => {
                out.insert(region.id.as_str().to_string(), advice.sentence);
            }
            Err(err) => {
                tracing::warn!(region = region.id.as_str(), error = ?err, "no capacity advice")
            }
        }
    }
    out
}

/// Over the norm, and today's digest still to go.
async fn wants_advice(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    region: &RegionConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<bool> {
    let today = now.with_timezone(&state.regions.timezone).date_naive();
    if crate::alerts::digest_sent(conn, region.id.as_str(), today).await? {
        return Ok(false);
    }
    let forecast = crate::alerts::region_forecast(conn, region, today, now).await?;
    Ok(forecast.wait_days > i64::from(state.regions.norm_days))
}

async fn last_plan_run(state: &AppState) -> anyhow::Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM plan_runs")
        .fetch_one(&state.store.pool)
        .await?;
    Ok(id.unwrap_or(0))
}

/// The scenario cut down to `region` and its neighbours: their slots, the
/// referrals waiting there, and the bookings in their slots. Regions stay
/// listed (without slots), so every reference stays valid.
fn focus(file: &ScenarioFile, region: &RegionConfig) -> ScenarioFile {
    let kept: HashSet<&str> = std::iter::once(&region.id)
        .chain(&region.neighbours)
        .map(RegionId::as_str)
        .collect();
    let slots: Vec<_> = file
        .slots
        .iter()
        .filter(|s| kept.contains(s.region.as_str()))
        .cloned()
        .collect();
    let slot_ids: HashSet<&str> = slots.iter().map(|s| s.id.as_str()).collect();
    let pinned: Vec<_> = file
        .pinned
        .iter()
        .filter(|p| slot_ids.contains(p.slot.as_str()))
        .cloned()
        .collect();
    let pinned_ids: HashSet<&str> = pinned.iter().map(|p| p.referral.as_str()).collect();
    let all_pinned: HashSet<&str> = file.pinned.iter().map(|p| p.referral.as_str()).collect();
    let referrals = file
        .referrals
        .iter()
        .filter(|r| {
            pinned_ids.contains(r.id.as_str())
                || (!all_pinned.contains(r.id.as_str()) && kept.contains(r.region.as_str()))
        })
        .cloned()
        .collect();
    ScenarioFile {
        slots,
        referrals,
        pinned,
        ..file.clone()
    }
}

/// The local date of the scenario's last slot: candidates stop there (the
/// slot horizon).
fn last_slot_date(file: &ScenarioFile, state: &AppState) -> Option<NaiveDate> {
    file.slots
        .iter()
        .filter_map(|s| DateTime::parse_from_rfc3339(&s.start).ok())
        .map(|t| t.with_timezone(&state.regions.timezone).date_naive())
        .max()
}

fn view(
    state: &AppState,
    region: &RegionConfig,
    found: &Advice,
    offered: &[Candidate],
) -> RegionAdvice {
    let option = |choice: &advice::Choice| SessionSet {
        sessions: choice
            .takes
            .iter()
            .map(|t| session(state, &offered[t.candidate], t))
            .collect(),
        after: Late::from(&choice.after),
    };
    let mut answer = RegionAdvice {
        region: region.id.as_str().to_string(),
        before: Late::from(&found.before),
        advised: found.chosen.as_ref().map(option),
        tradeoff: found.tradeoff.iter().map(option).collect(),
        proven_optimal: found.proven_optimal,
        sentence: String::new(),
    };
    answer.sentence = sentence::dutch(&state.regions, &answer);
    answer
}

fn session(
    state: &AppState,
    candidate: &Candidate,
    takes: &advice::SessionTakes,
) -> AdvisedSession {
    let local = candidate.start.with_timezone(&state.regions.timezone);
    AdvisedSession {
        region: candidate.region.clone(),
        date: local.date_naive(),
        start: local.time(),
        slots: candidate.slots,
        slot_minutes: candidate.slot_minutes,
        takes: takes
            .by_region
            .iter()
            .map(|c| Taken {
                region: c.region.clone(),
                referrals: c.referrals,
            })
            .collect(),
    }
}
