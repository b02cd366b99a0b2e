//! The JSON API under `/api/v1`: thin handlers per domain that read the
//! request, call the domain's service and write the answer. Scope,
//! lifecycle, validation and audit are the services' business, so the
//! pages (`ui`) get the same rules by calling the same services.

pub mod advice;
pub mod health;
pub mod info;
pub mod mail;
pub mod moves;
pub mod offers;
pub mod plan;
pub mod referrals;
pub mod reports;
pub mod slots;
pub mod users;
