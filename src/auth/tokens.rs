//! API tokens, for their owner: issued to their owner only (nobody, an
//! admin neither, obtains a credential to act under another user's name),
//! revoked by the owner or an admin.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::refused;
use super::users;
use super::{CurrentUser, Role};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Longest token label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. `planning export`; 1 to 100 characters.
    pub label: String,
    /// The owner's password: a credential that outlives a session is only
    /// made after the password is entered again (ASVS 5.0 7.5.1).
    pub password: String,
}

/// A new token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// For revoking it later.
    pub id: i64,
    /// What it is for.
    pub label: String,
    /// The token itself; only its hash is kept.
    pub token: String,
    /// When it stops working (`web.token_days` after it was made).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Gives `user` (who must be `target`) another API token.
///
/// # Errors
/// Someone else's (not allowed, audited); an empty or too long label or a
/// wrong password (invalid); a deactivated user (refused); storage errors.
pub async fn create_own(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
    body: &CreateToken,
) -> Result<IssuedTokenView> {
    if user.id != target {
        let refusal = Error::NotAllowed("tokens are issued to their owner only".into());
        return Err(refused(state, user, "token.create", refusal).await);
    }
    let label = body.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::invalid(
            "label",
            format!("1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    let email = crate::config::Email::parse(&user.email).map_err(|e| Error::Internal(e.into()))?;
    let confirmed = users::verify_password(&state.store, &email, &body.password)
        .await?
        .is_some_and(|found| found.id == user.id);
    if !confirmed {
        return Err(Error::Invalid(vec![crate::error::FieldError::both(
            "password",
            "wrong password",
            "Uw wachtwoord klopt niet.",
        )]));
    }
    let owner = users::find_user(&state.store, target)
        .await?
        .ok_or(Error::NotFound)?;
    if !owner.active {
        return Err(Error::refused(
            "the user is deactivated",
            "Deze gebruiker is gedeactiveerd.",
        ));
    }
    let now = state.now();
    let expires_at = now + chrono::Duration::days(i64::from(state.settings.web.token_days));
    let issued =
        users::create_token(&state.store, Some(user), target, label, now, expires_at).await?;
    Ok(IssuedTokenView {
        id: issued.id,
        label: label.to_string(),
        token: issued.token,
        expires_at,
    })
}

/// `target`'s API tokens, newest first, for their owner only.
///
/// # Errors
/// Someone else's (not allowed, audited); storage errors.
pub async fn list_own(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
) -> Result<Vec<users::TokenRecord>> {
    if user.id != target {
        let refusal = Error::NotAllowed("tokens are listed to their owner only".into());
        return Err(refused(state, user, "token.list", refusal).await);
    }
    Ok(users::list_tokens(&state.store, target).await?)
}

/// Revokes one of `target`'s live API tokens (the user themself, or an
/// admin).
///
/// # Errors
/// Another user's, unless an admin (not allowed, audited); no such live
/// token of that user (not found); storage errors.
pub async fn revoke(
    state: &AppState,
    user: &CurrentUser,
    target: i64,
    token_id: i64,
) -> Result<()> {
    if user.id != target && !user.is(Role::Admin) {
        let refusal = Error::NotAllowed(
            "only an admin or the user themself can manage a user's tokens".into(),
        );
        return Err(refused(state, user, "token.revoke", refusal).await);
    }
    if users::revoke_token(&state.store, Some(user), target, token_id, state.now()).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}
