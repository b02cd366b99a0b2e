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
    pub id: i64,
    pub token: String,
}

pub(super) async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    label: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(secrets::token_hash(token))
    .bind(label)
    .bind(to_millis(now))
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")
}

/// Gives `user_id` another API token. The caller checks that the user
/// exists and that `actor` may do this.
#[tracing::instrument(skip(store, actor, label, now))]
pub async fn create_token(
    store: &Store,
    actor: Option<&CurrentUser>,
    user_id: i64,
    label: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<IssuedToken> {
    let token = secrets::new_token()?;
    let mut tx = store.write().await.context("starting the transaction")?;
    let id = insert_token(&mut tx, user_id, label, &token, now)
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

/// The active user owning this live token, or `None`.
pub async fn user_by_token(store: &Store, token: &str) -> Result<Option<CurrentUser>, sqlx::Error> {
    if !token.starts_with(secrets::TOKEN_PREFIX) {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = $2"
    ))
    .bind(secrets::token_hash(token))
    .bind(true)
    .fetch_optional(&store.pool)
    .await?;
    row.as_ref().map(current_user).transpose()
}
