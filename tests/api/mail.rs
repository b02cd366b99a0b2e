//! Stories: the outbox and its worker against a real SMTP server (the
//! in-process sink of `tests/support/smtp_sink.rs`),
//! `.eml` files without one, calendar invitations, the outbox list.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use chrono::Duration as Span;
use serde_json::{json, Value};
use sqlx::Row;
use tower::ServiceExt;

use crate::helpers::*;
use crate::planning::register;
use jbt::auth::Role;
use jbt::mail::ics::{booking_invites, InviteChange};
use jbt::mail::{compose, enqueue};

pub use crate::smtp_sink::{free_port, smtp_setting, Received, SinkOptions, SmtpSink};

/// Runs `$body` once per backend with `$db` bound to it; the body starts
/// its own app (usually after an SMTP sink, whose port the app needs).
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::helpers::Db::Sqlite;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($db) = $crate::helpers::Db::postgres() else {
                    return;
                };
                $body
            }
        }
    };
}

/// Runs the worker until nothing in the outbox is pending and due (the
/// app's own worker may be sending some at the same time).
pub async fn drain(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        jbt::mail::worker::run_once(&app.state)
            .await
            .expect("worker round");
        let now = jbt::store::time::to_millis(app.state.now());
        let busy: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox
             WHERE status = 'pending' AND (next_attempt_at <= $1 OR lease_until IS NOT NULL)",
        )
        .bind(now)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
        if busy == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (status, attempts, last_error) of every outbox row, by id.
pub async fn outbox(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    sqlx::query("SELECT status, attempts, last_error FROM outbox ORDER BY id")
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox")
        .iter()
        .map(|r| {
            (
                r.try_get("status").expect("status"),
                r.try_get("attempts").expect("attempts"),
                r.try_get("last_error").expect("error"),
            )
        })
        .collect()
}

async fn enqueue_many(app: &TestApp, prefix: &str, n: usize, text: &str) {
    let now = app.state.now();
    let mut tx = app.state.store.write().await.expect("tx");
    for i in 0..n {
        let mail = compose(
            "test",
            &format!("ontvanger-{i}@example.org"),
            &format!("Testbericht {i}"),
            &[text.to_string()],
            None,
            format!("{prefix}-{i}"),
            None,
        );
        assert!(enqueue(&mut tx, &mail, now).await.expect("enqueue"));
    }
    tx.commit().await.expect("commit");
}

/// Calls `/mail` on the mail router itself (wiring into the app's router
/// is `routes::app`'s business).
async fn list_mail(app: &TestApp, user: &TestUser, query: &str) -> (u16, Value) {
    let router = jbt::api::mail::router().with_state(app.state.clone());
    let request = Request::builder()
        .uri(format!("/mail{query}"))
        .header("authorization", format!("Bearer {}", user.token))
        .body(Body::empty())
        .expect("request");
    let response = router.oneshot(request).await.expect("response");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

crate::on_both_backends!(
    the_same_logical_mail_is_enqueued_once_and_arrives_with_its_message_id,
    |db| {
        let sink = SmtpSink::start().await;
        let app = spawn_app_with(db, &[sink.setting()]).await;
        let mail = compose(
            "test",
            "iemand@example.org",
            "Eén bericht",
            &["Tekst".to_string()],
            None,
            "once-1".into(),
            None,
        );
        let mut tx = app.state.store.write().await.expect("tx");
        assert!(enqueue(&mut tx, &mail, app.state.now())
            .await
            .expect("first"));
        assert!(!enqueue(&mut tx, &mail, app.state.now())
            .await
            .expect("second"));
        tx.commit().await.expect("commit");

        drain(&app).await;
        let received = sink.wait_for(1).await;
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].message_id(), "<once-1@127.0.0.1>");
        assert_eq!(received[0].rcpt_to(), "iemand@example.org");
        // Automatic mail (RFC 3834, and Exchange's own header): no
        // out-of-office replies back to the sender address.
        assert_eq!(received[0].header("Auto-Submitted"), Some("auto-generated"));
        assert_eq!(received[0].header("X-Auto-Response-Suppress"), Some("All"));
        assert!(received[0].body.contains("Beste collega,"));
        assert!(received[0]
            .body
            .contains("automatisch verstuurd door JBT-planner"));
        assert_eq!(outbox(&app).await, vec![("sent".to_string(), 1, None)]);
        app.stop().await;
    }
);

crate::on_both_backends!(
    an_smtp_outage_delays_mails_but_loses_and_doubles_none,
    |db| {
        let port = free_port();
        let app = spawn_app_with(db, &[smtp_setting(port)]).await;
        enqueue_many(&app, "outage", 100, "Storingstest").await;

        // Three rounds with the server down: every mail is tried once a round
        // and put back for later.
        // (The clock only moves while nothing is in flight: a jump past a
        // running lease would hand its mails to a second worker.)
        for round in 0..3 {
            if round > 0 {
                app.clock.advance(Span::hours(1));
            }
            drain(&app).await;
        }
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 100);
        for (status, attempts, error) in &rows {
            assert_eq!(status, "pending");
            assert_eq!(*attempts, 3);
            assert!(error.as_deref().is_some_and(|e| !e.is_empty()));
        }

        let sink = SmtpSink::start_on(port, SinkOptions::default()).await;
        app.clock.advance(Span::hours(1));
        // Three workers at once (besides the app's own): the lease keeps them
        // off each other's mails.
        let (a, b, c) = tokio::join!(
            jbt::mail::worker::run_once(&app.state),
            jbt::mail::worker::run_once(&app.state),
            jbt::mail::worker::run_once(&app.state)
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        drain(&app).await;
        let received = sink.wait_for(100).await;
        let ids: Vec<&str> = received.iter().map(Received::message_id).collect();
        let distinct: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), 100, "every mail exactly once");
        assert_eq!(distinct.len(), 100);
        let expected: HashSet<String> = (0..100)
            .map(|i| format!("<outage-{i}@127.0.0.1>"))
            .collect();
        assert_eq!(distinct, expected.iter().map(String::as_str).collect());
        assert!(outbox(&app)
            .await
            .iter()
            .all(|(status, attempts, _)| status == "sent" && *attempts == 4));
        app.stop().await;
    }
);

crate::on_both_backends!(
    a_mail_is_dead_only_after_max_attempts_temporary_failures,
    |db| {
        let port = free_port();
        let app = spawn_app_with(
            db,
            &[smtp_setting(port), ("mail.max_attempts", "3".to_string())],
        )
        .await;
        enqueue_many(&app, "dead", 1, "Nooit bezorgd").await;
        for round in 1..=3 {
            drain(&app).await;
            let rows = outbox(&app).await;
            let expected = if round < 3 { "pending" } else { "dead" };
            assert_eq!((rows[0].0.as_str(), rows[0].1), (expected, round));
            app.clock.advance(Span::hours(1));
        }
        // Dead letters stay dead: no further attempts.
        drain(&app).await;
        assert_eq!(outbox(&app).await[0].1, 3);

        let coordinator = app.user(Role::Coordinator, None).await;
        let (status, dead) = list_mail(&app, &coordinator, "?status=dead").await;
        assert_eq!(status, 200);
        assert_eq!(dead.as_array().map(Vec::len), Some(1));
        assert_eq!(dead[0]["attempts"], 3);
        assert_eq!(dead[0]["recipient"], "ontvanger-0@example.org");
        assert!(dead[0]["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()));
        assert!(dead[0].get("body_text").is_none() && dead[0].get("text").is_none());
        let (_, sent) = list_mail(&app, &coordinator, "?status=sent").await;
        assert_eq!(sent, json!([]));
        let (status, all) = list_mail(&app, &coordinator, "").await;
        assert_eq!((status, all.as_array().map(Vec::len)), (200, Some(1)));
        let (status, _) = list_mail(&app, &coordinator, "?status=lost").await;
        assert_eq!(status, 422);
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        assert_eq!(list_mail(&app, &chair, "").await.0, 403);
        app.stop().await;
    }
);

crate::on_both_backends!(a_permanent_refusal_dead_letters_at_once, |db| {
    // A size limit makes the server refuse the big mail with a 5xx reply.
    let port = free_port();
    let sink = SmtpSink::start_on(
        port,
        SinkOptions {
            max_size: Some(4000),
            ..SinkOptions::default()
        },
    )
    .await;
    let app = spawn_app_with(db, &[sink.setting()]).await;
    enqueue_many(&app, "big", 1, &"te groot ".repeat(2000)).await;
    enqueue_many(&app, "small", 1, "past wel").await;
    drain(&app).await;
    let rows = outbox(&app).await;
    assert_eq!(rows[0].0, "dead");
    assert_eq!(rows[0].1, 1);
    assert!(
        rows[0].2.as_deref().is_some_and(|e| e.contains("552")),
        "{rows:?}"
    );
    assert_eq!((rows[1].0.as_str(), rows[1].1), ("sent", 1));
    assert_eq!(sink.wait_for(1).await.len(), 1);
    app.stop().await;
});

crate::on_both_backends!(
    a_temporary_refusal_keeps_the_mail_and_a_permanent_one_ends_it,
    |db| {
        // 451 from a server that answers: the mail waits for a later round.
        let port = free_port();
        let refusing = |code| SinkOptions {
            refuse_with: Some(code),
            ..SinkOptions::default()
        };
        let sink = SmtpSink::start_on(port, refusing(451)).await;
        let app = spawn_app_with(db, &[sink.setting()]).await;
        enqueue_many(&app, "busy", 1, "Later nog eens").await;
        drain(&app).await;
        let rows = outbox(&app).await;
        assert_eq!((rows[0].0.as_str(), rows[0].1), ("pending", 1));
        assert!(
            rows[0].2.as_deref().is_some_and(|e| e.contains("451")),
            "{rows:?}"
        );

        // The same server now refusing the recipient for good (550).
        drop(sink);
        let sink = SmtpSink::start_on(port, refusing(550)).await;
        app.clock.advance(Span::hours(1));
        drain(&app).await;
        let rows = outbox(&app).await;
        assert_eq!((rows[0].0.as_str(), rows[0].1), ("dead", 2));
        assert!(
            rows[0].2.as_deref().is_some_and(|e| e.contains("550")),
            "{rows:?}"
        );
        assert!(sink.messages().is_empty());
        app.stop().await;
    }
);

crate::story!(
    without_an_smtp_server_mails_are_written_as_eml_files,
    |app| {
        enqueue_many(&app, "file", 2, "Naar een bestand").await;
        drain(&app).await;
        let dir = app.state.settings.data_dir.join("mail");
        let files: Vec<String> = std::fs::read_dir(&dir)
            .expect("mail dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).expect("eml"))
            .collect();
        assert_eq!(files.len(), 2);
        assert!(files
            .iter()
            .any(|f| f.contains("Message-ID: <file-0@127.0.0.1>")));
        assert!(outbox(&app)
            .await
            .iter()
            .all(|(status, _, _)| status == "sent"));
    }
);

crate::on_both_backends!(
    a_booking_invitation_carries_an_amsterdam_calendar_entry_at_nine,
    |db| {
        let sink = SmtpSink::start().await;
        let app = spawn_app_with(db, &[sink.setting()]).await;
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let id = register(&app, &coordinator, "ST-EDE-0042", "Ede").await;
        let slots = json(
            app.get(
                &coordinator,
                "/api/v1/slots?region=food-valley&from=2026-12-02&weeks=1",
            )
            .await,
        )
        .await;
        let slot = slots
            .as_array()
            .expect("slots")
            .iter()
            .find(|s| s["start"] == "2026-12-02T09:00:00+01:00")
            .expect("a 09:00 slot on Wednesday 2 December")["id"]
            .clone();
        let response = app
            .post(
                &coordinator,
                "/api/v1/bookings",
                &json!({ "referral_id": id, "slot_id": slot }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);

        // Confirming the booking sent the invitations in its transaction.
        drain(&app).await;
        let received = sink.wait_for(2).await;
        let recipients: HashSet<&str> = received.iter().map(Received::rcpt_to).collect();
        assert_eq!(
            recipients,
            HashSet::from([
                chair.email.as_str(),
                "professional@sociaalteam-ede.example.org"
            ])
        );
        for message in &received {
            assert!(
                message
                    .subject()
                    .contains("Jeugdbeschermingstafel FoodValley: ST-EDE-0042"),
                "{}",
                message.subject()
            );
            let body = &message.body;
            assert!(
                body.contains("text/calendar; charset=utf-8; method=REQUEST"),
                "{body}"
            );
            assert!(body.contains("METHOD:REQUEST"));
            assert!(body.contains("BEGIN:VTIMEZONE"));
            assert!(body.contains("TZID:Europe/Amsterdam"));
            assert!(
                body.contains("DTSTART;TZID=Europe/Amsterdam:20261202T090000"),
                "{body}"
            );
            assert!(body.contains("SEQUENCE:0"));
            assert!(body.contains(&format!("UID:jbt-referral-{id}@127.0.0.1")));
        }

        // Cancelling (before the slot is taken off the referral) sends the
        // same entry again with METHOD:CANCEL and a higher sequence.
        let mut tx = app.state.store.write().await.expect("tx");
        booking_invites(
            &mut tx,
            &app.state,
            id,
            app.state.now(),
            InviteChange::Cancelled,
        )
        .await
        .expect("cancel");
        tx.commit().await.expect("commit");
        drain(&app).await;
        let received = sink.wait_for(4).await;
        let cancels: Vec<&Received> = received
            .iter()
            .filter(|m| m.body.contains("METHOD:CANCEL"))
            .collect();
        assert_eq!(cancels.len(), 2);
        assert!(cancels
            .iter()
            .all(|m| m.body.contains("SEQUENCE:2") && m.subject().starts_with("Vervallen:")));
        app.stop().await;
    }
);
