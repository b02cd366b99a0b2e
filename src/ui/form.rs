//! `PageForm<T>`: the pages' form extractor, as strict as the JSON API.
//!
//! axum's `Form` decodes percent-escapes lossily: `%FF%FE` becomes
//! replacement characters and `%00` a NUL that PostgreSQL refuses, where
//! the API answers 422 for both. Every page form goes through this one
//! check instead: the body must be `application/x-www-form-urlencoded`,
//! every name and value valid UTF-8 once decoded, and free of control
//! characters other than tab and line breaks. A refusal is the Dutch
//! "Controleer de invoer" page naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;

use super::{PageError, Said};

/// A path id that is not a number names nothing: 404.
///
/// # Errors
/// [`PageError::NotFound`].
pub fn path_id(
    id: Result<axum::extract::Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<i64, PageError> {
    id.map(|axum::extract::Path(id)| id)
        .map_err(|_| PageError::NotFound)
}

/// After a form on a referral's page: back to that page, saying what was
/// `done` (`/referrals/{id}?gedaan=...`).
pub fn back(id: i64, done: &str) -> axum::response::Redirect {
    axum::response::Redirect::to(&format!("/referrals/{id}?gedaan={done}"))
}

/// The largest form body a page takes, in bytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form body decoded strictly into `T`.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

impl<S, T> FromRequest<S> for PageForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(invalid("Het formulier is niet als formulier verstuurd."));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| invalid("Het formulier kon niet worden gelezen."))?;
        if bytes.len() > MAX_FORM_BYTES {
            return Err(invalid("Het formulier is te groot."));
        }
        check(&bytes).map_err(|field| {
            invalid(&format!(
                "Het veld '{field}' bevat tekens die niet zijn toegestaan (ongeldige of onzichtbare tekens)."
            ))
        })?;
        serde_urlencoded::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| PageError::Invalid(Said::en(e.to_string())))
    }
}

fn invalid(text: &str) -> PageError {
    PageError::Invalid(Said::nl(text))
}

/// `Err(field name)` for the first pair whose name or value is not clean
/// text once decoded.
pub fn check(body: &[u8]) -> Result<(), String> {
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, |&b| b == b'=');
        let name = decode(parts.next().unwrap_or_default());
        let value = decode(parts.next().unwrap_or_default());
        let shown = name
            .clone()
            .filter(|n| clean(n))
            .unwrap_or_else(|| "?".into());
        match (name, value) {
            (Some(n), Some(v)) if clean(&n) && clean(&v) => {}
            _ => return Err(shown),
        }
    }
    Ok(())
}

fn decode(raw: &[u8]) -> Option<String> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

fn clean(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_invalid_utf8_and_control_characters_are_refused_with_the_field() {
        assert_eq!(check(b"csrf=x&reason=a%00b"), Err("reason".into()));
        assert_eq!(check(b"reason=%FF%FE"), Err("reason".into()));
        assert_eq!(check(b"reason=a%1Bb"), Err("reason".into()));
        assert_eq!(check(b"na%00me=x"), Err("?".into()));
    }

    #[test]
    fn ordinary_text_with_accents_and_line_breaks_passes() {
        assert_eq!(
            check(b"reason=Moeder+ziek%0D%0Avolgende+week&x=caf%C3%A9"),
            Ok(())
        );
        assert_eq!(check(b""), Ok(()));
    }
}
