//! The referral's own types: the pseudonymous case reference, who refers,
//! the outcomes of a conversation, and how long a conversation takes.
//!
//! The data is about children at risk, so it is minimised: a referral holds
//! a pseudonymous case reference chosen by the referrer, never a name, a
//! citizen service number (BSN) or a birth date. [`CaseRef::parse`] refuses
//! anything that looks like one of those.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Minutes of a conversation at the table.
pub const STANDARD_MINUTES: u32 = 90;
/// Minutes when the child is 12 or older: the child is heard separately.
pub const CHILD_12_PLUS_MINUTES: u32 = 120;

/// The slot length a referral needs.
pub fn minutes_needed(child_12_plus: bool) -> u32 {
    if child_12_plus {
        CHILD_12_PLUS_MINUTES
    } else {
        STANDARD_MINUTES
    }
}

/// What a referral still lacks before it can be planned (API names).
pub fn missing(safety_plan: bool, parents_informed: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !safety_plan {
        missing.push("safety_plan");
    }
    if !parents_informed {
        missing.push("parents_informed");
    }
    missing
}

/// A pseudonymous case reference, e.g. `JBT-26-0815` (issued by jbt, the
/// default) or `ST-EDE-0042` (typed by the referrer): 3 to 40 characters
/// A-Z, a-z, 0-9 and `-`, with at least one letter and one digit (a name is
/// not a reference), and nothing that looks like personal data (a valid
/// BSN, a date). Stored in capitals, so references compare
/// case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseRef(String);

/// Why a case reference was refused (the 422 message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCaseRef {
    /// Shorter than 3 or longer than 40 characters.
    #[error("must be 3 to 40 characters")]
    Length,
    /// A character other than A-Z, a-z, 0-9 or `-`.
    #[error("only letters A-Z, digits and '-' are allowed")]
    Alphabet,
    /// No letter at all.
    #[error("must contain at least one letter")]
    NoLetter,
    /// No digit: likely a name.
    #[error("must contain at least one digit; a name is not a case reference (leave it empty and jbt issues one)")]
    NoDigit,
    /// Typed with the `JBT-` prefix, which only jbt issues.
    #[error("references starting with JBT- are issued by jbt; leave it empty to get one")]
    Reserved,
    /// Nine consecutive digits pass the BSN eleven-test.
    #[error("looks like a citizen service number (BSN); use a pseudonymous case reference, never personal data")]
    LooksLikeBsn,
    /// Contains something written like a date (a birth date).
    #[error("looks like a date; use a pseudonymous case reference, never a birth date")]
    LooksLikeDate,
}

impl CaseRef {
    /// The shortest reference a referrer may type, in characters.
    pub const MIN_LEN: usize = 3;
    /// The longest reference a referrer may type, in characters.
    pub const MAX_LEN: usize = 40;

    /// Checks a reference and stores it in capitals. Does not refuse the
    /// `JBT-` prefix; for text typed by a person use [`CaseRef::parse_typed`].
    ///
    /// # Errors
    /// The first rule `text` breaks, checked in this order:
    /// [`InvalidCaseRef::Alphabet`], [`InvalidCaseRef::Length`],
    /// [`InvalidCaseRef::NoLetter`], [`InvalidCaseRef::NoDigit`],
    /// [`InvalidCaseRef::LooksLikeBsn`], [`InvalidCaseRef::LooksLikeDate`].
    pub fn parse(text: &str) -> Result<CaseRef, InvalidCaseRef> {
        if !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(InvalidCaseRef::Alphabet);
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len()) {
            return Err(InvalidCaseRef::Length);
        }
        if !text.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidCaseRef::NoLetter);
        }
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            return Err(InvalidCaseRef::NoDigit);
        }
        if contains_bsn(text) {
            return Err(InvalidCaseRef::LooksLikeBsn);
        }
        if contains_date(text) {
            return Err(InvalidCaseRef::LooksLikeDate);
        }
        Ok(CaseRef(text.to_ascii_uppercase()))
    }

    /// A reference typed by a person: [`CaseRef::parse`], and not in the
    /// range jbt issues (`JBT-...`).
    ///
    /// # Errors
    /// As [`CaseRef::parse`]; [`InvalidCaseRef::Reserved`] for `JBT-...`.
    pub fn parse_typed(text: &str) -> Result<CaseRef, InvalidCaseRef> {
        let parsed = Self::parse(text)?;
        if parsed.0.starts_with(Self::ISSUED_PREFIX) {
            return Err(InvalidCaseRef::Reserved);
        }
        Ok(parsed)
    }

    /// What every issued reference starts with.
    pub const ISSUED_PREFIX: &'static str = "JBT-";

    /// The `seq`-th reference jbt issues in `year`: `JBT-26-0815` (at
    /// least four digits; more after 9,999 in a year).
    pub fn issued(year: i32, seq: i64) -> CaseRef {
        CaseRef(format!(
            "{}{:02}-{seq:04}",
            Self::ISSUED_PREFIX,
            year.rem_euclid(100)
        ))
    }

    /// The reference of the `n`-th evaluation of this case (`ABC-12-EVAL1`).
    /// May exceed [`Self::MAX_LEN`]: the suffix is ours, not the referrer's.
    pub fn evaluation(&self, n: u32) -> CaseRef {
        CaseRef(format!("{}-EVAL{n}", self.0))
    }

    /// A reference read back from the database, where only parsed ones are written.
    pub(crate) fn from_stored(text: String) -> CaseRef {
        CaseRef(text)
    }

    /// The reference as stored (capitals).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CaseRef {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseRef {
    type Error = InvalidCaseRef;
    fn try_from(text: String) -> Result<CaseRef, InvalidCaseRef> {
        CaseRef::parse(&text)
    }
}

impl From<CaseRef> for String {
    fn from(c: CaseRef) -> String {
        c.0
    }
}

/// Runs of consecutive ASCII digits in `text`.
fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
}

/// The BSN eleven-test: 9 digits d1..d9 with
/// 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11 (and not all zeros).
fn passes_eleven_test(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().all(|d| *d == b'0') {
        return false;
    }
    let sum: i64 = digits
        .iter()
        .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(d, weight)| i64::from(d - b'0') * weight)
        .sum();
    sum % 11 == 0
}

/// Any 9 consecutive digits that pass the eleven-test. A BSN written inside
/// a longer number is still a BSN, hence every window, not only 9-digit runs.
fn contains_bsn(text: &str) -> bool {
    digit_runs(text).any(|run| run.as_bytes().windows(9).any(passes_eleven_test))
}

fn plausible_date(day: u32, month: u32, year: i32) -> bool {
    chrono::NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// Two-digit years as people write them in birth dates (`03-05-14`).
fn full_year(year: u32, digits: usize) -> Option<i32> {
    let year = i32::try_from(year).ok()?;
    match digits {
        2 => Some(2000 + year),
        4 if (1900..=2100).contains(&year) => Some(year),
        _ => None,
    }
}

/// Dates as people write them with the characters a case reference allows:
/// `2014-03-05`, `5-3-2014`, `05-03-14`, `05032014`, `20140305`, `5mrt2014`.
fn contains_date(text: &str) -> bool {
    contains_separated_date(text) || contains_compact_date(text) || contains_month_name_date(text)
}

fn contains_separated_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.windows(3).any(|w| {
        let numeric = w
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !numeric {
            return false;
        }
        let n = |p: &str| p.parse::<u32>().ok();
        let (Some(a), Some(b), Some(c)) = (n(w[0]), n(w[1]), n(w[2])) else {
            return false;
        };
        let year_first = w[0].len() == 4
            && w[1].len() <= 2
            && w[2].len() <= 2
            && full_year(a, 4).is_some_and(|y| plausible_date(c, b, y));
        let year_last = w[0].len() <= 2
            && w[1].len() <= 2
            && full_year(c, w[2].len()).is_some_and(|y| plausible_date(a, b, y));
        year_first || year_last
    })
}

fn contains_compact_date(text: &str) -> bool {
    digit_runs(text).filter(|run| run.len() == 8).any(|run| {
        let n = |range: std::ops::Range<usize>| run.get(range).and_then(|s| s.parse::<u32>().ok());
        let (Some(dd), Some(mm), Some(yyyy)) = (n(0..2), n(2..4), n(4..8)) else {
            return false;
        };
        let day_first = full_year(yyyy, 4).is_some_and(|y| plausible_date(dd, mm, y));
        let (Some(yyyy), Some(mm), Some(dd)) = (n(0..4), n(4..6), n(6..8)) else {
            return false;
        };
        let year_first = full_year(yyyy, 4).is_some_and(|y| plausible_date(dd, mm, y));
        day_first || year_first
    })
}

const MONTHS: [(&str, u32); 16] = [
    ("jan", 1),
    ("feb", 2),
    ("mrt", 3),
    ("mar", 3),
    ("apr", 4),
    ("mei", 5),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("okt", 10),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("maa", 3),
];

/// `5mrt2014`, `05-jan-2014`, `5-maart-2014`: a day, a month name and a year.
fn contains_month_name_date(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    MONTHS.iter().any(|(name, month)| {
        lower.match_indices(name).any(|(at, _)| {
            let before = lower[..at].trim_end_matches('-');
            let day_digits =
                before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let day = &before[before.len() - day_digits..];
            // Skip the rest of a longer month name (`maart`, `januari`).
            let after = lower[at + name.len()..]
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .trim_start_matches('-');
            let year_digits =
                after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let year = &after[..year_digits];
            match (day.parse::<u32>(), year.parse::<u32>()) {
                (Ok(d), Ok(y)) if (1..=2).contains(&day.len()) => {
                    full_year(y, year.len()).is_some_and(|y| plausible_date(d, *month, y))
                }
                _ => false,
            }
        })
    })
}

/// Who refers the case to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerKind {
    /// Lokaal (wijk)team of the municipality.
    LocalTeam,
    /// Veilig Thuis, the advice and reporting centre for domestic violence and
    /// child abuse.
    VeiligThuis,
    /// Gecertificeerde instelling.
    CertifiedInstitution,
    /// Leerplichtambtenaar.
    AttendanceOfficer,
    /// Jeugdhulpaanbieder, referring via the local team.
    CareProvider,
}

impl ReferrerKind {
    /// Every referrer kind.
    pub const ALL: [ReferrerKind; 5] = [
        ReferrerKind::LocalTeam,
        ReferrerKind::VeiligThuis,
        ReferrerKind::CertifiedInstitution,
        ReferrerKind::AttendanceOfficer,
        ReferrerKind::CareProvider,
    ];

    /// The name as stored and in the API (`local_team`, `veilig_thuis`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReferrerKind::LocalTeam => "local_team",
            ReferrerKind::VeiligThuis => "veilig_thuis",
            ReferrerKind::CertifiedInstitution => "certified_institution",
            ReferrerKind::AttendanceOfficer => "attendance_officer",
            ReferrerKind::CareProvider => "care_provider",
        }
    }

    /// The kind with this name (as [`ReferrerKind::as_str`] writes it); `None`
    /// for any other text.
    pub fn parse(text: &str) -> Option<ReferrerKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What the table decided at the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Voluntary help under the local team continues.
    VoluntaryLocalTeam,
    /// Voluntary but not non-committal help for a period (possibly with the
    /// certified institution, or with planned evaluations).
    VoluntaryBinding,
    /// That, plus an investigation by the Raad voor de Kinderbescherming.
    VoluntaryBindingRaad,
    /// Only an investigation by the Raad voor de Kinderbescherming.
    RaadInvestigation,
}

impl OutcomeKind {
    /// Every outcome.
    pub const ALL: [OutcomeKind; 4] = [
        OutcomeKind::VoluntaryLocalTeam,
        OutcomeKind::VoluntaryBinding,
        OutcomeKind::VoluntaryBindingRaad,
        OutcomeKind::RaadInvestigation,
    ];

    /// The name as stored and in the API (`voluntary_local_team`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::VoluntaryLocalTeam => "voluntary_local_team",
            OutcomeKind::VoluntaryBinding => "voluntary_binding",
            OutcomeKind::VoluntaryBindingRaad => "voluntary_binding_raad",
            OutcomeKind::RaadInvestigation => "raad_investigation",
        }
    }

    /// The outcome with this name (as [`OutcomeKind::as_str`] writes it);
    /// `None` for any other text.
    pub fn parse(text: &str) -> Option<OutcomeKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonymous_references_are_accepted() {
        for ok in [
            "ST-EDE-0042",
            "ab1",
            "VT-2026-0042",
            "A1-B2-C3",
            "case-123456",
            "GI-12345678X",
        ] {
            assert_eq!(
                CaseRef::parse(ok).map(String::from),
                Ok(ok.to_ascii_uppercase()),
                "{ok}"
            );
        }
    }

    #[test]
    fn shape_rules_are_enforced() {
        assert_eq!(CaseRef::parse("ab"), Err(InvalidCaseRef::Length));
        assert_eq!(CaseRef::parse(&"a".repeat(41)), Err(InvalidCaseRef::Length));
        assert!(CaseRef::parse(&format!("{}1", "a".repeat(39))).is_ok());
        assert_eq!(CaseRef::parse("ab c"), Err(InvalidCaseRef::Alphabet));
        assert_eq!(CaseRef::parse("ab_c"), Err(InvalidCaseRef::Alphabet));
        assert_eq!(CaseRef::parse("Zoë-1"), Err(InvalidCaseRef::Alphabet));
        assert_eq!(CaseRef::parse("1234"), Err(InvalidCaseRef::NoLetter));
        assert_eq!(CaseRef::parse("12-34"), Err(InvalidCaseRef::NoLetter));
    }

    #[test]
    fn names_are_not_references_and_case_does_not_matter() {
        for name in ["Jan-Jansen", "Anna-de-Vries", "JANSEN", "familie-Bakker"] {
            assert_eq!(CaseRef::parse(name), Err(InvalidCaseRef::NoDigit), "{name}");
        }
        assert_eq!(CaseRef::parse("jbt-26-0004"), CaseRef::parse("JBT-26-0004"));
        assert_eq!(
            CaseRef::parse("st-ede-0042").map(|r| r.to_string()),
            Ok("ST-EDE-0042".into())
        );
        assert_eq!(
            CaseRef::parse_typed("jbt-26-0004"),
            Err(InvalidCaseRef::Reserved)
        );
        assert!(CaseRef::parse_typed("ST-EDE-0042").is_ok());
    }

    #[test]
    fn issued_references_count_per_year_and_parse() {
        assert_eq!(CaseRef::issued(2026, 815).as_str(), "JBT-26-0815");
        assert_eq!(CaseRef::issued(2031, 12_345).as_str(), "JBT-31-12345");
        let issued = CaseRef::issued(2026, 1);
        assert_eq!(CaseRef::parse(issued.as_str()), Ok(issued));
    }

    #[test]
    fn a_bsn_is_refused_wherever_it_stands() {
        // 111222333 and 123456782 pass the eleven-test (test numbers).
        for bad in [
            "X111222333",
            "bsn-123456782",
            "A1234567820",
            "123456782-kind",
        ] {
            assert_eq!(
                CaseRef::parse(bad),
                Err(InvalidCaseRef::LooksLikeBsn),
                "{bad}"
            );
        }
    }

    #[test]
    fn nine_digits_that_fail_the_eleven_test_are_not_a_bsn() {
        assert!(CaseRef::parse("X123456789").is_ok());
        assert!(CaseRef::parse("X000000000").is_ok());
    }

    #[test]
    fn eleven_test() {
        assert!(passes_eleven_test(b"111222333"));
        assert!(passes_eleven_test(b"123456782"));
        assert!(!passes_eleven_test(b"123456789"));
        assert!(!passes_eleven_test(b"12345678"));
    }

    #[test]
    fn dates_are_refused() {
        for bad in [
            "K-2014-03-05",
            "2014-3-5-x",
            "kind-05-03-2014",
            "kind-5-3-14",
            "X05032014",
            "X20140305",
            "kind-5mrt2014",
            "jan-05-jan-2014",
            "x-5-maart-2014",
            "x29feb2016",
        ] {
            assert_eq!(
                CaseRef::parse(bad),
                Err(InvalidCaseRef::LooksLikeDate),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_that_are_not_dates_pass() {
        for ok in [
            "VT-2026-0042",
            "K-2014-13-05",
            "X99999999",
            "X-30-02-2014",
            "jan-team-7",
            "x29feb2015",
        ] {
            assert!(CaseRef::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn evaluation_references_extend_the_original() {
        let original = CaseRef::parse("ST-EDE-0042").expect("valid");
        assert_eq!(original.evaluation(2).as_str(), "ST-EDE-0042-EVAL2");
    }

    #[test]
    fn minutes_depend_on_the_childs_age() {
        assert_eq!(minutes_needed(false), 90);
        assert_eq!(minutes_needed(true), 120);
    }

    #[test]
    fn missing_names_the_api_fields() {
        assert_eq!(missing(true, true), Vec::<&str>::new());
        assert_eq!(
            missing(false, false),
            vec!["safety_plan", "parents_informed"]
        );
        assert_eq!(missing(true, false), vec!["parents_informed"]);
    }

    #[test]
    fn kinds_parse_their_api_names() {
        for k in ReferrerKind::ALL {
            assert_eq!(ReferrerKind::parse(k.as_str()), Some(k));
        }
        for k in OutcomeKind::ALL {
            assert_eq!(OutcomeKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ReferrerKind::parse("LocalTeam"), None);
    }
}
