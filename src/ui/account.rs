//! The signed-in user's own account, and the steps a login may still have
//! to take after the password:
//! - `/login/code`: the TOTP code of a user with a second factor;
//! - `/account/password`: change the password (required once when an
//!   admin made it);
//! - `/account/second-factor`: enrol a TOTP app (required for the roles
//!   `web.totp_required_roles` lists);
//! - `/account`: both of those, and the user's API tokens (list, make with
//!   the password, revoke).
//!
//! A session with a step left reaches only that step's page and `/logout`
//! ([`StepViewer`]); every other page sends it to its step.

use super::form::PageForm as Form;
use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{format, landing, render, PageError, Viewer};
use crate::auth::password::{self, PasswordChange};
use crate::auth::session::{self, Session, Stage};
use crate::auth::tokens::{self, CreateToken};
use crate::auth::{second_factor, users};
use crate::error::{Error, FieldError};
use crate::state::AppState;
use crate::web::extract::browser_session;

/// The page of a login step.
pub fn stage_page(stage: Stage) -> &'static str {
    match stage {
        Stage::SecondFactor => "/login/code",
        Stage::PasswordChange => "/account/password",
        Stage::Enrol => "/account/second-factor",
    }
}

/// A signed-in session at any stage: for the step pages and logout.
pub struct StepViewer {
    /// The session, with the step it is at.
    pub session: Session,
}

impl StepViewer {
    /// 403 unless the form carried this session's token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        super::check_csrf(&self.session.csrf, token)
    }

    /// 303 to the step this session is at, unless that is `page` or the
    /// session has no step left and `page` allows that.
    fn must_be_at(&self, stage: Stage, full_allowed: bool) -> Result<(), Redirect> {
        match self.session.stage {
            Some(at) if at == stage => Ok(()),
            None if full_allowed => Ok(()),
            Some(at) => Err(Redirect::to(stage_page(at))),
            None => Err(Redirect::to(landing(self.session.user.role))),
        }
    }
}

impl FromRequestParts<AppState> for StepViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match browser_session(parts, state).await {
            Ok(Some(session)) => Ok(StepViewer { session }),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(err) => Err(PageError::from(err).into_response()),
        }
    }
}

/// Field errors as (field id, Dutch message) for the pages' error summary.
fn problems_of(err: Error) -> Result<Vec<(String, String)>, PageError> {
    match err {
        Error::Invalid(fields) => Ok(fields.into_iter().map(dutch).collect()),
        other => Err(PageError::from(other)),
    }
}

fn dutch(field: FieldError) -> (String, String) {
    let text = field.dutch.unwrap_or(field.message);
    (field.field, text)
}

fn with_status(
    response: Result<Response, PageError>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut response = response?;
    *response.status_mut() = status;
    Ok(response)
}

/// After a step is done: the next one, or the role's start page.
async fn after_step(
    state: &AppState,
    viewer: &StepViewer,
    done: Stage,
) -> Result<Response, PageError> {
    let user = &viewer.session.user;
    let flags = users::login_flags(&state.store, user.id).await?;
    let next = session::next_stage(Some(done), flags, user.role, &state.settings.web);
    session::set_stage(&state.store, &viewer.session, next).await?;
    Ok(match next {
        Some(stage) => Redirect::to(stage_page(stage)).into_response(),
        None => Redirect::to(landing(user.role)).into_response(),
    })
}

#[derive(Template)]
#[template(path = "pages/login_code.html")]
struct CodePage {
    csrf: String,
    problems: Vec<(String, String)>,
}

/// `GET /login/code`.
pub async fn code_form(viewer: StepViewer) -> Result<Response, PageError> {
    if let Err(redirect) = viewer.must_be_at(Stage::SecondFactor, false) {
        return Ok(redirect.into_response());
    }
    render(&CodePage {
        csrf: viewer.session.csrf.clone(),
        problems: Vec::new(),
    })
}

/// A code as the forms send it.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    sealed: String,
}

/// `POST /login/code`: a wrong code counts as a failed login for the
/// throttle, like a wrong password.
pub async fn code_submit(
    State(state): State<AppState>,
    viewer: StepViewer,
    client: crate::web::client::ClientAddr,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if let Err(redirect) = viewer.must_be_at(Stage::SecondFactor, false) {
        return Ok(redirect.into_response());
    }
    let user = &viewer.session.user;
    let policy = &state.settings.web;
    let now = state.now();
    let verdict =
        crate::auth::throttle::check(&state.store, &user.email, &client.key(), now, policy).await?;
    let result = match verdict {
        crate::auth::throttle::Verdict::Go => second_factor::verify(&state, user, &form.code).await,
        _ => Err(Error::Invalid(vec![FieldError::both(
            "code",
            "too many attempts; wait a moment",
            "Te veel pogingen. Wacht even en probeer het opnieuw.",
        )])),
    };
    match result {
        Ok(()) => after_step(&state, &viewer, Stage::SecondFactor).await,
        Err(err) => {
            if verdict == crate::auth::throttle::Verdict::Go {
                crate::auth::throttle::record_failure(
                    &state.store,
                    &user.email,
                    &client.key(),
                    now,
                    policy,
                )
                .await?;
            }
            let page = CodePage {
                csrf: viewer.session.csrf.clone(),
                problems: problems_of(err)?,
            };
            with_status(render(&page), StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/password.html")]
struct PasswordPage {
    csrf: String,
    problems: Vec<(String, String)>,
    required: bool,
    min_chars: usize,
}

/// `GET /account/password`.
pub async fn password_form(viewer: StepViewer) -> Result<Response, PageError> {
    if let Err(redirect) = viewer.must_be_at(Stage::PasswordChange, true) {
        return Ok(redirect.into_response());
    }
    render(&PasswordPage {
        csrf: viewer.session.csrf.clone(),
        problems: Vec::new(),
        required: viewer.session.stage.is_some(),
        min_chars: password::MIN_CHARS,
    })
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /account/password`: the form again with the problems, or on to
/// the next step (or back to the account page).
pub async fn password_submit(
    State(state): State<AppState>,
    viewer: StepViewer,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if let Err(redirect) = viewer.must_be_at(Stage::PasswordChange, true) {
        return Ok(redirect.into_response());
    }
    let change = PasswordChange {
        current: form.current,
        new: form.new,
        repeat: form.repeat,
    };
    match password::change(&state, &viewer.session.user, &change).await {
        Ok(()) if viewer.session.stage.is_some() => {
            after_step(&state, &viewer, Stage::PasswordChange).await
        }
        Ok(()) => Ok(Redirect::to("/account?gedaan=wachtwoord").into_response()),
        Err(err) => {
            let page = PasswordPage {
                csrf: viewer.session.csrf.clone(),
                problems: problems_of(err)?,
                required: viewer.session.stage.is_some(),
                min_chars: password::MIN_CHARS,
            };
            with_status(render(&page), StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/enrol.html")]
struct EnrolPage {
    csrf: String,
    problems: Vec<(String, String)>,
    required: bool,
    qr_svg: String,
    secret: String,
    sealed: String,
}

fn enrol_page(
    state: &AppState,
    viewer: &StepViewer,
    problems: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let enrolment = second_factor::start_enrolment(state, &viewer.session.user)?;
    render(&EnrolPage {
        csrf: viewer.session.csrf.clone(),
        problems,
        required: viewer.session.stage.is_some(),
        qr_svg: enrolment.qr_svg,
        secret: enrolment.secret_base32.to_string(),
        sealed: enrolment.sealed,
    })
}

/// `GET /account/second-factor`: a new secret each time the page loads.
pub async fn enrol_form(
    State(state): State<AppState>,
    viewer: StepViewer,
) -> Result<Response, PageError> {
    if let Err(redirect) = viewer.must_be_at(Stage::Enrol, true) {
        return Ok(redirect.into_response());
    }
    enrol_page(&state, &viewer, Vec::new())
}

/// `POST /account/second-factor`.
pub async fn enrol_submit(
    State(state): State<AppState>,
    viewer: StepViewer,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if let Err(redirect) = viewer.must_be_at(Stage::Enrol, true) {
        return Ok(redirect.into_response());
    }
    match second_factor::finish_enrolment(&state, &viewer.session.user, &form.sealed, &form.code)
        .await
    {
        Ok(()) if viewer.session.stage.is_some() => after_step(&state, &viewer, Stage::Enrol).await,
        Ok(()) => Ok(Redirect::to("/account?gedaan=tweede-factor").into_response()),
        Err(err) => with_status(
            enrol_page(&state, &viewer, problems_of(err)?),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// One token row on the account page.
struct TokenRow {
    id: i64,
    label: String,
    created: String,
    expires: String,
    last_used: String,
    status: &'static str,
    live: bool,
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage {
    chrome: super::Chrome,
    csrf: String,
    done: Option<&'static str>,
    problems: Vec<(String, String)>,
    has_second_factor: bool,
    token_days: u32,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    label: String,
}

/// `?gedaan=...` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    gedaan: Option<String>,
}

async fn account_page(
    state: &AppState,
    viewer: &Viewer,
    done: Option<&'static str>,
    problems: Vec<(String, String)>,
    new_token: Option<String>,
    label: String,
) -> Result<Response, PageError> {
    let tz = state.regions.timezone;
    let now = state.now();
    let tokens = users::list_tokens(&state.store, viewer.user.id)
        .await?
        .into_iter()
        .map(|t| {
            let expired = t.expires_at.is_some_and(|at| at <= now);
            TokenRow {
                id: t.id,
                label: t.label,
                created: format::moment(t.created_at, tz),
                expires: t
                    .expires_at
                    .map_or_else(|| "-".into(), |at| format::moment(at, tz)),
                last_used: t
                    .last_used_at
                    .map_or_else(|| "nooit".into(), |at| format::moment(at, tz)),
                status: match (t.revoked_at.is_some(), expired) {
                    (true, _) => "ingetrokken",
                    (false, true) => "verlopen",
                    (false, false) => "geldig",
                },
                live: t.revoked_at.is_none() && !expired,
            }
        })
        .collect();
    let flags = users::login_flags(&state.store, viewer.user.id).await?;
    render(&AccountPage {
        chrome: viewer.chrome_counted(state, "/account").await,
        csrf: viewer.csrf.clone(),
        done,
        problems,
        has_second_factor: flags.has_second_factor,
        token_days: state.settings.web.token_days,
        tokens,
        new_token,
        label,
    })
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(query): axum::extract::Query<AccountQuery>,
) -> Result<Response, PageError> {
    let done = match query.gedaan.as_deref() {
        Some("wachtwoord") => Some("Uw wachtwoord is gewijzigd."),
        Some("tweede-factor") => {
            Some("De tweede factor is ingesteld: voortaan vraagt het inloggen om een code.")
        }
        Some("ingetrokken") => Some("Het token is ingetrokken."),
        _ => None,
    };
    account_page(&state, &viewer, done, Vec::new(), None, String::new()).await
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/tokens`: the page again, with the new token shown once.
pub async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let body = CreateToken {
        label: form.label.clone(),
        password: form.password,
    };
    match tokens::create_own(&state, &viewer.user, viewer.user.id, &body).await {
        Ok(issued) => {
            account_page(
                &state,
                &viewer,
                Some("Het token is gemaakt."),
                Vec::new(),
                Some(issued.token),
                String::new(),
            )
            .await
        }
        Err(err) => with_status(
            account_page(&state, &viewer, None, problems_of(err)?, None, form.label).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /account/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    tokens::revoke(&state, &viewer.user, viewer.user.id, id).await?;
    Ok(Redirect::to("/account?gedaan=ingetrokken").into_response())
}
