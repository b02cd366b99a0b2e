//! Service settings, layered: `config/default.toml` (built in), an optional
//! file named by `--config`, then `JBT__SECTION__KEY` environment variables
//! (and `DATABASE_URL`). Every problem is reported at once, with its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::config::{ConfigErrors, ConfigProblem, RegionsConfig};
use crate::role::Role;
use crate::store::DatabaseUrl;

mod sections;
mod unknown_keys;

pub use sections::{OfferSettings, ReportSettings};

/// The built-in defaults, `config/default.toml`: the first layer, and the
/// list of keys that exist.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The service's settings, checked: every layer merged, every value in
/// range. Made by [`Settings::load`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address and port the HTTP server listens on (`server.listen`).
    pub listen: SocketAddr,
    /// Connection limits and which proxies may name the client.
    pub server: ServerSettings,
    /// The address users reach the service at (links in mails).
    pub public_url: String,
    /// The database (`database.url` or `DATABASE_URL`); unset: SQLite at
    /// `<data_dir>/jbt.sqlite`.
    pub database_url: DatabaseUrl,
    /// The size of the database connection pool.
    pub max_connections: u32,
    /// How long a request waits for a database connection before 503.
    pub acquire_timeout: std::time::Duration,
    /// The directory for the SQLite database, mails written as files and
    /// other private files (`server.data_dir`).
    pub data_dir: PathBuf,
    /// How many weeks ahead slots are kept (1 to 52).
    pub horizon_weeks: u32,
    /// Changes within this many milliseconds are planned together in one run.
    pub debounce_millis: u64,
    /// Local time (Europe/Amsterdam) of the daily slot job and re-plan.
    pub morning_replan: chrono::NaiveTime,
    /// Region configuration file; `None` = the built-in one.
    pub regions_file: Option<PathBuf>,
    /// Days before the due date at which an unbooked referral is at risk.
    pub at_risk_days: i64,
    /// Sending mail: SMTP, sender, retries, delay alerts.
    pub mail: MailSettings,
    /// Offers to neighbouring tables: expiry and answer deadlines.
    pub offers: OfferSettings,
    /// Reports after a conversation: norm and reaction window.
    pub reports: ReportSettings,
    /// Browser sessions, login throttling, API tokens, second factors.
    pub web: WebSettings,
    /// Encryption at rest.
    pub security: SecuritySettings,
    /// Retention of the audit log.
    pub audit: AuditSettings,
}

/// How long audit rows stay in the database.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    /// Rows younger than this many days are never archived (removed from
    /// the database by `jbt audit archive`); at least 365.
    pub retention_days: u32,
}

/// A secret from configuration; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret made in code (the demo's own key).
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the HTTP server holds its connections, and whom it believes about
/// the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// A request's headers must arrive within this long; an idle
    /// keep-alive connection closes after it too.
    pub header_read_timeout: std::time::Duration,
    /// Open connections in all at most.
    pub max_connections: usize,
    /// Open connections from one client address at most.
    pub max_connections_per_client: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// login throttle); from anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The server settings, checked; problems go to `problem`.
fn server_settings(raw: &RawServer, problem: &mut impl FnMut(&str, String)) -> ServerSettings {
    if !(1..=300).contains(&raw.header_read_timeout_seconds) {
        problem(
            "server.header_read_timeout_seconds",
            format!("must be 1 to 300, not {}", raw.header_read_timeout_seconds),
        );
    }
    if raw.max_connections == 0 {
        problem("server.max_connections", "must be at least 1".into());
    }
    if raw.max_connections_per_client == 0 || raw.max_connections_per_client > raw.max_connections {
        problem(
            "server.max_connections_per_client",
            format!(
                "must be 1 to server.max_connections ({})",
                raw.max_connections
            ),
        );
    }
    let trusted_proxies = raw
        .trusted_proxies
        .iter()
        .filter(|text| !text.trim().is_empty())
        .filter_map(|text| match text.trim().parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                problem(
                    "server.trusted_proxies",
                    format!("not an IP address: {text:?}"),
                );
                None
            }
        })
        .collect();
    ServerSettings {
        header_read_timeout: std::time::Duration::from_secs(raw.header_read_timeout_seconds),
        max_connections: raw.max_connections,
        max_connections_per_client: raw.max_connections_per_client,
        trusted_proxies,
    }
}

/// How mail is sent (`[mail]`).
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// `smtp://host:port` (STARTTLS when offered), `smtps://host:port`
    /// (TLS), or unset: mails are written as .eml files under
    /// `<data_dir>/mail`.
    pub smtp_url: Option<String>,
    /// The SMTP user name; only with `password` set too does the service
    /// log in to the SMTP server.
    pub username: Option<String>,
    /// The SMTP password (with `username`).
    pub password: Option<Secret>,
    /// Sender address of every mail.
    pub from: String,
    /// Attempts before a mail is marked dead.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter.
    pub backoff_seconds: u64,
    /// A new delay alert only when the forecast gets this many days worse.
    pub worsen_days: i64,
}

/// Browser sessions and logins.
#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A session ends this many hours after login, whatever happens.
    pub session_absolute_hours: u32,
    /// Failed logins for one account within the window before each next
    /// attempt for it must wait: a delay that doubles with every further
    /// failure, up to `login_max_delay_seconds` (a delay, never a lockout:
    /// nobody can lock another user out).
    pub login_max_failures: u32,
    /// The window failed logins are counted in, in minutes.
    pub login_window_minutes: u32,
    /// The longest delay between attempts for one account, in seconds.
    pub login_max_delay_seconds: u32,
    /// Failed logins from one client address (any account) within the
    /// window before further attempts from it are refused until the window
    /// has passed (against password spraying).
    pub login_client_max_failures: u32,
    /// API tokens expire this many days after they are made.
    pub token_days: u32,
    /// Roles that must use a second factor (TOTP) to sign in in the
    /// browser, e.g. `["admin", "coordinator"]`; other users may.
    #[serde(default, deserialize_with = "string_or_list")]
    pub totp_required_roles: Vec<String>,
}

#[cfg(test)]
impl WebSettings {
    /// The `[web]` section of the built-in `config/default.toml`, for tests.
    pub(crate) fn defaults() -> WebSettings {
        Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .build()
            .and_then(|c| c.get::<WebSettings>("web"))
            .expect("the built-in [web] section parses")
    }
}

/// Encryption at rest of case text and second-factor secrets.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecuritySettings {
    /// AES-256-GCM key, 32 bytes in base64 (`openssl rand -base64 32`).
    /// Unset: the service runs, but refuses to store case text or second
    /// factors, and does not start when the database holds encrypted data.
    /// `jbt demo` makes its own under the data directory.
    pub encryption_key: Option<Secret>,
}

#[derive(Debug, Deserialize)]
struct Raw {
    server: RawServer,
    database: RawDatabase,
    planning: RawPlanning,
    #[serde(default)]
    regions: RawRegions,
    mail: MailSettings,
    offers: OfferSettings,
    reports: ReportSettings,
    web: WebSettings,
    #[serde(default)]
    security: SecuritySettings,
    audit: AuditSettings,
}

#[derive(Debug, Deserialize)]
struct RawServer {
    listen: String,
    public_url: String,
    data_dir: String,
    header_read_timeout_seconds: u64,
    max_connections: usize,
    max_connections_per_client: usize,
    #[serde(default, deserialize_with = "string_or_list")]
    trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawDatabase {
    url: Option<String>,
    max_connections: u32,
    acquire_timeout_millis: u64,
}

#[derive(Debug, Deserialize)]
struct RawPlanning {
    horizon_weeks: u32,
    debounce_millis: u64,
    morning_replan: String,
    at_risk_days: i64,
}

#[derive(Debug, Default, Deserialize)]
struct RawRegions {
    file: Option<String>,
}

impl Settings {
    /// Loads the layers. `overrides` are applied last (command-line flags
    /// such as `--listen`), as `section.key = value`.
    pub fn load(
        extra_file: Option<&Path>,
        overrides: &[(&str, String)],
    ) -> Result<Settings, ConfigErrors> {
        let source = extra_file.map_or("config/default.toml".to_string(), |p| {
            p.display().to_string()
        });
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(path) = extra_file {
            builder = builder.add_source(File::from(path.to_path_buf()).required(true));
        }
        builder = builder.add_source(
            Environment::with_prefix("JBT")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .with_list_parse_key("web.totp_required_roles")
                .try_parsing(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder
                .set_override("database.url", url)
                .map_err(|e| one(&source, "database.url", e))?;
        }
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, value.clone())
                .map_err(|e| one(&source, key, e))?;
        }
        // The merged tree keeps each value's origin (file or environment),
        // which names the source of an unknown key.
        let root = builder.build().map_err(|e| one(&source, "", e))?.cache;
        let mut ignored = Vec::new();
        let raw: Raw = serde_ignored::deserialize(root.clone(), |path| {
            ignored.push(crate::config::raw::ignored_path(&path));
        })
        .map_err(|e| one(&source, "", e))?;
        if !ignored.is_empty() {
            let defaults = Config::builder()
                .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
                .build()
                .map_err(|e| one("config/default.toml", "", e))?
                .cache;
            let problems = unknown_keys::problems(&root, &defaults, &ignored, &source);
            if !problems.is_empty() {
                return Err(ConfigErrors(problems));
            }
        }
        Settings::from_raw(raw, &source)
    }

    fn from_raw(raw: Raw, source: &str) -> Result<Settings, ConfigErrors> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                file: source.to_string(),
                key: key.to_string(),
                message,
            })
        };
        let listen = raw
            .server
            .listen
            .parse::<SocketAddr>()
            .map_err(|e| {
                problem(
                    "server.listen",
                    format!("not an address:port {:?} ({e})", raw.server.listen),
                )
            })
            .ok();
        let data_dir = PathBuf::from(&raw.server.data_dir);
        let url_text = raw
            .database
            .url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("jbt.sqlite").display()));
        let database_url = DatabaseUrl::parse(&url_text)
            .map_err(|e| problem("database.url", e))
            .ok();
        if raw.database.max_connections == 0 {
            problem("database.max_connections", "must be at least 1".into());
        }
        if !(100..=60_000).contains(&raw.database.acquire_timeout_millis) {
            problem(
                "database.acquire_timeout_millis",
                format!(
                    "must be 100 to 60000, not {}",
                    raw.database.acquire_timeout_millis
                ),
            );
        }
        if !(1..=52).contains(&raw.planning.horizon_weeks) {
            problem(
                "planning.horizon_weeks",
                format!("must be 1 to 52, not {}", raw.planning.horizon_weeks),
            );
        }
        let morning_replan =
            chrono::NaiveTime::parse_from_str(&raw.planning.morning_replan, "%H:%M")
                .map_err(|_| {
                    problem(
                        "planning.morning_replan",
                        format!("not a time HH:MM {:?}", raw.planning.morning_replan),
                    )
                })
                .ok();
        if !raw.server.public_url.starts_with("http://")
            && !raw.server.public_url.starts_with("https://")
        {
            problem(
                "server.public_url",
                format!(
                    "must start with http:// or https://, not {:?}",
                    raw.server.public_url
                ),
            );
        }
        if let Some(url) = raw.mail.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                problem(
                    "mail.smtp_url",
                    format!("must start with smtp:// or smtps://, not {url:?}"),
                );
            }
        }
        if raw.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            problem(
                "mail.from",
                format!(
                    "not a mailbox like \"JBT-planner <noreply@example.org>\": {:?}",
                    raw.mail.from
                ),
            );
        }
        if raw.mail.max_attempts == 0 {
            problem("mail.max_attempts", "must be at least 1".into());
        }
        if raw.offers.expiry_working_days == 0 {
            problem("offers.expiry_working_days", "must be at least 1".into());
        }
        for (key, value) in [
            ("reports.norm_working_days", raw.reports.norm_working_days),
            (
                "reports.reaction_working_days",
                raw.reports.reaction_working_days,
            ),
            ("reports.retention_months", raw.reports.retention_months),
        ] {
            if value == 0 {
                problem(key, "must be at least 1".into());
            }
        }
        if raw.offers.min_answer_working_hours == 0 {
            problem(
                "offers.min_answer_working_hours",
                "must be at least 1".into(),
            );
        }
        for (key, value) in [
            ("web.session_idle_minutes", raw.web.session_idle_minutes),
            ("web.session_absolute_hours", raw.web.session_absolute_hours),
            ("web.login_max_failures", raw.web.login_max_failures),
            ("web.login_window_minutes", raw.web.login_window_minutes),
            (
                "web.login_max_delay_seconds",
                raw.web.login_max_delay_seconds,
            ),
            (
                "web.login_client_max_failures",
                raw.web.login_client_max_failures,
            ),
            ("web.token_days", raw.web.token_days),
        ] {
            if value == 0 {
                problem(key, "must be at least 1".into());
            }
        }
        if raw.planning.at_risk_days < 0 {
            problem("planning.at_risk_days", "must not be negative".into());
        }
        for role in &raw.web.totp_required_roles {
            if Role::parse(role.trim()).is_none() {
                problem(
                    "web.totp_required_roles",
                    format!("unknown role {role:?} ({})", Role::names()),
                );
            }
        }
        if raw.audit.retention_days < 365 {
            problem(
                "audit.retention_days",
                format!(
                    "must be at least 365 (a year of history), not {}",
                    raw.audit.retention_days
                ),
            );
        }
        if let Some(key) = &raw.security.encryption_key {
            if crate::crypto::Cipher::from_base64(key.expose()).is_err() {
                problem(
                    "security.encryption_key",
                    "must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)".into(),
                );
            }
        }
        let server = server_settings(&raw.server, &mut problem);
        match (listen, database_url, morning_replan, problems.is_empty()) {
            (Some(listen), Some(database_url), Some(morning_replan), true) => Ok(Settings {
                listen,
                server,
                public_url: raw.server.public_url.trim_end_matches('/').to_string(),
                database_url,
                max_connections: raw.database.max_connections,
                acquire_timeout: std::time::Duration::from_millis(
                    raw.database.acquire_timeout_millis,
                ),
                data_dir,
                horizon_weeks: raw.planning.horizon_weeks,
                debounce_millis: raw.planning.debounce_millis,
                morning_replan,
                regions_file: raw.regions.file.map(PathBuf::from),
                at_risk_days: raw.planning.at_risk_days,
                mail: raw.mail,
                offers: raw.offers,
                reports: raw.reports,
                web: raw.web,
                security: raw.security,
                audit: raw.audit,
            }),
            _ => Err(ConfigErrors(problems)),
        }
    }

    /// The region configuration these settings name.
    pub fn regions(&self) -> Result<RegionsConfig, ConfigErrors> {
        match &self.regions_file {
            Some(path) => RegionsConfig::load(path),
            None => RegionsConfig::builtin(),
        }
    }
}

fn one(source: &str, key: &str, err: config::ConfigError) -> ConfigErrors {
    ConfigErrors(vec![ConfigProblem {
        file: source.to_string(),
        key: key.to_string(),
        message: err.to_string(),
    }])
}

/// A list setting given as a list (TOML) or as one comma-separated string
/// (an environment variable or a `--set` override).
fn string_or_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        Either::Many(list) => list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_optional_key_is_a_known_key() {
        let overrides: Vec<(&str, String)> = unknown_keys::OPTIONAL_KEYS
            .iter()
            .map(|key| {
                let value = match *key {
                    "database.url" => "sqlite://x.sqlite",
                    "mail.smtp_url" => "smtp://127.0.0.1:2525",
                    "security.encryption_key" => "dGVzdC1rZXktZm9yLWpidC1wbGFubmVyLXRlc3RzISE=",
                    _ => "x",
                };
                (*key, value.to_string())
            })
            .collect();
        let settings = Settings::load(None, &overrides).expect("known keys");
        assert_eq!(
            settings.mail.smtp_url.as_deref(),
            Some("smtp://127.0.0.1:2525")
        );
    }

    #[test]
    fn an_unknown_override_is_refused_with_the_nearest_key() {
        let errors = Settings::load(None, &[("mail.smtpurl", "smtp://x".to_string())])
            .expect_err("unknown key");
        assert_eq!(errors.len(), 1);
        let problem = &errors.problems()[0];
        assert_eq!(problem.key, "mail.smtpurl");
        assert!(
            problem.message.contains("did you mean mail.smtp_url?"),
            "{problem}"
        );
    }
}
