//! HTTP: the signed-in user, user administration, API tokens, the audit log.
//!
//! Responses that carry a password or a token are sent with
//! `Cache-Control: no-store`: they are shown once and must not linger in a
//! cache.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::audit::{self, AuditEntry, AuditFilter, AuditRow};
use crate::auth::users::{
    self, DuplicateEmail, NewUser, RoleScope, UpdateRefused, UserChange, UserRecord,
};
use crate::auth::{CurrentUser, Role};
use crate::config::{CbsCode, Email, RegionId, RegionsConfig};
use crate::state::AppState;
use crate::web::error::ErrorBody;
use crate::web::{AppError, AppJson, FieldError, Result};

#[derive(OpenApi)]
#[openapi(
    paths(me, list_users, create_user, update_user, create_token, revoke_token, audit_log),
    components(schemas(
        CurrentUser,
        Role,
        UserRecord,
        CreateUser,
        UpdateUser,
        CreatedUserView,
        CreateToken,
        IssuedTokenView,
        AuditRow,
        AuditPage
    )),
    tags((name = "auth", description = "Users, API tokens and the audit log"))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/users/{id}/tokens", post(create_token))
        .route("/users/{id}/tokens/{token_id}", delete(revoke_token))
        .route("/audit", get(audit_log))
}

/// Secrets are shown once; no cache may keep them.
const NO_STORE: [(axum::http::HeaderName, &str); 1] = [(CACHE_CONTROL, "no-store")];

const DEFAULT_AUDIT_LIMIT: u32 = 100;
const MAX_LABEL_CHARS: usize = 100;

/// The signed-in user, with the scope of their role.
#[utoipa::path(get, path = "/me", tag = "auth", responses(
    (status = 200, body = CurrentUser),
    (status = 401, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/me")]
pub async fn me(user: CurrentUser) -> AppJson<CurrentUser> {
    AppJson(user)
}

/// All users, oldest first (admins only).
#[utoipa::path(get, path = "/users", tag = "auth", responses(
    (status = 200, body = Vec<UserRecord>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/users")]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<AppJson<Vec<UserRecord>>> {
    admin_only(&state, &user, "user.list").await?;
    Ok(AppJson(users::list_users(&state.store).await?))
}

/// A user to create. Strings rather than typed fields, so that every wrong
/// field is reported at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    /// `coordinator`, `chair`, `referrer`, `municipal_contact` or `admin`.
    pub role: String,
    /// Chairs only: the region id, e.g. `food-valley`.
    pub region: Option<String>,
    /// Referrers only.
    pub organisation: Option<String>,
    /// Municipal contacts only: the CBS code, e.g. `GM0228`.
    pub municipality: Option<String>,
}

impl CreateUser {
    pub(crate) fn parse(self, regions: &RegionsConfig) -> Result<NewUser, Vec<FieldError>> {
        let mut problems = Vec::new();
        let email = Email::parse(self.email.trim())
            .map_err(|e| problems.push(FieldError::new("email", e.to_string())))
            .ok();
        let role = parse_role(&self.role, &mut problems);
        let fields = ScopeFields {
            region: self.region,
            organisation: self.organisation,
            municipality: self.municipality,
        };
        let scope = role.and_then(|role| fields.parse(role, &mut problems));
        match (email, scope) {
            (Some(email), Some(scope)) if problems.is_empty() => {
                scope.validate(regions)?;
                Ok(NewUser {
                    email,
                    role: scope.role,
                    region: scope.region,
                    organisation: scope.organisation,
                    municipality: scope.municipality,
                })
            }
            _ => Err(problems),
        }
    }
}

fn parse_role(text: &str, problems: &mut Vec<FieldError>) -> Option<Role> {
    let role = Role::parse(text.trim());
    if role.is_none() {
        problems.push(FieldError::new(
            "role",
            "must be one of coordinator, chair, referrer, municipal_contact, admin",
        ));
    }
    role
}

/// The scope fields of a user as sent: blank is absent.
struct ScopeFields {
    region: Option<String>,
    organisation: Option<String>,
    municipality: Option<String>,
}

impl ScopeFields {
    fn given(&self) -> bool {
        [&self.region, &self.organisation, &self.municipality]
            .into_iter()
            .any(|field| field.as_deref().is_some_and(|t| !t.trim().is_empty()))
    }

    /// Parses each field; whether they fit `role` is [`RoleScope::validate`]'s.
    fn parse(self, role: Role, problems: &mut Vec<FieldError>) -> Option<RoleScope> {
        let before = problems.len();
        let region = given(self.region).and_then(|text| {
            RegionId::parse(&text)
                .map_err(|e| problems.push(FieldError::new("region", e.to_string())))
                .ok()
        });
        let municipality = given(self.municipality).and_then(|text| {
            CbsCode::parse(&text)
                .map_err(|e| problems.push(FieldError::new("municipality", e.to_string())))
                .ok()
        });
        (problems.len() == before).then(|| RoleScope {
            role,
            region,
            organisation: given(self.organisation),
            municipality,
        })
    }
}

/// A change to a user; give at least one field. A role (or a scope field)
/// replaces the role and its whole scope, checked as at creation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// `false` deactivates the user: their sessions end and their API
    /// tokens are revoked at once. `true` reactivates (new tokens and a new
    /// login are needed).
    pub active: Option<bool>,
    /// The new role; when absent but a scope field is given, the current role.
    pub role: Option<String>,
    /// Chairs only.
    pub region: Option<String>,
    /// Referrers only.
    pub organisation: Option<String>,
    /// Municipal contacts only.
    pub municipality: Option<String>,
}

impl UpdateUser {
    pub(crate) fn parse(
        self,
        current: Role,
        regions: &RegionsConfig,
    ) -> Result<UserChange, Vec<FieldError>> {
        let mut problems = Vec::new();
        let fields = ScopeFields {
            region: self.region,
            organisation: self.organisation,
            municipality: self.municipality,
        };
        let role_given = self.role.as_deref().is_some_and(|t| !t.trim().is_empty());
        if !role_given && !fields.given() && self.active.is_none() {
            return Err(vec![FieldError::new(
                "body",
                "nothing to change: give active, role or a scope field",
            )]);
        }
        let role = match self.role.as_deref().filter(|_| role_given) {
            Some(text) => parse_role(text, &mut problems),
            None => Some(current),
        };
        let scope = if role_given || fields.given() {
            role.and_then(|role| fields.parse(role, &mut problems))
        } else {
            None
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        if let Some(scope) = &scope {
            scope.validate(regions)?;
        }
        Ok(UserChange {
            active: self.active,
            role: scope,
        })
    }
}

/// An optional text field: blank counts as absent, as forms send it.
fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// The new user with the credentials to hand over; they are not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    pub user: UserRecord,
    /// To hand over to the user; no API token: the user makes their own.
    pub password: String,
}

/// Creates a user with a random password (admins only). No API token:
/// tokens are issued to their owner only.
#[utoipa::path(post, path = "/users", tag = "auth", request_body = CreateUser, responses(
    (status = 201, body = CreatedUserView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, description = "The e-mail address is taken", body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "POST /api/v1/users")]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<CreateUser>,
) -> Result<Response> {
    admin_only(&state, &user, "user.create").await?;
    let new = body.parse(&state.regions).map_err(AppError::Validation)?;
    let created = users::create_user_by(&state.store, &user, new, state.now())
        .await
        .map_err(|err| match err.downcast::<DuplicateEmail>() {
            Ok(taken) => AppError::Conflict(taken.to_string()),
            Err(other) => AppError::from(other),
        })?;
    let record = users::find_user(&state.store, created.id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "user {} vanished after its creation",
                created.id
            ))
        })?;
    let view = CreatedUserView {
        user: record,
        password: created.password,
    };
    Ok((StatusCode::CREATED, NO_STORE, AppJson(view)).into_response())
}

/// Deactivates or reactivates a user, or gives them another role (admins
/// only). An admin cannot deactivate or demote themself, so there is always
/// an admin left to undo a mistake.
#[utoipa::path(patch, path = "/users/{id}", tag = "auth",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserRecord),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An admin cannot deactivate or demote themself; no active admin would be left; the role changed meanwhile", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "PATCH /api/v1/users/{id}")]
pub async fn update_user(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    AppJson(body): AppJson<UpdateUser>,
) -> Result<AppJson<UserRecord>> {
    admin_only(&state, &user, "user.update").await?;
    let Path(target) = id.map_err(|_| AppError::NotFound)?;
    match change_user(&state, &user, target, body).await {
        Ok(record) => Ok(AppJson(record)),
        Err(err) => Err(refused(&state, &user, "user.update", err).await),
    }
}

/// [`update_user`] after the role check; every refusal it returns is audited.
async fn change_user(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
    body: UpdateUser,
) -> Result<UserRecord> {
    let current = users::find_user(&state.store, target)
        .await?
        .ok_or(AppError::NotFound)?;
    let change = body
        .parse(current.role, &state.regions)
        .map_err(AppError::Validation)?;
    let demotes = change.role.as_ref().is_some_and(|s| s.role != Role::Admin);
    if target == user.id && (change.active == Some(false) || demotes) {
        return Err(AppError::refused(
            "an admin cannot deactivate or demote themself; another admin can",
            "Een beheerder kan zichzelf niet deactiveren of een andere rol geven; een andere beheerder kan dat wel.",
        ));
    }
    let outcome = users::update_user(
        &state.store,
        user,
        target,
        current.role,
        &change,
        state.now(),
    )
    .await?;
    outcome.map_err(|refusal| match refusal {
        UpdateRefused::NotFound => AppError::NotFound,
        UpdateRefused::NotAdmin => AppError::Forbidden("only an active admin can change users".into()),
        UpdateRefused::ChangedMeanwhile => AppError::refused(
            "the user's role was changed by someone else at the same time; reload and try again",
            "Iemand anders heeft tegelijk de rol van deze gebruiker gewijzigd; laad de pagina opnieuw en probeer het nog eens.",
        ),
        UpdateRefused::LastAdmin => AppError::refused(
            "this would leave no active admin",
            "Dan blijft er geen actieve beheerder over.",
        ),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. `planning export`; 1 to 100 characters.
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// For revoking it later.
    pub id: i64,
    pub label: String,
    /// Shown once.
    pub token: String,
}

/// Gives the signed-in user another API token. Tokens are issued to their
/// owner only: nobody, an admin neither, obtains a credential to act under
/// another user's name.
#[utoipa::path(post, path = "/users/{id}/tokens", tag = "auth",
    params(("id" = i64, Path, description = "User id")),
    request_body = CreateToken,
    responses(
        (status = 201, body = IssuedTokenView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The user is deactivated", body = ErrorBody),
        (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "POST /api/v1/users/{id}/tokens")]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    id: std::result::Result<Path<i64>, PathRejection>,
    AppJson(body): AppJson<CreateToken>,
) -> Result<Response> {
    let Path(target) = id.map_err(|_| AppError::NotFound)?;
    if user.id != target {
        let refusal = AppError::Forbidden("tokens are issued to their owner only".into());
        return Err(refused(&state, &user, "token.create", refusal).await);
    }
    let label = body.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        let message = format!("1 to {MAX_LABEL_CHARS} characters");
        return Err(AppError::validation("label", message));
    }
    let owner = users::find_user(&state.store, target)
        .await?
        .ok_or(AppError::NotFound)?;
    if !owner.active {
        return Err(AppError::Conflict("the user is deactivated".into()));
    }
    let issued = users::create_token(&state.store, Some(&user), target, label, state.now()).await?;
    let view = IssuedTokenView {
        id: issued.id,
        label: label.to_string(),
        token: issued.token,
    };
    Ok((StatusCode::CREATED, NO_STORE, AppJson(view)).into_response())
}

/// Revokes one of a user's API tokens (admins, or the user themself).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "auth",
    params(("id" = i64, Path, description = "User id"), ("token_id" = i64, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such live token of this user", body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "DELETE /api/v1/users/{id}/tokens/{token_id}")]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ids: std::result::Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode> {
    let Path((target, token_id)) = ids.map_err(|_| AppError::NotFound)?;
    self_or_admin(&state, &user, target, "token.revoke").await?;
    if users::revoke_token(&state.store, Some(&user), target, token_id, state.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Filters of `GET /audit`, as text so each bad one is named.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(value_type = Option<i64>)]
    pub referral_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub user_id: Option<String>,
    /// Rows older than this id: pass `next_before_id` of the previous page.
    #[param(value_type = Option<i64>)]
    pub before_id: Option<String>,
    /// 1 to 1000; default 100.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

impl AuditQuery {
    fn parse(self) -> Result<AuditFilter, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut id = |field: &str, text: Option<String>| {
            let text = given(text)?;
            match text.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    problems.push(FieldError::new(field, "must be a positive whole number"));
                    None
                }
            }
        };
        let referral_id = id("referral_id", self.referral_id);
        let user_id = id("user_id", self.user_id);
        let before_id = id("before_id", self.before_id);
        let limit = match given(self.limit).map(|t| t.parse::<u32>()) {
            None => DEFAULT_AUDIT_LIMIT,
            Some(Ok(n)) if (1..=audit::MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                let message = format!("must be a whole number from 1 to {}", audit::MAX_LIMIT);
                problems.push(FieldError::new("limit", message));
                DEFAULT_AUDIT_LIMIT
            }
        };
        if problems.is_empty() {
            Ok(AuditFilter {
                referral_id,
                user_id,
                before_id,
                limit,
            })
        } else {
            Err(problems)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditRow>,
    /// Pass as `before_id` for the next page; absent on the last page.
    pub next_before_id: Option<i64>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/audit", tag = "auth", params(AuditQuery), responses(
    (status = 200, body = AuditPage),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
#[tracing::instrument(skip_all, name = "GET /api/v1/audit")]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    query: std::result::Result<Query<AuditQuery>, QueryRejection>,
) -> Result<AppJson<AuditPage>> {
    admin_only(&state, &user, "audit.read").await?;
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let filter = query.parse().map_err(AppError::Validation)?;
    let entries = audit::list(&state.store, filter).await?;
    let full = entries.len() == usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let next_before_id = entries.last().filter(|_| full).map(|row| row.id);
    Ok(AppJson(AuditPage {
        entries,
        next_before_id,
    }))
}

pub(crate) async fn admin_only(state: &AppState, user: &CurrentUser, action: &str) -> Result<()> {
    match user.require(&[Role::Admin]) {
        Ok(()) => Ok(()),
        Err(refusal) => Err(refused(state, user, action, refusal).await),
    }
}

async fn self_or_admin(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
    action: &str,
) -> Result<()> {
    if user.id == target || user.is(Role::Admin) {
        return Ok(());
    }
    let refusal =
        AppError::Forbidden("only an admin or the user themself can manage a user's tokens".into());
    Err(refused(state, user, action, refusal).await)
}

/// Records a refusal and hands it back. The refusal stands even when its
/// audit row cannot be written; that failure is logged.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    refusal: AppError,
) -> AppError {
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: None,
        result: "refused",
        detail: refusal.reason().map(str::to_string),
    };
    audit::refusal(&state.store, entry, refusal).await
}
