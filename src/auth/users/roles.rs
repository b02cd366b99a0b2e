//! Changing a user: deactivating, reactivating, another role. Serialised
//! with a check that one active admin remains.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{changed, user_by_id, RoleScope, UserRecord};
use crate::auth::audit::{self};
use crate::auth::{CurrentUser, Role};
use crate::config::{CbsCode, RegionId};
use crate::store::time::to_millis;
use crate::store::Store;

/// A change to a user (admins only; the caller checks that).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// `Some(false)` deactivates, `Some(true)` reactivates.
    pub active: Option<bool>,
    /// A new role with its scope, validated as at creation
    /// ([`NewUser::validate`](super::NewUser::validate)).
    pub role: Option<RoleScope>,
}

/// Why [`update_user`] made no change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateRefused {
    /// There is no user with that id.
    NotFound,
    /// The acting user is no longer an active admin.
    NotAdmin,
    /// The user's role is no longer the one the change was checked against.
    ChangedMeanwhile,
    /// The change would leave no active admin.
    LastAdmin,
}

/// Applies `change` to user `id`, whose role the caller read as
/// `expected_role` (and checked the change against).
///
/// Changes to users are serialised (SQLite has one writer; PostgreSQL takes
/// a transaction-scoped advisory lock), so two admins cannot demote each
/// other at the same moment and leave none: inside the lock the actor must
/// still be an active admin, and one active admin must remain afterwards.
///
/// Deactivating ends the user's sessions and revokes their API tokens in
/// the same transaction, so a later reactivation brings neither back.
#[tracing::instrument(skip(store, actor, change, now))]
pub async fn update_user(
    store: &Store,
    actor: &CurrentUser,
    id: i64,
    expected_role: Role,
    change: &UserChange,
    now: DateTime<Utc>,
) -> Result<Result<UserRecord, UpdateRefused>, sqlx::Error> {
    let mut tx = store.write().await?;
    tx.lock(USER_ADMIN_LOCK).await?;
    let active_admin =
        sqlx::query("SELECT id FROM users WHERE id = $1 AND role = $2 AND active = $3")
            .bind(actor.id)
            .bind(Role::Admin.as_str())
            .bind(true)
            .fetch_optional(&mut *tx)
            .await?;
    if active_admin.is_none() {
        return Ok(Err(UpdateRefused::NotAdmin));
    }
    let Some(before) = user_by_id(&mut tx, id).await? else {
        return Ok(Err(UpdateRefused::NotFound));
    };
    if before.role != expected_role {
        return Ok(Err(UpdateRefused::ChangedMeanwhile));
    }
    let mut said = Vec::new();
    if let Some(scope) = &change.role {
        sqlx::query(
            "UPDATE users SET role = $1, region_id = $2, organisation = $3, municipality_cbs = $4 WHERE id = $5",
        )
        .bind(scope.role.as_str())
        .bind(scope.region.as_ref().map(RegionId::as_str))
        .bind(scope.organisation.as_deref().map(str::trim))
        .bind(scope.municipality.as_ref().map(CbsCode::as_str))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        said.push(describe_scope(scope));
    }
    if let Some(active) = change.active.filter(|&a| a != before.active) {
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !active {
            end_access(&mut tx, id, now).await?;
        }
        said.push(if active { "reactivated" } else { "deactivated" }.to_string());
    }
    let admins: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = $1 AND active = $2")
            .bind(Role::Admin.as_str())
            .bind(true)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
    if admins == 0 {
        return Ok(Err(UpdateRefused::LastAdmin));
    }
    let record = user_by_id(&mut tx, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    if said.is_empty() {
        // Nothing changed (e.g. reactivating an active user): no audit row
        // claims a change that did not happen.
        return Ok(Ok(record));
    }
    let detail = format!("user {id}: {}", said.join(", "));
    audit::record(&mut tx, changed(now, Some(actor), "user.update", detail)).await?;
    tx.commit().await?;
    Ok(Ok(record))
}

/// The key of the PostgreSQL advisory lock that serialises user changes.
const USER_ADMIN_LOCK: i64 = 0x006a_6274_7573_6572; // "jbtuser"

/// A deactivated user's sessions end and their tokens are revoked.
async fn end_access(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn describe_scope(scope: &RoleScope) -> String {
    let within = scope
        .region
        .as_ref()
        .map(|r| format!(" in {r}"))
        .or_else(|| scope.municipality.as_ref().map(|m| format!(" for {m}")))
        .or_else(|| {
            scope
                .organisation
                .as_ref()
                .map(|o| format!(" at {}", o.trim()))
        })
        .unwrap_or_default();
    format!("role {}{within}", scope.role)
}
