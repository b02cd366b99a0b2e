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
    /// When it happened (UTC; stored as milliseconds).
    pub at: DateTime<Utc>,
    /// `None` for the system (command line, background jobs).
    pub user: Option<&'a CurrentUser>,
    /// What was done or tried, e.g. `referral.read`, `user.create`.
    pub action: &'a str,
    /// The referral it concerns, if one.
    pub referral_id: Option<i64>,
    /// `ok`, or why not: `forbidden`, `not_found`, `conflict`, `invalid`;
    /// logins also `refused` (wrong password or code), `rate_limited`
    /// (throttled) and `password_ok` (a further step is due).
    pub result: &'a str,
    /// Free text to go with it (English), e.g. the reason of a refusal.
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

/// Every action the audit log records (the `action` column).
pub const ACTIONS: [&str; 40] = [
    "session.login",
    "session.logout",
    "user.list",
    "user.create",
    "user.update",
    "user.password_change",
    "user.second_factor_enrol",
    "token.list",
    "token.create",
    "token.revoke",
    "audit.read",
    "audit.archive",
    "referral.read",
    "referral.create",
    "referral.update",
    "referral.withdraw",
    "referral.cancel",
    "referral.confirm",
    "referral.move",
    "referral.held",
    "referral.not_held",
    "referral.release",
    "referral.outcome",
    "referral.info_request",
    "referral.info_answer",
    "report.read",
    "report.write",
    "report.send",
    "report.reaction",
    "report.purge",
    "evaluation.read",
    "slot.read",
    "plan.read",
    "plan.place",
    "offer.read",
    "offer.create",
    "offer.accept",
    "offer.decline",
    "offer.expire",
    "offer.withdraw",
];

/// Which rows [`list`] returns: all filters must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditFilter {
    /// Only rows about this referral: its own, and reads that showed it
    /// among others (`referral_ids`).
    pub referral_id: Option<i64>,
    /// Only rows of this user.
    pub user_id: Option<i64>,
    /// Only rows older than this one: the next page after a page ending there.
    pub before_id: Option<i64>,
    /// Only rows of this action (one of [`ACTIONS`]).
    pub action: Option<&'static str>,
    /// Only rows at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only rows before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Capped at [`MAX_LIMIT`].
    pub limit: u32,
}

/// One row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditRow {
    /// The row's id; rows are appended in id order.
    pub id: i64,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// The user who did or tried it; `None` for the system.
    pub user_id: Option<i64>,
    /// The user's role at the time.
    pub role: Option<String>,
    /// What was done or tried, e.g. `referral.read`, `user.create`.
    pub action: String,
    /// The referral it concerns, if one (for a read of several, only when
    /// there was just one).
    pub referral_id: Option<i64>,
    /// `ok`, or why not: `forbidden`, `not_found`, `conflict`, `invalid`;
    /// logins also `refused` (wrong password or code), `rate_limited`
    /// (throttled) and `password_ok` (a further step is due).
    pub result: String,
    /// Free text to go with it, e.g. the reason of a refusal.
    pub detail: Option<String>,
    /// The id of the HTTP request it happened in; `None` outside a request
    /// (command line, background jobs).
    pub request_id: Option<String>,
    /// The referrals a read of several showed (board, list), in order.
    pub referral_ids: Vec<i64>,
}

/// Appends one `ok` row of `action` for a request that showed the
/// referrals in `referral_ids`: their ids in the row's `referral_ids`
/// (`,12,15,19,`), and in `referral_id` as well when there is just one.
///
/// One row per request keeps "every read is logged" (NEN 7513) at a
/// fraction of the size: a board load once wrote 339 rows. A referral's
/// reads are still found by its id ([`list`] with `referral_id`).
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
    let single = match referral_ids {
        [one] => Some(*one),
        _ => None,
    };
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, role, action, referral_id, result, detail, request_id, referral_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(to_millis(at))
    .bind(user.id)
    .bind(user.role.as_str())
    .bind(action)
    .bind(single)
    .bind("ok")
    .bind(detail.map(str::to_string))
    .bind(request_id)
    .bind(id_list(referral_ids))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// `,12,15,19,`: every id between commas, so `LIKE '%,15,%'` finds one.
fn id_list(ids: &[i64]) -> String {
    let mut text = String::from(",");
    for id in ids {
        text.push_str(&id.to_string());
        text.push(',');
    }
    text
}

/// A bound value of [`list`]'s query.
enum Value {
    Int(i64),
    Text(String),
}

/// Matching rows, newest first.
pub async fn list(store: &Store, filter: AuditFilter) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut sql = String::from(&format!("SELECT {ROW_COLUMNS} FROM audit_log"));
    let mut values: Vec<Value> = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    if let Some(id) = filter.referral_id {
        // Its own rows, and the requests that showed it among others.
        values.push(Value::Int(id));
        values.push(Value::Text(format!("%,{id},%")));
        conditions.push(format!(
            "(referral_id = ${} OR referral_ids LIKE ${})",
            values.len() - 1,
            values.len()
        ));
    }
    if let Some(action) = filter.action {
        values.push(Value::Text(action.to_string()));
        conditions.push(format!("action = ${}", values.len()));
    }
    for (test, value) in [
        ("user_id =", filter.user_id),
        ("id <", filter.before_id),
        ("at >=", filter.from.map(to_millis)),
        ("at <", filter.until.map(to_millis)),
    ] {
        if let Some(value) = value {
            values.push(Value::Int(value));
            conditions.push(format!("{test} ${}", values.len()));
        }
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    values.push(Value::Int(i64::from(filter.limit.min(MAX_LIMIT))));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", values.len()));
    let query = values.into_iter().fold(sqlx::query(&sql), |q, v| match v {
        Value::Int(n) => q.bind(n),
        Value::Text(t) => q.bind(t),
    });
    query
        .fetch_all(&store.pool)
        .await?
        .iter()
        .map(audit_row)
        .collect()
}

/// The columns [`audit_row`] reads.
pub(crate) const ROW_COLUMNS: &str =
    "id, at, user_id, role, action, referral_id, result, detail, request_id, referral_ids";

/// One stored row, decoded.
pub(crate) fn audit_row(row: &AnyRow) -> Result<AuditRow, sqlx::Error> {
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
        referral_ids: row
            .try_get::<Option<String>, _>("referral_ids")?
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect(),
    })
}
