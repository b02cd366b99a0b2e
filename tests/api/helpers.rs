//! `spawn_app()`: a fresh database, the real router on port 0, a fake clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use jbt::auth::users::{create_user, NewUser};
use jbt::auth::Role;
use jbt::clock::FakeClock;
use jbt::config::{CbsCode, Email, RegionId, RegionsConfig};
use jbt::settings::Settings;
use jbt::startup::{self, Running};
use jbt::state::AppState;

pub use reqwest::StatusCode;

/// Runs a story once per available backend: SQLite always, PostgreSQL when
/// `JBT_TEST_POSTGRES_URL` is set. With `JBT_REQUIRE_POSTGRES=1` (CI) a
/// missing PostgreSQL URL fails instead of skipping.
#[macro_export]
macro_rules! story {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await;
                $body
                $app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::helpers::Db::postgres() else { return };
                let $app = $crate::helpers::spawn_app(db).await;
                $body
                $app.stop().await;
            }
        }
    };
}

pub enum Db {
    Sqlite,
    Postgres(String),
}

impl Db {
    pub fn postgres() -> Option<Db> {
        match std::env::var("JBT_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Db::Postgres(url)),
            _ => {
                assert!(
                    std::env::var("JBT_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "JBT_REQUIRE_POSTGRES=1 but JBT_TEST_POSTGRES_URL is not set"
                );
                eprintln!("skipped: JBT_TEST_POSTGRES_URL not set");
                None
            }
        }
    }
}

/// Monday 2026-11-30 08:00 in Amsterdam: the suite's "now".
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .single()
        .expect("valid time")
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: FakeClock,
    running: Running,
    _dir: tempfile::TempDir,
}

pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub token: String,
    pub password: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh PostgreSQL database for one test, created through the given URL.
pub async fn fresh_postgres(base: &str) -> String {
    use sqlx::Connection;
    let name = format!(
        "jbt_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to JBT_TEST_POSTGRES_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
    format!("{prefix}/{name}")
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// `spawn_app` with extra settings, e.g. `("mail.smtp_url", ...)`.
pub async fn spawn_app_with(db: Db, extra: &[(&str, String)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match &db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("jbt.sqlite").display()),
        Db::Postgres(base) => fresh_postgres(base).await,
    };
    let overrides = [
        ("server.listen", "127.0.0.1:0".to_string()),
        ("server.data_dir", dir.path().display().to_string()),
        ("database.url", url),
        ("planning.debounce_millis", "20".to_string()),
        // Stories move the clock years ahead (DST rules of 2028): their
        // users' tokens outlive that; expiry has its own story.
        ("web.token_days", "3650".to_string()),
        // A fixed test key: case text and second factors are sealed with it.
        (
            "security.encryption_key",
            "dGVzdC1rZXktZm9yLWpidC1wbGFubmVyLXRlc3RzISE=".to_string(),
        ),
    ];
    let overrides: Vec<(&str, String)> = overrides
        .iter()
        .cloned()
        .chain(extra.iter().cloned())
        .collect();
    let settings = Settings::load(None, &overrides).expect("test settings");
    let regions = RegionsConfig::builtin().expect("built-in regions");
    let clock = FakeClock::at(start_time());
    let (state, requests) = startup::build_state(settings, regions, Arc::new(clock.clone()))
        .await
        .expect("build state");
    jbt::slots::sync_horizon(&state)
        .await
        .expect("generate slots");
    let running = startup::start(state.clone(), requests)
        .await
        .expect("start");
    // The start-up digest must not race a story's own changes.
    running.daily_round_done().await;
    TestApp {
        address: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        state,
        clock,
        running,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn stop(self) {
        self.running.stop().await.expect("clean shutdown");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates a user with the given role and scope; returns its token.
    pub async fn user(&self, role: Role, scope: Option<&str>) -> TestUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let email = format!("{}-{n}@example.org", role.as_str().replace('_', "-"));
        self.user_named(role, scope, &email).await
    }

    /// [`TestApp::user`] with a chosen e-mail address.
    pub async fn user_named(&self, role: Role, scope: Option<&str>, email: &str) -> TestUser {
        let email = email.to_string();
        let mut new = NewUser {
            email: Email::parse(&email).expect("email"),
            role,
            region: None,
            organisation: None,
            municipality: None,
        };
        match role {
            Role::Chair | Role::Secretary => {
                new.region = Some(
                    RegionId::parse(scope.expect("a table role needs a region")).expect("region"),
                )
            }
            Role::Referrer => {
                new.organisation = Some(scope.unwrap_or("Sociaal Team Ede").to_string())
            }
            Role::MunicipalContact => {
                new.municipality = Some(CbsCode::parse(scope.unwrap_or("GM0228")).expect("cbs"))
            }
            _ => {}
        }
        let created = create_user(
            &self.state.store,
            new,
            self.state.settings.web.token_days,
            self.state.now(),
        )
        .await
        .expect("create user");
        TestUser {
            id: created.id,
            email,
            token: created.token,
            password: created.password,
        }
    }

    pub async fn get(&self, user: &TestUser, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(
        &self,
        user: &TestUser,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&user.token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(
        &self,
        user: &TestUser,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(&user.token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(
        &self,
        user: &TestUser,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(&user.token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Runs a plan now and waits for it (instead of the debounced loop).
    pub async fn replan(&self) -> jbt::jobs::RunSummary {
        jbt::jobs::replan_now(&self.state, "test")
            .await
            .expect("plan run")
    }
}

/// Reads a JSON body, failing the test with the body text when it is not JSON.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
