//! `/login` and `/logout`.
//!
//! A login starts a new session (a new id, whatever cookie came in) and
//! ends the one the browser had. Failed logins are audited with the address
//! tried and counted by `auth::throttle`: per account a growing delay, per
//! client address a limit (429 with a Dutch message saying how long to
//! wait). After the password a session may still have steps to take (a
//! code, a password change, enrolling a second factor: `ui::account`).

use super::form::PageForm as Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{landing, render, PageError, Viewer};
use crate::auth::audit::{record_now, AuditEntry};
use crate::auth::session::{self, LOGIN_ACTION, LOGIN_FAILED};
use crate::auth::throttle::{self, Verdict};
use crate::auth::users;
use crate::config::Email;
use crate::state::AppState;
use crate::web::client::ClientAddr;

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// The login page's query string: `next`, the local page to go to after
/// signing in, and `uitgelogd`, set after a logout to say so.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    #[serde(rename = "uitgelogd")]
    logged_out: Option<String>,
}

/// 303 to the login page, coming back to `target` afterwards.
pub fn redirect_to_login(target: &str) -> Response {
    see_other(&login_location(target), None)
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// `/login?next=target`, the target form-encoded.
fn login_location(target: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", target)
        .finish();
    format!("/login?{query}")
}

/// Only a local path may be a target: never another site (`//evil`,
/// `https://...`, `/\evil`), never the login page itself.
fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.starts_with("/login")
        && next.chars().all(|c| c.is_ascii_graphic());
    local.then(|| next.to_string())
}

/// `GET /login`: the login form; a signed-in user goes to their landing
/// page instead.
///
/// # Errors
/// Only a page that fails to render (500 page).
pub async fn form(
    viewer: Option<Viewer>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    if let Some(viewer) = viewer {
        return Ok(see_other(landing(viewer.user.role), None));
    }
    render(&LoginPage {
        email: String::new(),
        next: safe_next(query.next.as_deref()).unwrap_or_default(),
        error: None,
        notice: query.logged_out.is_some().then_some("U bent uitgelogd."),
    })
}

/// The login form: e-mail address, password, and the page to go to after.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: checks the address and password, throttled per account
/// and per client address, and audits every attempt with a well-formed
/// address. On success a new
/// session starts (`303` to the second step, the `next` page or the
/// landing page); otherwise the form again with a Dutch message: 422 for an
/// address that is not one, 429 while throttled, 401 for a wrong address
/// or password.
///
/// # Errors
/// Database errors (error page).
pub async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let address = form.email.trim().to_lowercase();
    let next = safe_next(Some(&form.next));
    let again = |status: StatusCode, error: String| -> Result<Response, PageError> {
        let mut response = render(&LoginPage {
            email: address.clone(),
            next: next.clone().unwrap_or_default(),
            error: Some(error),
            notice: None,
        })?;
        *response.status_mut() = status;
        Ok(response)
    };
    let Ok(email) = Email::parse(&address) else {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Vul een geldig e-mailadres in.".into(),
        );
    };
    let policy = &state.settings.web;
    let client = client.key();
    match throttle::check(&state.store, email.as_str(), &client, now, policy).await? {
        Verdict::Go => {}
        Verdict::WaitAccount(seconds) => {
            audit_failure(&state, email.as_str(), "rate_limited").await?;
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Er is voor dit adres te vaak een verkeerd wachtwoord ingevuld. Wacht {} en probeer het opnieuw.",
                    seconds_nl(seconds)
                ),
            );
        }
        Verdict::ClientBlocked(seconds) => {
            audit_failure(&state, email.as_str(), "rate_limited").await?;
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Vanaf deze verbinding is te vaak verkeerd ingelogd. Probeer het over {} opnieuw.",
                    seconds_nl(seconds)
                ),
            );
        }
    }
    let Some(user) = users::verify_password(&state.store, &email, &form.password).await? else {
        throttle::record_failure(&state.store, email.as_str(), &client, now, policy).await?;
        audit_failure(&state, email.as_str(), LOGIN_FAILED).await?;
        return again(
            StatusCode::UNAUTHORIZED,
            "E-mailadres of wachtwoord klopt niet.".into(),
        );
    };
    if let Some(old) = session::cookie_value(&headers) {
        session::end_cookie(&state.store, old, now).await?;
    }
    let flags = users::login_flags(&state.store, user.id).await?;
    let stage = session::next_stage(None, flags, user.role, policy);
    let started = session::start(&state.store, user.clone(), stage, now).await?;
    record_now(
        &state.store,
        AuditEntry {
            at: now,
            user: Some(&user),
            action: LOGIN_ACTION,
            referral_id: None,
            result: if stage.is_some() { "password_ok" } else { "ok" },
            detail: None,
        },
    )
    .await?;
    let target = match stage {
        Some(stage) => super::account::stage_page(stage).to_string(),
        None => next.unwrap_or_else(|| landing(user.role).to_string()),
    };
    Ok(see_other(
        &target,
        Some(session::set_cookie(&started.cookie_value)),
    ))
}

/// "45 seconden", "1 minuut", "12 minuten": a wait, rounded up.
fn seconds_nl(seconds: i64) -> String {
    match seconds {
        ..=1 => "1 seconde".into(),
        2..=59 => format!("{seconds} seconden"),
        60 => "1 minuut".into(),
        _ => format!("{} minuten", (seconds + 59) / 60),
    }
}

/// A refused login, with the address tried (the audit trail; the throttle
/// counts in its own table).
async fn audit_failure(state: &AppState, email: &str, result: &str) -> Result<(), PageError> {
    record_now(
        &state.store,
        AuditEntry {
            at: state.now(),
            user: None,
            action: LOGIN_ACTION,
            referral_id: None,
            result,
            detail: Some(email.to_string()),
        },
    )
    .await?;
    tracing::warn!(result, "login refused");
    Ok(())
}

/// The logout form: only the session's form token.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: ends the session, audits it and goes to the login page
/// with the cookie cleared. Works in a session with a step left too.
///
/// # Errors
/// 403 page for a wrong form token; database errors.
pub async fn logout(
    State(state): State<AppState>,
    viewer: super::account::StepViewer,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if let Some(value) = session::cookie_value(&headers) {
        session::end_cookie(&state.store, value, state.now()).await?;
    }
    record_now(
        &state.store,
        AuditEntry {
            at: state.now(),
            user: Some(&viewer.session.user),
            action: "session.logout",
            referral_id: None,
            result: "ok",
            detail: None,
        },
    )
    .await?;
    Ok(see_other(
        "/login?uitgelogd=1",
        Some(session::clear_cookie()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/board?weeks=2")).as_deref(),
            Some("/board?weeks=2")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "board",
            "/login?next=/x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn waits_are_said_in_dutch_and_rounded_up() {
        assert_eq!(seconds_nl(1), "1 seconde");
        assert_eq!(seconds_nl(32), "32 seconden");
        assert_eq!(seconds_nl(60), "1 minuut");
        assert_eq!(seconds_nl(90), "2 minuten");
        assert_eq!(seconds_nl(601), "11 minuten");
    }

    #[test]
    fn login_targets_are_encoded() {
        let target = "/board?region=a b&weeks=4";
        let location = login_location(target);
        assert!(!location[7..].contains(['?', ' ', '&']), "{location}");
        let query = location.strip_prefix("/login?").expect("the login page");
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs, [("next".to_string(), target.to_string())]);
    }
}
