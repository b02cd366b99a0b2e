//! A real SMTP server for one test, in the test process: the `mailin`
//! crate's SMTP state machine over TCP (plain, no TLS), keeping every
//! message it accepts in memory, and able to refuse like a real server does
//! (a size limit with 552, every recipient with a chosen 4xx/5xx reply). No
//! Python, no external program: `cargo test` needs nothing beyond Rust.
//!
//! (`mailin-embedded`, the crate's ready server, cannot be built without
//! its rustls feature, which brings aws-lc and a second rustls provider
//! beside lettre's ring; the connection loop below is the small part it
//! would have given.) Dropping the sink closes its port and connections.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::response::{NO_STORAGE, OK};
use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::task::AbortHandle;

pub use crate::net::free_port;
use crate::net::listen;

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Messages longer than this many bytes are refused with 552 (as a
    /// server with a size limit does), the rest accepted.
    pub max_size: Option<usize>,
    /// Every recipient is refused with this reply code (4xx temporary,
    /// 5xx permanent).
    pub refuse_with: Option<u16>,
}

/// A running SMTP server; its port closes when it is dropped.
pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    /// The accept loop and every connection.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

/// One SMTP session's view: what it has received so far of the current
/// message. One per connection.
#[derive(Clone)]
struct Recorder {
    inbox: Arc<Mutex<Vec<Received>>>,
    options: SinkOptions,
    recipients: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        self.recipients.clear();
        self.data.clear();
        OK
    }

    fn rcpt(&mut self, _to: &str) -> Response {
        match self.options.refuse_with {
            Some(code) => Response::custom(code, "refused by the test".to_string()),
            None => OK,
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.recipients = to.to_vec();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self
            .options
            .max_size
            .is_some_and(|max| self.data.len() > max)
        {
            // mailin stays in its DATA state after a refused message and
            // would read the client's next command as message text, so the
            // refusal closes the connection (as some real servers do).
            let mut refusal = NO_STORAGE;
            refusal.action = Action::Close;
            return refusal;
        }
        let mut message = Received::parse(&String::from_utf8_lossy(&self.data));
        message.envelope_to = std::mem::take(&mut self.recipients).join(", ");
        lock(&self.inbox).push(message);
        OK
    }
}

/// The `mail.smtp_url` setting for a server on `port`.
pub fn smtp_setting(port: u16) -> (&'static str, String) {
    ("mail.smtp_url", format!("smtp://127.0.0.1:{port}"))
}

impl SmtpSink {
    /// A sink that accepts everything, on a fresh port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(free_port(), SinkOptions::default()).await
    }

    /// Starts on `port` (e.g. one an app already sends to).
    pub async fn start_on(port: u16, options: SinkOptions) -> SmtpSink {
        let listener = listen(port).await;
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            inbox: inbox.clone(),
            options,
            recipients: Vec::new(),
            data: Vec::new(),
        };
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let session = serve(stream, peer.ip(), recorder.clone());
                let handle = tokio::spawn(session).abort_handle();
                lock(&connections).push(handle);
            }
        });
        lock(&tasks).push(accept.abort_handle());
        SmtpSink { port, inbox, tasks }
    }

    pub fn setting(&self) -> (&'static str, String) {
        smtp_setting(self.port)
    }

    /// Every message received so far, in the order they arrived.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.inbox).clone()
    }

    /// Waits until at least `n` messages are in (a minute at most).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One SMTP connection: a line in, the state machine's reply out, until the
/// client quits or the state machine closes the connection.
async fn serve(stream: tokio::net::TcpStream, peer: IpAddr, recorder: Recorder) {
    let mut session = SessionBuilder::new("sink.test").build(peer, recorder);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::with_capacity(128);
    let reply = |response: &Response| response.buffer().unwrap_or_default();
    if write.write_all(&reply(&session.greeting())).await.is_err() {
        return;
    }
    loop {
        line.clear();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => continue,
            Action::Reply | Action::UpgradeTls => {
                if write.write_all(&reply(&response)).await.is_err() {
                    return;
                }
            }
            Action::Close => {
                let _ = write.write_all(&reply(&response)).await;
                return;
            }
        }
    }
}

/// One received message: the envelope recipients, unfolded headers and the
/// body with quoted-printable undone (the worker sends text parts that way).
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipients (`RCPT TO`), comma-separated.
    pub envelope_to: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    fn parse(raw: &str) -> Received {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        Received {
            envelope_to: String::new(),
            headers,
            body: decode_qp(body),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or_default()
    }

    pub fn message_id(&self) -> &str {
        self.header("Message-ID").unwrap_or_default()
    }

    /// The envelope recipients (`RCPT TO`), comma-separated.
    pub fn rcpt_to(&self) -> &str {
        &self.envelope_to
    }
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
