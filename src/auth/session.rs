//! Browser sessions: a random id in a `__Host-` cookie, its SHA-256 in the
//! `sessions` table.
//!
//! Why our own table rather than tower-sessions: its stores speak one
//! database each, and this service keeps one query layer for SQLite and
//! PostgreSQL (several instances behind a load balancer share sessions
//! through the database). The table is small: start, look up, end.
//!
//! A session ends at logout, after `web.session_idle_minutes` without a
//! request, and `web.session_absolute_hours` after login. Every login
//! starts a new id (no fixation), and ends the session the browser came in
//! with, if any.

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::secrets;
use super::users::{current_user, USER_COLUMNS};
use super::CurrentUser;
use crate::settings::WebSettings;
use crate::store::time::to_millis;
use crate::store::Store;

/// `__Host-`: the browser only accepts it with `Secure`, `Path=/` and no
/// `Domain`, so no other site or subdomain can plant or read it.
pub const COOKIE_NAME: &str = "__Host-jbt_session";

/// How often a session's last-seen time is written: a tenth of the idle
/// timeout, at most a minute (the idle clock needs no write per request),
/// at least a second. Writing it more rarely than the idle timeout allows
/// would end sessions that are in use.
fn touch_every(policy: &WebSettings) -> Duration {
    let tenth = i64::from(policy.session_idle_minutes) * 60 / 10;
    Duration::seconds(tenth.clamp(1, 60))
}

/// A live browser session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The synchroniser token every form of this session carries.
    pub csrf: String,
    /// The step still to take; `None` when fully signed in.
    pub stage: Option<Stage>,
    id_hash: String,
}

/// A session just started: the cookie value to set, and the session.
pub struct Started {
    /// The session id to set as the cookie (see [`set_cookie`]); only its
    /// SHA-256 is stored.
    pub cookie_value: String,
    /// The session as stored.
    pub session: Session,
}

/// Starts a session for `user`, at `stage` (`None`: fully signed in).
pub async fn start(
    store: &Store,
    user: CurrentUser,
    stage: Option<Stage>,
    now: DateTime<Utc>,
) -> anyhow::Result<Started> {
    let id = secrets::new_token()?;
    let csrf = secrets::new_password()?;
    let id_hash = secrets::token_hash(&id);
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, stage)
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(&id_hash)
    .bind(user.id)
    .bind(&csrf)
    .bind(to_millis(now))
    .bind(stage.map(Stage::as_str))
    .execute(&store.pool)
    .await?;
    Ok(Started {
        cookie_value: id,
        session: Session {
            user,
            csrf,
            stage,
            id_hash,
        },
    })
}

/// The live session the cookie names, touched; `None` when it is unknown,
/// ended, idle too long, too old, or its user is deactivated.
pub async fn lookup(
    store: &Store,
    cookie_value: &str,
    now: DateTime<Utc>,
    policy: &WebSettings,
) -> Result<Option<Session>, sqlx::Error> {
    if !cookie_value.starts_with(secrets::TOKEN_PREFIX) {
        return Ok(None);
    }
    let id_hash = secrets::token_hash(cookie_value);
    let idle_since = now - Duration::minutes(i64::from(policy.session_idle_minutes));
    let born_after = now - Duration::hours(i64::from(policy.session_absolute_hours));
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, s.csrf_token, s.last_seen_at, s.stage
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = $1 AND s.ended_at IS NULL AND u.active = $2
           AND s.last_seen_at > $3 AND s.created_at > $4"
    ))
    .bind(&id_hash)
    .bind(true)
    .bind(to_millis(idle_since))
    .bind(to_millis(born_after))
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    if to_millis(now) - last_seen >= touch_every(policy).num_milliseconds() {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(to_millis(now))
            .bind(&id_hash)
            .execute(&store.pool)
            .await?;
    }
    let stage: Option<String> = row.try_get("stage")?;
    Ok(Some(Session {
        user: current_user(&row)?,
        csrf: row.try_get("csrf_token")?,
        // An unknown stage was not written by this code: treat it as the
        // strictest step rather than as a full session.
        stage: stage.map(|s| Stage::parse(&s).unwrap_or(Stage::SecondFactor)),
        id_hash,
    }))
}

/// Ends the session; later requests with its cookie are anonymous.
pub async fn end(store: &Store, session: &Session, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    end_hash(store, &session.id_hash, now).await
}

/// Ends whatever session this cookie value names (live or not).
pub async fn end_cookie(
    store: &Store,
    cookie_value: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    end_hash(store, &secrets::token_hash(cookie_value), now).await
}

async fn end_hash(store: &Store, id_hash: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL")
        .bind(to_millis(now))
        .bind(id_hash)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// The session cookie's value from the request, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a new session. No `Max-Age`: the cookie goes with the
/// browser; the server ends the session on its own clock anyway.
pub fn set_cookie(value: &str) -> String {
    format!("{COOKIE_NAME}={value}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Audit action of a login attempt; a failure's detail is the address tried.
pub const LOGIN_ACTION: &str = "session.login";
/// Audit result of a login with a wrong e-mail address or password.
pub const LOGIN_FAILED: &str = "refused";

/// A signed-in session that still has a step to take before it may do
/// anything else: the pages of that step are all it can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The second factor (a TOTP code) is still to be given.
    SecondFactor,
    /// The password was made by an admin and must be changed first.
    PasswordChange,
    /// The role requires a second factor and the user has none yet.
    Enrol,
}

impl Stage {
    /// The name stored in `sessions.stage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second_factor",
            Stage::PasswordChange => "password_change",
            Stage::Enrol => "enrol",
        }
    }

    fn parse(text: &str) -> Option<Stage> {
        [Stage::SecondFactor, Stage::PasswordChange, Stage::Enrol]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The step a login goes to after `done` (`None`: just after the password):
/// the code first if the user has a second factor, then a required
/// password change, then enrolment if the role requires a second factor
/// the user does not have yet; `None` once nothing is left.
pub fn next_stage(
    done: Option<Stage>,
    flags: super::users::LoginFlags,
    role: super::Role,
    policy: &WebSettings,
) -> Option<Stage> {
    let required = policy
        .totp_required_roles
        .iter()
        .any(|r| r.trim() == role.as_str());
    let steps = [
        (Stage::SecondFactor, flags.has_second_factor),
        (Stage::PasswordChange, flags.must_change_password),
        (Stage::Enrol, required && !flags.has_second_factor),
    ];
    let start = match done {
        None => 0,
        Some(done) => steps
            .iter()
            .position(|(s, _)| *s == done)
            .map_or(steps.len(), |i| i + 1),
    };
    steps[start..].iter().find(|(_, due)| *due).map(|(s, _)| *s)
}

/// Moves the session to its next step (`None`: fully signed in).
pub async fn set_stage(
    store: &Store,
    session: &Session,
    stage: Option<Stage>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET stage = $1 WHERE id_hash = $2")
        .bind(stage.map(Stage::as_str))
        .bind(&session.id_hash)
        .execute(&store.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    fn policy(idle_minutes: u32) -> WebSettings {
        WebSettings {
            session_idle_minutes: idle_minutes,
            session_absolute_hours: 10,
            ..WebSettings::defaults()
        }
    }

    #[test]
    fn the_last_seen_time_is_written_well_within_the_idle_timeout() {
        assert_eq!(touch_every(&policy(30)), Duration::seconds(60));
        assert_eq!(touch_every(&policy(1)), Duration::seconds(6));
        for idle in [1, 2, 5, 10, 30, 120] {
            assert!(touch_every(&policy(idle)) * 5 <= Duration::minutes(i64::from(idle)));
        }
    }

    use super::*;

    #[test]
    fn login_steps_come_in_order_and_only_when_due() {
        use crate::auth::users::LoginFlags;
        use crate::auth::Role;
        let mut policy = policy(30);
        let all = LoginFlags {
            must_change_password: true,
            has_second_factor: true,
        };
        assert_eq!(
            next_stage(None, all, Role::Chair, &policy),
            Some(Stage::SecondFactor)
        );
        assert_eq!(
            next_stage(Some(Stage::SecondFactor), all, Role::Chair, &policy),
            Some(Stage::PasswordChange)
        );
        assert_eq!(
            next_stage(Some(Stage::PasswordChange), all, Role::Chair, &policy),
            None
        );
        let plain = LoginFlags::default();
        assert_eq!(next_stage(None, plain, Role::Admin, &policy), None);
        policy.totp_required_roles = vec!["admin".into()];
        assert_eq!(
            next_stage(None, plain, Role::Admin, &policy),
            Some(Stage::Enrol)
        );
        assert_eq!(next_stage(None, plain, Role::Chair, &policy), None);
        assert_eq!(
            next_stage(Some(Stage::Enrol), plain, Role::Admin, &policy),
            None
        );
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; __Host-jbt_session=jbt_xyz ; b=2"),
        );
        assert_eq!(cookie_value(&headers), Some("jbt_xyz"));
        let mut other = HeaderMap::new();
        other.append(COOKIE, HeaderValue::from_static("jbt_session=jbt_xyz"));
        assert_eq!(cookie_value(&other), None);
    }

    #[test]
    fn the_cookie_is_host_only_secure_and_hidden_from_scripts() {
        let cookie = set_cookie("jbt_abc");
        for part in ["__Host-", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
