//! User administration, for admins: users and their roles, and the audit
//! log. Every refusal is audited; no admin ever gets a credential of
//! another user (a new user's one-time password is for handing over).
//! The JSON API and the admin pages both call these functions.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::audit::{self, AuditEntry, AuditFilter, AuditRow};
use super::users::{
    self, DuplicateEmail, NewUser, RoleScope, UpdateRefused, UserChange, UserRecord,
};
use super::{CurrentUser, Role};
use crate::config::{CbsCode, Email, RegionId, RegionsConfig};
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;

/// The default and largest number of audit rows a page shows.
const DEFAULT_AUDIT_LIMIT: u32 = 100;

/// A user to create. Strings rather than typed fields, so that every wrong
/// field is reported at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The e-mail address the user signs in with.
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
    /// Parses every field, reporting each wrong one.
    ///
    /// # Errors
    /// One [`FieldError`] per wrong field.
    pub fn parse(self, regions: &RegionsConfig) -> std::result::Result<NewUser, Vec<FieldError>> {
        let mut problems = Vec::new();
        let email = Email::parse(self.email.trim())
            .map_err(|e| {
                problems.push(FieldError::both(
                    "email",
                    e.to_string(),
                    "Vul een geldig e-mailadres in, bijv. naam@gemeente.nl.",
                ))
            })
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
        problems.push(FieldError::both(
            "role",
            format!("must be one of {}", Role::names()),
            "Kies een rol.",
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
                .map_err(|e| {
                    problems.push(FieldError::both(
                        "region",
                        e.to_string(),
                        "Deze regio bestaat niet.",
                    ))
                })
                .ok()
        });
        let municipality = given(self.municipality).and_then(|text| {
            CbsCode::parse(&text)
                .map_err(|e| {
                    problems.push(FieldError::both(
                        "municipality",
                        e.to_string(),
                        "Geen geldige CBS-code; gebruik bijv. GM0228.",
                    ))
                })
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
    /// Parses the change of a user whose role is `current`.
    ///
    /// # Errors
    /// One [`FieldError`] per wrong field, or one on `body` for no change.
    pub fn parse(
        self,
        current: Role,
        regions: &RegionsConfig,
    ) -> std::result::Result<UserChange, Vec<FieldError>> {
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

/// All users, oldest first (admins only).
///
/// # Errors
/// Not an admin (audited); storage errors.
pub async fn list(state: &AppState, actor: &CurrentUser) -> Result<Vec<UserRecord>> {
    admin_only(state, actor, "user.list").await?;
    Ok(users::list_users(&state.store).await?)
}

/// Creates a user with a random one-time password to hand over (admins
/// only). No API token: tokens are issued to their owner only.
///
/// # Errors
/// Not an admin; invalid fields; the e-mail address taken (refused); all
/// audited; storage errors.
pub async fn create(
    state: &AppState,
    actor: &CurrentUser,
    body: CreateUser,
) -> Result<(UserRecord, String)> {
    admin_only(state, actor, "user.create").await?;
    let work = async {
        let new = body.parse(&state.regions).map_err(Error::Invalid)?;
        let created = users::create_user_by(&state.store, actor, new, state.now())
            .await
            .map_err(|err| match err.downcast::<DuplicateEmail>() {
                Ok(taken) => Error::refused(
                    taken.to_string(),
                    "Er is al een gebruiker met dit e-mailadres.",
                ),
                Err(other) => Error::Internal(other),
            })?;
        let record = users::find_user(&state.store, created.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user {} vanished after its creation", created.id))?;
        Ok((record, created.password))
    };
    match work.await {
        Ok(done) => Ok(done),
        Err(err) => Err(refused(state, actor, "user.create", err).await),
    }
}

/// Deactivates or reactivates a user, or gives them another role (admins
/// only). An admin cannot deactivate or demote themself, so there is always
/// an admin left to undo a mistake.
///
/// # Errors
/// Not an admin; no such user; invalid fields; a self-demotion, the last
/// admin, or a change meanwhile (refused); all audited; storage errors.
pub async fn update(
    state: &AppState,
    actor: &CurrentUser,
    target: i64,
    body: UpdateUser,
) -> Result<UserRecord> {
    admin_only(state, actor, "user.update").await?;
    match change_user(state, actor, target, body).await {
        Ok(record) => Ok(record),
        Err(err) => Err(refused(state, actor, "user.update", err).await),
    }
}

/// [`update`] after the role check; every refusal it returns is audited.
async fn change_user(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
    body: UpdateUser,
) -> std::result::Result<UserRecord, Error> {
    let current = users::find_user(&state.store, target)
        .await?
        .ok_or(Error::NotFound)?;
    let change = body
        .parse(current.role, &state.regions)
        .map_err(Error::Invalid)?;
    let demotes = change.role.as_ref().is_some_and(|s| s.role != Role::Admin);
    if target == user.id && (change.active == Some(false) || demotes) {
        return Err(Error::refused(
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
        UpdateRefused::NotFound => Error::NotFound,
        UpdateRefused::NotAdmin => Error::NotAllowed("only an active admin can change users".into()),
        UpdateRefused::ChangedMeanwhile => Error::refused(
            "the user's role was changed by someone else at the same time; reload and try again",
            "Iemand anders heeft tegelijk de rol van deze gebruiker gewijzigd; laad de pagina opnieuw en probeer het nog eens.",
        ),
        UpdateRefused::LastAdmin => Error::refused(
            "this would leave no active admin",
            "Dan blijft er geen actieve beheerder over.",
        ),
    })
}

/// Filters of `GET /audit`, as text so each bad one is named.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only rows about this referral: a positive whole number.
    #[param(value_type = Option<i64>)]
    pub referral_id: Option<String>,
    /// Only rows of this user: a positive whole number.
    #[param(value_type = Option<i64>)]
    pub user_id: Option<String>,
    /// Rows older than this id: pass `next_before_id` of the previous page.
    #[param(value_type = Option<i64>)]
    pub before_id: Option<String>,
    /// 1 to 1000; default 100.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Only rows of this action, e.g. `referral.read` (see the list in the
    /// README).
    pub action: Option<String>,
    /// Only rows on or after this local date (`YYYY-MM-DD`, Europe/Amsterdam).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Only rows on or before this local date (`YYYY-MM-DD`, Europe/Amsterdam).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

impl AuditQuery {
    /// The filter these texts give; dates are local days in `tz`.
    ///
    /// # Errors
    /// One [`FieldError`] per unreadable filter: not a positive whole
    /// number, an unknown action, not a date, `to` before `from`.
    pub fn parse(self, tz: chrono_tz::Tz) -> std::result::Result<AuditFilter, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut id = |field: &str, text: Option<String>| {
            let text = given(text)?;
            match text.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    problems.push(FieldError::both(
                        field,
                        "must be a positive whole number",
                        "Vul een positief geheel getal in.",
                    ));
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
        let action = given(self.action).and_then(|text| {
            let known = audit::ACTIONS.iter().find(|a| **a == text).copied();
            if known.is_none() {
                problems.push(FieldError::both(
                    "action",
                    "is not an action of the audit log",
                    "Kies een actie uit de lijst.",
                ));
            }
            known
        });
        let mut day = |field: &str, text: Option<String>| {
            let text = given(text)?;
            match chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                Ok(day) => Some(day),
                Err(_) => {
                    problems.push(FieldError::both(
                        field,
                        "must be a date YYYY-MM-DD",
                        "Vul een datum in (jjjj-mm-dd).",
                    ));
                    None
                }
            }
        };
        let (from, to) = (day("from", self.from), day("to", self.to));
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                problems.push(FieldError::both(
                    "to",
                    "is before from",
                    "Ligt vóór de begindatum.",
                ));
            }
        }
        let start = |day: chrono::NaiveDate| {
            crate::calendar::local_to_utc(tz, day.and_time(chrono::NaiveTime::MIN))
        };
        if problems.is_empty() {
            Ok(AuditFilter {
                referral_id,
                user_id,
                before_id,
                limit,
                action,
                from: from.map(start),
                until: to.and_then(|d| d.succ_opt()).map(start),
            })
        } else {
            Err(problems)
        }
    }
}

/// A page of the audit log, newest first (admins only).
///
/// # Errors
/// Not an admin (audited); storage errors.
pub async fn read_log(
    state: &AppState,
    actor: &CurrentUser,
    filter: AuditFilter,
) -> Result<Vec<AuditRow>> {
    admin_only(state, actor, "audit.read").await?;
    Ok(audit::list(&state.store, filter).await?)
}

/// Refuses (and audits) anyone but an admin.
///
/// # Errors
/// [`Error::NotAllowed`] for every other role.
pub async fn admin_only(state: &AppState, user: &CurrentUser, action: &str) -> Result<()> {
    match user.require(&[Role::Admin]) {
        Ok(()) => Ok(()),
        Err(refusal) => Err(refused(state, user, action, refusal).await),
    }
}

/// Records a refusal and hands it back. The refusal stands even when its
/// audit row cannot be written; that failure is logged.
pub(crate) async fn refused(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    refusal: Error,
) -> Error {
    let entry = AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: None,
        result: "refused",
        detail: refusal.audit_detail(),
    };
    audit::refusal(&state.store, entry, refusal).await
}
