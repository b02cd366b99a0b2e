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
}

/// Gives `user` (who must be `target`) another API token.
///
/// # Errors
/// Someone else's (not allowed, audited); an empty or too long label; a
/// deactivated user (refused); storage errors.
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
    let owner = users::find_user(&state.store, target)
        .await?
        .ok_or(Error::NotFound)?;
    if !owner.active {
        return Err(Error::refused(
            "the user is deactivated",
            "Deze gebruiker is gedeactiveerd.",
        ));
    }
    let issued = users::create_token(&state.store, Some(user), target, label, state.now()).await?;
    Ok(IssuedTokenView {
        id: issued.id,
        label: label.to_string(),
        token: issued.token,
    })
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
