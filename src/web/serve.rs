//! The HTTP server's accept loop: what `axum::serve` does, plus the limits
//! it does not offer. A client that sends its request headers too slowly
//! (or keeps an idle connection open) is cut off after the header-read
//! timeout; one client address holds at most so many connections at once,
//! and the server as a whole too. Without these, a thousand connections
//! each sending a byte now and then would hold the server's sockets and
//! memory indefinitely (ASVS 5.0, V4/V15: resource exhaustion).
//!
//! hyper only applies a header-read timeout when it is given a timer, and
//! `axum::serve` gives it none; hence this loop (HTTP/1.1 only, like the
//! service's clients and reverse proxies).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// The limits the server holds every connection to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers must arrive within this long (and an idle
    /// keep-alive connection closes after it).
    pub header_read_timeout: Duration,
    /// Open connections from one client address at most.
    pub per_client: usize,
    /// Open connections in all at most.
    pub total: usize,
}

/// Open connections per client address; a [`Slot`] gives its place back
/// when the connection ends.
#[derive(Clone, Default)]
struct PerClient(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection's place in the counts.
struct Slot {
    counts: PerClient,
    client: IpAddr,
    _total: OwnedSemaphorePermit,
}

impl PerClient {
    fn take(&self, client: IpAddr, max: usize, total: OwnedSemaphorePermit) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let open = counts.entry(client).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Slot {
            counts: self.clone(),
            client,
            _total: total,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = counts.get_mut(&self.client) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves `app` on `listener` until `stop` turns true, then lets the
/// requests in flight finish (idle connections close at once) and returns.
/// Each request carries its peer as `ConnectInfo<SocketAddr>`. A connection
/// over a limit is closed without an answer.
///
/// # Errors
/// None so far: accept errors (out of file descriptors, say) are logged and
/// the loop backs off briefly and goes on.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let total = Arc::new(Semaphore::new(limits.total));
    let per_client = PerClient::default();
    // Each connection holds a receiver; `closed` resolves when all are gone.
    let (drained_tx, drained_rx) = watch::channel(());
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            tracing::warn!("connection refused: the server is at its connection limit");
            continue;
        };
        let Some(slot) = per_client.take(peer.ip(), limits.per_client, permit) else {
            tracing::warn!(client = %peer.ip(), "connection refused: the client is at its connection limit");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            peer,
            app.clone(),
            limits.header_read_timeout,
            stop.clone(),
            (slot, drained_rx.clone()),
        ));
    }
    drop(drained_rx);
    drained_tx.closed().await;
    Ok(())
}

/// One connection, until it closes or the server stops (then gracefully).
async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
    _held: (Slot, watch::Receiver<()>),
) {
    let service = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.map(axum::body::Body::new)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(64 * 1024);
    let conn = builder
        .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(client = %peer.ip(), error = %err, "connection ended");
            }
        }
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
