//! A TCP proxy a test can cut and restore: the way the outage tests take a
//! real server (PostgreSQL, the SMTP sink) away from the service and give it
//! back, without stopping the server itself.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::net::listen;

/// Forwards every connection on `port` to `upstream`.
pub struct Proxy {
    pub port: u16,
    upstream: String,
    /// The accept loop and every forwarded connection.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    /// Starts on a port from the kernel.
    pub async fn start(upstream: &str) -> Proxy {
        Proxy::start_on(0, upstream).await
    }

    /// Starts on `port` (0: one from the kernel). Panics when the port
    /// cannot be bound within ten seconds.
    pub async fn start_on(port: u16, upstream: &str) -> Proxy {
        let listener = listen(port).await;
        let proxy = Proxy {
            port: listener.local_addr().expect("proxy address").port(),
            upstream: upstream.to_string(),
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = self.tasks.clone();
        let upstream = self.upstream.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(forward.abort_handle());
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(accept.abort_handle());
    }

    /// Drops every connection and closes the port: connecting is refused.
    pub fn cut(&self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&self) {
        let listener = listen(self.port).await;
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}
