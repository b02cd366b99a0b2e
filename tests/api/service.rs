//! Stories: what every service has (health, metrics, OpenAPI, errors).

use std::collections::BTreeMap;

use crate::helpers::*;
use crate::story;
use jbt::auth::Role;

story!(health_reports_the_database, |app| {
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["database"], "ok");
});

story!(the_openapi_document_lists_the_api, |app| {
    let doc = json(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/referrals",
        "/api/v1/referrals/{id}",
        "/api/v1/bookings",
        "/api/v1/slots",
        "/api/v1/plan",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
});

story!(metrics_count_requests_by_route, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    app.get(&coordinator, "/api/v1/slots").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(text.contains("jbt_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/slots\""), "{text}");
});

story!(every_response_carries_a_request_id, |app| {
    let response = app
        .client
        .get(app.url("/api/v1/referrals"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let header = response
        .headers()
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .expect("text")
        .to_string();
    assert!(!header.is_empty());
    let body = json(response).await;
    assert_eq!(body["error"], "unauthenticated");
    assert_eq!(body["request_id"], header.as_str());
});

story!(malformed_json_is_a_clear_client_error, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let response = app
        .client
        .post(app.url("/api/v1/slots/sessions"))
        .bearer_auth(&coordinator.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"], "bad_request");
    let response = app
        .post(
            &coordinator,
            "/api/v1/slots/sessions",
            &serde_json::json!({ "region": 5 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

/// Table -> sorted column names, as the live database reports them.
async fn schema(store: &jbt::store::Store) -> BTreeMap<String, Vec<String>> {
    let sql = match store.backend {
        jbt::store::Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
        }
        jbt::store::Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql)
        .fetch_all(&store.pool)
        .await
        .expect("schema");
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, c) in rows {
        map.entry(t).or_default().push(c);
    }
    for cols in map.values_mut() {
        cols.sort();
    }
    map
}

story!(both_backends_have_the_same_tables_and_columns, |app| {
    // Migrate a scratch SQLite database and compare it with this backend's.
    let dir = tempfile::tempdir().expect("dir");
    let url = jbt::store::DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("s.sqlite").display()
    ))
    .expect("url");
    let reference = jbt::store::Store::connect(&url, 1).await.expect("sqlite");
    let expected = schema(&reference).await;
    assert!(expected.contains_key("referrals") && expected.contains_key("audit_log"));
    assert_eq!(schema(&app.state.store).await, expected);
});

story!(
    a_key_abandoned_by_a_crash_is_taken_over_by_the_retry,
    |app| {
        use sha2::{Digest, Sha256};
        let coordinator = app.user(Role::Coordinator, None).await;
        let body = serde_json::json!({ "region": "noord-veluwe", "date": "2026-12-03", "start": "13:00", "slots": 1, "minutes": 90 });
        // What a crash mid-request leaves behind: the key, no response.
        let scope: String = Sha256::digest(format!("Bearer {}", coordinator.token).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let request_hash: String = {
            let mut h = Sha256::new();
            h.update("POST /slots/sessions\n");
            h.update(serde_json::to_vec(&body).expect("json"));
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        let mut tx = app.state.store.write().await.expect("tx");
        sqlx::query("INSERT INTO idempotency_keys (scope, idem_key, method, path, request_hash, created_at) VALUES ($1, 'k-1', 'POST', '/api/v1/slots/sessions', $2, $3)")
        .bind(&scope)
        .bind(&request_hash)
        .bind(jbt::store::time::to_millis(app.state.now()))
        .execute(&mut *tx)
        .await
        .expect("insert");
        tx.commit().await.expect("commit");
        let send = || {
            app.client
                .post(app.url("/api/v1/slots/sessions"))
                .bearer_auth(&coordinator.token)
                .header("idempotency-key", "k-1")
                .json(&body)
                .send()
        };
        // Still fresh: another request may be handling it.
        assert_eq!(
            send().await.expect("request").status(),
            StatusCode::CONFLICT
        );
        app.clock.advance(chrono::Duration::minutes(5));
        let response = send().await.expect("request");
        assert_eq!(response.status(), StatusCode::CREATED);
        let replay = send().await.expect("request");
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(
            replay
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().ok()),
            Some(Some("true"))
        );
    }
);
