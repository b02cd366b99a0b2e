//! Building and running the service: state, background jobs, HTTP server,
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::Row;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::{Clock, SystemClock};
use crate::config::RegionsConfig;
use crate::jobs;
use crate::replan::Replanner;
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::web::serve::{self as http, Limits};

/// The process-wide metrics recorder (installed once, shared by every app
/// built in this process, which matters for tests).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

/// A running service: its address and how to stop it.
pub struct Running {
    /// The address the server listens on (the real port when `listen` asked
    /// for port 0).
    pub addr: SocketAddr,
    /// The shared state the server and the jobs run on.
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
    daily_rounds: watch::Receiver<u64>,
}

impl Running {
    /// Stops accepting, lets in-flight requests and the current job finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let result = self.server.await.context("server task")?;
        for job in self.jobs {
            let _ = job.await;
        }
        result
    }

    /// Waits until the server ends (after a shutdown signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.server.await.context("server task")?;
        let _ = self.shutdown.send(true);
        for job in self.jobs {
            let _ = job.await;
        }
        result
    }

    /// Waits until the daily jobs have finished their start-up round (slot
    /// horizon, forecast digests). Tests wait for it so that the start-up
    /// digest sees the database as it was at start-up, not a story's later
    /// changes halfway through.
    pub async fn daily_round_done(&self) {
        let mut rounds = self.daily_rounds.clone();
        let _ = rounds.wait_for(|&n| n >= 1).await;
    }

    /// The shutdown switch: sending `true` stops the server accepting and the
    /// background jobs, as [`Running::stop`] does, without waiting for them.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Connects the store and builds the shared state (no background jobs).
pub async fn build_state(
    settings: Settings,
    regions: RegionsConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(AppState, tokio::sync::mpsc::UnboundedReceiver<String>)> {
    let store = Store::connect_with(
        &settings.database_url,
        settings.max_connections,
        settings.acquire_timeout,
    )
    .await?;
    let cipher = match &settings.security.encryption_key {
        Some(key) => Some(Arc::new(
            crate::crypto::Cipher::from_base64(key.expose()).context("security.encryption_key")?,
        )),
        None => None,
    };
    if cipher.is_none() {
        refuse_sealed_data_without_key(&store).await?;
    }
    let (replan, requests) = Replanner::channel();
    let state = AppState {
        cipher,
        store,
        regions: Arc::new(regions),
        settings: Arc::new(settings),
        clock,
        replan,
        holds: Arc::new(crate::offers::withdraw::OfferHolds),
        metrics: metrics_handle(),
        advice: Default::default(),
        planner: Default::default(),
    };
    Ok((state, requests))
}

/// Sealed data (second-factor secrets, case text) cannot be read without
/// the key it was sealed with: starting without any key would lock users
/// out and lose case text in silence, so the service does not start.
async fn refuse_sealed_data_without_key(store: &Store) -> anyhow::Result<()> {
    let sealed: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL)
              + (SELECT COUNT(*) FROM info_requests)
              + (SELECT COUNT(*) FROM referral_remarks)
              + (SELECT COUNT(*) FROM reports WHERE purged_at IS NULL)
              + (SELECT COUNT(*) FROM feedback_answers WHERE remark IS NOT NULL)
              + (SELECT COUNT(*) FROM outcomes WHERE route LIKE 'v1:%' OR help LIKE 'v1:%'
                    OR safety_agreements LIKE 'v1:%') AS n",
    )
    .fetch_one(&store.pool)
    .await?
    .try_get("n")?;
    if sealed > 0 {
        anyhow::bail!(
            "the database holds encrypted data ({sealed} second-factor secrets, information requests, remarks, outcomes, reports and feedback remarks) but no \
             security.encryption_key is set: set the key it was encrypted with \
             (JBT__SECURITY__ENCRYPTION_KEY)"
        );
    }
    Ok(())
}

/// Starts the HTTP server and the background jobs on an already built state.
pub async fn start(
    state: AppState,
    requests: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(state.settings.listen)
        .await
        .with_context(|| format!("listening on {}", state.settings.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, watch_rx) = watch::channel(false);
    let (rounds_tx, daily_rounds) = watch::channel(0_u64);
    let jobs = vec![
        tokio::spawn(jobs::run_loop(state.clone(), requests, watch_rx.clone())),
        tokio::spawn(jobs::daily_jobs(state.clone(), watch_rx.clone(), rounds_tx)),
        tokio::spawn(jobs::minute_jobs(state.clone(), watch_rx.clone())),
        tokio::spawn(crate::mail::worker::run(state.clone(), watch_rx.clone())),
    ];
    let app = crate::routes::app(state.clone());
    let limits = Limits {
        header_read_timeout: state.settings.server.header_read_timeout,
        per_client: state.settings.server.max_connections_per_client,
        total: state.settings.server.max_connections,
    };
    let stop = watch_rx.clone();
    let server = tokio::spawn(async move {
        http::serve(listener, app, limits, stop)
            .await
            .context("serving HTTP")
    });
    Ok(Running {
        addr,
        state,
        shutdown,
        server,
        jobs,
        daily_rounds,
    })
}

/// `jbt serve` (and `jbt demo` after seeding): runs until SIGTERM or Ctrl-C.
pub async fn serve(
    state: AppState,
    requests: tokio::sync::mpsc::UnboundedReceiver<String>,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let running = start(state, requests).await?;
    tracing::info!(addr = %running.addr, "listening");
    on_ready(running.addr);
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = shutdown.send(true);
    });
    running.wait().await
}

/// Production defaults: the system clock.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
