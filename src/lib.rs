//! jbt-planner: plans the Jeugdbeschermingstafels of the Gelderland regions.
//!
//! The library holds everything; the `jbt` binary only parses the command
//! line and calls into it.
pub mod bench;
pub mod calendar;
pub mod commands;
pub mod config;
pub mod planner;
