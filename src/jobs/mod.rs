//! The service's background work: plan runs on request (debounced, one at
//! a time), the daily jobs (slot horizon, idempotency keys, report
//! retention, re-plan, forecast digests) and the minute jobs (offer expiry). The mail worker is
//! the mail module's own.

pub mod advice;
pub mod plan_run;
/// The scenario of a plan run, read from the database.
pub mod scenario;

use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::state::AppState;
pub use plan_run::{replan_now, RunSummary};

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
/// when nothing else changed). Also runs once at start-up. `rounds` counts
/// the finished rounds.
pub async fn daily_jobs(
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    rounds: watch::Sender<u64>,
) {
    loop {
        if let Err(err) = crate::slots::sync_horizon(&state).await {
            tracing::error!(error = ?err, "extending the slot horizon failed");
        }
        if let Err(err) = crate::web::idempotency::purge(&state).await {
            tracing::warn!(error = ?err, "purging idempotency keys failed");
        }
        match crate::reports::retention::purge(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(versions = n, "report content past retention deleted"),
            Err(err) => {
                tracing::error!(error = ?err, "deleting report content past retention failed")
            }
        }
        state.replan.request("daily");
        // The advice search takes a while; a stop does not wait for it.
        let digests = async {
            let advice = advice::over_norm(&state).await;
            crate::alerts::forecast_digest(&state, &advice).await
        };
        tokio::select! {
            sent = digests => match sent {
                Ok(0) => {}
                Ok(n) => tracing::info!(digests = n, "forecast digests enqueued"),
                Err(err) => tracing::error!(error = ?err, "forecast digest failed"),
            },
            _ = shutdown.wait_for(|&s| s) => return,
        }
        rounds.send_modify(|n| *n += 1);
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
