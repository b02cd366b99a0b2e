//! Making and checking credentials: random passwords and API tokens, the
//! Argon2id password hash, the SHA-256 token hash.
//!
//! Tokens are hashed with plain SHA-256, not Argon2: they carry 256 random
//! bits, so there is nothing to brute-force, and a fast hash lets every
//! request look its token up by an index.

use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so a leaked one is easy to recognise
/// (secret scanners, logs) and a stray header is refused without a query.
pub const TOKEN_PREFIX: &str = "jbt_";

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .context("reading the operating system's random source")?;
    Ok(bytes)
}

/// 18 random bytes: 144 bits, written as 24 URL-safe characters (no
/// padding, nothing that needs quoting in a shell or an e-mail).
pub fn new_password() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// `jbt_` and 32 random bytes in URL-safe base64 (47 characters).
pub fn new_token() -> anyhow::Result<String> {
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// What `api_tokens.token_hash` holds: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Argon2id with the crate's default cost, as a PHC string (salt and
/// parameters included, so the cost can be raised later without breaking
/// old hashes). Slow by design: call it off the async threads.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| anyhow::anyhow!("encoding the salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    Ok(hash.to_string())
}

/// Does `password` match the PHC string `stored`? A stored value that is
/// not a PHC string matches nothing. Slow by design, like [`hash_password`].
pub fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash to verify against when the e-mail address is unknown, so an
/// unknown address costs as much time as a wrong password and the response
/// time does not tell which addresses have an account.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // If hashing fails here it fails for real logins too; an empty
        // string still matches nothing.
        hash_password("no user has this password").unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_different() {
        let a = new_password().expect("password");
        let b = new_password().expect("password");
        assert!(a.len() >= 20, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_carry_the_prefix_and_256_bits() {
        let token = new_token().expect("token");
        let body = token.strip_prefix(TOKEN_PREFIX).expect("prefix");
        assert_eq!(URL_SAFE_NO_PAD.decode(body).expect("base64").len(), 32);
    }

    #[test]
    fn token_hash_is_hex_sha256() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_password_matches_its_own_argon2id_hash_only() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches(&hash, "correct horse"));
        assert!(!password_matches(&hash, "correct horsE"));
        assert!(!password_matches("not a phc string", "correct horse"));
        assert!(!password_matches(dummy_hash(), ""));
    }
}
