//! The browser side: server-rendered Dutch pages for coordinators, chairs
//! and admins.
//!
//! Pages are askama templates (escaping by default; no HTML is built with
//! `format!`). Every page asks the same domain functions and API handlers
//! the JSON API uses, so the rules (scope, lifecycle, audit) are the same
//! by construction; a page only turns their answer into HTML or their
//! refusal into a Dutch message.
//!
//! Forms are protected twice against cross-site requests: the session
//! cookie is `SameSite=Strict`, and every form carries the session's
//! synchroniser token ([`Viewer::check_csrf`]). `web::same_origin` also
//! refuses cross-site writes before any handler runs. No GET changes state.

mod account;
mod admin;
mod advice;
mod agenda;
mod audit;
mod board;
mod board_export;
mod board_filters;
mod board_stamp;
mod dashboard;
mod dashboard_trend;
mod evaluation;
mod export;
mod feedback;
mod form;
mod format;
mod inbox;
mod login;
mod mine;
mod municipality;
mod queue;
mod referral;
mod referral_forms;
mod referral_move;
mod register;
mod report;
mod report_pdf;
mod session_agenda;
mod todo;
mod waits;

use askama::Template;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::auth::{CurrentUser, Role};
use crate::state::AppState;
use crate::web::extract::browser_session;
use crate::web::AppError;

/// The pages' routes (login, account, board, referral, inbox, dashboard,
/// admin) and the two static assets, at the root of the site.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::form).post(login::submit))
        .route(
            "/feedback/{token}",
            get(feedback::page).post(feedback::submit),
        )
        .route("/logout", post(login::logout))
        .route(
            "/login/code",
            get(account::code_form).post(account::code_submit),
        )
        .route("/account", get(account::page))
        .route(
            "/account/password",
            get(account::password_form).post(account::password_submit),
        )
        .route(
            "/account/second-factor",
            get(account::enrol_form).post(account::enrol_submit),
        )
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/te-doen", get(todo::page))
        .route("/board", get(board::page))
        .route("/board/fragment", get(board::fragment))
        .route("/zitting", get(session_agenda::page))
        .route("/board/wachtrij.csv", get(board_export::queue_csv))
        .route("/board/planbord.csv", get(board_export::board_csv))
        .route("/board/planbord.xlsx", get(board_export::board_xlsx))
        .route("/board/stamp", get(board_stamp::stamp))
        .route("/board/bevestigen", post(queue::confirm))
        .route("/referrals/{id}", get(referral::page))
        .route("/referrals/{id}/agenda.ics", get(agenda::download))
        .route("/referrals/{id}/confirm", post(referral::confirm))
        .route(
            "/referrals/{id}/verplaatsen",
            post(referral_move::move_referral),
        )
        .route(
            "/referrals/{id}/verslag",
            get(report::page).post(report::save),
        )
        .route("/referrals/{id}/verslag.pdf", get(report_pdf::pdf))
        .route("/referrals/{id}/verslag/versturen", post(report::send))
        .route("/referrals/{id}/verslag/reactie", post(report::react))
        .route(
            "/referrals/{id}/schriftelijke-evaluatie",
            post(report::written),
        )
        .route("/referrals/{id}/cancel", post(referral::cancel))
        .route("/referrals/{id}/held", post(referral::held))
        .route("/referrals/{id}/not-held", post(referral_forms::not_held))
        .route("/referrals/{id}/outcome", post(referral::outcome))
        .route("/aanmelden", get(register::form).post(register::submit))
        .route("/mijn-aanmeldingen", get(mine::page))
        .route("/mijn-gemeente", get(municipality::page))
        .route("/referrals/{id}/change", post(referral_forms::change))
        .route("/referrals/{id}/withdraw", post(referral_forms::withdraw))
        .route("/referrals/{id}/info", post(referral_forms::ask))
        .route(
            "/referrals/{id}/info/{request_id}/answer",
            post(referral_forms::answer),
        )
        .route("/inbox", get(inbox::page))
        .route("/inbox/{id}/accept", post(inbox::accept))
        .route("/inbox/{id}/decline", post(inbox::decline))
        .route("/dashboard", get(dashboard::page))
        .route("/evaluatie", get(evaluation::page))
        .route("/evaluatie.pdf", get(evaluation::pdf))
        .route("/evaluatie.xlsx", get(evaluation::xlsx))
        .route("/dashboard/cijfers.csv", get(dashboard::figures_csv))
        .route("/dashboard/cijfers.xlsx", get(dashboard::figures_xlsx))
        .route("/dashboard/extra-zitting", post(advice::add_session))
        .route("/admin", get(admin::users))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}", post(admin::change_user))
        .route("/admin/audit", get(audit::audit))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
}

/// `/`: the page the role works on, or the login page.
async fn home(viewer: Option<Viewer>) -> Redirect {
    match viewer {
        None => Redirect::to("/login"),
        Some(v) => Redirect::to(landing(v.user.role)),
    }
}

/// Where a role starts after login.
pub fn landing(role: Role) -> &'static str {
    match role {
        Role::Coordinator | Role::Chair | Role::Secretary => "/board",
        Role::Admin => "/admin",
        Role::Referrer => "/mijn-aanmeldingen",
        Role::MunicipalContact => "/mijn-gemeente",
    }
}

const STYLESHEET: &str = include_str!("../../static/app.css");
const SCRIPT: &str = include_str!("../../static/app.js");

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

/// 403 unless `token` (from a form) is the session's `expected` token.
///
/// # Errors
/// [`PageError::Forbidden`] with a Dutch message to reload the page.
pub(crate) fn check_csrf(expected: &str, token: &str) -> Result<(), PageError> {
    // Both are random and of fixed length; a timing difference tells
    // nothing useful to someone who cannot read the page anyway.
    if !token.is_empty() && token == expected {
        Ok(())
    } else {
        Err(PageError::Forbidden(Said::nl(
            "Het formulier is verlopen of kwam niet van deze site. Laad de pagina opnieuw en probeer het nog eens.",
        )))
    }
}

/// One option of a filter's `<select>`.
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// The text shown (Dutch).
    pub label: String,
    /// Whether it is the current choice.
    pub selected: bool,
}

/// The signed-in person looking at a page: the user and the session's
/// form token. Without a live session a page redirects to `/login`.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The session's synchroniser token, for the forms of the page.
    pub csrf: String,
    /// "voorzitter FoodValley (a@example.org)", for the page header.
    who: String,
}

impl Viewer {
    fn new(session: crate::auth::session::Session, state: &AppState) -> Viewer {
        Viewer {
            who: format::who(&session.user, &state.regions),
            user: session.user,
            csrf: session.csrf,
        }
    }

    /// 403 unless the form carried this session's token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        check_csrf(&self.csrf, token)
    }

    /// 403 page unless the user has one of `roles`.
    ///
    /// # Errors
    /// [`PageError::Forbidden`], naming the roles that would do (in English),
    /// when the user's role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        self.user.require(roles).map_err(PageError::from)
    }

    /// The menu and the logout form of the page layout.
    pub fn chrome(&self, current: &str) -> Chrome {
        let items: &[(&str, &str)] = match self.user.role {
            Role::Coordinator => &[
                ("/te-doen", "Te doen"),
                ("/board", "Planbord"),
                ("/inbox", "Aanbiedingen"),
                ("/aanmelden", "Aanmelden"),
                ("/dashboard", "Dashboard"),
                ("/evaluatie", "Evaluatie"),
            ],
            Role::Chair => &[
                ("/te-doen", "Te doen"),
                ("/board", "Planbord"),
                ("/inbox", "Aanbiedingen"),
                ("/dashboard", "Dashboard"),
                ("/evaluatie", "Evaluatie"),
            ],
            Role::Secretary => &[
                ("/te-doen", "Te doen"),
                ("/board", "Planbord"),
                ("/aanmelden", "Aanmelden"),
                ("/dashboard", "Dashboard"),
            ],
            Role::Admin => &[
                ("/admin", "Gebruikers"),
                ("/admin/audit", "Auditlog"),
                ("/dashboard", "Dashboard"),
            ],
            Role::Referrer => &[
                ("/mijn-aanmeldingen", "Mijn aanmeldingen"),
                ("/aanmelden", "Aanmelden"),
                ("/dashboard", "Dashboard"),
            ],
            Role::MunicipalContact => &[
                ("/mijn-gemeente", "Mijn gemeente"),
                ("/dashboard", "Dashboard"),
            ],
        };
        Chrome {
            items: items
                .iter()
                .chain(&[("/account", "Mijn account")])
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: *href == current,
                    count: None,
                })
                .collect(),
            who: self.who.clone(),
            csrf: self.csrf.clone(),
        }
    }
}

impl Viewer {
    /// [`Viewer::chrome`] with the menu's counts: what waits on *Te doen*
    /// and the open offers on *Aanbiedingen*. A count that cannot be made
    /// is left out (and logged): the page still shows.
    pub async fn chrome_counted(&self, state: &AppState, current: &str) -> Chrome {
        match todo::counts(state, self).await {
            Ok(counts) => self.chrome_with(current, counts),
            Err(err) => {
                tracing::warn!(error = ?err, "menu counts");
                self.chrome(current)
            }
        }
    }

    /// [`Viewer::chrome`] with the menu's counts as given: (Te doen,
    /// Aanbiedingen).
    pub fn chrome_with(&self, current: &str, counts: Option<(usize, usize)>) -> Chrome {
        let mut chrome = self.chrome(current);
        if let Some((todo, offers)) = counts {
            for item in &mut chrome.items {
                match item.href {
                    "/te-doen" => item.count = Some(todo),
                    "/inbox" => item.count = Some(offers),
                    _ => {}
                }
            }
        }
        chrome
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, Response> {
        match browser_session(parts, state).await {
            Ok(Some(session)) if session.stage.is_none() => {
                parts.extensions.insert(session.user.clone());
                Ok(Viewer::new(session, state))
            }
            // Signed in with a step left: that step first.
            Ok(Some(session)) => Err(Redirect::to(account::stage_page(
                session
                    .stage
                    .unwrap_or(crate::auth::session::Stage::SecondFactor),
            ))
            .into_response()),
            Ok(None) => {
                let target = OriginalUri::from_request_parts(parts, state)
                    .await
                    .map_or_else(|_| "/".to_string(), |OriginalUri(uri)| uri.to_string());
                Err(login::redirect_to_login(&target).into_response())
            }
            Err(err) => Err(PageError::from(err).into_response()),
        }
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Viewer>, Response> {
        match browser_session(parts, state).await {
            Ok(found) => Ok(found
                .filter(|session| session.stage.is_none())
                .map(|session| Viewer::new(session, state))),
            Err(err) => Err(PageError::from(err).into_response()),
        }
    }
}

/// The layout's menu.
pub struct Chrome {
    /// The menu entries of the viewer's role, ending with "Mijn account".
    pub items: Vec<NavItem>,
    /// Who is signed in, e.g. "voorzitter FoodValley (a@example.org)".
    pub who: String,
    /// The session's synchroniser token, for the logout form.
    pub csrf: String,
}

/// One menu entry.
pub struct NavItem {
    /// The page it links to.
    pub href: &'static str,
    /// Its text (Dutch).
    pub label: &'static str,
    /// Whether it is the page being shown.
    pub current: bool,
    /// How many things wait there (Te doen, Aanbiedingen), when counted.
    pub count: Option<usize>,
}

/// A rendered page: HTML, never cached (pages carry case data).
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok((
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(html),
    )
        .into_response())
}

/// A text on a page with the language it is in: the pages speak Dutch,
/// but some of the domain's explanations exist only in English (the API's
/// words), and a screen reader should pronounce those as English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// The text.
    pub text: String,
    /// Its language, for the `lang` attribute: `nl` or `en`.
    pub lang: &'static str,
}

impl Said {
    /// A Dutch text.
    pub fn nl(text: impl Into<String>) -> Said {
        Said {
            text: text.into(),
            lang: "nl",
        }
    }

    /// An English text (the API's words).
    pub fn en(text: impl Into<String>) -> Said {
        Said {
            text: text.into(),
            lang: "en",
        }
    }
}

/// What can go wrong on a page, shown as a Dutch error page.
#[derive(Debug)]
pub enum PageError {
    /// 403: the role may not do this, or the form's token is wrong.
    Forbidden(Said),
    /// 404: no such page, or outside the viewer's scope.
    NotFound,
    /// The action is not possible now; the domain's explanation.
    Conflict(Said),
    /// The form is wrong; what to fix.
    Invalid(Said),
    /// 503: the database cannot be reached right now.
    Unavailable,
    /// 500: logged with its detail; the page shows only the request id.
    Internal(anyhow::Error),
}

impl From<AppError> for PageError {
    fn from(err: AppError) -> PageError {
        match err {
            AppError::Unauthenticated => {
                PageError::Forbidden(Said::nl("U bent niet (meer) ingelogd."))
            }
            AppError::Forbidden(why) => PageError::Forbidden(Said::en(why)),
            AppError::NotFound => PageError::NotFound,
            AppError::Conflict(why) => PageError::Conflict(Said::en(why)),
            AppError::Refused(refusal) => PageError::Conflict(Said::nl(refusal.dutch)),
            AppError::Validation(fields) => PageError::Invalid(Said::en(field_list(&fields))),
            AppError::BadRequest(why) => PageError::Invalid(Said::en(why)),
            AppError::Unavailable => PageError::Unavailable,
            AppError::Internal(err) => PageError::Internal(err),
        }
    }
}

impl From<crate::error::Error> for PageError {
    fn from(err: crate::error::Error) -> PageError {
        PageError::from(AppError::from(err))
    }
}

/// Validation problems in one line: `field: what is wrong; ...`.
pub fn field_list(fields: &[crate::web::FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<sqlx::Error> for PageError {
    fn from(err: sqlx::Error) -> PageError {
        PageError::from(AppError::from(err))
    }
}

impl From<anyhow::Error> for PageError {
    fn from(err: anyhow::Error) -> PageError {
        PageError::from(AppError::from(err))
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    title: &'static str,
    lead: &'static str,
    /// The domain's own words, when they help.
    detail: Option<Said>,
    request_id: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let request_id = crate::web::error::REQUEST_ID.try_with(Clone::clone).ok();
        let (status, title, lead, detail) = match self {
            PageError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                "Geen toegang",
                "Dit mag u met uw rol niet doen.",
                Some(why),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Niet gevonden",
                "Deze pagina bestaat niet, of valt buiten uw regio.",
                None,
            ),
            PageError::Conflict(why) => (
                StatusCode::CONFLICT,
                "Dit kan nu niet",
                "De actie past niet bij de huidige stand van zaken.",
                Some(why),
            ),
            PageError::Invalid(why) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Controleer de invoer",
                "Niet alle velden zijn goed ingevuld.",
                Some(why),
            ),
            PageError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Tijdelijk niet beschikbaar",
                "De database is even niet bereikbaar. Probeer het over een minuut opnieuw.",
                None,
            ),
            PageError::Internal(err) => {
                tracing::error!(request_id = ?request_id, error = ?err, "internal error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Er ging iets mis",
                    "Er ging iets mis aan onze kant. Noem het verzoeknummer als u het meldt.",
                    None,
                )
            }
        };
        let page = ErrorPage {
            title,
            lead,
            detail,
            request_id,
        };
        match page.render() {
            Ok(html) => (
                status,
                [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                Html(html),
            )
                .into_response(),
            Err(_) => (status, title).into_response(),
        }
    }
}
