//! The roles of the service's users: a plain value every layer may name
//! (the settings check role names; `auth` scopes what each role may see and
//! do, and re-exports it as `auth::Role`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// Every role, in the order error messages list them.
    pub const ALL: [Role; 6] = [
        Role::Coordinator,
        Role::Chair,
        Role::Secretary,
        Role::Referrer,
        Role::MunicipalContact,
        Role::Admin,
    ];

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

    /// The role with this name (exactly as [`Role::as_str`] writes it);
    /// `None` for any other text.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Every role's name, comma-separated: what an error about an unknown
    /// role lists.
    pub fn names() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(
            Role::names(),
            "coordinator, chair, secretary, referrer, municipal_contact, admin"
        );
    }
}
