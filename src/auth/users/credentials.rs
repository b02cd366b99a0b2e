//! Credentials: passwords (Argon2id, hashed off the async threads) and API
//! tokens (only their SHA-256 is stored).

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{changed, current_user, is_active, USER_COLUMNS};
use crate::auth::audit::{self};
use crate::auth::{secrets, CurrentUser};
use crate::config::Email;
use crate::store::time::to_millis;
use crate::store::Store;

pub(super) async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .context("the password hashing task failed")?
}

/// A new API token, shown once.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token's id (for listing and revoking).
    pub id: i64,
    /// The token itself (`jbt_` and 43 base64url characters); only its SHA-256
    /// is stored, so it cannot be shown again.
    pub token: String,
}

pub(super) async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    label: &str,
    token: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(secrets::token_hash(token))
    .bind(label)
    .bind(to_millis(now))
    .bind(to_millis(expires))
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")
}

/// Gives `user_id` another API token, valid until `expires`. The caller
/// checks that the user exists and that `actor` may do this.
#[tracing::instrument(skip(store, actor, label, now))]
pub async fn create_token(
    store: &Store,
    actor: Option<&CurrentUser>,
    user_id: i64,
    label: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> anyhow::Result<IssuedToken> {
    let token = secrets::new_token()?;
    let mut tx = store.write().await.context("starting the transaction")?;
    let id = insert_token(&mut tx, user_id, label, &token, now, expires)
        .await
        .context("inserting the token")?;
    let detail = format!("token {id} ({label}) for user {user_id}");
    audit::record(&mut tx, changed(now, actor, "token.create", detail))
        .await
        .context("writing the audit row")?;
    tx.commit().await.context("committing the token")?;
    Ok(IssuedToken { id, token })
}

/// Revokes token `token_id` of `user_id`; false when there is no such
/// live token (unknown, someone else's, or already revoked).
#[tracing::instrument(skip(store, actor, now))]
pub async fn revoke_token(
    store: &Store,
    actor: Option<&CurrentUser>,
    user_id: i64,
    token_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let mut tx = store.write().await?;
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(token_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if revoked {
        let detail = format!("token {token_id} of user {user_id}");
        audit::record(&mut tx, changed(now, actor, "token.revoke", detail)).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// The active user with this e-mail address and password, or `None`.
///
/// Takes about as long for an unknown address as for a wrong password
/// (see [`secrets::dummy_hash`]). Returns an error only when the database
/// or the hashing task fails.
#[tracing::instrument(skip_all)]
pub async fn verify_password(
    store: &Store,
    email: &Email,
    password: &str,
) -> anyhow::Result<Option<CurrentUser>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
    ))
    .bind(email.as_str())
    .fetch_optional(&store.pool)
    .await?;
    let (user, stored) = match &row {
        Some(row) => {
            let user = is_active(row)?.then(|| current_user(row)).transpose()?;
            (user, row.try_get::<String, _>("password_hash")?)
        }
        None => (None, secrets::dummy_hash().to_string()),
    };
    let password = password.to_string();
    let matches =
        tokio::task::spawn_blocking(move || secrets::password_matches(&stored, &password))
            .await
            .context("the password check task failed")?;
    Ok(user.filter(|_| matches))
}

/// The active user owning this live token at `now` (not revoked, not
/// expired), or `None`. Records the token's use, at most once a minute.
pub async fn user_by_token(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    if !token.starts_with(secrets::TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::token_hash(token);
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = $2
           AND (t.expires_at IS NULL OR t.expires_at > $3)"
    ))
    .bind(&hash)
    .bind(true)
    .bind(to_millis(now))
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let last_used: Option<i64> = row.try_get("last_used_at")?;
    if last_used.is_none_or(|at| to_millis(now) - at >= 60_000) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(to_millis(now))
            .bind(&hash)
            .execute(&store.pool)
            .await?;
    }
    current_user(&row).map(Some)
}

/// An API token as its owner sees it: never the token itself.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenRecord {
    /// For revoking it.
    pub id: i64,
    /// What it is for.
    pub label: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working (`None` only for tokens older than expiry).
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// User `user_id`'s tokens, newest first.
pub async fn list_tokens(store: &Store, user_id: i64) -> Result<Vec<TokenRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, label, created_at, expires_at, last_used_at, revoked_at
         FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(&store.pool)
    .await?;
    let at =
        |row: &sqlx::any::AnyRow, column: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
            Ok(row
                .try_get::<Option<i64>, _>(column)?
                .map(crate::store::time::from_millis))
        };
    rows.iter()
        .map(|row| {
            Ok(TokenRecord {
                id: row.try_get("id")?,
                label: row.try_get("label")?,
                created_at: crate::store::time::from_millis(row.try_get("created_at")?),
                expires_at: at(row, "expires_at")?,
                last_used_at: at(row, "last_used_at")?,
                revoked_at: at(row, "revoked_at")?,
            })
        })
        .collect()
}

/// What a login needs to know beyond the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFlags {
    /// The password was made by an admin and must be changed first.
    pub must_change_password: bool,
    /// The user has a second factor (a TOTP secret).
    pub has_second_factor: bool,
}

/// The [`LoginFlags`] of user `id` (all false for an unknown id).
pub async fn login_flags(store: &Store, id: i64) -> Result<LoginFlags, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CASE WHEN must_change_password THEN 1 ELSE 0 END AS must_change,
                CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS has_totp
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else {
        return Ok(LoginFlags::default());
    };
    Ok(LoginFlags {
        must_change_password: row.try_get::<i64, _>("must_change")? == 1,
        has_second_factor: row.try_get::<i64, _>("has_totp")? == 1,
    })
}

/// Sets user `id`'s password and ends the duty to change it; returns the
/// open transaction so the caller writes its audit row in it.
///
/// # Errors
/// Hashing or database errors.
pub async fn set_password(
    store: &Store,
    id: i64,
    password: &str,
) -> anyhow::Result<crate::store::WriteTx> {
    let hash = hash_off_thread(password.to_string()).await?;
    let mut tx = store.write().await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
        .bind(hash)
        .bind(false)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Makes user `id` change their password at the next login (a password
/// the operator handed over is known to two people).
pub async fn require_password_change(store: &Store, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2")
        .bind(true)
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}
