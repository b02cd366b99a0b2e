//! The audit log: who did or tried what, when, to which referral.
//!
//! Append-only: this module only inserts and reads, and triggers in both
//! schemas refuse `UPDATE` and `DELETE` on `audit_log`, so not even a bug
//! (or a hand-typed query) in the service can rewrite history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use super::CurrentUser;
use crate::store::time::{from_millis, to_millis};
use crate::store::Store;

/// The most rows [`list`] returns at once.
pub const MAX_LIMIT: u32 = 1000;

/// One row to append.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub at: DateTime<Utc>,
    /// `None` for the system (command line, background jobs).
    pub user: Option<&'a CurrentUser>,
    /// What was done or tried, e.g. `referral.read`, `user.create`.
    pub action: &'a str,
    pub referral_id: Option<i64>,
    /// `ok`, or why not: `forbidden`, `not_found`, `conflict`, `invalid`.
    pub result: &'a str,
    pub detail: Option<String>,
}

/// Appends `entry` on `conn`. Pass the transaction of the change the entry
/// describes (`&mut *tx`), so both commit or neither does.
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    entry: AuditEntry<'_>,
) -> Result<(), sqlx::Error> {
    // Outside a request (jobs, command line) there is no request id.
    let request_id = crate::request_id::current();
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, role, action, referral_id, result, detail, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(to_millis(entry.at))
    .bind(entry.user.map(|u| u.id))
    .bind(entry.user.map(|u| u.role.as_str()))
    .bind(entry.action)
    .bind(entry.referral_id)
    .bind(entry.result)
    .bind(entry.detail)
    .bind(request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends `entry` in a write transaction of its own: for reads and
/// refusals, which change nothing else.
pub async fn record_now(store: &Store, entry: AuditEntry<'_>) -> Result<(), sqlx::Error> {
    let mut tx = store.write().await?;
    record(&mut tx, entry).await?;
    tx.commit().await
}

/// Records a refusal in a transaction of its own (the refused work's was
/// rolled back) and hands it back; the row's `result` comes from the error
/// (`not_found`, `forbidden`, `conflict`, `invalid`). Server errors are not decisions about
/// the request and get no row. The refusal stands even when its row cannot
/// be written; that failure is logged.
pub async fn refusal(
    store: &Store,
    entry: AuditEntry<'_>,
    err: crate::error::Error,
) -> crate::error::Error {
    let Some(result) = err.audit_result() else {
        return err;
    };
    let action = entry.action;
    let entry = AuditEntry { result, ..entry };
    if let Err(audit_err) = record_now(store, entry).await {
        tracing::error!(error = ?audit_err, action, "could not write the audit row of a refusal");
    }
    err
}

/// Which rows [`list`] returns: all filters must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditFilter {
    pub referral_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Only rows older than this one: the next page after a page ending there.
    pub before_id: Option<i64>,
    /// Capped at [`MAX_LIMIT`].
    pub limit: u32,
}

/// One row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    /// The user's role at the time.
    pub role: Option<String>,
    pub action: String,
    pub referral_id: Option<i64>,
    pub result: String,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

/// Rows per statement in [`record_reads`]: 8 parameters each, far under
/// the bind limits of SQLite (32,766) and PostgreSQL (65,535).
const READS_PER_INSERT: usize = 500;

/// Appends one `ok` row of `action` per referral in `referral_ids`, as a
/// few multi-row inserts in one write transaction.
///
/// Lists and the board show many referrals per request; a statement (or
/// worse, a transaction) per row made every read queue behind the single
/// SQLite writer. Each referral shown still gets its own row.
pub async fn record_reads(
    store: &Store,
    at: DateTime<Utc>,
    user: &CurrentUser,
    action: &str,
    referral_ids: &[i64],
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    if referral_ids.is_empty() {
        return Ok(());
    }
    let request_id = crate::request_id::current();
    let mut tx = store.write().await?;
    for chunk in referral_ids.chunks(READS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (at, user_id, role, action, referral_id, result, detail, request_id) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(to_millis(at))
                .bind(user.id)
                .bind(user.role.as_str())
                .bind(action)
                .bind(*id)
                .bind("ok")
                .bind(detail.map(str::to_string))
                .bind(request_id.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Matching rows, newest first.
pub async fn list(store: &Store, filter: AuditFilter) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT id, at, user_id, role, action, referral_id, result, detail, request_id FROM audit_log",
    );
    let mut values = Vec::new();
    let conditions = [
        ("referral_id =", filter.referral_id),
        ("user_id =", filter.user_id),
        ("id <", filter.before_id),
    ];
    for (test, value) in conditions {
        if let Some(value) = value {
            values.push(value);
            let joiner = if values.len() == 1 {
                " WHERE "
            } else {
                " AND "
            };
            sql.push_str(&format!("{joiner}{test} ${}", values.len()));
        }
    }
    values.push(i64::from(filter.limit.min(MAX_LIMIT)));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", values.len()));
    let query = values.into_iter().fold(sqlx::query(&sql), |q, v| q.bind(v));
    query
        .fetch_all(&store.pool)
        .await?
        .iter()
        .map(audit_row)
        .collect()
}

fn audit_row(row: &AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        id: row.try_get("id")?,
        at: from_millis(row.try_get("at")?),
        user_id: row.try_get("user_id")?,
        role: row.try_get("role")?,
        action: row.try_get("action")?,
        referral_id: row.try_get("referral_id")?,
        result: row.try_get("result")?,
        detail: row.try_get("detail")?,
        request_id: row.try_get("request_id")?,
    })
}
