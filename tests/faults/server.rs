//! The real `jbt` binary as a child process: `jbt serve` on a data
//! directory and database of the test's own, `jbt user add` for its users.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::helpers::Db;

/// Where one service keeps its state: survives the process, so a second
/// `start` after a kill finds what the first one wrote.
pub struct Instance {
    pub data_dir: tempfile::TempDir,
    pub database_url: String,
}

/// A running `jbt serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:port`
    pub base: String,
    /// Everything the process wrote to stdout and stderr (its logs), by line.
    pub output: Arc<Mutex<Vec<String>>>,
}

/// A fresh PostgreSQL database next to the one `base` names.
pub async fn fresh_postgres(base: &str, tag: &str) -> String {
    let name = format!("jbt_faults_{tag}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to JBT_TEST_POSTGRES_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
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

impl Instance {
    pub async fn new(db: &Db, tag: &str) -> Instance {
        let data_dir = tempfile::tempdir().expect("data dir");
        let database_url = match db {
            Db::Sqlite => format!("sqlite://{}", data_dir.path().join("jbt.sqlite").display()),
            Db::Postgres(base) => fresh_postgres(base, tag).await,
        };
        Instance {
            data_dir,
            database_url,
        }
    }

    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.database_url
            .starts_with("sqlite:")
            .then(|| self.data_dir.path().join("jbt.sqlite"))
    }

    /// `jbt <args> --data-dir <dir>` with this instance's database and only
    /// the settings the test chooses (none inherited from the environment).
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jbt"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("JBT__") || key == "DATABASE_URL" || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("DATABASE_URL", &self.database_url)
            // The production log filter: what an operator would collect.
            .env("RUST_LOG", "info,sqlx=warn")
            // Plan soon after a change, as the tests want to see plans.
            .env("JBT__PLANNING__DEBOUNCE_MILLIS", "50");
        command
    }

    /// `jbt user add`; returns the API token it prints.
    pub fn user_add(&self, role: &str, region: Option<&str>, email: &str) -> String {
        let mut args = vec!["user", "add", "--role", role];
        if let Some(region) = region {
            args.extend(["--region", region]);
        }
        args.push(email);
        let output = self.command(&args).output().expect("run jbt user add");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "jbt user add failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("api token: "))
            .unwrap_or_else(|| panic!("no token in {stdout}"))
            .trim()
            .to_string()
    }

    /// `jbt serve` on a free port; returns once it listens.
    pub fn start(&self) -> Server {
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start jbt serve");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let output = output.clone();
            let ready = ready.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(addr) = line.split("listening on http://").nth(1) {
                        let _ = ready.send(addr.trim().to_string());
                    }
                    output.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let addr = match listening.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let lines = output.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
                panic!("jbt serve did not start listening:\n{lines}");
            }
        };
        Server {
            child,
            base: format!("http://{addr}"),
            output,
        }
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown handler, no flush, no rollback; the process is gone.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, and the exit status once it has finished its requests.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "jbt did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
