//! The login throttle (ASVS 5.0 6.3.1): per account a growing delay, per
//! client a hard limit.
//!
//! - **Per account**: after `web.login_max_failures` failures within
//!   `web.login_window_minutes`, each next attempt must wait since the last
//!   failure: 2 s, 4 s, 8 s ... up to `web.login_max_delay_seconds`. A delay,
//!   never a lock: the right password after the wait always works, so
//!   nobody can lock a chair out by guessing at their address.
//! - **Per client address** (any account): after
//!   `web.login_client_max_failures` failures within the window, the client
//!   is refused until the window has passed: password spraying (few tries
//!   at many addresses) costs the attacker the window.
//!
//! Failures are kept in `login_failures` (address tried, client, time), and
//! audited as well; rows older than the window are pruned as they pass.

use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use crate::settings::WebSettings;
use crate::store::time::{from_millis, to_millis};
use crate::store::Store;

/// Whether a login attempt may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password.
    Go,
    /// This account had too many failures: try again after this many
    /// seconds (at least 1).
    WaitAccount(i64),
    /// This client had too many failures: try again after this many
    /// seconds (at least 1).
    ClientBlocked(i64),
}

/// The delay after `failures` failures within the window: none up to
/// `max_failures - 1`, then 2, 4, 8 ... seconds, capped at `max_delay`.
pub fn account_delay(failures: i64, policy: &WebSettings) -> Duration {
    let over = failures - i64::from(policy.login_max_failures);
    if over < 0 {
        return Duration::zero();
    }
    let cap = i64::from(policy.login_max_delay_seconds);
    // 2^(over+1), without overflow: past 2^20 s the cap has long applied.
    let seconds = 1_i64.checked_shl((over + 1).min(20) as u32).unwrap_or(cap);
    Duration::seconds(seconds.min(cap))
}

/// May a login for `email` from `client` be checked at `now`?
///
/// # Errors
/// Database errors only.
pub async fn check(
    store: &Store,
    email: &str,
    client: &str,
    now: DateTime<Utc>,
    policy: &WebSettings,
) -> Result<Verdict, sqlx::Error> {
    let window = Duration::minutes(i64::from(policy.login_window_minutes));
    let since = to_millis(now - window);
    let by_client = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE client = $1 AND at > $2",
    )
    .bind(client)
    .bind(since)
    .fetch_one(&store.pool)
    .await?;
    let client_failures: i64 = by_client.try_get("n")?;
    if client_failures >= i64::from(policy.login_client_max_failures) {
        let first: Option<i64> = by_client.try_get("first")?;
        let free_at = from_millis(first.unwrap_or_else(|| to_millis(now))) + window;
        return Ok(Verdict::ClientBlocked(seconds_until(now, free_at)));
    }
    let by_account = sqlx::query(
        "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE email = $1 AND at > $2",
    )
    .bind(email)
    .bind(since)
    .fetch_one(&store.pool)
    .await?;
    let failures: i64 = by_account.try_get("n")?;
    let delay = account_delay(failures, policy);
    if delay > Duration::zero() {
        let last: Option<i64> = by_account.try_get("last")?;
        let free_at = from_millis(last.unwrap_or_else(|| to_millis(now))) + delay;
        if free_at > now {
            return Ok(Verdict::WaitAccount(seconds_until(now, free_at)));
        }
    }
    Ok(Verdict::Go)
}

fn seconds_until(now: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    let millis = (at - now).num_milliseconds().max(0);
    (millis + 999) / 1000
}

/// Records a failed login for `email` from `client`, and prunes failures
/// that have left the window.
///
/// # Errors
/// Database errors only.
pub async fn record_failure(
    store: &Store,
    email: &str,
    client: &str,
    now: DateTime<Utc>,
    policy: &WebSettings,
) -> Result<(), sqlx::Error> {
    let window = Duration::minutes(i64::from(policy.login_window_minutes));
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(to_millis(now - window))
        .execute(&store.pool)
        .await?;
    sqlx::query("INSERT INTO login_failures (at, email, client) VALUES ($1, $2, $3)")
        .bind(to_millis(now))
        .bind(email)
        .bind(client)
        .execute(&store.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped policy: 5 failures per account, 20 per client, in 15
    /// minutes; delays up to 60 s (the tests below count on these).
    fn policy() -> WebSettings {
        let policy = WebSettings::defaults();
        assert_eq!(
            (policy.login_max_failures, policy.login_client_max_failures),
            (5, 20)
        );
        policy
    }

    #[test]
    fn the_delay_starts_at_the_limit_doubles_and_is_capped() {
        let delays: Vec<i64> = (0..12)
            .map(|n| account_delay(n, &policy()).num_seconds())
            .collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(account_delay(10_000, &policy()).num_seconds(), 60);
    }
}
