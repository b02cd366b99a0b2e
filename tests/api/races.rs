//! Stories: races for one slot, many times over, on both databases. Fifty
//! requests at once want the same slot: by direct booking, or by accepting
//! the offer that holds it while others book it directly. Exactly one wins
//! each time; every other request gets a 409 that says why; the database
//! holds exactly the winner's booking.
//!
//! (`referrals::of_twenty_concurrent_bookings_of_one_slot_exactly_one_wins`
//! and the offer stories race once, with two or twenty contenders; these
//! repeat the race and mix the ways in.)

use std::collections::HashMap;

use jbt::auth::Role;
use jbt::config::RegionId;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::planning::register;

const ROUNDS: usize = 10;
const CONTENDERS: usize = 50;
/// Of the fifty in an offer race, this many are local referrals booked
/// directly; the rest accept. (More locals would fill the receiving
/// table's own slots, and the planner would stop offering it.)
const RIVALS: usize = 10;
const ACCEPTS: usize = CONTENDERS - RIVALS;

/// A free slot of `region` (not booked, not held for an open offer) of at
/// least 90 minutes, after now.
async fn free_slot(app: &TestApp, region: &str) -> String {
    sqlx::query(
        "SELECT s.id FROM slots s
         WHERE s.region_id = $1 AND s.start_at > $2 AND s.minutes >= 90 AND s.cancelled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.booked_slot_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.slot_id = s.id AND o.status = 'open')
         ORDER BY s.start_at, s.id LIMIT 1",
    )
    .bind(region)
    .bind(app.state.now().timestamp_millis())
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a free slot")
    .try_get("id")
    .expect("id")
}

async fn bookings_of_slot(app: &TestApp, slot: &str) -> Vec<i64> {
    sqlx::query("SELECT id FROM referrals WHERE booked_slot_id = $1 ORDER BY id")
        .bind(slot)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("bookings")
        .iter()
        .map(|r| r.try_get("id").expect("id"))
        .collect()
}

/// An app whose requests wait up to 30 s for a database connection. These
/// stories test who wins a race, not how overload is answered: with the
/// default 3 s, fifty contenders on a busy CI machine can exhaust the pool,
/// and a fast 503 (tested in the outage stories) would stand in for the
/// 409 under test.
async fn patient_app(db: Db) -> TestApp {
    spawn_app_with(
        db,
        &[("database.acquire_timeout_millis", "30000".to_string())],
    )
    .await
}

/// Status and JSON body of a finished request.
type Answer = (StatusCode, Value);

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    (status, json(response).await)
}

/// Every loser's answer is a 409 in the API's error shape, saying why.
fn assert_clear_conflicts<'a>(losers: impl Iterator<Item = &'a Answer>, round: usize) {
    for (status, body) in losers {
        assert_eq!(*status, StatusCode::CONFLICT, "round {round}: {body}");
        assert_eq!(body["error"], "conflict", "round {round}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            ["slot", "offer", "changed by someone else"]
                .iter()
                .any(|word| message.contains(word)),
            "round {round}: a 409 should say why: {message:?}"
        );
    }
}

/// Sends all requests at once (each on its own task) and waits for all.
async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<(usize, Answer)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, request) in requests.into_iter().enumerate() {
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            (n, answer(request.send().await.expect("request")).await)
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = tasks.join_next().await {
        answers.push(done.expect("request task"));
    }
    answers.sort_by_key(|(n, _)| *n);
    answers
}

crate::on_both_backends!(
    fifty_concurrent_bookings_of_one_slot_leave_one_booking_ten_times_over,
    |db| {
        let app = patient_app(db).await;
        let coordinator = app.user(Role::Coordinator, None).await;
        let mut waiting = Vec::new();
        for n in 0..CONTENDERS {
            waiting.push(register(&app, &coordinator, &format!("RACE-{n:03}"), "Ede").await);
        }
        for round in 0..ROUNDS {
            let slot = free_slot(&app, "food-valley").await;
            let requests = waiting
                .iter()
                .map(|id| {
                    app.client
                        .post(app.url("/api/v1/bookings"))
                        .bearer_auth(&coordinator.token)
                        .json(&json!({"referral_id": id, "slot_id": slot}))
                })
                .collect();
            let answers = all_at_once(requests).await;

            let winners: Vec<&(usize, Answer)> = answers
                .iter()
                .filter(|(_, (s, _))| *s == StatusCode::CREATED)
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
            let (index, (_, won)) = winners[0];
            let winner = waiting[*index];
            assert_eq!(won["id"], json!(winner));
            assert_eq!(won["status"], "booked");
            assert_eq!(won["booked_slot"]["id"], json!(slot));
            assert_clear_conflicts(
                answers.iter().filter(|(n, _)| n != index).map(|(_, a)| a),
                round,
            );
            assert_eq!(bookings_of_slot(&app, &slot).await, vec![winner]);

            // The winner is out; a new referral takes its place in the crowd.
            waiting.remove(*index);
            waiting.push(
                register(
                    &app,
                    &coordinator,
                    &format!("RACE-{:03}", CONTENDERS + round),
                    "Ede",
                )
                .await,
            );
        }
        // Each booking once in the audit trail, and no booking of a loser.
        let confirmed: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'referral.confirm' AND result = 'ok'",
        )
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
        assert_eq!(confirmed, ROUNDS as i64);
        let booked: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM referrals WHERE booked_slot_id IS NOT NULL OR status = 'booked'",
        )
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
        assert_eq!(booked, ROUNDS as i64);
        app.stop().await;
    }
);

/// Centraal Gelderland's sessions up to the due date of a referral
/// registered on the suite's start day (see `offers.rs`).
const CG_SESSIONS_UNTIL_DUE: [&str; 5] = [
    "2026-11-30",
    "2026-12-02",
    "2026-12-07",
    "2026-12-09",
    "2026-12-14",
];

crate::on_both_backends!(
    fifty_concurrent_answers_for_one_offered_slot_leave_one_booking_ten_times_over,
    |db| {
        let app = patient_app(db).await;
        let coordinator = app.user(Role::Coordinator, None).await;
        // Centraal Gelderland cannot make the norm, so each new referral from
        // Arnhem is offered to a neighbouring table.
        for date in CG_SESSIONS_UNTIL_DUE {
            let body = json!({"region": "centraal-gelderland", "date": date, "reason": "ziek"});
            let response = app
                .post(&coordinator, "/api/v1/slots/sessions/cancel", &body)
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        // Per receiving region: its chairs, and referrals of its own that
        // compete for the offered slot by direct booking.
        let mut chairs: HashMap<String, Vec<TestUser>> = HashMap::new();
        let mut locals: HashMap<String, Vec<i64>> = HashMap::new();
        let mut accepted_rounds = 0;
        for round in 0..ROUNDS {
            let id = register(&app, &coordinator, &format!("OFFER-RACE-{round}"), "Arnhem").await;
            app.replan().await;
            let open = json(app.get(&coordinator, "/api/v1/offers?status=open").await).await;
            let offer = open["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|o| o["referral_id"] == json!(id))
                .unwrap_or_else(|| panic!("round {round}: an offer for {id}: {open}"))
                .clone();
            let offer_id = offer["id"].as_i64().expect("offer id");
            let to = offer["to_region"]["id"]
                .as_str()
                .expect("region")
                .to_string();
            let slot = offer["slot"]["id"].as_str().expect("slot").to_string();

            let region_chairs = chairs.entry(to.clone()).or_default();
            while region_chairs.len() < 5 {
                region_chairs.push(app.user(Role::Chair, Some(&to)).await);
            }
            let municipality = app
                .state
                .regions
                .region(&RegionId::parse(&to).expect("id"))
                .expect("region")
                .municipalities[0]
                .name
                .clone();
            let rivals = locals.entry(to.clone()).or_default();
            while rivals.len() < RIVALS {
                let n = rivals.len();
                rivals.push(
                    register(
                        &app,
                        &coordinator,
                        &format!("LOCAL-{to}-{round}-{n}"),
                        &municipality,
                    )
                    .await,
                );
            }

            // Five chairs accept, eight times each; the locals book directly.
            let mut requests = Vec::new();
            for n in 0..ACCEPTS {
                requests.push(
                    app.client
                        .post(app.url(&format!("/api/v1/offers/{offer_id}/accept")))
                        .bearer_auth(&region_chairs[n % region_chairs.len()].token)
                        .json(&json!({})),
                );
            }
            for rival in rivals.iter() {
                requests.push(
                    app.client
                        .post(app.url("/api/v1/bookings"))
                        .bearer_auth(&coordinator.token)
                        .json(&json!({"referral_id": rival, "slot_id": slot})),
                );
            }
            let answers = all_at_once(requests).await;
            let (accepts, bookings) = answers.split_at(ACCEPTS);

            let accepted: Vec<&Answer> = accepts
                .iter()
                .map(|(_, a)| a)
                .filter(|(s, _)| *s == StatusCode::OK)
                .collect();
            let booked: Vec<(usize, &Answer)> = bookings
                .iter()
                .filter(|(_, (s, _))| *s == StatusCode::CREATED)
                .map(|(n, a)| (n - ACCEPTS, a))
                .collect();
            let holders = bookings_of_slot(&app, &slot).await;
            match (accepted.is_empty(), booked.as_slice()) {
                (false, []) => {
                    // The offer won. Accepting twice gives the same answer,
                    // so every 200 is the same accepted offer.
                    for (_, body) in &accepted {
                        assert_eq!(*body, accepted[0].1, "round {round}");
                    }
                    assert_eq!(accepted[0].1["status"], "accepted");
                    assert_eq!(holders, vec![id], "round {round}");
                    assert_clear_conflicts(
                        accepts
                            .iter()
                            .map(|(_, a)| a)
                            .filter(|(s, _)| *s != StatusCode::OK),
                        round,
                    );
                    assert_clear_conflicts(bookings.iter().map(|(_, a)| a), round);
                    accepted_rounds += 1;
                }
                (true, [(index, (_, won))]) => {
                    // A direct booking won: the offer is withdrawn and its
                    // referral planned again.
                    let winner = rivals[*index];
                    assert_eq!(won["id"], json!(winner));
                    assert_eq!(holders, vec![winner], "round {round}");
                    assert_clear_conflicts(accepts.iter().map(|(_, a)| a), round);
                    assert_clear_conflicts(
                        bookings
                            .iter()
                            .filter(|(n, _)| n - ACCEPTS != *index)
                            .map(|(_, a)| a),
                        round,
                    );
                    let offers =
                        json(app.get(&coordinator, "/api/v1/offers?status=withdrawn").await).await;
                    assert!(
                        offers["items"]
                            .as_array()
                            .expect("items")
                            .iter()
                            .any(|o| o["id"] == json!(offer_id)),
                        "round {round}: offer {offer_id} withdrawn: {offers}"
                    );
                    rivals.remove(*index);
                }
                _ => panic!(
                    "round {round}: one winner expected, got {} accepts and {} bookings: {answers:?}",
                    accepted.len(),
                    booked.len()
                ),
            }
        }
        eprintln!("offer races: the offer won {accepted_rounds} of {ROUNDS} rounds");
        app.stop().await;
    }
);
