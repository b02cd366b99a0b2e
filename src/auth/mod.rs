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

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::{CbsCode, RegionId};
use crate::error::Error;
pub use crate::role::Role;

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
