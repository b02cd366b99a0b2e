//! Request bodies and query parameters, and their parsing into the
//! domain types of [`super::store`]. Parsing collects every field problem
//! at once, so a form shows all its mistakes in one round trip.
//!
//! Bodies refuse unknown fields: a stray `name` or `bsn` field must fail
//! loudly rather than be dropped silently, since it means a client is
//! sending personal data the service must not receive.

mod list;
mod outcome;
mod referral;
#[cfg(test)]
mod tests;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use crate::config::Email;
use crate::error::{Error, FieldError};

pub use list::parse_list;
pub use outcome::parse_outcome;
pub use referral::{parse_create, parse_update};

/// Free texts of an outcome, questions, answers and remarks are short
/// notes, not reports: at most this many characters.
pub const MAX_TEXT: usize = 2000;

/// A free text of case content (a question, an answer, remarks), checked:
/// trimmed, 1 to [`MAX_TEXT`] characters, no control characters but line
/// breaks and tabs ([`free_text`] with `MAX_TEXT`, required).
///
/// # Errors
/// [`Error::Invalid`] on `field`, in English and Dutch.
pub fn case_text(field: &str, text: &str) -> Result<String, Error> {
    free_text(field, text, MAX_TEXT, true).map_err(|problem| Error::Invalid(vec![problem]))
}

/// The rules every free text of case content follows (remarks, questions,
/// reports, feedback): trimmed; at most `max` characters; when `required`
/// not empty (otherwise an empty text is `""`); no control characters but
/// line breaks and tabs.
///
/// # Errors
/// The one [`FieldError`] on `field`, in English and Dutch.
pub fn free_text(
    field: &str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let text = text.trim();
    let problem = if text.is_empty() && required {
        Some(("is required".to_string(), "Vul een tekst in.".to_string()))
    } else if text.chars().count() > max {
        Some((
            format!("at most {max} characters"),
            format!("Hoogstens {max} tekens."),
        ))
    } else if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some((
            "contains control characters".to_string(),
            "Bevat tekens die niet zijn toegestaan.".to_string(),
        ))
    } else {
        None
    };
    match problem {
        Some((english, dutch)) => Err(FieldError::both(field, english, dutch)),
        None => Ok(text.to_string()),
    }
}

const MAX_ORG: usize = 200;

const MAX_UNAVAILABLE: usize = 100;

/// How far ahead dates may lie; further is a typo (2062 for 2026).
const MAX_DAYS_AHEAD: u64 = 366;

/// How many referrals `GET /referrals` returns when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;

/// The largest `limit` `GET /referrals` accepts.
pub const MAX_LIMIT: i64 = 500;

/// Registration of a referral (*verzoek tot bespreking*).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    /// Leave it out and jbt issues a reference (`JBT-26-0815`), the
    /// default. A typed one (the referrer's own, e.g. `ST-EDE-0042`): 3-40
    /// characters A-Z, a-z, 0-9 and '-', at least one letter and one digit,
    /// compared case-insensitively; never a name, BSN or birth date, and
    /// not starting with `JBT-`.
    #[schema(example = "ST-EDE-0042")]
    pub case_ref: Option<String>,
    /// CBS code (`GM0228`) or name (`Ede`) of the child's municipality; it
    /// decides the home region.
    #[schema(required = true, example = "GM0228")]
    pub municipality: Option<String>,
    /// `vtb`, `ots_end` or `evaluation`.
    #[schema(required = true, example = "vtb")]
    pub kind: Option<String>,
    /// `local_team`, `veilig_thuis`, `certified_institution`,
    /// `attendance_officer` or `care_provider`.
    #[schema(required = true, example = "local_team")]
    pub referrer_kind: Option<String>,
    /// Referring organisation; for referrers always their own.
    pub referrer_org: Option<String>,
    /// Work e-mail address of the referring professional.
    #[schema(required = true, example = "j.jansen@sociaalteam-ede.example.org")]
    pub referrer_email: Option<String>,
    /// A safety plan is in place. Without it the referral is `incomplete`.
    pub safety_plan: Option<bool>,
    /// The parents know about the referral. Without it the referral is `incomplete`.
    pub parents_informed: Option<bool>,
    /// The child is 12 or older and is heard separately (120 instead of 90 minutes).
    #[schema(required = true)]
    pub child_12_plus: Option<bool>,
    /// Local dates (`YYYY-MM-DD`) on which the conversation cannot be held.
    #[serde(default)]
    pub unavailable: Vec<String>,
    /// Local date before which it cannot be held.
    pub earliest: Option<String>,
    /// May be held at a neighbouring region's table (default true).
    pub cross_region: Option<bool>,
    /// Remarks for the chair, up to 2000 characters: case content, stored
    /// encrypted and shown only with the referral (optional; needs the
    /// service's encryption key).
    pub remarks: Option<String>,
}

/// Changes to a referral; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReferral {
    /// Work e-mail address of the referring professional.
    pub referrer_email: Option<String>,
    /// A safety plan is in place.
    pub safety_plan: Option<bool>,
    /// The parents know about the referral.
    pub parents_informed: Option<bool>,
    /// The child is 12 or older (120 instead of 90 minutes).
    pub child_12_plus: Option<bool>,
    /// Replaces the local dates (`YYYY-MM-DD`) on which the conversation
    /// cannot be held.
    pub unavailable: Option<Vec<String>>,
    /// `null` removes the earliest date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub earliest: Option<Option<String>>,
    /// May be held at a neighbouring region's table.
    pub cross_region: Option<bool>,
    /// When given, the change is refused (409) if the referral's version differs.
    pub version: Option<i64>,
}

/// Distinguishes an absent field (`None`) from `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Why the table cancels a referral.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelReferral {
    /// Required; at most 500 characters.
    #[schema(example = "the family moved out of Gelderland")]
    pub reason: String,
}

/// Optional note with a withdrawal.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawReferral {
    /// At most 500 characters.
    pub reason: Option<String>,
}

/// Confirms a booking; without `slot_id` the planned slot is booked.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    /// The referral to book.
    pub referral_id: i64,
    /// The slot to book; default the referral's planned slot.
    pub slot_id: Option<String>,
}

/// The outcome of a held conversation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutcome {
    /// `voluntary_local_team`, `voluntary_binding`, `voluntary_binding_raad`
    /// or `raad_investigation`.
    #[schema(required = true, example = "voluntary_binding")]
    pub outcome: Option<String>,
    /// The agreed route (max 2000 characters).
    #[serde(default)]
    pub route: String,
    /// The help that is started or continued (max 2000 characters).
    #[serde(default)]
    pub help: String,
    /// Safety agreements (max 2000 characters).
    #[serde(default)]
    pub safety_agreements: String,
    /// Date of an evaluation; registers an `evaluation` referral for it.
    pub evaluation_date: Option<String>,
    /// Date by which a written evaluation is due (with
    /// `written_evaluation_by`); it is on the table's worklist from then.
    #[serde(default)]
    pub written_evaluation_date: Option<String>,
    /// Who delivers the written evaluation, by role or organisation (1 to
    /// 200 characters).
    #[serde(default)]
    pub written_evaluation_by: Option<String>,
}

/// Filters of `GET /referrals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// One status or several separated by commas (`registered,planned`).
    pub status: Option<String>,
    /// Home region id.
    pub region: Option<String>,
    /// CBS code or name.
    pub municipality: Option<String>,
    /// `vtb`, `ots_end` or `evaluation`.
    pub kind: Option<String>,
    /// Only referrals due before this local date.
    pub due_before: Option<String>,
    /// Only referrals whose case reference contains this (any case;
    /// letters, digits and '-'), e.g. `0815` or `JBT-26-0815`.
    pub case_ref: Option<String>,
    /// At most this many (default 50, at most 500).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Collects field problems.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A local date written `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10);
    parsed.ok_or_else(|| format!("{text:?} is not a date written as YYYY-MM-DD"))
}

/// A date from today up to a year ahead.
fn coming_date(
    problems: &mut Problems,
    field: &str,
    text: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let date = match parse_date(text) {
        Ok(date) => date,
        Err(message) => {
            problems.add(field, message);
            return None;
        }
    };
    let last = today
        .checked_add_days(Days::new(MAX_DAYS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    if date < today {
        problems.add(field, "lies in the past");
        None
    } else if date > last {
        problems.add(field, "lies more than a year ahead");
        None
    } else {
        Some(date)
    }
}

fn dates(
    problems: &mut Problems,
    field: &str,
    texts: &[String],
    today: NaiveDate,
) -> Vec<NaiveDate> {
    if texts.len() > MAX_UNAVAILABLE {
        problems.add(field, format!("at most {MAX_UNAVAILABLE} dates"));
        return Vec::new();
    }
    let mut dates: Vec<NaiveDate> = texts
        .iter()
        .enumerate()
        .filter_map(|(i, text)| coming_date(problems, &format!("{field}[{i}]"), text, today))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    dates
}

fn email(problems: &mut Problems, text: &str) -> Option<Email> {
    Email::parse(text.trim())
        .map_err(|e| problems.add("referrer_email", e.reason))
        .ok()
}
