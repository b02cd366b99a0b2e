//! Users and their credentials in the database (`users`, `api_tokens`).
//!
//! Functions that change a user or a token take the acting user (`None`
//! for the command line and the demo seed) and write the audit row in the
//! same transaction as the change, so no change goes unrecorded.

mod credentials;
mod roles;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::auth::audit::{self, AuditEntry};
use crate::auth::{secrets, CurrentUser, Role};
use crate::config::{CbsCode, Email, RegionId, RegionsConfig};
use crate::error::FieldError;
use crate::store::time::{from_millis, to_millis};
use crate::store::{is_unique_violation, Store};

pub use credentials::{
    create_token, list_tokens, login_flags, require_password_change, revoke_token, set_password,
    user_by_token, verify_password, IssuedToken, LoginFlags, TokenRecord,
};
use credentials::{hash_off_thread, insert_token};
pub use roles::{update_user, UpdateRefused, UserChange};

/// The label of the token made together with the user.
pub const INITIAL_TOKEN_LABEL: &str = "initial";

/// A user to be created. Fields are typed, so only the combination of role
/// and scope is left to [`NewUser::validate`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The e-mail address the user signs in with.
    pub email: Email,
    /// The user's role.
    pub role: Role,
    /// Chairs: their region.
    pub region: Option<RegionId>,
    /// Referrers: their organisation.
    pub organisation: Option<String>,
    /// Municipal contacts: their municipality (CBS code).
    pub municipality: Option<CbsCode>,
}

impl NewUser {
    /// See [`RoleScope::validate`].
    pub fn validate(&self, regions: &RegionsConfig) -> Result<(), Vec<FieldError>> {
        RoleScope {
            role: self.role,
            region: self.region.clone(),
            organisation: self.organisation.clone(),
            municipality: self.municipality.clone(),
        }
        .validate(regions)
    }
}

impl RoleScope {
    /// Each role carries exactly the scope it is limited to, and that scope
    /// exists: a chair an existing region, a referrer an organisation, a
    /// municipal contact an existing municipality. Coordinators and admins
    /// carry none (a stray scope would suggest a limit that is not applied).
    pub fn validate(&self, regions: &RegionsConfig) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        let organisation = self.organisation.as_deref().map(str::trim);
        let (needs_region, needs_organisation, needs_municipality) = match self.role {
            Role::Chair | Role::Secretary => (true, false, false),
            Role::Referrer => (false, true, false),
            Role::MunicipalContact => (false, false, true),
            Role::Coordinator | Role::Admin => (false, false, false),
        };
        match (&self.region, needs_region) {
            (None, true) => problems.push(FieldError::both(
                "region",
                format!("a {} needs a region", self.role.as_str()),
                "Een voorzitter of secretaris hoort bij een tafel: kies de regio.",
            )),
            (Some(id), true) if regions.region(id).is_none() => problems.push(FieldError::both(
                "region",
                format!("unknown region {id}"),
                "Deze regio bestaat niet.",
            )),
            (Some(_), false) => problems.push(not_for_role("region", self.role)),
            _ => {}
        }
        match (organisation, needs_organisation) {
            (None | Some(""), true) => problems.push(FieldError::both(
                "organisation",
                "a referrer needs an organisation",
                "Een verwijzer hoort bij een organisatie: vul die in.",
            )),
            (Some(name), true) if name.chars().count() > MAX_ORGANISATION_CHARS => {
                problems.push(FieldError::both(
                    "organisation",
                    format!("at most {MAX_ORGANISATION_CHARS} characters"),
                    format!("Hoogstens {MAX_ORGANISATION_CHARS} tekens."),
                ))
            }
            (Some(_), false) => problems.push(not_for_role("organisation", self.role)),
            _ => {}
        }
        match (&self.municipality, needs_municipality) {
            (None, true) => problems.push(FieldError::both(
                "municipality",
                "a municipal contact needs a municipality",
                "Een contactpersoon hoort bij een gemeente: vul de CBS-code in (bijv. GM0228).",
            )),
            (Some(code), true) if regions.municipality(code.as_str()).is_none() => {
                problems.push(FieldError::both(
                    "municipality",
                    format!("no participating municipality {code}"),
                    "Deze gemeente doet niet mee aan de tafels van Gelderland.",
                ))
            }
            (Some(_), false) => problems.push(not_for_role("municipality", self.role)),
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

const MAX_ORGANISATION_CHARS: usize = 200;

fn not_for_role(field: &str, role: Role) -> FieldError {
    FieldError::both(
        field,
        format!("a user with role {role} has no {field}"),
        "Deze rol gebruikt dit veld niet; laat het leeg.",
    )
}

/// A new user's credentials, shown once: only their hashes are stored.
#[derive(Debug)]
pub struct CreatedUser {
    /// The new user's id.
    pub id: i64,
    /// The random initial password, to hand over; only its Argon2id hash is
    /// stored.
    pub password: String,
}

/// A user the operator made (command line, demo seed, tests): with an
/// initial API token, which no admin-made user gets.
#[derive(Debug)]
pub struct BootstrapUser {
    /// The new user's id.
    pub id: i64,
    /// The random initial password; only its Argon2id hash is stored.
    pub password: String,
    /// The initial API token (`jbt_...`); only its SHA-256 is stored.
    pub token: String,
}

/// Creating a user failed because the address is taken (409 in the API).
#[derive(Debug, thiserror::Error)]
#[error("a user with e-mail address {0} already exists")]
pub struct DuplicateEmail(pub String);

/// A user as listed to admins: no credential, not even a hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRecord {
    /// The user's id.
    pub id: i64,
    /// The e-mail address the user signs in with.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// Chairs: their region.
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionId>,
    /// Referrers: their organisation.
    pub organisation: Option<String>,
    /// Municipal contacts: their municipality (CBS code).
    #[schema(value_type = Option<String>)]
    pub municipality: Option<CbsCode>,
    /// Whether the user may sign in; deactivated users are kept, not deleted.
    pub active: bool,
    /// When the user was created (UTC).
    pub created_at: DateTime<Utc>,
}

/// Creates a user with a random password and an initial API token, on
/// behalf of no one: the operator at the command line, the demo seed,
/// tests. Does not call [`NewUser::validate`]; callers that take outside
/// input do.
///
/// # Errors
/// A taken e-mail address is a [`DuplicateEmail`] error; database errors.
pub async fn create_user(
    store: &Store,
    user: NewUser,
    token_days: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<BootstrapUser> {
    let (created, token) = create(store, None, user, token_days, now).await?;
    let token = token.context("an operator's new user has a token")?;
    Ok(BootstrapUser {
        id: created.id,
        password: created.password,
        token,
    })
}

/// A user created by an admin (`actor`, named in the audit row): a random
/// password to hand over, and no API token. Tokens are issued to their
/// owner only, so no admin ever holds a credential to act as someone else.
///
/// # Errors
/// A taken e-mail address is a [`DuplicateEmail`] error; database errors.
pub async fn create_user_by(
    store: &Store,
    actor: &CurrentUser,
    user: NewUser,
    now: DateTime<Utc>,
) -> anyhow::Result<CreatedUser> {
    Ok(create(store, Some(actor), user, 0, now).await?.0)
}

/// With no `actor` (the operator) the user also gets an initial token,
/// valid for `token_days`.
#[tracing::instrument(skip_all, fields(role = %user.role))]
async fn create(
    store: &Store,
    actor: Option<&CurrentUser>,
    user: NewUser,
    token_days: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<(CreatedUser, Option<String>)> {
    let password = secrets::new_password()?;
    let token = match actor {
        None => Some(secrets::new_token()?),
        Some(_) => None,
    };
    // Hash before taking the write lock: it is the slow part.
    let password_hash = hash_off_thread(password.clone()).await?;
    let mut tx = store.write().await.context("starting the transaction")?;
    // A password an admin made is known to two people: it must be changed
    // at the first login. The operator's (command line, demo) is not.
    let must_change = actor.is_some();
    let id = match insert_user(&mut tx, &user, &password_hash, must_change, now).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(DuplicateEmail(user.email.to_string()).into())
        }
        Err(e) => return Err(anyhow::Error::new(e).context("inserting the user")),
    };
    if let Some(token) = &token {
        let expires = now + chrono::Duration::days(i64::from(token_days));
        insert_token(&mut tx, id, INITIAL_TOKEN_LABEL, token, now, expires)
            .await
            .context("inserting the initial token")?;
    }
    let detail = format!("user {id} {} as {}", user.email, user.role);
    audit::record(&mut tx, changed(now, actor, "user.create", detail))
        .await
        .context("writing the audit row")?;
    tx.commit().await.context("committing the new user")?;
    Ok((CreatedUser { id, password }, token))
}

/// The audit row of a change to a user or token (never about a referral).
fn changed<'a>(
    at: DateTime<Utc>,
    actor: Option<&'a CurrentUser>,
    action: &'a str,
    detail: String,
) -> AuditEntry<'a> {
    AuditEntry {
        at,
        user: actor,
        action,
        referral_id: None,
        result: "ok",
        detail: Some(detail),
    }
}

async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    user: &NewUser,
    password_hash: &str,
    must_change_password: bool,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (email, role, region_id, organisation, municipality_cbs, password_hash, active, created_at, must_change_password)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(user.email.as_str())
    .bind(user.role.as_str())
    .bind(user.region.as_ref().map(RegionId::as_str))
    .bind(user.organisation.as_deref().map(str::trim))
    .bind(user.municipality.as_ref().map(CbsCode::as_str))
    .bind(password_hash)
    .bind(true)
    .bind(to_millis(now))
    .bind(must_change_password)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")
}

/// A role and the scope that goes with it.
#[derive(Debug, Clone)]
pub struct RoleScope {
    /// The role.
    pub role: Role,
    /// The region, for a chair.
    pub region: Option<RegionId>,
    /// The organisation, for a referrer.
    pub organisation: Option<String>,
    /// The municipality (CBS code), for a municipal contact.
    pub municipality: Option<CbsCode>,
}

/// User `id` as listed to admins; `None` when there is no such user.
///
/// # Errors
/// Any database error.
pub async fn find_user(store: &Store, id: i64) -> Result<Option<UserRecord>, sqlx::Error> {
    user_by_id(&mut *store.pool.acquire().await?, id).await
}

/// User `id` as stored, read on `conn` (inside a transaction, its view).
async fn user_by_id(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_record).transpose()
}

/// All users, oldest first.
pub async fn list_users(store: &Store) -> Result<Vec<UserRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(user_record).collect()
}

/// The columns [`current_user`] and [`user_record`] read, from `users u`.
///
/// `active` comes back as 0 or 1: sqlx's `Any` driver cannot decode a
/// SQLite `BOOLEAN` column, and a `CASE` is an integer on both backends.
pub(super) const USER_COLUMNS: &str =
    "u.id, u.email, u.role, u.region_id, u.organisation, u.municipality_cbs,
     CASE WHEN u.active THEN 1 ELSE 0 END AS active, u.created_at";

fn is_active(row: &AnyRow) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>("active")? == 1)
}

pub(super) fn current_user(row: &AnyRow) -> Result<CurrentUser, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(CurrentUser {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        region: parse_column(row, "region_id", RegionId::parse)?,
        organisation: row.try_get("organisation")?,
        municipality: parse_column(row, "municipality_cbs", CbsCode::parse)?,
    })
}

fn user_record(row: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    let user = current_user(row)?;
    Ok(UserRecord {
        id: user.id,
        email: user.email,
        role: user.role,
        region: user.region,
        organisation: user.organisation,
        municipality: user.municipality,
        active: is_active(row)?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

/// Reads an optional text column through a newtype's parser; a value the
/// parser refuses was not written by this code and is reported as corrupt.
fn parse_column<T, E>(
    row: &AnyRow,
    column: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| parse(&t).map_err(|_| corrupt(column, &t)))
        .transpose()
}

fn corrupt(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad {column} {value:?} in the users table").into())
}
