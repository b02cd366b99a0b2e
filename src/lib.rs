//! jbt-planner: plans the Jeugdbeschermingstafels of the Gelderland regions.
//!
//! The library holds everything; the `jbt` binary only parses the command
//! line and calls into it. Modules follow the domain: `planner` (pure),
//! `generator` (what-if scenarios for the planner),
//! `calendar`, `config`, `referrals`, `slots`, `planning` (the service's
//! plan runs), `auth`, `ui` (the browser pages), `web`, `store`.
pub mod alerts;
pub mod api;
pub mod auth;
pub mod bench;
pub mod calendar;
pub mod clock;
pub mod commands;
pub mod config;
pub mod demo;
pub mod error;
pub mod generator;
pub mod mail;
pub mod offers;
pub mod placement;
pub mod planner;
pub mod planning;
pub mod referrals;
pub mod replan;
pub mod request_id;
pub mod routes;
pub mod settings;
pub mod slots;
pub mod startup;
pub mod state;
pub mod store;
pub mod ui;
pub mod web;
