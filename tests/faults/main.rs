//! Faults: the real `jbt` binary killed with SIGKILL while writes are in
//! flight, PostgreSQL cut off behind a proxy and brought back, and personal
//! data looked for in the logs and mails of a busy run.
//!
//! Its own test binary, so the crash test's server processes and the
//! proxy's sockets do not share a process with the story suite.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../support/net.rs"]
#[allow(dead_code)]
mod net;
#[path = "../support/tcp_proxy.rs"]
mod tcp_proxy;

mod crash;
mod files;
mod outage;
mod pii;
mod scan;
mod server;
