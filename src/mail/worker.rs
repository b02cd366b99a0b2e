//! The outbox worker: claims due mails with a lease, sends them, and marks
//! each one sent, to be retried, or dead.
//!
//! Claiming is one `UPDATE ... WHERE id IN (SELECT ...) AND <lease free>
//! RETURNING`: on PostgreSQL a second instance that picked the same rows
//! re-checks the lease after the first one's update and skips them; on
//! SQLite the statement runs inside the store's single writer. Either way
//! one mail is held by one worker at a time, and a worker that dies leaves
//! only a lease that expires.
//!
//! Delivery is at least once: a mail whose send succeeded but whose "sent"
//! could not be recorded (database gone at that moment) is sent again after
//! its lease runs out, with the same Message-ID, so receivers can drop the
//! copy. Nothing is ever dropped on failure.
//!
//! Times come from the app's clock, so tests can step past a back-off.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::Row;
use tokio::sync::watch;

use super::send::{Outgoing, Sender};
use super::Delivery;
use crate::state::AppState;
use crate::store::time::to_millis;

/// Mails claimed per statement.
const BATCH: i64 = 20;
/// How long a claim holds: longer than a batch can take (20 mails at the
/// SMTP timeout of 10 s each), so a live worker never loses its mails to
/// another one mid-send.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// How often the loop looks for due mails.
const POLL: Duration = Duration::from_secs(1);
/// Longest wait between attempts: the doubling must not push a mail days out.
const MAX_BACKOFF_SECONDS: f64 = 6.0 * 3600.0;
/// Stored error texts are for people reading the outbox list; cut them short.
const MAX_ERROR_CHARS: usize = 500;

/// Sends what the outbox holds until shutdown.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut sender = None;
    loop {
        if sender.is_none() {
            sender = match Sender::from_settings(&state.settings) {
                Ok(s) => Some(s),
                Err(err) => {
                    tracing::error!(error = ?err, "mail transport not usable; mails wait in the outbox");
                    None
                }
            };
        }
        if let Some(sender) = &sender {
            match deliver_due(&state, sender, Some(&shutdown)).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(mails = n, "outbox worked off"),
                Err(err) => tracing::error!(error = ?err, "mail worker round failed"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {},
            _ = shutdown.wait_for(|&s| s) => return,
        }
    }
}

/// Sends every mail due now (by the app's clock) once; returns how many
/// attempts were made. For tests and one-off runs; the loop does the same.
///
/// # Errors
/// The mail transport cannot be built from the settings (a bad
/// `mail.from` or SMTP URL), or storage errors while claiming or marking
/// mails. A failed delivery is not an error: it is recorded on the mail.
pub async fn run_once(state: &AppState) -> anyhow::Result<usize> {
    let sender = Sender::from_settings(&state.settings)?;
    deliver_due(state, &sender, None).await
}

struct Claimed {
    id: i64,
    attempts: i64,
    mail: Outgoing,
}

/// Works off what is due; with `stop`, ends early (between batches) once
/// shutdown is asked for, leaving the rest for the next start.
async fn deliver_due(
    state: &AppState,
    sender: &Sender,
    stop: Option<&watch::Receiver<bool>>,
) -> anyhow::Result<usize> {
    // Due means due at the start of this round: a mail put back for a retry
    // is due later, so one round never tries the same mail twice.
    let round = state.now();
    let host = super::message_host(&state.settings.public_url);
    // One owner per round, not per process: the loop and a `run_once` in
    // the same process must not be able to record each other's mails.
    let owner = format!("worker-{}", uuid::Uuid::new_v4());
    let mut attempts = 0;
    while !stop.is_some_and(|s| *s.borrow()) {
        let batch = claim(state, round, &owner).await?;
        if batch.is_empty() {
            break;
        }
        for claimed in batch {
            let outcome = sender.deliver(&claimed.mail, &host).await;
            mark(state, &claimed, &owner, outcome).await?;
            attempts += 1;
        }
    }
    if attempts > 0 {
        record_gauges(state).await?;
    }
    Ok(attempts)
}

async fn claim(state: &AppState, due: DateTime<Utc>, owner: &str) -> anyhow::Result<Vec<Claimed>> {
    let now = state.now();
    // A plain read first: an idle outbox must not take the write lock (on
    // SQLite, the one writer) every poll.
    let any_due = sqlx::query(
        "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $2) LIMIT 1",
    )
    .bind(to_millis(due))
    .bind(to_millis(now))
    .fetch_optional(&state.store.pool)
    .await
    .context("looking for due mails")?;
    if any_due.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = state.store.write().await.context("claiming mails")?;
    let rows = sqlx::query(
        "UPDATE outbox SET lease_until = $1, lease_owner = $2
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'pending' AND next_attempt_at <= $3
                        AND (lease_until IS NULL OR lease_until < $4)
                      ORDER BY next_attempt_at, id LIMIT $5)
           AND status = 'pending' AND (lease_until IS NULL OR lease_until < $4)
         RETURNING id, message_id, recipient, subject, body_text, body_html, ics, attempts",
    )
    .bind(to_millis(now + LEASE))
    .bind(owner)
    .bind(to_millis(due))
    .bind(to_millis(now))
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await
    .context("claiming mails")?;
    tx.commit().await.context("claiming mails")?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(Claimed {
                id: row.try_get("id")?,
                attempts: row.try_get("attempts")?,
                mail: Outgoing {
                    message_id: row.try_get("message_id")?,
                    recipient: row.try_get("recipient")?,
                    subject: row.try_get("subject")?,
                    text: row.try_get("body_text")?,
                    html: row.try_get("body_html")?,
                    ics: row.try_get("ics")?,
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // RETURNING gives no order guarantee; send the oldest first.
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq)]
enum Next {
    Sent,
    Retry { after_seconds: f64, error: String },
    Dead { error: String },
}

/// The rule: a permanent failure or the last allowed attempt ends a mail;
/// otherwise it waits `backoff * 2^(attempts before)`, ±25 % so that mails
/// failed together do not all come back in the same second.
fn next_step(
    outcome: Delivery,
    attempts_before: i64,
    max_attempts: u32,
    backoff_seconds: u64,
    jitter: f64,
) -> Next {
    let attempts = attempts_before.saturating_add(1);
    match outcome {
        Delivery::Sent => Next::Sent,
        Delivery::Permanent(error) => Next::Dead { error },
        Delivery::Temporary(error) if attempts >= i64::from(max_attempts) => Next::Dead { error },
        Delivery::Temporary(error) => {
            let exponent = i32::try_from(attempts_before.clamp(0, 30)).unwrap_or(30);
            let base = (backoff_seconds as f64 * 2f64.powi(exponent)).min(MAX_BACKOFF_SECONDS);
            // At least a second: the round that failed must not see it due again.
            Next::Retry {
                after_seconds: (base * jitter).max(1.0),
                error,
            }
        }
    }
}

async fn mark(
    state: &AppState,
    claimed: &Claimed,
    owner: &str,
    outcome: Delivery,
) -> anyhow::Result<()> {
    let now = state.now();
    let settings = &state.settings.mail;
    let jitter = rand::rng().random_range(0.75..=1.25);
    let step = next_step(
        outcome,
        claimed.attempts,
        settings.max_attempts,
        settings.backoff_seconds,
        jitter,
    );
    let mut tx = state
        .store
        .write()
        .await
        .context("recording a mail attempt")?;
    // Guarded by the lease owner: if this worker was so slow that its lease
    // ran out and another worker took the mail, the other one records it.
    let query = match &step {
        Next::Sent => sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, last_error = NULL,
                 lease_until = NULL, lease_owner = NULL
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(to_millis(now)),
        Next::Retry { after_seconds, error } => {
            let after = chrono::Duration::milliseconds((after_seconds * 1000.0) as i64);
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
                     lease_until = NULL, lease_owner = NULL
                 WHERE id = $3 AND lease_owner = $4",
            )
            .bind(to_millis(now + after))
            .bind(short(error))
        }
        Next::Dead { error } => sqlx::query(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = $1,
                 lease_until = NULL, lease_owner = NULL
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(short(error)),
    };
    // Every statement above ends in `WHERE id = .. AND lease_owner = ..`.
    query
        .bind(claimed.id)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .context("recording a mail attempt")?;
    tx.commit().await.context("recording a mail attempt")?;
    match &step {
        Next::Sent => metrics::counter!("jbt_mail_sent_total").increment(1),
        Next::Retry { error, .. } => {
            tracing::warn!(mail = claimed.id, attempt = claimed.attempts + 1, error = %error, "mail not sent; will retry");
            metrics::counter!("jbt_mail_retries_total").increment(1);
        }
        Next::Dead { error } => {
            tracing::error!(mail = claimed.id, attempt = claimed.attempts + 1, error = %error, "mail dead-lettered");
            metrics::counter!("jbt_mail_dead_total").increment(1);
        }
    }
    Ok(())
}

fn short(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// `jbt_mail_outbox{status}`: how many mails are in each state.
async fn record_gauges(state: &AppState) -> anyhow::Result<()> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        .fetch_all(&state.store.pool)
        .await
        .context("counting the outbox")?;
    for status in ["pending", "sent", "dead"] {
        let mut n = 0i64;
        for row in &rows {
            if row.try_get::<String, _>("status")? == status {
                n = row.try_get("n")?;
            }
        }
        metrics::gauge!("jbt_mail_outbox", "status" => status).set(n as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary() -> Delivery {
        Delivery::Temporary("421 try later".into())
    }

    #[test]
    fn a_temporary_failure_backs_off_doubling_per_attempt() {
        assert_eq!(
            next_step(temporary(), 0, 8, 30, 1.0),
            Next::Retry {
                after_seconds: 30.0,
                error: "421 try later".into()
            }
        );
        assert_eq!(
            next_step(temporary(), 3, 8, 30, 1.0),
            Next::Retry {
                after_seconds: 240.0,
                error: "421 try later".into()
            }
        );
        assert_eq!(
            next_step(temporary(), 2, 8, 30, 1.25),
            Next::Retry {
                after_seconds: 150.0,
                error: "421 try later".into()
            }
        );
    }

    #[test]
    fn the_back_off_is_capped_and_never_zero() {
        let Next::Retry { after_seconds, .. } = next_step(temporary(), 40, 100, 30, 1.0) else {
            panic!("retry")
        };
        assert!((after_seconds - MAX_BACKOFF_SECONDS).abs() < 1e-6);
        let Next::Retry { after_seconds, .. } = next_step(temporary(), 0, 8, 0, 0.75) else {
            panic!("retry")
        };
        assert!((after_seconds - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_last_allowed_attempt_or_a_permanent_refusal_ends_a_mail() {
        assert_eq!(
            next_step(temporary(), 7, 8, 30, 1.0),
            Next::Dead {
                error: "421 try later".into()
            }
        );
        assert_eq!(
            next_step(Delivery::Permanent("550 no".into()), 0, 8, 30, 1.0),
            Next::Dead {
                error: "550 no".into()
            }
        );
        assert_eq!(next_step(Delivery::Sent, 7, 8, 30, 1.0), Next::Sent);
    }
}
