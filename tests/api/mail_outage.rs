//! Story: the SMTP server is down for three worker rounds while the service
//! keeps producing real mail (delay alerts from plan runs, calendar
//! invitations from bookings), then comes back.
//!
//! `mail::an_smtp_outage_delays_mails_but_loses_and_doubles_none` proves
//! that mails enqueued before an outage arrive once afterwards, and
//! `mail::a_mail_is_dead_only_after_max_attempts_temporary_failures` that a
//! mail to a server that never returns is dead after `max_attempts`. This
//! one adds the boundary between the two, with mail the service wrote
//! itself: with `max_attempts = 3`, mail that failed three times is dead
//! and stays dead when the server returns; mail that failed twice is still
//! delivered on its third and last attempt; later mail is delivered too;
//! every mail ends either delivered exactly once or dead and listed, none
//! left pending and none lost.

use std::collections::HashSet;

use chrono::Duration as Span;
use jbt::auth::Role;
use serde_json::json;
use sqlx::Row;

use crate::helpers::*;
use crate::mail::{drain, free_port, smtp_setting, Received, SinkOptions, SmtpSink};

/// Outbox ids of the mails never attempted yet: the wave the next round
/// tries for the first time.
async fn fresh_mails(app: &TestApp) -> Vec<i64> {
    sqlx::query("SELECT id FROM outbox WHERE status = 'pending' AND attempts = 0 ORDER BY id")
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox")
        .iter()
        .map(|r| r.try_get("id").expect("id"))
        .collect()
}

/// (status, attempts, message id) of one outbox row.
async fn mail_row(app: &TestApp, id: i64) -> (String, i64, String) {
    let row = sqlx::query("SELECT status, attempts, message_id FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("outbox row");
    (
        row.try_get("status").expect("status"),
        row.try_get("attempts").expect("attempts"),
        row.try_get("message_id").expect("message id"),
    )
}

async fn book_next_free_slot(app: &TestApp, coordinator: &TestUser, referral: i64) {
    let slot: String = sqlx::query(
        "SELECT s.id FROM slots s
         WHERE s.region_id = 'food-valley' AND s.start_at > $1 AND s.minutes >= 90 AND s.cancelled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.booked_slot_id = s.id)
         ORDER BY s.start_at, s.id LIMIT 1",
    )
    .bind(app.state.now().timestamp_millis())
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a free slot")
    .try_get("id")
    .expect("id");
    let response = app
        .post(
            coordinator,
            "/api/v1/bookings",
            &json!({"referral_id": referral, "slot_id": slot}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

crate::on_both_backends!(
    an_smtp_outage_dead_letters_only_mails_past_max_attempts_and_delivers_the_rest,
    |db| {
        let port = free_port();
        let app = spawn_app_with(
            db,
            &[smtp_setting(port), ("mail.max_attempts", "3".to_string())],
        )
        .await;
        let coordinator = app.user(Role::Coordinator, None).await;
        app.user(Role::Chair, Some("food-valley")).await;

        // Wave A, before the first round: delay alerts. Arnhem's table
        // holds no session until after the norm, and these referrals may
        // not go to another table.
        for date in [
            "2026-11-30",
            "2026-12-02",
            "2026-12-07",
            "2026-12-09",
            "2026-12-14",
        ] {
            let body = json!({"region": "centraal-gelderland", "date": date, "reason": "ziek"});
            let response = app
                .post(&coordinator, "/api/v1/slots/sessions/cancel", &body)
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        for n in 0..3 {
            let mut body = crate::planning::referral_body(&format!("LATE-{n}"), "Arnhem");
            body["cross_region"] = json!(false);
            let response = app.post(&coordinator, "/api/v1/referrals", &body).await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let ede: Vec<i64> = {
            let mut ids = Vec::new();
            for n in 0..2 {
                ids.push(
                    crate::planning::register(&app, &coordinator, &format!("INV-{n}"), "Ede").await,
                );
            }
            ids
        };
        app.replan().await;

        // Three rounds with the server down; before rounds 2 and 3 the
        // service writes new mail (invitations of a booking each).
        let mut waves = Vec::new();
        for round in 0..3 {
            if round > 0 {
                book_next_free_slot(&app, &coordinator, ede[round - 1]).await;
                app.clock.advance(Span::hours(1));
            }
            let wave = fresh_mails(&app).await;
            assert!(!wave.is_empty(), "round {round}: new mail to try");
            waves.push(wave);
            drain(&app).await;
        }
        let kinds: HashSet<String> = sqlx::query("SELECT kind FROM outbox")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("kinds")
            .iter()
            .map(|r| r.try_get("kind").expect("kind"))
            .collect();
        assert!(
            kinds.contains("delay_alert") && kinds.contains("invitation"),
            "{kinds:?}"
        );
        for id in &waves[0] {
            let (status, attempts, _) = mail_row(&app, *id).await;
            assert_eq!((status.as_str(), attempts), ("dead", 3), "wave A mail {id}");
        }

        // The server is back.
        let sink = SmtpSink::start_on(port, SinkOptions::default()).await;
        app.clock.advance(Span::hours(1));
        drain(&app).await;
        let expected: usize = waves[1].len() + waves[2].len();
        let received = sink.wait_for(expected).await;

        for (wave, attempts) in [(&waves[1], 3), (&waves[2], 2)] {
            for id in wave {
                let (status, tried, _) = mail_row(&app, *id).await;
                assert_eq!((status.as_str(), tried), ("sent", attempts), "mail {id}");
            }
        }
        // Every mail ends delivered exactly once, or dead after exactly
        // max_attempts and never delivered; none is left pending.
        let rows = sqlx::query("SELECT id, status, attempts, message_id FROM outbox")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("outbox");
        let ids: Vec<&str> = received.iter().map(Received::message_id).collect();
        let mut dead = 0;
        for row in &rows {
            let status: String = row.try_get("status").expect("status");
            let attempts: i64 = row.try_get("attempts").expect("attempts");
            let message_id = format!(
                "<{}@127.0.0.1>",
                row.try_get::<String, _>("message_id").expect("message id")
            );
            let copies = ids.iter().filter(|m| **m == message_id).count();
            match status.as_str() {
                "sent" => assert_eq!(copies, 1, "{message_id} delivered once"),
                "dead" => {
                    assert_eq!((attempts, copies), (3, 0), "{message_id}");
                    dead += 1;
                }
                other => panic!("{message_id} left {other}"),
            }
        }
        // Every mail of the first wave died (checked above). A debounced
        // background plan run may still add an alert after the first wave
        // was listed and before its round was tried (seen under load in
        // CI); such a mail is tried in all three rounds and dies the same
        // way, with three attempts and never delivered (checked above), so
        // the first wave is a lower bound, not the exact count.
        assert!(
            dead >= waves[0].len(),
            "{dead} dead, wave A {}",
            waves[0].len()
        );
        assert_eq!(ids.len(), rows.len() - dead, "no extra deliveries");
        // Alerts and invitations alike are marked as automatic mail.
        for message in &received {
            assert_eq!(message.header("Auto-Submitted"), Some("auto-generated"));
            assert_eq!(message.header("X-Auto-Response-Suppress"), Some("All"));
        }

        // Dead letters are listed for the coordinators, not dropped.
        let listed = json(app.get(&coordinator, "/api/v1/mail?status=dead").await).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(dead));
        // And they stay dead: later rounds do not send them.
        app.clock.advance(Span::hours(6));
        drain(&app).await;
        assert_eq!(sink.messages().len(), ids.len());
        app.stop().await;
    }
);
