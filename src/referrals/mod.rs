//! Referrals (verzoeken tot bespreking): the type, its lifecycle, the norm
//! clock, and their storage.
//!
//! - [`domain`]: case references (pseudonymous, never personal data),
//!   referrer kinds, outcomes, conversation lengths;
//! - [`lifecycle`]: every status change, in one table;
//! - [`norm`]: due dates and on-track / at-risk / late (pure);
//! - [`access`]: what each role may see and do;
//! - [`booking`]: whether a slot can be booked for a referral (pure);
//! - [`input`] and [`view`]: the API's bodies and JSON;
//! - [`store`]: the SQL; `crate::api::referrals`: the handlers.
pub mod access;

pub mod audit;
pub mod booking;
pub mod bookings;
pub mod conversation;
pub mod domain;
pub mod info;
pub mod input;
pub mod lifecycle;
pub mod norm;
pub mod remarks;
pub mod service;
pub mod store;
pub mod view;
pub mod written;
