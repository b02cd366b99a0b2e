//! How the domain says no: one error type for every domain service.
//!
//! Every domain refuses in the same few ways (the role may never do it,
//! nothing by that id in the user's scope, input that breaks a rule, a
//! state that does not allow it, storage trouble), so they share this type;
//! what differs between domains is the wording, which each domain gives in
//! English and Dutch. `web::error` maps it to HTTP, in one place; nothing
//! here knows about HTTP.

use serde::Serialize;
use utoipa::ToSchema;

/// A rule broken by one field of the input, in English (the API) and, when
/// a page shows it next to the field, Dutch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field as the API names it (`evaluation_date`, `slots[2]`).
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
    /// The same in Dutch, for the pages; absent where no page shows it yet.
    #[serde(skip)]
    pub dutch: Option<String>,
}

impl FieldError {
    /// A problem with `field`, in English only.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
            dutch: None,
        }
    }

    /// A problem with `field` in both languages.
    pub fn both(
        field: impl Into<String>,
        message: impl Into<String>,
        dutch: impl Into<String>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
            dutch: Some(dutch.into()),
        }
    }
}

/// A refusal in both languages: the API answers with `message` (English,
/// like the rest of the API), the pages with `dutch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// English.
    pub message: String,
    /// Dutch, a whole sentence.
    pub dutch: String,
}

impl Refusal {
    /// A refusal said in English and Dutch.
    pub fn new(message: impl Into<String>, dutch: impl Into<String>) -> Refusal {
        Refusal {
            message: message.into(),
            dutch: dutch.into(),
        }
    }
}

/// Why a domain service did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's role may never do this (whatever the object).
    #[error("{0}")]
    NotAllowed(String),
    /// Nothing by that id within the user's scope. Reads of data outside
    /// the scope say this too, so they do not reveal that it exists.
    #[error("not found")]
    NotFound,
    /// The input breaks rules, one entry per field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The state does not allow it (a lifecycle step, a slot taken, a
    /// change made by someone else meanwhile), in English and Dutch.
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// The database failed; `crate::web::error::is_unavailable` tells an outage
    /// (try again later) from a fault.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// A fault: a bug or a broken invariant; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// `Result` with the domain's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refusal by the state of things, in English and Dutch.
    pub fn refused(message: impl Into<String>, dutch: impl Into<String>) -> Error {
        Error::Refused(Refusal::new(message, dutch))
    }

    /// Invalid input on one field (English only).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// The `result` column of a refusal's audit row (`forbidden`,
    /// `not_found`, `conflict`, `invalid`); `None` for storage trouble and
    /// faults, which are not decisions about the request (they are logged).
    pub fn audit_result(&self) -> Option<&'static str> {
        match self {
            Error::NotAllowed(_) => Some("forbidden"),
            Error::NotFound => Some("not_found"),
            Error::Refused(_) => Some("conflict"),
            Error::Invalid(_) => Some("invalid"),
            Error::Store(_) | Error::Internal(_) => None,
        }
    }

    /// What a refusal's audit row says: the reason, or for invalid input
    /// only the names of the fields (never their values, which may be
    /// anything, case content included).
    pub fn audit_detail(&self) -> Option<String> {
        match self {
            Error::NotAllowed(why) => Some(why.clone()),
            Error::Refused(refusal) => Some(refusal.message.clone()),
            Error::Invalid(fields) => Some(
                fields
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Error::NotFound | Error::Store(_) | Error::Internal(_) => None,
        }
    }
}
