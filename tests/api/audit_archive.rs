//! Stories: archiving the audit log past its retention period (issue
//! 17.12), on both databases.

use chrono::Duration;
use jbt::auth::audit_archive::{archive, ArchiveRefused};
use jbt::auth::Role;

use crate::helpers::*;
use crate::story;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
}

async fn make_user(app: &TestApp, admin: &TestUser, email: &str) {
    let body = serde_json::json!({"email": email, "role": "coordinator"});
    let response = app.post(admin, "/api/v1/users", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

story!(
    old_audit_rows_are_archived_to_a_file_and_only_then_removed,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        make_user(&app, &admin, "oud@example.org").await;
        let old = count(&app, "SELECT COUNT(*) FROM audit_log").await;
        assert!(
            old >= 2,
            "two users were created, the audit log has {old} rows"
        );
        let dir = tempfile::tempdir().expect("dir");

        // Within the retention period: refused, nothing happens.
        let today = app.state.now().date_naive();
        let refused = archive(
            &app.state.store,
            dir.path(),
            Some(today),
            today,
            730,
            app.state.now(),
        )
        .await;
        let err = refused.expect_err("within the retention period");
        assert!(err.is::<ArchiveRefused>(), "{err}");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, old);

        // Three years on, the old rows go to a file and out of the database.
        app.clock.advance(Duration::days(3 * 365));
        // (The first admin's token has long expired.)
        let admin = app.user(Role::Admin, None).await;
        make_user(&app, &admin, "nieuw@example.org").await;
        let now = app.state.now();
        let done = archive(
            &app.state.store,
            dir.path(),
            None,
            now.date_naive(),
            730,
            now,
        )
        .await
        .expect("archived");
        assert_eq!(done.rows, u64::try_from(old).expect("count"));
        let file = done.file.expect("a file");
        let text = std::fs::read_to_string(&file).expect("archive file");
        assert_eq!(text.lines().count(), usize::try_from(old).expect("count"));
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("json");
        assert_eq!(first["action"], "user.create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the archive is private: {mode:o}");
        }
        // What stays: the recent read, and the archive's own row.
        let left: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("rows");
        assert_eq!(left, ["user.create", "user.create", "audit.archive"]);
        // The guard is back: the log is append-only again.
        let delete = sqlx::query("DELETE FROM audit_log")
            .execute(&app.state.store.pool)
            .await;
        assert!(delete.is_err(), "the append-only trigger must be restored");
    }
);
