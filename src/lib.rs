//! jbt-planner: plans the Jeugdbeschermingstafels of the Gelderland regions.
//!
//! The library holds everything; the `jbt` binary only parses the command
//! line and calls into it. Dependencies run one way, from the top down
//! (`ARCHITECTURE.md`): the composition root (`startup`, `routes`,
//! `commands`), the JSON API (`api`) and the pages (`ui`), the background
//! jobs (`jobs`), HTTP plumbing (`web`), the domains (`referrals`, `slots`,
//! `offers`, `alerts`, `mail`, `auth`), the pure planner (`planner`), and
//! the ground floor (`calendar`, `config`, `settings`, `store`, `state`).
#![warn(missing_docs)]
pub mod advice;
pub mod alerts;
pub mod api;
pub mod auth;
pub mod bench;
pub mod calendar;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod error;
pub mod files;
pub mod generator;
pub mod jobs;
pub mod mail;
pub mod offers;
pub mod pdf;
pub mod placement;
pub mod planner;
pub mod referrals;
pub mod replan;
pub mod reports;
pub mod request_id;
pub mod role;
pub mod routes;
pub mod settings;
pub mod slots;
pub mod startup;
pub mod state;
pub mod store;
pub mod ui;
pub mod web;
