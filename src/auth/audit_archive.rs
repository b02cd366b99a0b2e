//! `jbt audit archive`: audit rows older than the retention period are
//! written to a file and then removed from the database (issue 17.12).
//!
//! The audit log is append-only for the service and every role; this
//! operator command is the one exception, and it is itself recorded in the
//! log (how many rows, up to which date, the file and its SHA-256). Rows
//! younger than `audit.retention_days` are never removed. The file is JSON
//! Lines (one [`AuditRow`](super::audit::AuditRow) per line, oldest first), private to the service's
//! user (0600), written and synced before anything is removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use super::audit::{self, AuditEntry};
use crate::store::time::to_millis;
use crate::store::Store;

/// What an archive run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    /// Rows written to the file and removed from the database.
    pub rows: u64,
    /// The archive file (`None` when there was nothing to archive).
    pub file: Option<PathBuf>,
}

/// Why an archive was refused before anything happened.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveRefused {
    /// `before` lies within the retention period.
    #[error("--before {before} lies within the retention period of {days} days: the earliest allowed is {latest}")]
    WithinRetention {
        /// The date asked for.
        before: NaiveDate,
        /// `audit.retention_days`.
        days: u32,
        /// The latest `before` allowed today.
        latest: NaiveDate,
    },
}

/// The latest `before` allowed on `today`: rows from the last
/// `retention_days` days stay.
pub fn latest_before(today: NaiveDate, retention_days: u32) -> NaiveDate {
    today - chrono::Days::new(u64::from(retention_days))
}

/// Archives the rows written before the start of `before` (UTC midnight)
/// into a new file in `dir`, then removes them. `before` defaults to the
/// end of the retention period.
///
/// # Errors
/// A `before` within the retention period ([`ArchiveRefused`]); a file or
/// database error (nothing is removed unless the file was written and
/// synced first).
pub async fn archive(
    store: &Store,
    dir: &Path,
    before: Option<NaiveDate>,
    today: NaiveDate,
    retention_days: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Archived> {
    let latest = latest_before(today, retention_days);
    let before = before.unwrap_or(latest);
    if before > latest {
        return Err(ArchiveRefused::WithinRetention {
            before,
            days: retention_days,
            latest,
        }
        .into());
    }
    let cutoff = to_millis(before.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    let path = dir.join(format!(
        "audit-archive-before-{before}-{}.jsonl",
        now.format("%Y%m%dT%H%M%SZ")
    ));
    let (rows, up_to_id, sha) = write_file(store, &path, cutoff).await?;
    if rows == 0 {
        std::fs::remove_file(&path).ok();
        return Ok(Archived {
            rows: 0,
            file: None,
        });
    }
    let mut tx = store.write().await?;
    let removed = tx.remove_archived_audit_rows(cutoff, up_to_id).await?;
    anyhow::ensure!(
        removed == rows,
        "wrote {rows} rows to {} but {removed} matched for removal; nothing removed",
        path.display()
    );
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    audit::record(
        &mut tx,
        AuditEntry {
            at: now,
            user: None,
            action: "audit.archive",
            referral_id: None,
            result: "ok",
            detail: Some(format!(
                "{rows} rows before {before} to {name} (sha256 {sha})"
            )),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Archived {
        rows,
        file: Some(path),
    })
}

/// Writes the rows before `cutoff` to a new file at `path`, synced;
/// returns their number, the highest id and the file's SHA-256 (hex).
async fn write_file(store: &Store, path: &Path, cutoff: i64) -> anyhow::Result<(u64, i64, String)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let mut hasher = Sha256::new();
    let (mut rows, mut up_to_id) = (0_u64, 0_i64);
    let sql = format!(
        "SELECT {} FROM audit_log WHERE at < $1 ORDER BY id",
        audit::ROW_COLUMNS
    );
    let mut stream = sqlx::query(&sql).bind(cutoff).fetch(&store.pool);
    while let Some(row) = stream.try_next().await? {
        let row = audit::audit_row(&row)?;
        up_to_id = up_to_id.max(row.id);
        let mut line = serde_json::to_vec(&row)?;
        line.push(b'\n');
        hasher.update(&line);
        file.write_all(&line)
            .with_context(|| format!("writing {}", path.display()))?;
        rows += 1;
    }
    file.sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    Ok((rows, up_to_id, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retention_period_keeps_recent_rows() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        assert_eq!(
            latest_before(today, 730),
            NaiveDate::from_ymd_opt(2024, 11, 29).expect("date")
        );
    }
}
