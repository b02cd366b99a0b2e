//! Users, roles, credentials and the audit log.
//!
//! Every request is checked server-side: the extractor [`CurrentUser`]
//! resolves the credential (API bearer token or browser session) and
//! domain code asks it what the user may see and do.
//!
//! Credentials: passwords are stored as Argon2id PHC strings; API tokens
//! (`jbt_...`) only as their SHA-256, so a copy of the database does not
//! hold a usable credential. Every change to users or tokens writes an
//! audit row in the same transaction ([`audit`]).

pub mod admin;
pub mod audit;
pub mod audit_archive;
pub mod password;
pub mod second_factor;
pub mod secrets;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod users;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{CbsCode, RegionId};
use crate::error::Error;

/// What a user is, and so what they may see and do. Stored and sent in
/// snake case (`municipal_contact`); one role per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// All regions.
    Coordinator,
    /// The table of one region.
    Chair,
    /// Referrals of the own organisation.
    Referrer,
    /// Alerts for one municipality.
    MunicipalContact,
    /// Users and the audit log; no case data.
    Admin,
    /// The table's secretary, scoped to one region like a chair: registers
    /// referrals on a professional's behalf, asks for missing information
    /// and manages the table's sessions; answers no offers and records no
    /// outcomes.
    Secretary,
}

impl Role {
    /// The role's name as stored, in JSON and in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Chair => "chair",
            Role::Referrer => "referrer",
            Role::MunicipalContact => "municipal_contact",
            Role::Admin => "admin",
            Role::Secretary => "secretary",
        }
    }

    /// The role with this name (exactly as [`Role::as_str`] writes it); `None`
    /// for any other text.
    pub fn parse(text: &str) -> Option<Role> {
        [
            Role::Coordinator,
            Role::Chair,
            Role::Referrer,
            Role::MunicipalContact,
            Role::Admin,
            Role::Secretary,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

impl Role {
    /// Chairs and secretaries: the people of one region's table, whose
    /// account carries that region.
    pub fn at_table(self) -> bool {
        matches!(self, Role::Chair | Role::Secretary)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated user of a request, with the scope of the role.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// The user's e-mail address, which they sign in with.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// Chairs: their region.
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionId>,
    /// Referrers: their organisation.
    pub organisation: Option<String>,
    /// Municipal contacts: their municipality.
    #[schema(value_type = Option<String>)]
    pub municipality: Option<CbsCode>,
}

impl CurrentUser {
    /// Whether the user has exactly this role.
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// 403 unless the user has one of `roles`. The message names the roles
    /// that would do, so a client can tell a wrong account from a bug.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let wanted = match roles {
            [one] => format!("the {one} role"),
            many => {
                let names: Vec<&str> = many.iter().map(|r| r.as_str()).collect();
                format!("one of the roles {}", names.join(", "))
            }
        };
        Err(Error::NotAllowed(format!(
            "this needs {wanted}; you are signed in as {}",
            self.role
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 1,
            email: "a@example.org".into(),
            role,
            region: None,
            organisation: None,
            municipality: None,
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [
            Role::Coordinator,
            Role::Chair,
            Role::Referrer,
            Role::MunicipalContact,
            Role::Admin,
            Role::Secretary,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn require_accepts_a_listed_role_and_names_the_missing_one() {
        assert!(user(Role::Admin)
            .require(&[Role::Coordinator, Role::Admin])
            .is_ok());
        match user(Role::Chair).require(&[Role::Admin]) {
            Err(Error::NotAllowed(message)) => {
                assert!(message.contains("the admin role"), "{message}");
                assert!(message.contains("chair"), "{message}");
            }
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }
}
