//! Stories: the audit log records who did what to which referral and the
//! result, never free text from the case; reasons stay with the referral,
//! scoped like it. The one-time migration blanks what older versions wrote.

use std::borrow::Cow;
use std::path::Path;

use jbt::auth::Role;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::planning::register;
use crate::story;

const REASON: &str = "Moeder Jansen verhuisd met Daan (7) naar Utrecht";

async fn audit_text(app: &TestApp, admin: &TestUser) -> String {
    let response = app.get(admin, "/api/v1/audit?limit=1000").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("body")
}

story!(
    withdrawal_and_cancel_reasons_stay_with_the_referral_not_in_the_audit_log,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let admin = app.user(Role::Admin, None).await;
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        let withdrawn = register(&app, &coordinator, "PRIV-1", "Ede").await;
        let cancelled = register(&app, &coordinator, "PRIV-2", "Ede").await;

        let response = app
            .post(
                &referrer,
                &format!("/api/v1/referrals/{withdrawn}/withdraw"),
                &json!({ "reason": REASON }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await["close_reason"], REASON);
        let response = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{cancelled}/cancel"),
                &json!({ "reason": format!("{REASON} (tafel)") }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);

        // The audit log names the actions, not the words.
        let log = audit_text(&app, &admin).await;
        assert!(log.contains("referral.withdraw") && log.contains("referral.cancel"));
        assert!(!log.contains("Utrecht") && !log.contains("Daan"), "{log}");
        let page = {
            let mut browser = crate::browser::Browser::new(&app);
            browser.login(&admin).await;
            browser
                .get("/admin/audit")
                .await
                .text()
                .await
                .expect("page")
        };
        assert!(!page.contains("Utrecht"), "the admin's audit page");
        let stored: Vec<Option<String>> = sqlx::query("SELECT detail FROM audit_log")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("audit rows")
            .iter()
            .map(|row| row.try_get("detail").expect("detail"))
            .collect();
        assert!(stored.iter().flatten().all(|d| !d.contains("Utrecht")));

        // The referral keeps it, for those who may see the referral.
        let seen: Value = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{cancelled}"))
                .await,
        )
        .await;
        assert_eq!(seen["close_reason"], format!("{REASON} (tafel)"));
        let other_org = app.user(Role::Referrer, Some("Veilig Thuis")).await;
        let hidden = app
            .get(&other_org, &format!("/api/v1/referrals/{withdrawn}"))
            .await;
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    }
);

/// Runs the migrations of `backend` up to and including `last`.
pub(crate) async fn migrate_to(pool: &sqlx::AnyPool, backend: &str, last: i64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= last)
            .cloned()
            .collect(),
    );
    let backend = if backend == "sqlite" {
        jbt::store::Backend::Sqlite
    } else {
        jbt::store::Backend::Postgres
    };
    let mut conn = pool.acquire().await.expect("connection");
    jbt::store::run_migrations(&mut conn, &migrator, backend)
        .await
        .expect("migrate");
}

/// An empty database of `db`'s kind, outside the service, for migration
/// stories: the pool, the backend's migrations folder name, and the
/// temporary folder that holds a SQLite file (keep it alive).
pub(crate) async fn old_database(db: Db) -> (sqlx::AnyPool, &'static str, tempfile::TempDir) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("dir");
    let (url, backend) = match db {
        Db::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("old.sqlite").display()
            ),
            "sqlite",
        ),
        Db::Postgres(base) => (fresh_postgres(&base).await, "postgres"),
    };
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    (pool, backend, dir)
}

crate::on_both_backends!(
    the_migration_blanks_old_free_text_once_and_the_log_stays_append_only,
    |db| {
        let (pool, backend, _dir) = old_database(db).await;
        migrate_to(&pool, backend, 3).await;
        let rows = [
            ("referral.withdraw", "ok", Some(REASON)),
            ("referral.cancel", "ok", Some("dubbel aangemeld door oma")),
            (
                "referral.release",
                "ok",
                Some("session cancelled: voorzitter ziek"),
            ),
            (
                "referral.withdraw",
                "conflict",
                Some("referrers withdraw, tables cancel"),
            ),
            ("offer.create", "ok", Some("offer 1: slot s at food-valley")),
        ];
        for (action, result, detail) in rows {
            sqlx::query("INSERT INTO audit_log (at, action, referral_id, result, detail) VALUES (1, $1, 1, $2, $3)")
                .bind(action)
                .bind(result)
                .bind(detail)
                .execute(&pool)
                .await
                .expect("old row");
        }

        migrate_to(&pool, backend, i64::MAX).await;

        let after: Vec<Option<String>> = sqlx::query("SELECT detail FROM audit_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("rows")
            .iter()
            .map(|row| row.try_get("detail").expect("detail"))
            .collect();
        assert_eq!(
            after,
            [
                None,
                None,
                Some("session cancelled".to_string()),
                Some("referrers withdraw, tables cancel".to_string()),
                Some("offer 1: slot s at food-valley".to_string()),
            ]
        );
        // Append-only again, for every statement.
        assert!(sqlx::query("UPDATE audit_log SET detail = 'x'")
            .execute(&pool)
            .await
            .is_err());
        assert!(sqlx::query("DELETE FROM audit_log")
            .execute(&pool)
            .await
            .is_err());
        pool.close().await;
    }
);
