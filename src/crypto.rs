//! Encryption at rest for the most sensitive data jbt keeps: case text
//! (messages about a referral, reports, reasons) and second-factor secrets.
//!
//! AES-256-GCM (RustCrypto's `aes-gcm`) with a key from the configuration
//! (`security.encryption_key`, 32 bytes in base64); a fresh random 96-bit
//! nonce per value. Each value is bound to where it is stored (the
//! associated data names the table, column and row), so a ciphertext copied
//! to another row or column does not decrypt. Stored as text:
//! `v1:` + base64 of nonce and ciphertext with its tag.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::TryRngCore as _;
use zeroize::Zeroizing;

/// The prefix of every stored value of this format (a later key or format
/// gets another, so old values stay readable while they are re-encrypted).
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Why a value could not be encrypted or decrypted. Never says anything
/// about the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key is not 32 bytes of base64.
    #[error("the encryption key is not 32 bytes in base64")]
    BadKey,
    /// The operating system gave no random bytes.
    #[error("no random bytes for a nonce")]
    Random,
    /// Encryption failed (never expected).
    #[error("encryption failed")]
    Encrypt,
    /// Not a stored value of this format.
    #[error("not an encrypted value of a known format")]
    Format,
    /// The key is wrong, the value was changed, or it belongs elsewhere.
    #[error("the value does not decrypt with this key and place")]
    Decrypt,
}

/// The encryption key in use; `Debug` never shows it, and the key is wiped
/// from memory when dropped.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<key hidden>)")
    }
}

impl Cipher {
    /// The cipher of a base64 key (32 bytes once decoded).
    ///
    /// # Errors
    /// [`CryptoError::BadKey`] when the text is not base64 of 32 bytes.
    pub fn from_base64(key: &str) -> Result<Cipher, CryptoError> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(key.trim())
                .map_err(|_| CryptoError::BadKey)?,
        );
        let aead = Aes256Gcm::new_from_slice(&raw).map_err(|_| CryptoError::BadKey)?;
        Ok(Cipher { aead })
    }

    /// A new random key, in base64 (for `jbt demo`, which makes its own).
    ///
    /// # Errors
    /// [`CryptoError::Random`] when the operating system gives no random
    /// bytes.
    pub fn new_key() -> Result<String, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng
            .try_fill_bytes(key.as_mut())
            .map_err(|_| CryptoError::Random)?;
        Ok(STANDARD.encode(key.as_ref()))
    }

    /// Encrypts `text` for the place `aad` names (e.g. `users.totp_secret:12`).
    ///
    /// # Errors
    /// [`CryptoError::Random`] without random bytes; [`CryptoError::Encrypt`]
    /// never in practice.
    pub fn seal(&self, text: &str, aad: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| CryptoError::Random)?;
        let sealed = self
            .aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Decrypts a value [`Cipher::seal`] made for the same place `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Format`] for text that is not such a value;
    /// [`CryptoError::Decrypt`] for another key, another place, or a value
    /// changed since.
    pub fn open(&self, stored: &str, aad: &str) -> Result<Zeroizing<String>, CryptoError> {
        let body = stored.strip_prefix(PREFIX).ok_or(CryptoError::Format)?;
        let bytes = STANDARD.decode(body).map_err(|_| CryptoError::Format)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Format);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Format)?;
        let plain = self
            .aead
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// Whether `stored` looks like a value of this format (for the start-up
/// check that a key is there when encrypted data is).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::from_base64(&Cipher::new_key().expect("key")).expect("cipher")
    }

    #[test]
    fn a_value_opens_only_in_its_place_and_with_its_key() {
        let cipher = cipher();
        let sealed = cipher
            .seal("Zoë's veiligheidsplan", "reports.text:42")
            .expect("seal");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("Zoë"));
        let opened = cipher.open(&sealed, "reports.text:42").expect("open");
        assert_eq!(opened.as_str(), "Zoë's veiligheidsplan");
        assert_eq!(
            cipher.open(&sealed, "reports.text:43"),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            super::tests::cipher().open(&sealed, "reports.text:42"),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(cipher.open("plain text", "x"), Err(CryptoError::Format));
    }

    #[test]
    fn the_same_text_seals_differently_each_time() {
        let cipher = cipher();
        assert_ne!(cipher.seal("a", "p").ok(), cipher.seal("a", "p").ok());
    }

    #[test]
    fn a_short_or_garbled_key_is_refused_and_never_shown() {
        assert_eq!(
            Cipher::from_base64("c2hvcnQ=").map(|_| ()),
            Err(CryptoError::BadKey)
        );
        assert_eq!(
            Cipher::from_base64("%%%").map(|_| ()),
            Err(CryptoError::BadKey)
        );
        assert_eq!(format!("{:?}", cipher()), "Cipher(<key hidden>)");
    }
}
