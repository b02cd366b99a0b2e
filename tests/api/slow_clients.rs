//! Slow clients and connection floods: a client that sends its request
//! headers too slowly is cut off, and one client address cannot hold more
//! than its share of connections.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Reads until the server closes the connection; `None` if it is still open
/// after `patience`.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        let left = patience.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

fn address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_string()
}

crate::on_both_backends!(a_client_sending_headers_too_slowly_is_cut_off, |db| {
    let app = spawn_app_with(
        db,
        &[("server.header_read_timeout_seconds", "1".to_string())],
    )
    .await;
    let mut slow = TcpStream::connect(address(&app)).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: jbt\r\n")
        .await
        .expect("partial headers");
    // Never finishes its headers: closed by the server, long before the
    // client would give up (the limit is one second).
    let closed = closed_within(&mut slow, Duration::from_secs(30)).await;
    assert!(closed.is_some(), "the slow client is still connected");
    // A prompt client is served as before.
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    app.stop().await;
});

crate::on_both_backends!(one_client_holds_at_most_its_share_of_connections, |db| {
    let app = spawn_app_with(
        db,
        &[("server.max_connections_per_client", "3".to_string())],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(address(&app)).await.expect("connect");
        // Each one proves it is served (keep-alive) and stays open.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: jbt\r\n\r\n")
            .await
            .expect("request");
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.expect("response");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    // The fourth is closed at once, unanswered.
    let mut fourth = TcpStream::connect(address(&app)).await.expect("connect");
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: jbt\r\n\r\n")
        .await;
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(30), fourth.read(&mut buf))
        .await
        .expect("an answer or a close");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the fourth connection was served"
    );
    // Once one is given up, the client may connect again.
    drop(held.pop());
    let mut served = false;
    for _ in 0..100 {
        let mut again = TcpStream::connect(address(&app)).await.expect("connect");
        let _ = again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: jbt\r\nConnection: close\r\n\r\n")
            .await;
        let mut text = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), again.read_to_end(&mut text)).await;
        if String::from_utf8_lossy(&text).starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        // The server notices the dropped connection asynchronously.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a freed place is given to the client again");
    app.stop().await;
});
