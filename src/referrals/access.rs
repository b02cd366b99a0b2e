//! Who may see and do what with referrals.
//!
//! Two kinds of refusal: an action the role never may do is 403 (it reveals
//! nothing); a referral outside the user's scope is 404, exactly as if it did
//! not exist, so a chair cannot probe another region's case numbers.
//! Scopes are applied in SQL ([`super::store`]), never by filtering in memory.

use crate::auth::{CurrentUser, Role};
use crate::config::RegionId;
use crate::error::Error;

/// The referrals a user can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Coordinators: every region.
    All,
    /// Chairs: referrals whose home region this is, or whose planned or
    /// booked slot is at this region's table.
    Region(RegionId),
    /// Referrers: referrals of their own organisation.
    Organisation(String),
}

/// What a user wants to do with referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See referrals (coordinators, chairs, referrers).
    Read,
    /// Register a referral (coordinators, referrers).
    Create,
    /// Change a referral's details (coordinators, referrers).
    Update,
    /// Withdraw a referral: the referrer's decision (coordinators, referrers).
    Withdraw,
    /// Cancel a referral: the table's decision (coordinators, chairs).
    Cancel,
    /// Confirm a booking in a slot (coordinators, chairs).
    Confirm,
    /// Move a referral to another slot by hand (coordinators, chairs).
    Move,
    /// Mark the conversation as held (coordinators, chairs).
    Hold,
    /// Record that a booked conversation did not take place (coordinators,
    /// chairs).
    NotHeld,
    /// Record the outcome of a held conversation (coordinators, chairs).
    RecordOutcome,
    /// The table asks the professional for missing information.
    AskInfo,
    /// The professional answers the table's request.
    AnswerInfo,
}

impl Action {
    /// The audit log's name for it.
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::Read => "referral.read",
            Action::AskInfo => "referral.info_request",
            Action::AnswerInfo => "referral.info_answer",
            Action::Create => "referral.create",
            Action::Update => "referral.update",
            Action::Withdraw => "referral.withdraw",
            Action::Cancel => "referral.cancel",
            Action::Confirm => "referral.confirm",
            Action::Move => "referral.move",
            Action::Hold => "referral.held",
            Action::NotHeld => "referral.not_held",
            Action::RecordOutcome => "referral.outcome",
        }
    }

    /// Whether the role may do this at all (scope aside).
    pub fn allowed(self, role: Role) -> bool {
        use Action::*;
        match role {
            Role::Coordinator => true,
            Role::Chair => matches!(
                self,
                Read | Cancel | Confirm | Move | Hold | NotHeld | RecordOutcome | AskInfo
            ),
            Role::Secretary => matches!(self, Read | Create | AskInfo),
            Role::Referrer => matches!(self, Read | Create | Update | Withdraw | AnswerInfo),
            Role::MunicipalContact | Role::Admin => false,
        }
    }

    fn refusal(self, role: Role) -> String {
        match role {
            Role::MunicipalContact | Role::Admin => {
                format!("the {} role has no access to referral data", role.as_str())
            }
            _ => format!("a {} may not {}", role.as_str(), self.described()),
        }
    }

    fn described(self) -> &'static str {
        match self {
            Action::Read => "read referrals",
            Action::AskInfo => "ask for information",
            Action::AnswerInfo => "answer the table's questions",
            Action::Create => "register referrals",
            Action::Update => "change referrals",
            Action::Withdraw => "withdraw referrals",
            Action::Cancel => "cancel referrals",
            Action::Confirm => "confirm bookings",
            Action::Move => "move referrals to another slot",
            Action::Hold => "mark conversations as held",
            Action::NotHeld => "record conversations as not held",
            Action::RecordOutcome => "record outcomes",
        }
    }
}

/// The user's scope, if the role may do `action` at all (403 otherwise).
pub fn authorize(user: &CurrentUser, action: Action) -> Result<Scope, Error> {
    if !action.allowed(user.role) {
        return Err(Error::NotAllowed(action.refusal(user.role)));
    }
    let misconfigured = |what: &str| {
        Error::NotAllowed(format!(
            "this {} account has no {what}; ask an administrator",
            user.role.as_str()
        ))
    };
    match user.role {
        Role::Coordinator => Ok(Scope::All),
        Role::Chair | Role::Secretary => user
            .region
            .clone()
            .map(Scope::Region)
            .ok_or_else(|| misconfigured("region")),
        Role::Referrer => user
            .organisation
            .clone()
            .filter(|o| !o.trim().is_empty())
            .map(Scope::Organisation)
            .ok_or_else(|| misconfigured("organisation")),
        Role::MunicipalContact | Role::Admin => Err(Error::NotAllowed(action.refusal(user.role))),
    }
}

/// Whether `user` may do `action` at the table of `region` (a region id):
/// the role allows it and the scope holds that table. Organisations have no
/// table, so a referrer never may.
pub fn may_at(user: &CurrentUser, action: Action, region: &str) -> bool {
    match authorize(user, action) {
        Ok(Scope::All) => true,
        Ok(Scope::Region(own)) => own.as_str() == region,
        Ok(Scope::Organisation(_)) | Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 1,
            email: "someone@example.org".into(),
            role,
            region: RegionId::parse("food-valley").ok(),
            organisation: Some("Sociaal Team Ede".into()),
            municipality: None,
        }
    }

    #[test]
    fn roles_without_referral_data_are_refused_everything() {
        for role in [Role::MunicipalContact, Role::Admin] {
            for action in [Action::Read, Action::Create, Action::Confirm] {
                assert!(matches!(
                    authorize(&user(role), action),
                    Err(Error::NotAllowed(_))
                ));
            }
        }
    }

    #[test]
    fn chairs_see_their_region_and_referrers_their_organisation() {
        assert_eq!(
            authorize(&user(Role::Chair), Action::Read).ok(),
            RegionId::parse("food-valley").ok().map(Scope::Region)
        );
        assert_eq!(
            authorize(&user(Role::Referrer), Action::Read).ok(),
            Some(Scope::Organisation("Sociaal Team Ede".into()))
        );
        assert_eq!(
            authorize(&user(Role::Coordinator), Action::Cancel).ok(),
            Some(Scope::All)
        );
    }

    #[test]
    fn each_role_does_only_its_part() {
        assert!(authorize(&user(Role::Chair), Action::Create).is_err());
        assert!(authorize(&user(Role::Chair), Action::Update).is_err());
        assert!(authorize(&user(Role::Chair), Action::Confirm).is_ok());
        assert!(authorize(&user(Role::Referrer), Action::Confirm).is_err());
        assert!(authorize(&user(Role::Referrer), Action::Cancel).is_err());
        assert!(authorize(&user(Role::Referrer), Action::Withdraw).is_ok());
    }

    #[test]
    fn a_chair_without_a_region_sees_nothing() {
        let mut chair = user(Role::Chair);
        chair.region = None;
        assert!(matches!(
            authorize(&chair, Action::Read),
            Err(Error::NotAllowed(_))
        ));
    }
}
