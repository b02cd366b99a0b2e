//! The story test suite: the service through its HTTP API, against SQLite
//! always and against PostgreSQL when `JBT_TEST_POSTGRES_URL` is set.
//! One binary, one module per domain.

mod helpers;
#[path = "../support/net.rs"]
mod net;
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;

mod access_matrix;
mod advice;
mod alerts;
mod audit_archive;
mod audit_page;
mod audit_privacy;
mod auth;
mod browser;
mod credentials;
mod dashboard;
mod export;
mod fuzz;
mod mail;
mod mail_outage;
mod moves;
mod offers;
mod planning;
mod professional;
mod races;
mod referral_page;
mod referrals;
mod report_after;
mod reports;
mod secretary;
mod service;
mod slow_clients;
mod todo;
mod ui;
