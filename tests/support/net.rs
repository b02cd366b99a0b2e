//! Ports for test servers: reserved from one counter, bound again after a
//! server on them stopped.

use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket};

/// A port nobody listens on now, and that no other test of this run gets.
///
/// Tests reserve a port for a server that starts later (an outage first).
/// A port from the kernel (`bind` to port 0, then released) could be handed
/// to another test meanwhile, whose server would then receive this test's
/// traffic. So ports come from one counter, below the kernel's ephemeral
/// range (32768 and up), where no `bind(0)` and no outgoing connection
/// lands.
///
/// Each test process counts in its own block of 250 ports (by process id),
/// so two test runs at once on one machine rarely meet either.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 21_000 + (std::process::id() % 40) as u16 * 250;
    loop {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(port < base + 250, "ran out of test ports");
        if StdListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Binds `port` on loopback with `SO_REUSEADDR`, retrying while a closed
/// listener of the same port is still being torn down.
pub async fn listen(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        let bound = socket
            .bind(([127, 0, 0, 1], port).into())
            .and_then(|()| socket.listen(128));
        match bound {
            Ok(listener) => return listener,
            Err(err) if Instant::now() < deadline => {
                eprintln!("proxy port {port} not free yet: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("cannot listen on {port}: {err}"),
        }
    }
}
