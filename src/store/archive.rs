//! The one path past the audit log's append-only triggers: removing rows
//! an operator has archived (`jbt audit archive`). The dialects differ, so
//! it lives here: SQLite drops and recreates its trigger, PostgreSQL
//! disables and enables it, each inside the caller's write transaction, so
//! no other writer ever sees the log without its guard.

use super::{Backend, WriteTx};

impl WriteTx {
    /// Removes the audit rows with `id <= up_to_id` that were written
    /// before `before_millis` (UTC milliseconds); returns how many.
    ///
    /// # Errors
    /// Database errors (the transaction then rolls back, guard included).
    pub async fn remove_archived_audit_rows(
        &mut self,
        before_millis: i64,
        up_to_id: i64,
    ) -> Result<u64, sqlx::Error> {
        let (lift, restore) = match self.backend {
            Backend::Sqlite => (
                "DROP TRIGGER audit_log_no_delete",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                 BEGIN
                     SELECT RAISE(ABORT, 'audit_log is append-only');
                 END",
            ),
            Backend::Postgres => (
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_delete",
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_delete",
            ),
        };
        sqlx::query(lift).execute(&mut *self.tx).await?;
        let removed = sqlx::query("DELETE FROM audit_log WHERE at < $1 AND id <= $2")
            .bind(before_millis)
            .bind(up_to_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        sqlx::query(restore).execute(&mut *self.tx).await?;
        Ok(removed)
    }
}
