//! Administration: users and roles (the audit log is [`super::audit`]).
//! Admins only; no case data here.

use super::form::PageForm as Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{field_list, format, render, Chrome, PageError, Said, Viewer};
use crate::auth::admin::{self, CreateUser, UpdateUser};
use crate::error::Error;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    csrf: String,
    users: Vec<UserRow>,
    regions: Vec<(String, String)>,
    roles: &'static [(&'static str, &'static str)],
    /// Just created: the credentials, shown once.
    created: Option<Created>,
    error: Option<Said>,
    /// Regions whose table has no active chair (a warning).
    chairless: Vec<String>,
    /// The new-user form's input (kept after a refusal).
    input: NewUserForm,
    /// (field id, Dutch message) of a refused new-user form.
    problems: Vec<(String, String)>,
}

impl UsersPage {
    /// The message for field `id` of the new-user form, if refused there.
    fn problem(&self, id: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, m)| m.as_str())
    }
}

struct UserRow {
    id: i64,
    email: String,
    role: &'static str,
    /// The role's id, to preselect it in the change form.
    role_id: &'static str,
    region_id: String,
    organisation: String,
    municipality: String,
    /// The admin looking at the page: no deactivate or demote button.
    is_viewer: bool,
    scope: String,
    active: bool,
    created: String,
}

struct Created {
    email: String,
    password: String,
}

/// `GET /admin`: the users, with forms to create one and to change a
/// role or deactivate (admins).
///
/// # Errors
/// 403 page for other roles; database errors.
pub async fn users(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    users_page(&state, &viewer, None, None).await
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    created: Option<Created>,
    error: Option<Said>,
) -> Result<Response, PageError> {
    users_page_with(
        state,
        viewer,
        created,
        error,
        NewUserForm::default(),
        Vec::new(),
    )
    .await
}

async fn users_page_with(
    state: &AppState,
    viewer: &Viewer,
    created: Option<Created>,
    error: Option<Said>,
    input: NewUserForm,
    problems: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let records = admin::list(state, &viewer.user).await?;
    let tz = state.regions.timezone;
    // A table without an active chair answers no offer and gets no
    // invitation: said whenever it is so, so also right after deactivating
    // a region's last chair.
    let chairless: Vec<String> = state
        .regions
        .regions
        .iter()
        .filter(|r| {
            !records.iter().any(|u| {
                u.active && u.role == crate::auth::Role::Chair && u.region.as_ref() == Some(&r.id)
            })
        })
        .map(|r| r.name.clone())
        .collect();
    let rows = records
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            email: u.email,
            role: format::role(u.role),
            role_id: u.role.as_str(),
            region_id: u
                .region
                .as_ref()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            is_viewer: u.id == viewer.user.id,
            organisation: u.organisation.clone().unwrap_or_default(),
            municipality: u
                .municipality
                .as_ref()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            scope: u
                .region
                .map(|r| state.regions.region_name(r.as_str()))
                .or(u.organisation)
                .or(u
                    .municipality
                    .map(|m| crate::offers::notify::municipality_name(&state.regions, m.as_str())))
                .unwrap_or_default(),
            active: u.active,
            created: format::moment(u.created_at, tz),
        })
        .collect();
    render(&UsersPage {
        chrome: viewer.chrome_counted(state, "/admin").await,
        csrf: viewer.csrf.clone(),
        users: rows,
        regions: state
            .regions
            .regions
            .iter()
            .map(|r| (r.id.as_str().to_string(), r.name.clone()))
            .collect(),
        roles: ROLE_CHOICES,
        created,
        error,
        chairless,
        input,
        problems,
    })
}

/// The roles in the forms: id and what the admin reads.
const ROLE_CHOICES: &[(&str, &str)] = &[
    ("coordinator", "coördinator"),
    ("chair", "voorzitter (met regio)"),
    ("secretary", "secretaris van de tafel (met regio)"),
    ("referrer", "verwijzer (met organisatie)"),
    (
        "municipal_contact",
        "gemeentelijk contactpersoon (met gemeente)",
    ),
    ("admin", "beheerder"),
];

/// The role fields both user forms have.
#[derive(Debug, Deserialize, Default)]
pub struct RoleFields {
    #[serde(default)]
    role: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    municipality: String,
}

/// The new-user form: the session's form token, the e-mail address, and
/// the role with its scope.
#[derive(Debug, Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(flatten)]
    fields: RoleFields,
}

/// Creates a user and shows the password once. A wrong form comes back
/// with what to fix, and nothing is created.
pub async fn create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let email = form.email.trim().to_string();
    let request = CreateUser {
        email: email.clone(),
        role: form.fields.role.clone(),
        region: Some(form.fields.region.clone()),
        organisation: Some(form.fields.organisation.clone()),
        municipality: Some(form.fields.municipality.clone()),
    };
    // The service checks the role, validates and audits, as for the API.
    match admin::create(&state, &viewer.user, request).await {
        Ok((_, password)) => {
            let shown = Created { email, password };
            users_page(&state, &viewer, Some(shown), None).await
        }
        // The form again, as typed, each problem at its field.
        Err(Error::Invalid(found)) => {
            let problems = found
                .into_iter()
                .map(|p| {
                    let id = match p.field.as_str() {
                        "email" => "u-email",
                        "role" => "u-role",
                        "region" => "u-region",
                        "organisation" => "u-org",
                        _ => "u-mun",
                    };
                    (id.to_string(), p.dutch.unwrap_or(p.message))
                })
                .collect();
            let mut page = users_page_with(&state, &viewer, None, None, form, problems).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(err) => refused_on_page(&state, &viewer, err).await,
    }
}

/// The users page again with the refusal on it; a refusal that is not
/// about the form (not an admin, an outage) is an error page.
async fn refused_on_page(
    state: &AppState,
    viewer: &Viewer,
    err: Error,
) -> Result<Response, PageError> {
    match err {
        Error::Invalid(problems) => {
            let text = Said::en(field_list(&problems));
            with_error(state, viewer, StatusCode::UNPROCESSABLE_ENTITY, text).await
        }
        Error::Refused(refusal) => {
            let text = Said::nl(refusal.dutch);
            with_error(state, viewer, StatusCode::CONFLICT, text).await
        }
        other => Err(PageError::from(other)),
    }
}

/// The change form of one user: the session's form token, what to change,
/// and for `role` the new role with its scope.
#[derive(Debug, Deserialize)]
pub struct ChangeUserForm {
    #[serde(default)]
    csrf: String,
    /// `deactivate`, `activate` or `role`.
    #[serde(default)]
    change: String,
    #[serde(flatten)]
    fields: RoleFields,
}

/// Deactivates, reactivates or changes the role of a user, through the
/// admin service (same checks, same audit row as the API). A refusal comes back on the
/// page, and nothing changes.
pub async fn change_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<ChangeUserForm>,
) -> Result<Response, PageError> {
    // No role check here: the service refuses a non-admin and audits it.
    viewer.check_csrf(&form.csrf)?;
    let request = match form.change.as_str() {
        "deactivate" => UpdateUser {
            active: Some(false),
            ..UpdateUser::default()
        },
        "activate" => UpdateUser {
            active: Some(true),
            ..UpdateUser::default()
        },
        "role" => {
            // The form shows every scope field, filled in for the current
            // role; only the one the chosen role uses goes along.
            let RoleFields {
                role,
                region,
                organisation,
                municipality,
            } = form.fields;
            let wanted = |needed: &str, value: String| (role == needed).then_some(value);
            UpdateUser {
                active: None,
                region: (role == "chair" || role == "secretary").then_some(region),
                organisation: wanted("referrer", organisation),
                municipality: wanted("municipal_contact", municipality),
                role: Some(role),
            }
        }
        _ => return Err(PageError::Invalid(Said::nl("onbekende wijziging"))),
    };
    match admin::update(&state, &viewer.user, id, request).await {
        Ok(_) => users_page(&state, &viewer, None, None).await,
        Err(err) => refused_on_page(&state, &viewer, err).await,
    }
}

/// The users page again with what went wrong, under the refusal's status.
async fn with_error(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    error: Said,
) -> Result<Response, PageError> {
    let mut page = users_page(state, viewer, None, Some(error)).await?;
    *page.status_mut() = status;
    Ok(page)
}
