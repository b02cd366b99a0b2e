//! Identifier newtypes used in the region configuration.
//!
//! Each type can only be built through its `parse` function (or serde, which
//! goes through `parse`), so a value in hand is always valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string was not accepted as one of the identifier types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} \"{value}\": {reason}")]
pub struct InvalidValue {
    /// What was being parsed ("region id", "CBS code", ...).
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// Human-readable reason.
    pub reason: &'static str,
}

impl InvalidValue {
    fn new(what: &'static str, value: &str, reason: &'static str) -> Self {
        Self {
            what,
            value: value.to_owned(),
            reason,
        }
    }
}

/// Identifier of a youth-care region, e.g. `food-valley`.
///
/// Non-empty; only lowercase ASCII letters, digits and hyphens. It appears in
/// slot ids and URLs, hence the small alphabet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionId(String);

impl RegionId {
    /// Parses a region id; see the type documentation for the rules.
    ///
    /// # Errors
    /// [`InvalidValue`] when `s` is empty or has a character other than
    /// `a-z`, `0-9` and `-`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const WHAT: &str = "region id";
        if s.is_empty() {
            return Err(InvalidValue::new(WHAT, s, "must not be empty"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidValue::new(
                WHAT,
                s,
                "only lowercase letters a-z, digits and hyphens are allowed",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Code of a Dutch municipality in the CBS register: `GM` followed by four
/// digits, e.g. `GM0228` (Ede). Parsing accepts a lowercase `gm` and stores the
/// canonical uppercase form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CbsCode(String);

impl CbsCode {
    /// Parses a CBS code; see the type documentation for the rules.
    ///
    /// # Errors
    /// [`InvalidValue`] unless the input is `GM` (any case) and four digits.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let bytes = s.as_bytes();
        let ok = bytes.len() == 6
            && bytes[..2].eq_ignore_ascii_case(b"GM")
            && bytes[2..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(Self(s.to_ascii_uppercase()))
        } else {
            Err(InvalidValue::new(
                "CBS code",
                s,
                "expected GM followed by four digits, like GM0228",
            ))
        }
    }

    /// The code as text, uppercase (`GM0228`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked only for sane shape: exactly one `@`, a
/// non-empty local part and domain, no whitespace or control characters, no
/// empty domain labels, ASCII only (no look-alike letters from other
/// scripts), and what the mailer (lettre) accepts. Stored in lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an e-mail address; see the type documentation for the rules.
    ///
    /// # Errors
    /// [`InvalidValue`] on whitespace or control characters, not exactly one
    /// `@`, an empty local part or domain, or an empty domain label.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const WHAT: &str = "e-mail address";
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new(
                WHAT,
                s,
                "must not contain whitespace or control characters",
            ));
        }
        // Letters from other scripts can look exactly like Latin ones
        // (Cyrillic "а" for "a"): an address that looks like a colleague's
        // but is not. Work addresses here are ASCII, so only ASCII is taken.
        if !s.is_ascii() {
            return Err(InvalidValue::new(
                WHAT,
                s,
                "only plain letters, digits and . _ % + - are allowed (no accents or letters from other scripts)",
            ));
        }
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidValue::new(WHAT, s, "must contain exactly one @"));
        };
        if local.is_empty() {
            return Err(InvalidValue::new(WHAT, s, "nothing before the @"));
        }
        if domain.is_empty() {
            return Err(InvalidValue::new(WHAT, s, "nothing after the @"));
        }
        if domain.split('.').any(str::is_empty) {
            return Err(InvalidValue::new(
                WHAT,
                s,
                "the domain has an empty part (leading, trailing or double dot)",
            ));
        }
        // What the mailer accepts, and nothing HTML or a header would read
        // as markup: no quotes, angle brackets or slashes.
        if lettre::Address::new(local, domain).is_err()
            || !local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
            || !domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        {
            return Err(InvalidValue::new(
                WHAT,
                s,
                "not an address a mail server accepts (letters, digits and . _ % + - before the @, a domain after it)",
            ));
        }
        // Case-folded: "J.Jansen@" and "j.jansen@" are one mailbox in
        // practice, and logins compare in lowercase.
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// The address as text, domain in lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@` (lowercase).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $t {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    };
}

string_newtype_impls!(RegionId);
string_newtype_impls!(CbsCode);
string_newtype_impls!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_id_accepts_kebab_case() {
        let id = RegionId::parse("midden-ijssel-oost-veluwe").expect("valid");
        assert_eq!(id.as_str(), "midden-ijssel-oost-veluwe");
        assert_eq!(id.to_string(), "midden-ijssel-oost-veluwe");
        assert!(RegionId::parse("regio2").is_ok());
    }

    #[test]
    fn region_id_rejects_empty_upper_case_spaces_and_underscores() {
        for bad in ["", "Food-valley", "food valley", "food_valley", "fóod"] {
            assert!(RegionId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn region_id_deserializes_through_parse() {
        let ok: Result<RegionId, _> = serde_json::from_str("\"achterhoek\"");
        assert_eq!(ok.ok().map(String::from).as_deref(), Some("achterhoek"));
        let bad: Result<RegionId, _> = serde_json::from_str("\"Achterhoek\"");
        assert!(bad.is_err());
        let json = serde_json::to_string(&RegionId::parse("tiel").expect("valid"));
        assert_eq!(json.ok().as_deref(), Some("\"tiel\""));
    }

    #[test]
    fn cbs_code_is_gm_and_four_digits() {
        assert_eq!(
            CbsCode::parse("GM0228").map(String::from),
            Ok("GM0228".into())
        );
        assert_eq!(
            CbsCode::parse("gm0228").map(String::from),
            Ok("GM0228".into())
        );
        for bad in [
            "", "GM228", "GM02281", "0228", "GX0228", "GM02a8", " GM0228",
        ] {
            assert!(CbsCode::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn email_is_case_folded() {
        let e = Email::parse("Info@Ede.Example.ORG").expect("valid");
        assert_eq!(e.as_str(), "info@ede.example.org");
        assert_eq!(e.domain(), "ede.example.org");
        assert_eq!(
            Email::parse("J.Jansen@ede.nl"),
            Email::parse("j.jansen@ede.nl")
        );
        assert!(Email::parse("j.jansen+jbt@sociaal-team.ede.nl").is_ok());
    }

    #[test]
    fn email_refuses_markup_and_look_alike_letters() {
        for bad in [
            "x\"><svg/onload=alert(1)>@example.org",
            "x\"@example.org",
            "<a>@example.org",
            // Cyrillic "а" (U+0430) in place of the Latin "a".
            "j.j\u{430}nsen@ede.nl",
            "jansen@\u{435}de.nl",
            "jansen@ede_nl.example",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "two@@example.org",
            "a@b@example.org",
            "@example.org",
            "someone@",
            "some one@example.org",
            "someone@example..org",
            "someone@.example.org",
            "someone@example.org.",
            "someone@exa mple.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
