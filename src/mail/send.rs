//! Handing one mail to the transport: SMTP when `mail.smtp_url` is set,
//! otherwise `.eml` files under `<data_dir>/mail` (the demo, development).

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::settings::Settings;

/// How one delivery attempt ended; the worker decides what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server (or the file system) took the mail.
    Sent,
    /// Worth trying again later: a 4xx reply, connection refused, a timeout.
    Temporary(String),
    /// Trying again cannot help: a 5xx reply, an address that cannot be
    /// written in a mail at all.
    Permanent(String),
}

/// A mail as the worker read it from the outbox.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub ics: Option<String>,
}

/// How long one SMTP conversation step may take: a hung server must not
/// hold the worker (and its lease) for long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// The configured transport and sender address.
pub(crate) struct Sender {
    transport: Transport,
    from: Mailbox,
}

impl Sender {
    /// Builds the transport from the settings. Fails on configuration that
    /// can never work (a bad `from`, an unreadable URL): then nothing is
    /// claimed, and no mail burns its attempts on a setup error.
    pub(crate) fn from_settings(settings: &Settings) -> anyhow::Result<Sender> {
        let from: Mailbox = settings.mail.from.parse().with_context(|| {
            format!("mail.from is not a mail address: {:?}", settings.mail.from)
        })?;
        let transport = match settings.mail.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => {
                // lettre reads plain `smtp://` as "never encrypt"; the
                // settings promise STARTTLS when the server offers it.
                let url = if url.starts_with("smtp://") && !url.contains("tls=") {
                    format!(
                        "{url}{}tls=opportunistic",
                        if url.contains('?') { '&' } else { '?' }
                    )
                } else {
                    url.to_string()
                };
                // lettre's rustls backend falls back to the ring provider
                // when none is installed process-wide, so nothing to set up.
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
                    .context("mail.smtp_url cannot be used")?
                    .timeout(Some(SMTP_TIMEOUT));
                if let (Some(user), Some(password)) =
                    (&settings.mail.username, &settings.mail.password)
                {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose().to_string(),
                    ));
                }
                Transport::Smtp(builder.build())
            }
            None => {
                let dir = settings.data_dir.join("mail");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
        };
        Ok(Sender { transport, from })
    }

    /// One attempt to hand `mail` over.
    pub(crate) async fn deliver(&self, mail: &Outgoing, host: &str) -> Delivery {
        let message = match self.message(mail, host) {
            Ok(message) => message,
            Err(why) => return Delivery::Permanent(why),
        };
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Delivery::Sent,
                // Only a 5xx reply says "never": everything else (4xx,
                // refused or dropped connections, timeouts, TLS trouble)
                // may well pass on a later try.
                Err(err) if err.is_permanent() => Delivery::Permanent(err.to_string()),
                Err(err) => Delivery::Temporary(err.to_string()),
            },
            Transport::Files(files) => match files.send(message).await {
                Ok(_) => Delivery::Sent,
                Err(err) => Delivery::Temporary(err.to_string()),
            },
        }
    }

    fn message(&self, mail: &Outgoing, host: &str) -> Result<Message, String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?} is not a mail address: {e}", mail.recipient))?;
        // Quoted-printable keeps the mostly ASCII Dutch text readable in the
        // raw message and safe for any line length.
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(qp(&mail.text));
        let body = if mail.html.is_empty() {
            MultiPart::alternative().singlepart(text)
        } else {
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(qp(&mail.html)),
            )
        };
        let body = match &mail.ics {
            None => body,
            Some(ics) => {
                // The calendar part inside the alternative is what mail
                // clients act on (accept/decline); the attachment is for
                // those that only offer "open the file".
                let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                    "CANCEL"
                } else {
                    "REQUEST"
                };
                let calendar =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                        .map_err(|e| format!("calendar content type: {e}"))?;
                let alternative =
                    body.singlepart(SinglePart::builder().header(calendar).body(qp(ics)));
                let file = ContentType::parse("application/ics")
                    .map_err(|e| format!("ics content type: {e}"))?;
                MultiPart::mixed().multipart(alternative).singlepart(
                    Attachment::new("invitation.ics".to_string()).body(ics.clone(), file),
                )
            }
        };
        Message::builder()
            .message_id(Some(format!("<{}@{host}>", mail.message_id)))
            .header(AutoSubmitted)
            .header(AutoResponseSuppress)
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(body)
            .map_err(|e| format!("building the message: {e}"))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): every mail jbt sends is
/// automatic, so out-of-office and other automatic replies are not sent
/// back to it.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

/// `X-Auto-Response-Suppress: All`: the same request in the form Microsoft
/// Exchange (the mail server of most municipalities) honours.
#[derive(Debug, Clone, Copy)]
struct AutoResponseSuppress;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_string())
    }
}

fn qp(text: &str) -> Body {
    Body::new_with_encoding(text.to_string(), ContentTransferEncoding::QuotedPrintable)
        .unwrap_or_else(Body::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(recipient: &str) -> Outgoing {
        Outgoing {
            message_id: "delay-1-1-3".into(),
            recipient: recipient.into(),
            subject: "Onderwerp".into(),
            text: "tekst".into(),
            html: "<p>tekst</p>".into(),
            ics: None,
        }
    }

    fn sender() -> Sender {
        Sender {
            transport: Transport::Files(AsyncFileTransport::new(std::env::temp_dir())),
            from: "JBT-planner <noreply@example.org>".parse().expect("from"),
        }
    }

    #[test]
    fn the_message_id_is_the_key_at_the_host() {
        let message = sender()
            .message(&outgoing("a@example.org"), "jbt.example.org")
            .expect("message");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(
            raw.contains("Message-ID: <delay-1-1-3@jbt.example.org>"),
            "{raw}"
        );
    }

    #[test]
    fn every_message_is_marked_as_automatic() {
        let message = sender()
            .message(&outgoing("a@example.org"), "jbt.example.org")
            .expect("message");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(
            raw.contains("\r\nAuto-Submitted: auto-generated\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("\r\nX-Auto-Response-Suppress: All\r\n"),
            "{raw}"
        );
    }

    #[test]
    fn an_unusable_recipient_is_a_permanent_failure() {
        assert!(sender().message(&outgoing("not an address"), "h").is_err());
    }
}
