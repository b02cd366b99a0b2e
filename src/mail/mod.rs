//! Mail: the outbox, its worker, the Dutch message layout, calendar invitations.
//!
//! A mail is never sent from a request or a plan run directly. The code that
//! causes a mail writes it to the `outbox` table with [`enqueue`], inside its
//! own transaction, so the mail exists exactly when the change does. The
//! [`worker`] sends what the outbox holds, retries with back-off, and marks a
//! mail dead only after a permanent refusal or `mail.max_attempts` tries.
//!
//! Each logical mail has a stable `key` (e.g. `delay-12-1-5`). It is stored in
//! `outbox.message_id` (UNIQUE) and becomes the Message-ID
//! `<{key}@{host of public_url}>`, so enqueueing the same mail twice is a
//! no-op and a receiver can recognise a duplicate delivery.
//!
//! Mails carry no personal data: a case is named by its case reference only.

pub mod ics;
mod send;
pub mod worker;

use askama::Template;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::time::to_millis;

pub use send::Delivery;

/// One mail to one recipient, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// What kind of mail (`delay_alert`, `delay_all_clear`, `forecast_digest`,
    /// `invitation`, ...): for the outbox list and metrics, not for the reader.
    pub kind: &'static str,
    /// The recipient's address.
    pub to: String,
    /// The subject line, in Dutch.
    pub subject: String,
    /// The plain-text body, footer included.
    pub text: String,
    /// The HTML body; empty if rendering failed (the text then goes alone).
    pub html: String,
    /// An iCalendar object (METHOD:REQUEST or CANCEL) sent along.
    pub ics: Option<String>,
    /// The referral the mail is about, if any (kept in the outbox row).
    pub referral_id: Option<i64>,
    /// Stable per logical mail; see the module docs.
    pub key: String,
}

/// The closing line of every mail.
pub const FOOTER: &str =
    "Dit bericht is automatisch verstuurd door JBT-planner, de planning van de \
     Jeugdbeschermingstafels in Gelderland. Antwoorden op dit bericht worden niet gelezen. \
     Zaken worden in deze berichten alleen met hun zaaknummer aangeduid.";

const GREETING: &str = "Beste collega,";

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlMessage<'a> {
    subject: &'a str,
    greeting: &'a str,
    paragraphs: &'a [String],
    link: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

/// Builds a mail in the common layout: greeting, paragraphs, an optional
/// link, the footer. The HTML goes through an escaping template, so text
/// from the database can never become markup.
pub fn compose(
    kind: &'static str,
    to: &str,
    subject: &str,
    paragraphs: &[String],
    link: Option<(&str, String)>,
    key: String,
    referral_id: Option<i64>,
) -> Mail {
    let mut text = format!("{GREETING}\n\n");
    for paragraph in paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
    }
    if let Some((label, url)) = &link {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str("-- \n");
    text.push_str(FOOTER);
    text.push('\n');
    let html = HtmlMessage {
        subject,
        greeting: GREETING,
        paragraphs,
        link: link.as_ref().map(|(label, url)| (*label, url.as_str())),
        footer: FOOTER,
    }
    .render()
    .unwrap_or_else(|err| {
        // Rendering only fails on a formatting error; the plain text still
        // carries the whole message, so send that alone rather than nothing.
        tracing::error!(error = %err, kind, "rendering the HTML mail failed");
        String::new()
    });
    Mail {
        kind,
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html,
        ics: None,
        referral_id,
        key: sanitize_key(&key),
    }
}

/// Writes `mail` to the outbox, due now. Call it with the transaction of
/// the change that causes the mail. Returns `false` when a mail with the
/// same key is already there (then nothing changes).
///
/// # Errors
/// Storage errors; a duplicate key is not an error.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = to_millis(now);
    let done = sqlx::query(
        "INSERT INTO outbox (message_id, kind, recipient, subject, body_text, body_html, ics, referral_id,
                             status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(sanitize_key(&mail.key))
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(mail.ics.as_deref())
    .bind(mail.referral_id)
    .bind(at)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The right-hand side of Message-IDs: the host of `server.public_url`.
pub fn message_host(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        // An IPv6 literal keeps its brackets: a valid domain-literal.
        host_port.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        "jbt-planner.invalid".to_string()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The Message-ID of the mail with `key`.
pub fn message_id(key: &str, public_url: &str) -> String {
    format!("<{}@{}>", sanitize_key(key), message_host(public_url))
}

/// A short, stable stand-in for a recipient address in a key: one logical
/// mail to several people needs one key per person, and an address does not
/// belong in a Message-ID.
pub fn recipient_tag(address: &str) -> String {
    let digest = Sha256::digest(address.trim().to_ascii_lowercase().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Keys become the left part of a Message-ID: keep them to characters that
/// are valid there without quoting.
fn sanitize_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+' | '=') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// "woensdag 2 december 2026".
pub fn dutch_date(date: chrono::NaiveDate) -> String {
    date.format_localized("%A %-d %B %Y", chrono::Locale::nl_NL)
        .to_string()
}

/// "1 dag", "3 dagen".
pub fn dagen(n: i64) -> String {
    if n == 1 {
        "1 dag".to_string()
    } else {
        format!("{n} dagen")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_host_is_the_host_of_the_public_url() {
        assert_eq!(
            message_host("https://jbt.example.org/app"),
            "jbt.example.org"
        );
        assert_eq!(message_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(message_host("http://user@Example.ORG:80/"), "example.org");
        assert_eq!(message_host("http://[::1]:8080/"), "[::1]");
        assert_eq!(message_host(""), "jbt-planner.invalid");
    }

    #[test]
    fn keys_keep_to_message_id_characters() {
        assert_eq!(
            message_id("delay-12-1-5", "https://jbt.example.org"),
            "<delay-12-1-5@jbt.example.org>"
        );
        assert_eq!(sanitize_key("a b@c<d>"), "a-b-c-d-");
    }

    #[test]
    fn composed_mails_escape_html_and_carry_greeting_link_and_footer() {
        let mail = compose(
            "test",
            "a@example.org",
            "Onderwerp",
            &["Zaak <b>JBT-1</b> & meer".to_string()],
            Some((
                "Bekijk",
                "https://jbt.example.org/referrals/1?a=1&b=2".to_string(),
            )),
            "test-1".to_string(),
            Some(1),
        );
        assert!(mail.text.starts_with("Beste collega,"));
        assert!(mail.text.contains("Zaak <b>JBT-1</b> & meer"));
        assert!(mail
            .text
            .contains("Bekijk: https://jbt.example.org/referrals/1?a=1&b=2"));
        assert!(mail.text.contains("automatisch verstuurd door JBT-planner"));
        assert!(
            mail.html
                .contains("Zaak &#60;b&#62;JBT-1&#60;/b&#62; &#38; meer"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<b>"));
        assert!(mail.html.contains("automatisch verstuurd door JBT-planner"));
    }

    #[test]
    fn recipient_tags_are_stable_and_hide_the_address() {
        assert_eq!(
            recipient_tag("A@Example.org"),
            recipient_tag("a@example.org")
        );
        assert_ne!(
            recipient_tag("a@example.org"),
            recipient_tag("b@example.org")
        );
        assert_eq!(recipient_tag("a@example.org").len(), 12);
    }

    #[test]
    fn dates_and_days_read_in_dutch() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
        assert_eq!(dutch_date(date), "woensdag 2 december 2026");
        assert_eq!(dagen(1), "1 dag");
        assert_eq!(dagen(4), "4 dagen");
    }
}
