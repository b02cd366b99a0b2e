//! Database outage (PostgreSQL only): the app reaches PostgreSQL through a
//! TCP proxy in the test, and the test cuts it: open connections dropped,
//! new ones refused, as when PostgreSQL stops. Meanwhile requests fail fast
//! with a JSON 503 and `Retry-After`; once the proxy is back the service
//! serves again by itself, and nothing written before is lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use jbt::auth::Role;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{json, spawn_app_with, Db, StatusCode, TestApp, TestUser};
use crate::tcp_proxy::Proxy;

/// "Fails fast": well under a client's patience, far under the router's
/// 30-second timeout (the pool gives up after 1 s here).
const FAST: Duration = Duration::from_secs(5);

/// `postgres://user@host:port/db` -> (`host:port`, the same URL through `proxy_port`).
fn through_proxy(url: &str, proxy_port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (authority, path) = rest.split_once('/').expect("database name");
    let (user, host) = authority
        .rsplit_once('@')
        .map_or((None, authority), |(u, h)| (Some(u), h));
    let upstream = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    let user = user.map_or(String::new(), |u| format!("{u}@"));
    (
        upstream,
        format!("{scheme}://{user}127.0.0.1:{proxy_port}/{path}"),
    )
}

fn registration(case_ref: &str) -> Value {
    json!({
        "case_ref": case_ref,
        "municipality": "Ede",
        "kind": "vtb",
        "referrer_kind": "local_team",
        "referrer_org": "Sociaal Team Ede",
        "referrer_email": "professional@sociaalteam-ede.example.org",
        "safety_plan": true,
        "parents_informed": true,
        "child_12_plus": false
    })
}

async fn register(app: &TestApp, user: &TestUser, case_ref: &str, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/referrals"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", key)
        .json(&registration(case_ref))
        .send()
        .await
        .expect("request")
}

/// A 503 in the API's error shape, with a request id and `Retry-After`.
async fn assert_unavailable(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s > 0), "{what}: Retry-After");
    let body = json(response).await;
    assert_eq!(body["error"], "unavailable", "{what}: {body}");
    assert!(
        body["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{what}: {body}"
    );
}

async fn case_refs(app: &TestApp, case_ref: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM referrals WHERE case_ref = $1")
        .bind(case_ref)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_means_fast_503s_and_the_service_recovers_by_itself() {
    let Some(Db::Postgres(url)) = Db::postgres() else {
        return;
    };
    let (upstream, _) = through_proxy(&url, 0);
    let proxy = Proxy::start(&upstream).await;
    let (_, proxied) = through_proxy(&url, proxy.port);
    let app = spawn_app_with(
        Db::Postgres(proxied),
        &[
            ("database.acquire_timeout_millis", "1000".to_string()),
            // Long enough that the run asked for by the last registration
            // before the cut starts only when the database is gone.
            ("planning.debounce_millis", "300".to_string()),
        ],
    )
    .await;
    let coordinator = app.user(Role::Coordinator, None).await;

    let mut before = Vec::new();
    for n in 0..5 {
        let response = register(
            &app,
            &coordinator,
            &format!("OUT-BEFORE-{n}"),
            &format!("before-{n}"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        before.push(json(response).await);
    }
    app.replan().await;
    let response = register(&app, &coordinator, "OUT-LAST-1", "last").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let last = json(response).await["id"].as_i64().expect("id");

    // Writes in flight when the database goes: each one answers 201 or 503,
    // never 500 and never a hang.
    let mut burst = tokio::task::JoinSet::new();
    let answered = Arc::new(AtomicUsize::new(0));
    let some_answered = Arc::new(tokio::sync::Notify::new());
    for n in 0..20 {
        let request = app
            .client
            .post(app.url("/api/v1/referrals"))
            .bearer_auth(&coordinator.token)
            .header("Idempotency-Key", format!("burst-{n}"))
            .json(&registration(&format!("OUT-BURST-{n}")));
        let answered = answered.clone();
        let some_answered = some_answered.clone();
        burst.spawn(async move {
            let started = Instant::now();
            let response = request.send().await.expect("burst request");
            if answered.fetch_add(1, Ordering::SeqCst) + 1 >= 3 {
                some_answered.notify_one();
            }
            (n, response.status(), started.elapsed())
        });
    }
    // Cut once a few are through, with the others on their way.
    tokio::time::timeout(Duration::from_secs(30), some_answered.notified())
        .await
        .expect("the first registrations of the burst");
    proxy.cut();
    let mut burst_statuses = Vec::new();
    while let Some(done) = burst.join_next().await {
        let (n, status, took) = done.expect("burst task");
        assert!(
            status == StatusCode::CREATED || status == StatusCode::SERVICE_UNAVAILABLE,
            "OUT-BURST-{n}: {status}"
        );
        assert!(took < FAST * 2, "OUT-BURST-{n} took {took:?}");
        burst_statuses.push((n, status));
    }
    let cut_off = burst_statuses
        .iter()
        .filter(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    eprintln!(
        "outage: of 20 registrations in flight at the cut, {} were made and {cut_off} answered 503",
        20 - cut_off
    );

    // While it is down: reads, writes and the health check fail fast, and
    // so do many at once (no request waits for another's connection).
    let started = Instant::now();
    let read = app
        .get(&coordinator, &format!("/api/v1/referrals/{last}"))
        .await;
    let read_took = started.elapsed();
    assert!(read_took < FAST, "a read took {read_took:?}");
    assert_unavailable(read, "read").await;
    let started = Instant::now();
    let write = register(&app, &coordinator, "OUT-DURING-1", "during").await;
    assert!(
        started.elapsed() < FAST,
        "a write took {:?}",
        started.elapsed()
    );
    assert_unavailable(write, "write").await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(health).await["database"], "unreachable");
    let started = Instant::now();
    let mut many = tokio::task::JoinSet::new();
    for _ in 0..12 {
        many.spawn(
            app.client
                .get(app.url("/api/v1/referrals?limit=5"))
                .bearer_auth(&coordinator.token)
                .send(),
        );
    }
    while let Some(done) = many.join_next().await {
        let response = done.expect("task").expect("request");
        assert_unavailable(response, "one of many reads").await;
    }
    assert!(
        started.elapsed() < FAST,
        "12 reads took {:?}",
        started.elapsed()
    );
    eprintln!(
        "outage: a read answered 503 after {read_took:?}, 12 at once after {:?}",
        started.elapsed()
    );

    // Back: the service finds the database again by itself.
    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        if health.status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery: /healthz {}",
            health.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The plan run asked for just before the cut failed; the loop tries
    // again by itself, so the last referral gets its slot without any
    // further change (reads only until then: writes would ask for a run).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let referral = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{last}"))
                .await,
        )
        .await;
        if referral["status"] == "planned" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the referral registered before the outage was never planned: {}",
            referral["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Nothing written before is lost.
    for referral in &before {
        let id = referral["id"].as_i64().expect("id");
        let now = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        for field in [
            "case_ref",
            "municipality",
            "referrer_email",
            "registered_at",
            "kind",
            "minutes",
        ] {
            assert_eq!(now[field], referral[field], "{field} of {id}");
        }
    }
    // The registration refused meanwhile goes through on a retry, once.
    let retry = register(&app, &coordinator, "OUT-DURING-1", "during").await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(case_refs(&app, "OUT-DURING-1").await, 1);
    // Writes cut off mid-flight: retried with their key once the key's
    // interrupted first attempt counts as abandoned, each exists once.
    app.clock.advance(Span::minutes(3));
    for (n, status) in &burst_statuses {
        let case_ref = format!("OUT-BURST-{n}");
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            let retry = register(&app, &coordinator, &case_ref, &format!("burst-{n}")).await;
            let status = retry.status();
            let body = json(retry).await;
            // A taken reference is refused without naming its referral.
            assert!(
                status == StatusCode::CREATED
                    || (status == StatusCode::UNPROCESSABLE_ENTITY
                        && body.to_string().contains("cannot be used")),
                "{case_ref}: {status} {body}"
            );
        }
        assert_eq!(case_refs(&app, &case_ref).await, 1, "{case_ref}");
    }
    app.stop().await;
}
