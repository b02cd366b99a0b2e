//! The report of a held conversation (issue 15; sections 6 and 8 of the
//! working agreement): what was discussed and decided, the safety
//! agreements (what, who, by when), who was present, and later the
//! reactions of the parents and the referring professional.
//!
//! The chair or secretary of the table where the conversation was held
//! writes a draft and *sends* it (`vaststellen en versturen`): it becomes
//! version 1 and the referring professional and the professionals present
//! get a mail without content, with a link. Within the reaction window
//! (`reports.reaction_working_days`) the referring professional records
//! the parents' reaction and/or their own; each one is added as a new
//! version. Versions once sent are never overwritten.
//!
//! Content is case content: sealed at rest, readable only by the chair and
//! secretary of that table and by referrers of the referring organisation;
//! coordinators see that a report exists and whether it is late, not what
//! it says. Every read of content is audited (`report.read`).

pub mod evaluation;
pub mod feedback;
pub mod retention;
pub mod service;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Email;
use crate::error::{Error, FieldError};

pub use service::{late_by_table, react, save_draft, send, show, show_for, to_send, Due};

/// The longest report text, in characters.
pub const MAX_TEXT: usize = 10_000;
/// The most safety agreements in one report.
pub const MAX_AGREEMENTS: usize = 30;
/// The most professionals present named with their address.
pub const MAX_PROFESSIONALS: usize = 20;

/// Who may be present at the table, by role (no names).
pub const PARTICIPANTS: [(&str, &str); 6] = [
    ("parents", "ouders"),
    ("child_12_plus", "kind van 12 jaar of ouder"),
    ("referrer", "verwijzende professional"),
    ("certified_institution", "gecertificeerde instelling"),
    ("raad", "Raad voor de Kinderbescherming"),
    ("trusted_person", "vertrouwenspersoon"),
];

/// One safety agreement: what was agreed, who is responsible, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// What was agreed (1 to 500 characters).
    pub what: String,
    /// Who is responsible, by role or organisation (1 to 200 characters).
    pub who: String,
    /// By when, if a date was agreed.
    pub by: Option<NaiveDate>,
}

/// A reaction to a sent report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    /// `parents` or `professional`.
    pub from: String,
    /// The reaction (1 to 10,000 characters).
    pub text: String,
    /// The local date it was received.
    pub received: NaiveDate,
}

/// What a report says (sealed at rest as JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportContent {
    /// What was discussed and decided, including route and help.
    pub text: String,
    /// The safety agreements.
    pub agreements: Vec<Agreement>,
    /// Who was present, by role (see `PARTICIPANTS`).
    pub participants: Vec<String>,
    /// Work e-mail addresses of the professionals present (they get the
    /// report's mail).
    pub professionals: Vec<String>,
    /// Reactions received since it was sent, oldest first.
    pub reactions: Vec<Reaction>,
}

/// A draft as sent by the chair or secretary.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// What was discussed and decided (1 to 10,000 characters).
    pub text: String,
    /// The safety agreements (at most 30).
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    /// Who was present, by role: `parents`, `child_12_plus`, `referrer`,
    /// `certified_institution`, `raad`, `trusted_person`.
    #[serde(default)]
    pub participants: Vec<String>,
    /// Work e-mail addresses of the professionals present (at most 20).
    #[serde(default)]
    pub professionals: Vec<String>,
}

/// A reaction as recorded by the referring professional.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionInput {
    /// `parents` (the parents' reaction, as passed on) or `professional`.
    pub from: String,
    /// The reaction (1 to 10,000 characters).
    pub text: String,
}

/// One sent version, as a reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentVersion {
    /// 1 for the report as first sent; each reaction adds one.
    pub version: i64,
    /// When it was sent (UTC).
    pub sent_at: DateTime<Utc>,
    /// What it says.
    pub content: ReportContent,
}

/// The report of one referral as the user may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    /// The referral.
    pub referral_id: i64,
    /// Whether a version has been sent.
    pub sent: bool,
    /// The date by which the first version is due (the norm).
    pub due: Option<NaiveDate>,
    /// Not sent and past `due`.
    pub late: bool,
    /// Until when (local date) reactions are taken, once sent.
    pub reactions_until: Option<NaiveDate>,
    /// The local date the content was deleted after the retention period
    /// (`reports.retention_months`); then only that it existed is known.
    pub purged_on: Option<NaiveDate>,
    /// The draft, for those who write it (chair, secretary of the table).
    pub draft: Option<ReportContent>,
    /// The sent versions, newest first, for those who may read them; empty
    /// for coordinators (they see only `sent`, `due` and `late`).
    pub versions: Vec<SentVersion>,
    /// Whether the user may write and send it.
    pub may_write: bool,
    /// Whether the user may record a reaction now.
    pub may_react: bool,
}

/// `text` checked by the common rules of case text; a problem is added to
/// `problems` (so a form names all of them at once).
fn text_problem(field: &str, text: &str, max: usize, problems: &mut Vec<FieldError>) -> String {
    crate::referrals::input::free_text(field, text, max, true).unwrap_or_else(|problem| {
        problems.push(problem);
        text.trim().to_string()
    })
}

impl DraftInput {
    /// The draft's content, checked; reactions come only by [`react`].
    ///
    /// # Errors
    /// [`Error::Invalid`] naming every wrong field (`text`,
    /// `agreements[2].what`, `participants[0]`, `professionals[1]`), in
    /// English and Dutch.
    pub fn parse(&self) -> Result<ReportContent, Error> {
        let mut problems = Vec::new();
        let text = text_problem("text", &self.text, MAX_TEXT, &mut problems);
        if self.agreements.len() > MAX_AGREEMENTS {
            problems.push(FieldError::both(
                "agreements",
                format!("at most {MAX_AGREEMENTS}"),
                format!("Hoogstens {MAX_AGREEMENTS} afspraken."),
            ));
        }
        let agreements = self
            .agreements
            .iter()
            .enumerate()
            .map(|(i, a)| Agreement {
                what: text_problem(
                    &format!("agreements[{i}].what"),
                    &a.what,
                    500,
                    &mut problems,
                ),
                who: text_problem(&format!("agreements[{i}].who"), &a.who, 200, &mut problems),
                by: a.by,
            })
            .collect();
        let mut participants = Vec::new();
        for (i, p) in self.participants.iter().enumerate() {
            let p = p.trim();
            if !PARTICIPANTS.iter().any(|(id, _)| *id == p) {
                problems.push(FieldError::both(
                    format!("participants[{i}]"),
                    "must be one of parents, child_12_plus, referrer, certified_institution, raad, trusted_person",
                    "Kies uit de lijst.",
                ));
            } else if !participants.iter().any(|q: &String| q == p) {
                participants.push(p.to_string());
            }
        }
        if self.professionals.len() > MAX_PROFESSIONALS {
            problems.push(FieldError::both(
                "professionals",
                format!("at most {MAX_PROFESSIONALS}"),
                format!("Hoogstens {MAX_PROFESSIONALS} adressen."),
            ));
        }
        let mut professionals = Vec::new();
        for (i, address) in self.professionals.iter().enumerate() {
            match Email::parse(address.trim()) {
                Ok(email) => professionals.push(AsRef::<str>::as_ref(&email).to_string()),
                Err(e) => problems.push(FieldError::both(
                    format!("professionals[{i}]"),
                    e.to_string(),
                    "Geen geldig e-mailadres.",
                )),
            }
        }
        if problems.is_empty() {
            Ok(ReportContent {
                text,
                agreements,
                participants,
                professionals,
                reactions: Vec::new(),
            })
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

impl ReactionInput {
    /// Who reacted and what, checked.
    ///
    /// # Errors
    /// [`Error::Invalid`] on `from` or `text`.
    pub fn parse(&self) -> Result<(String, String), Error> {
        let mut problems = Vec::new();
        let from = self.from.trim();
        if !matches!(from, "parents" | "professional") {
            problems.push(FieldError::both(
                "from",
                "must be parents or professional",
                "Kies: de ouders of de professional.",
            ));
        }
        let text = text_problem("text", &self.text, MAX_TEXT, &mut problems);
        if problems.is_empty() {
            Ok((from.to_string(), text))
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_names_every_wrong_field() {
        let input = DraftInput {
            text: " ".into(),
            agreements: vec![Agreement {
                what: "Dagelijks contact met school".into(),
                who: "".into(),
                by: None,
            }],
            participants: vec!["parents".into(), "neighbour".into(), "parents".into()],
            professionals: vec!["not-an-address".into()],
        };
        let Err(Error::Invalid(problems)) = input.parse() else {
            panic!("invalid");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "text",
                "agreements[0].who",
                "participants[1]",
                "professionals[0]"
            ]
        );
    }

    #[test]
    fn a_good_draft_is_trimmed_and_participants_are_unique() {
        let input = DraftInput {
            text: "  Besproken en besloten.  ".into(),
            agreements: Vec::new(),
            participants: vec!["parents".into(), "parents".into(), "raad".into()],
            professionals: vec!["p@team.example.org".into()],
        };
        let content = input.parse().expect("valid");
        assert_eq!(content.text, "Besproken en besloten.");
        assert_eq!(content.participants, ["parents", "raad"]);
    }
}
