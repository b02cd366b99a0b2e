//! A user changes their own password (ASVS 5.0 6.2.2), and the rules a new
//! password must meet (6.2.1, 6.2.4, 6.2.11, 6.2.12): at least
//! [`MIN_CHARS`] characters, at most [`MAX_CHARS`], not guessable (zxcvbn
//! score 3 or more, knowing the user's address and this service's name), not
//! the current one. No composition rules (6.2.5): length and guessability
//! are what count.

use super::audit::{self, AuditEntry};
use super::users;
use super::CurrentUser;
use crate::config::Email;
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;

/// The shortest new password, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest password, in characters (the hash takes any length; this
/// keeps hashing cheap).
pub const MAX_CHARS: usize = 128;

/// A password change as the form sends it.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    /// The password the user has now (re-authentication).
    pub current: String,
    /// The new one.
    pub new: String,
    /// The new one once more, against typing errors.
    pub repeat: String,
}

/// Why `new` cannot be a password for `email`, if it cannot.
pub fn weakness(new: &str, email: &str) -> Option<FieldError> {
    let chars = new.chars().count();
    if chars < MIN_CHARS {
        return Some(FieldError::both(
            "new",
            format!("at least {MIN_CHARS} characters"),
            format!("Kies een wachtwoord van minstens {MIN_CHARS} tekens."),
        ));
    }
    if chars > MAX_CHARS {
        return Some(FieldError::both(
            "new",
            format!("at most {MAX_CHARS} characters"),
            format!("Kies een wachtwoord van hoogstens {MAX_CHARS} tekens."),
        ));
    }
    let local = email.split('@').next().unwrap_or_default();
    let known = [email, local, "jbt", "jeugdbeschermingstafel", "gelderland"];
    let score = zxcvbn::zxcvbn(new, &known).score();
    if u8::from(score) < 3 {
        return Some(FieldError::both(
            "new",
            "too easy to guess",
            "Dit wachtwoord is te makkelijk te raden. Kies bijvoorbeeld vier losse woorden.",
        ));
    }
    None
}

/// Changes `user`'s password after checking the current one; ends the
/// duty to change it. Audited as `user.password_change` (no password in
/// the row).
///
/// # Errors
/// A wrong current password, a weak or mismatched new one (invalid, with
/// the field); storage errors.
pub async fn change(state: &AppState, user: &CurrentUser, change: &PasswordChange) -> Result<()> {
    let email = Email::parse(&user.email).map_err(|e| Error::Internal(e.into()))?;
    let current_ok = users::verify_password(&state.store, &email, &change.current)
        .await?
        .is_some_and(|found| found.id == user.id);
    if !current_ok {
        return Err(Error::Invalid(vec![FieldError::both(
            "current",
            "the current password is wrong",
            "Uw huidige wachtwoord klopt niet.",
        )]));
    }
    let mut problems = Vec::new();
    if let Some(problem) = weakness(&change.new, &user.email) {
        problems.push(problem);
    } else if change.new == change.current {
        problems.push(FieldError::both(
            "new",
            "must differ from the current password",
            "Kies een ander wachtwoord dan het huidige.",
        ));
    }
    if change.repeat != change.new {
        problems.push(FieldError::both(
            "repeat",
            "does not match the new password",
            "De herhaling is niet gelijk aan het nieuwe wachtwoord.",
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let now = state.now();
    let mut tx = users::set_password(&state.store, user.id, &change.new).await?;
    audit::record(
        &mut tx,
        AuditEntry {
            at: now,
            user: Some(user),
            action: "user.password_change",
            referral_id: None,
            result: "ok",
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_guessable_and_personal_passwords_are_refused() {
        for weak in [
            "kort",
            "wachtwoord12",
            "Welkom01!Welkom01!",
            "jan.jansen@gemeente.nl",
            "aaaaaaaaaaaaaaaa",
        ] {
            assert!(weakness(weak, "jan.jansen@gemeente.nl").is_some(), "{weak}");
        }
        assert!(weakness(&"x".repeat(MAX_CHARS + 1), "a@b.nl").is_some());
    }

    #[test]
    fn a_long_uncommon_passphrase_is_accepted() {
        assert_eq!(
            weakness("paraplu vlinder kachel 47 trompet", "jan@gemeente.nl"),
            None
        );
    }
}
