//! Faults: PostgreSQL cut off behind a proxy and brought back.
//!
//! Its own test binary, so the proxy's sockets do not share a process with
//! the story suite.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod outage;
