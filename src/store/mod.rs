//! The database: SQLite (embedded default) or PostgreSQL, chosen from the URL.
//!
//! One query layer serves both: sqlx's `Any` driver, with SQL that both
//! dialects accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`, partial
//! unique indexes). Instants are stored as milliseconds since the epoch and
//! local dates as `YYYY-MM-DD` text, so no type differs in meaning between
//! the two schemas (`migrations/sqlite` and `migrations/postgres`).
//!
//! Writers: PostgreSQL serialises conflicting writes itself (row locks,
//! unique indexes, an advisory lock for plan runs). SQLite allows one
//! writer at a time per file; rather than let transactions fail with
//! `SQLITE_BUSY` when a read turns into a write, this process takes a write
//! lock first. SQLite is therefore for one instance; several instances
//! behind a load balancer use PostgreSQL.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How instants and dates are stored.
mod archive;
pub mod time;

/// Which database the store talks to, from the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (`sqlite:`): embedded, one instance only.
    Sqlite,
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
}

/// A database URL; its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts a URL starting with `sqlite:`, `postgres://` or
    /// `postgresql://`; the rest is checked when connecting.
    ///
    /// # Errors
    /// Any other scheme, with a message saying what is expected.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            Ok(DatabaseUrl(url.to_string()))
        } else {
            Err("must start with sqlite: or postgres://".into())
        }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        if self.0.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// The URL as given, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // postgres://user:secret@host/db -> postgres://user:***@host/db
        let redacted = match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let creds = &self.0[scheme + 3..at];
                match creds.find(':') {
                    Some(colon) => format!(
                        "{}{}:***{}",
                        &self.0[..scheme + 3],
                        &creds[..colon],
                        &self.0[at..]
                    ),
                    None => self.0.clone(),
                }
            }
            _ => self.0.clone(),
        };
        write!(f, "DatabaseUrl({redacted:?})")
    }
}

/// The database handle: the connection pool and, on SQLite, the process's
/// write lock. Cheap to clone (all clones share the pool and the lock).
#[derive(Clone)]
pub struct Store {
    /// The connection pool; write transactions go through [`Store::write`].
    pub pool: AnyPool,
    /// Which database it is.
    pub backend: Backend,
    write_lock: Option<Arc<Mutex<()>>>,
}

/// A write transaction; on SQLite it also holds the process's write lock.
pub struct WriteTx {
    /// The transaction itself (also reachable through `Deref`).
    pub tx: Transaction<'static, sqlx::Any>,
    backend: Backend,
    _lock: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits the transaction (and lets go of SQLite's write lock).
    ///
    /// # Errors
    /// Database errors; the transaction is then rolled back.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Serialises the write transactions that take the same `key` until
    /// they end: on PostgreSQL a transaction-scoped advisory lock (several
    /// instances may run); on SQLite nothing to do, since a write
    /// transaction already holds the process's one writer.
    ///
    /// # Errors
    /// Database errors from taking the lock.
    pub async fn lock(&mut self, key: i64) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// How long a request waits for a database connection before it gives up
/// with 503 (`database.acquire_timeout_millis`). Short on purpose: while
/// the database is down, clients should hear so at once and retry, not
/// hang until their own timeout.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `migrator` on one connection. On SQLite, foreign-key enforcement is
/// off while it runs and checked as a whole afterwards: SQLite can change a
/// table's constraints only by rebuilding the table, which a migration
/// cannot do with enforcement on, and cannot switch it off inside the
/// transaction sqlx runs each migration in (its SQLite driver ignores
/// `-- no-transaction`). This is SQLite's documented procedure for
/// `ALTER TABLE`; a dangling reference afterwards fails the start-up.
///
/// # Errors
/// A migration fails, the applied ones do not match the files, or (SQLite)
/// a foreign key dangles afterwards.
pub async fn run_migrations(
    conn: &mut AnyConnection,
    migrator: &sqlx::migrate::Migrator,
    backend: Backend,
) -> anyhow::Result<()> {
    let sqlite = backend == Backend::Sqlite;
    if sqlite {
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await?;
    }
    let ran = migrator
        .run(&mut *conn)
        .await
        .context("running database migrations");
    if sqlite {
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await?
            .len();
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut *conn)
            .await?;
        if dangling > 0 {
            anyhow::bail!("after the migrations {dangling} rows refer to rows that do not exist");
        }
    }
    ran
}

impl Store {
    /// Connects (creating a SQLite file when needed) and runs the migrations.
    ///
    /// # Errors
    /// As [`Store::connect_with`].
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Store> {
        Store::connect_with(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`Store::connect`] with the pool's acquire timeout. While PostgreSQL
    /// refuses connections, sqlx keeps trying to connect until this runs
    /// out and then reports `PoolTimedOut`, which the API answers with 503.
    ///
    /// # Errors
    /// The URL cannot be parsed, the database cannot be reached within
    /// `acquire_timeout`, a SQLite setting cannot be applied, or a migration
    /// fails.
    pub async fn connect_with(
        url: &DatabaseUrl,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        let mut text = url.expose().to_string();
        if backend == Backend::Sqlite && !text.contains("mode=") {
            text.push_str(if text.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        let options = AnyConnectOptions::from_str(&text).context("parsing the database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers go on while one writer writes;
                        // foreign keys are off by default in SQLite.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("connecting to {url:?}"))?;
        let store = Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs the migrations of the backend (`migrations/sqlite` or
    /// `migrations/postgres`) not yet applied.
    ///
    /// # Errors
    /// A migration fails or the applied ones do not match the files.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let mut conn = self.pool.acquire().await?;
        run_migrations(&mut conn, &migrator, self.backend).await
    }

    /// Starts a write transaction (see the module docs for SQLite).
    ///
    /// # Errors
    /// Storage errors beginning the transaction.
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let lock = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        // BEGIN IMMEDIATE takes SQLite's write lock up front. A deferred
        // transaction that reads first and writes later gets SQLITE_BUSY at
        // once (no busy wait) when another connection still holds the lock,
        // e.g. a dropped transaction whose rollback has not run yet.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _lock: lock,
        })
    }

    /// Is the database reachable? For `/healthz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Reads a BOOLEAN column. The Any driver cannot decode SQLite's booleans,
/// so queries select them as `CAST(col AS INTEGER)`, which both backends
/// understand, and this turns the integer back into a bool.
///
/// # Errors
/// The column is missing or not an integer.
pub fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<i64, _>(column).map(|v| v != 0)
}

/// Did this error come from a unique index? (Both backends report the
/// kind; only PostgreSQL names the constraint, so callers match on kind.)
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Did PostgreSQL abort this transaction to settle a collision with another
/// (deadlock `40P01`, serialization failure `40001`)? The work was not
/// done and may be tried again; callers report it as "changed meanwhile".
/// SQLite's single writer never collides this way.
pub fn is_retryable_conflict(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|code| matches!(code.as_ref(), "40P01" | "40001"))
}

/// Is any cause in this error chain a [`is_retryable_conflict`] error?
pub fn chain_is_retryable_conflict(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_retryable_conflict)
    })
}
