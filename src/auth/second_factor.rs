//! TOTP as a second factor (RFC 6238; ASVS 5.0 6.3.3, 6.5): six digits,
//! 30-second steps, one step of clock skew either way, each step accepted
//! once. Optional for every user; required at login for the roles
//! `web.totp_required_roles` lists, who enrol at their next login.
//!
//! The secret (160 random bits) is stored sealed with the at-rest key
//! ([`crate::crypto::Cipher`]), bound to the user's row, so a copy of the
//! database alone gives no codes. During enrolment the new secret travels
//! in the form, sealed and bound to the user, and is stored only once a
//! code from the authenticator app proves the user has it.

use qrcode::render::svg;
use qrcode::QrCode;
use rand::TryRngCore as _;
use sqlx::Row;
use totp_rs::{Secret, Totp};
use zeroize::Zeroizing;

use super::audit::{self, AuditEntry};
use super::CurrentUser;
use crate::crypto::Cipher;
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "JBT Gelderland";

/// A second factor being set up: what the enrolment page shows.
pub struct Enrolment {
    /// The secret in base32, for typing it in by hand.
    pub secret_base32: Zeroizing<String>,
    /// The `otpauth://` URI the QR code holds.
    pub uri: Zeroizing<String>,
    /// The QR code as an SVG document.
    pub qr_svg: String,
    /// The secret sealed for the form (bound to the user); handed back on
    /// confirmation.
    pub sealed: String,
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("building the TOTP: {e}")))
}

fn pending_aad(user_id: i64) -> String {
    format!("totp.enrol:{user_id}")
}

fn stored_aad(user_id: i64) -> String {
    format!("users.totp_secret:{user_id}")
}

/// A new secret for `user`, with what the enrolment page shows.
///
/// # Errors
/// No encryption key (refused); no random bytes (internal).
pub fn start_enrolment(state: &AppState, user: &CurrentUser) -> Result<Enrolment> {
    let cipher = state.cipher()?;
    let mut raw = Zeroizing::new([0u8; 20]);
    rand::rngs::OsRng
        .try_fill_bytes(raw.as_mut())
        .map_err(|e| Error::Internal(anyhow::anyhow!("no random bytes: {e}")))?;
    let totp = totp(raw.to_vec(), &user.email)?;
    let secret_base32 = Zeroizing::new(Secret::from(raw.to_vec()).to_base32());
    let uri = Zeroizing::new(
        totp.to_url()
            .map_err(|e| Error::Internal(anyhow::anyhow!("the otpauth URI: {e}")))?,
    );
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("the QR code: {e}")))?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .build();
    let sealed = cipher
        .seal(&secret_base32, &pending_aad(user.id))
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(Enrolment {
        secret_base32,
        uri,
        qr_svg,
        sealed,
    })
}

fn bad_code() -> Error {
    Error::Invalid(vec![FieldError::both(
        "code",
        "the code is wrong or has been used",
        "Deze code klopt niet of is al gebruikt. Wacht op de volgende code en probeer het opnieuw.",
    )])
}

fn open_secret(cipher: &Cipher, sealed: &str, aad: &str) -> Result<Vec<u8>> {
    let base32 = cipher
        .open(sealed, aad)
        .map_err(|_| Error::invalid("secret", "the enrolment form was changed or is stale"))?;
    Secret::try_from_base32(base32.as_str())
        .map(|s| s.as_ref().to_vec())
        .map_err(|_| Error::invalid("secret", "not a TOTP secret"))
}

/// The step `code` matches at now for this secret, if any.
fn matching_step(
    state: &AppState,
    secret: Vec<u8>,
    account: &str,
    code: &str,
) -> Result<Option<u64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let now = u64::try_from(state.now().timestamp()).unwrap_or_default();
    Ok(totp(secret, account)?.check(&code, now))
}

/// Stores the secret of an enrolment once `code` proves the user's app has
/// it. Audited as `user.second_factor_enrol`.
///
/// # Errors
/// A wrong code or a tampered form (invalid); no key (refused); storage.
pub async fn finish_enrolment(
    state: &AppState,
    user: &CurrentUser,
    sealed: &str,
    code: &str,
) -> Result<()> {
    let cipher = state.cipher()?;
    let secret = open_secret(cipher, sealed, &pending_aad(user.id))?;
    let Some(step) = matching_step(state, secret.clone(), &user.email, code)? else {
        return Err(bad_code());
    };
    let base32 = Zeroizing::new(Secret::from(secret).to_base32());
    let stored = cipher
        .seal(&base32, &stored_aad(user.id))
        .map_err(|e| Error::Internal(e.into()))?;
    let mut tx = state.store.write().await?;
    sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
        .bind(stored)
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, entry(state, user, "user.second_factor_enrol")).await?;
    tx.commit().await?;
    Ok(())
}

fn entry<'a>(state: &AppState, user: &'a CurrentUser, action: &'a str) -> AuditEntry<'a> {
    AuditEntry {
        at: state.now(),
        user: Some(user),
        action,
        referral_id: None,
        result: "ok",
        detail: None,
    }
}

/// Checks a login's code against `user`'s stored secret. A code is
/// accepted once: its step must be later than the last one used, and the
/// update that records it is conditional, so two requests racing with one
/// code cannot both pass.
///
/// # Errors
/// A wrong or reused code, or no second factor (invalid); no key
/// (refused); storage errors.
pub async fn verify(state: &AppState, user: &CurrentUser, code: &str) -> Result<()> {
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&state.store.pool)
        .await?;
    let sealed: Option<String> = row.try_get("totp_secret")?;
    let last: Option<i64> = row.try_get("totp_last_step")?;
    let Some(sealed) = sealed else {
        return Err(bad_code());
    };
    let secret = open_secret(state.cipher()?, &sealed, &stored_aad(user.id))?;
    let Some(step) = matching_step(state, secret, &user.email, code)? else {
        return Err(bad_code());
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if last.is_some_and(|last| step <= last) {
        return Err(bad_code());
    }
    let taken = sqlx::query(
        "UPDATE users SET totp_last_step = $1
         WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(user.id)
    .execute(&state.store.pool)
    .await?
    .rows_affected();
    if taken == 1 {
        Ok(())
    } else {
        Err(bad_code())
    }
}

/// The code an authenticator app would show at `unix_seconds` for a
/// base32 secret (for tests and the browser test's "app").
///
/// # Errors
/// A secret that is not base32 (invalid).
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Result<String> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| Error::invalid("secret", "not a TOTP secret"))?;
    Ok(totp(secret.as_ref().to_vec(), "x")?
        .generate(unix_seconds)
        .to_string())
}
