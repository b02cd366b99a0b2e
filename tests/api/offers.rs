//! Stories: offers to a neighbouring table — the receiving chair's inbox,
//! accepting, declining and falling through, expiry over holidays, races.
//!
//! Centraal Gelderland is made to overflow by cancelling its sessions up to
//! the due date of a new referral from Arnhem: the planner then prefers a
//! neighbour's table (on time) to its own (late), and that table gets an
//! offer. Which neighbour is the planner's choice; the stories read it from
//! the offer.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use jbt::auth::Role;
use jbt::config::RegionId;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::planning::register;
use crate::story;

const HOME: &str = "centraal-gelderland";
const REFERRER_EMAIL: &str = "professional@sociaalteam-ede.example.org";

/// Centraal Gelderland's sessions up to the due date of a referral
/// registered on the suite's start day (Monday 30 November; due 14 December).
const CG_SESSIONS_UNTIL_DUE: [&str; 5] = [
    "2026-11-30",
    "2026-12-02",
    "2026-12-07",
    "2026-12-09",
    "2026-12-14",
];

/// An instant given as Amsterdam wall-clock time.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Amsterdam
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

/// The people of one story.
struct Cast {
    coordinator: TestUser,
    /// One chair per region, by region id.
    chairs: HashMap<String, TestUser>,
}

impl Cast {
    async fn new(app: &TestApp) -> Cast {
        let coordinator = app.user(Role::Coordinator, None).await;
        let mut chairs = HashMap::new();
        for region in &app.state.regions.regions {
            let id = region.id.as_str().to_string();
            chairs.insert(id.clone(), app.user(Role::Chair, Some(&id)).await);
        }
        Cast {
            coordinator,
            chairs,
        }
    }

    fn chair(&self, region: &str) -> &TestUser {
        self.chairs.get(region).expect("a chair for every region")
    }
}

async fn cancel_session(app: &TestApp, coordinator: &TestUser, region: &str, date: &str) {
    let body = json!({ "region": region, "date": date, "reason": "voorzitter ziek" });
    let response = app
        .post(coordinator, "/api/v1/slots/sessions/cancel", &body)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "cancelling {region} on {date}"
    );
}

/// Offers `user` sees with `status`.
async fn offers(app: &TestApp, user: &TestUser, status: &str) -> Vec<Value> {
    let response = app
        .get(user, &format!("/api/v1/offers?status={status}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// The one open offer of a referral, as the coordinator sees it.
async fn open_offer_of(app: &TestApp, cast: &Cast, referral_id: i64) -> Option<Value> {
    let mut found: Vec<Value> = offers(app, &cast.coordinator, "open")
        .await
        .into_iter()
        .filter(|o| o["referral_id"] == json!(referral_id))
        .collect();
    assert!(found.len() <= 1, "one open offer per referral: {found:?}");
    found.pop()
}

async fn referral(app: &TestApp, cast: &Cast, id: i64) -> Value {
    json(
        app.get(&cast.coordinator, &format!("/api/v1/referrals/{id}"))
            .await,
    )
    .await
}

fn id_of(offer: &Value) -> i64 {
    offer["id"].as_i64().expect("offer id")
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

async fn accept(app: &TestApp, chair: &TestUser, offer: i64) -> reqwest::Response {
    app.post(chair, &format!("/api/v1/offers/{offer}/accept"), &json!({}))
        .await
}

async fn decline(app: &TestApp, chair: &TestUser, offer: i64, reason: &str) -> reqwest::Response {
    app.post(
        chair,
        &format!("/api/v1/offers/{offer}/decline"),
        &json!({ "reason": reason }),
    )
    .await
}

/// A referral from Arnhem while its own table is full until the due date:
/// returns its id and its offer.
async fn overflowing_referral(app: &TestApp, cast: &Cast, case_ref: &str) -> (i64, Value) {
    for date in CG_SESSIONS_UNTIL_DUE {
        cancel_session(app, &cast.coordinator, HOME, date).await;
    }
    let id = register(app, &cast.coordinator, case_ref, "Arnhem").await;
    app.replan().await;
    let offer = open_offer_of(app, cast, id)
        .await
        .expect("an offer to a neighbouring table");
    (id, offer)
}

/// A booking through `/bookings`, not through the offer. On PostgreSQL a
/// booking that collides with a plan run still in flight may be refused
/// as changed meanwhile; the client then tries again, and so does this.
async fn book_directly(app: &TestApp, coordinator: &TestUser, booking: &Value) {
    let mut refusals = Vec::new();
    for _ in 0..3 {
        let response = app.post(coordinator, "/api/v1/bookings", booking).await;
        if response.status() == StatusCode::CREATED {
            return;
        }
        refusals.push(format!(
            "{}: {}",
            response.status(),
            response.text().await.expect("body")
        ));
        app.replan().await;
    }
    panic!("booking refused: {refusals:?}");
}

async fn excluded_regions(app: &TestApp, referral_id: i64) -> Vec<String> {
    let row = sqlx::query("SELECT excluded_regions FROM referrals WHERE id = $1")
        .bind(referral_id)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("referral row");
    serde_json::from_str(
        &row.try_get::<String, _>("excluded_regions")
            .expect("column"),
    )
    .expect("JSON list")
}

/// Recipients of the outbox mails of `kind` about a referral.
async fn mailed(app: &TestApp, kind: &str, referral_id: i64) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT recipient FROM outbox WHERE kind = $1 AND referral_id = $2 ORDER BY id",
    )
    .bind(kind)
    .bind(referral_id)
    .fetch_all(&app.state.store.pool)
    .await
    .expect("outbox rows");
    rows.iter()
        .map(|r| r.try_get("recipient").expect("recipient"))
        .collect()
}

async fn bookings_of_slot(app: &TestApp, slot_id: &str) -> Vec<i64> {
    let rows = sqlx::query("SELECT id FROM referrals WHERE booked_slot_id = $1")
        .bind(slot_id)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("bookings");
    rows.iter().map(|r| r.try_get("id").expect("id")).collect()
}

async fn audit_actions(app: &TestApp, referral_id: i64) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT action FROM audit_log WHERE referral_id = $1 AND result = 'ok' ORDER BY id",
    )
    .bind(referral_id)
    .fetch_all(&app.state.store.pool)
    .await
    .expect("audit rows");
    rows.iter()
        .map(|r| r.try_get("action").expect("action"))
        .collect()
}

story!(
    a_neighbouring_table_gets_an_offer_showing_only_what_its_chair_needs,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-1").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let neighbours = app
            .state
            .regions
            .region(&RegionId::parse(HOME).expect("id"))
            .expect("home")
            .neighbours
            .clone();
        assert!(
            neighbours.iter().any(|n| n.as_str() == to),
            "{to} is a neighbour of {HOME}"
        );

        // The receiving chair's inbox: the offer, with only what is needed to decide.
        let inbox = offers(&app, cast.chair(&to), "open").await;
        assert_eq!(inbox.len(), 1);
        let seen = &inbox[0];
        let fields: BTreeSet<&str> = seen
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = [
            "id",
            "status",
            "referral_id",
            "case_ref",
            "kind",
            "home_region",
            "municipality",
            "to_region",
            "unavailable",
            "earliest",
            "due",
            "minutes",
            "slot",
            "offered_at",
            "deadline",
            "answered_at",
            "decline_reason",
        ]
        .into_iter()
        .collect();
        assert_eq!(fields, expected);
        assert!(!seen.to_string().contains(REFERRER_EMAIL));
        assert_eq!(seen["case_ref"], "OFF-1");
        assert_eq!(seen["status"], "open");
        assert_eq!(seen["home_region"]["id"], HOME);
        assert_eq!(seen["municipality"]["name"], "Arnhem");
        assert_eq!(seen["due"], "2026-12-14");
        assert_eq!(seen["minutes"], 90);
        assert_eq!(seen["slot"]["region"], json!(to));
        // Offered Monday 08:00: two working days later, same time, unless
        // the slot comes sooner: then a working day before the slot, so the
        // family can be told; never after the slot.
        let slot_start: DateTime<Utc> = text(&seen["slot"]["start"]).parse().expect("start");
        let regions = &app.state.regions;
        let expected =
            jbt::calendar::sub_working_days(regions, slot_start, 1).min(local(2026, 12, 2, 8, 0));
        let deadline: DateTime<Utc> = text(&seen["deadline"]).parse().expect("deadline");
        assert_eq!(deadline, expected, "{seen}");
        assert!(deadline < slot_start);

        // The slot is held for the offer: the referral is planned there, and
        // later runs keep it there without a second offer.
        let planned = referral(&app, &cast, id).await;
        assert_eq!(planned["status"], "planned");
        assert_eq!(planned["planned_slot"]["id"], seen["slot"]["id"]);
        app.replan().await;
        let again = open_offer_of(&app, &cast, id).await.expect("still open");
        assert_eq!(again["id"], seen["id"]);
        assert_eq!(again["slot"], seen["slot"]);

        // The receiving chairs were mailed once; nobody else.
        assert_eq!(
            mailed(&app, "offer", id).await,
            vec![cast.chair(&to).email.clone()]
        );
        assert!(audit_actions(&app, id)
            .await
            .contains(&"offer.create".to_string()));
    }
);

story!(
    only_a_chair_of_the_receiving_region_sees_and_answers_an_offer,
    |app| {
        let cast = Cast::new(&app).await;
        let (_, offer) = overflowing_referral(&app, &cast, "OFF-2").await;
        let offer_id = id_of(&offer);
        // Noord-Veluwe is no neighbour of Centraal Gelderland, so never asked.
        let other = cast.chair("noord-veluwe");
        assert!(offers(&app, other, "open").await.is_empty());
        assert_eq!(
            accept(&app, other, offer_id).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            decline(&app, other, offer_id, "vol").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            accept(&app, cast.chair(HOME), offer_id).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            accept(&app, &cast.coordinator, offer_id).await.status(),
            StatusCode::FORBIDDEN
        );
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        assert_eq!(
            app.get(&referrer, "/api/v1/offers").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            accept(&app, cast.chair(text(&offer["to_region"]["id"])), 999_999)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // Nothing changed.
        let still = open_offer_of(&app, &cast, offer["referral_id"].as_i64().expect("id"))
            .await
            .expect("open");
        assert_eq!(still["id"], offer["id"]);
    }
);

story!(
    accepting_books_the_referral_and_accepting_again_gives_the_same_answer,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-3").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let slot = text(&offer["slot"]["id"]).to_string();

        let response = accept(&app, cast.chair(&to), id_of(&offer)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let first = json(response).await;
        assert_eq!(first["status"], "accepted");
        let booked = referral(&app, &cast, id).await;
        assert_eq!(booked["status"], "booked");
        assert_eq!(booked["booked_slot"]["id"], json!(slot));
        assert!(booked["planned_slot"].is_null());

        // Again, by another chair of the same table: the same answer.
        let colleague = app.user(Role::Chair, Some(&to)).await;
        let response = accept(&app, &colleague, id_of(&offer)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await, first);
        // Declining after accepting is refused, saying why.
        let response = decline(&app, cast.chair(&to), id_of(&offer), "toch niet").await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(text(&json(response).await["message"]).contains("accepted"));

        // The booking stands through later runs; no new offer.
        app.replan().await;
        assert_eq!(
            referral(&app, &cast, id).await["booked_slot"]["id"],
            json!(slot)
        );
        assert!(open_offer_of(&app, &cast, id).await.is_none());
        assert_eq!(bookings_of_slot(&app, &slot).await, vec![id]);

        // Both tables and the referring professional are told.
        let told = mailed(&app, "offer_accepted", id).await;
        for who in [
            cast.chair(&to).email.as_str(),
            cast.chair(HOME).email.as_str(),
            REFERRER_EMAIL,
        ] {
            assert!(told.iter().any(|t| t == who), "{who} not in {told:?}");
        }
        assert!(audit_actions(&app, id)
            .await
            .contains(&"offer.accept".to_string()));
    }
);

story!(
    declining_excludes_the_table_and_the_plan_falls_through_to_the_next_best,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-4").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let first_date = text(&offer["slot"]["date"]).to_string();

        // A reason is required, and bounded.
        for bad in [
            json!({}),
            json!({ "reason": "  " }),
            json!({ "reason": "x".repeat(501) }),
        ] {
            let response = app
                .post(
                    cast.chair(&to),
                    &format!("/api/v1/offers/{}/decline", id_of(&offer)),
                    &bad,
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(json(response).await["fields"][0]["field"], "reason");
        }

        let response = decline(
            &app,
            cast.chair(&to),
            id_of(&offer),
            "Geen voorzitter beschikbaar",
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let declined = json(response).await;
        assert_eq!(declined["status"], "declined");
        assert_eq!(declined["decline_reason"], "Geen voorzitter beschikbaar");
        assert_eq!(excluded_regions(&app, id).await, vec![to.clone()]);
        // The slot is released at once.
        let released = referral(&app, &cast, id).await;
        assert_ne!(released["planned_slot"]["id"], offer["slot"]["id"]);

        // Declining again gives the same answer; accepting now is refused.
        let response = decline(&app, cast.chair(&to), id_of(&offer), "Nog steeds niet").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await, declined);
        let response = accept(&app, cast.chair(&to), id_of(&offer)).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(text(&json(response).await["message"]).contains("declined"));

        // The next run falls through to the next best table: not the declined
        // one, and no earlier than the first choice (it was the best).
        app.replan().await;
        let replanned = referral(&app, &cast, id).await;
        assert_eq!(replanned["status"], "planned");
        let region = text(&replanned["planned_slot"]["region"]).to_string();
        assert_ne!(region, to);
        assert!(text(&replanned["planned_slot"]["date"]) >= first_date.as_str());
        if region != HOME {
            let next = open_offer_of(&app, &cast, id)
                .await
                .expect("an offer to the next table");
            assert_eq!(next["to_region"]["id"], json!(region));
            assert_ne!(next["id"], offer["id"]);
        }
        // The home region hears of it.
        assert!(mailed(&app, "offer_declined", id)
            .await
            .contains(&cast.chair(HOME).email));
        assert!(mailed(&app, "offer_declined", id)
            .await
            .contains(&cast.coordinator.email));
        // The chair's reason is free text: it stays with the offer, out of
        // mails.
        let bodies: Vec<String> = sqlx::query(
            "SELECT body_text || body_html AS body FROM outbox WHERE kind = 'offer_declined'",
        )
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox")
        .iter()
        .map(|r| r.try_get("body").expect("body"))
        .collect();
        assert!(!bodies.is_empty());
        assert!(
            bodies.iter().all(|b| !b.contains("Geen voorzitter")),
            "{bodies:?}"
        );
        // Mails point to pages, never to the JSON API: the home table to
        // the referral, the receiving chairs to their inbox.
        assert!(
            bodies
                .iter()
                .all(|b| b.contains(&format!("/referrals/{id}")) && !b.contains("/api/")),
            "{bodies:?}"
        );
        let offer_mails: Vec<String> =
            sqlx::query("SELECT body_text AS body FROM outbox WHERE kind = 'offer'")
                .fetch_all(&app.state.store.pool)
                .await
                .expect("outbox")
                .iter()
                .map(|r| r.try_get("body").expect("body"))
                .collect();
        assert!(
            !offer_mails.is_empty() && offer_mails.iter().all(|b| b.contains("/inbox")),
            "{offer_mails:?}"
        );
    }
);

story!(
    an_unanswered_offer_expires_after_two_working_days_not_counting_christmas,
    |app| {
        let cast = Cast::new(&app).await;
        // Thursday 24 December, 16:00: the afternoon sessions have started, the
        // next slots anywhere are on Monday 4 January. Centraal Gelderland's of
        // 4 and 6 January are cancelled, so the referral (due 7 January) goes to
        // a neighbour.
        app.clock.set(local(2026, 12, 24, 16, 0));
        for date in ["2027-01-04", "2027-01-06"] {
            cancel_session(&app, &cast.coordinator, HOME, date).await;
        }
        let id = register(&app, &cast.coordinator, "OFF-5", "Arnhem").await;
        app.replan().await;
        let offer = open_offer_of(&app, &cast, id).await.expect("an offer");
        let to = text(&offer["to_region"]["id"]).to_string();
        // 25 and 26 December are holidays, 27 a Sunday; Monday 28 and Tuesday
        // 29 (soft: offices are open) are the two working days.
        assert_eq!(offer["deadline"], "2026-12-29T16:00:00+01:00");

        for (at, what) in [
            (local(2026, 12, 28, 9, 0), "Monday morning"),
            (local(2026, 12, 29, 15, 59), "just before the deadline"),
        ] {
            app.clock.set(at);
            jbt::offers::expire_due(&app.state).await.expect("expiry");
            let still = open_offer_of(&app, &cast, id).await;
            assert_eq!(
                still.map(|o| o["id"].clone()),
                Some(offer["id"].clone()),
                "still open on {what}"
            );
        }

        // At the deadline it can no longer be answered, and the job expires it.
        app.clock.set(local(2026, 12, 29, 16, 0));
        let response = accept(&app, cast.chair(&to), id_of(&offer)).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let expired = jbt::offers::expire_due(&app.state).await.expect("expiry");
        assert!(expired <= 1, "the minute job may have been first");
        let gone = offers(&app, &cast.coordinator, "expired").await;
        assert!(
            gone.iter().any(|o| o["id"] == offer["id"]),
            "expired: {gone:?}"
        );
        assert_eq!(excluded_regions(&app, id).await, vec![to.clone()]);
        let response = accept(&app, cast.chair(&to), id_of(&offer)).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(text(&json(response).await["message"]).contains("expired"));

        // Treated as declined: planned elsewhere, the home region told.
        app.replan().await;
        let replanned = referral(&app, &cast, id).await;
        assert_ne!(replanned["planned_slot"]["region"], json!(to));
        assert!(mailed(&app, "offer_expired", id)
            .await
            .contains(&cast.chair(HOME).email));
        assert!(audit_actions(&app, id)
            .await
            .contains(&"offer.expire".to_string()));
    }
);

story!(
    two_chairs_accepting_one_offer_at_once_leave_one_booking,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-6").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let colleague = app.user(Role::Chair, Some(&to)).await;
        let (a, b) = tokio::join!(
            accept(&app, cast.chair(&to), id_of(&offer)),
            accept(&app, &colleague, id_of(&offer))
        );
        let statuses = [a.status(), b.status()];
        assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let (a, b) = (json(a).await, json(b).await);
        if statuses == [StatusCode::OK, StatusCode::OK] {
            assert_eq!(a, b, "the same answer twice");
        }
        assert_eq!(
            bookings_of_slot(&app, text(&offer["slot"]["id"])).await,
            vec![id]
        );
    }
);

story!(
    an_accept_racing_a_direct_booking_of_the_slot_has_one_winner,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-7").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let slot = text(&offer["slot"]["id"]).to_string();
        // A referral of the receiving region itself, booked into the same slot
        // by the coordinator at the same moment as the chair accepts.
        let municipality = app
            .state
            .regions
            .region(&RegionId::parse(&to).expect("id"))
            .expect("region")
            .municipalities[0]
            .name
            .clone();
        let other = register(&app, &cast.coordinator, "OFF-7B", &municipality).await;
        let booking = json!({ "referral_id": other, "slot_id": slot });
        let (accepted, booked) = tokio::join!(
            accept(&app, cast.chair(&to), id_of(&offer)),
            app.post(&cast.coordinator, "/api/v1/bookings", &booking)
        );
        let (accepted, booked) = (accepted.status(), booked.status());
        assert!(
            matches!(
                (accepted, booked),
                (StatusCode::OK, StatusCode::CONFLICT)
                    | (StatusCode::CONFLICT, StatusCode::CREATED)
            ),
            "accept {accepted}, booking {booked}"
        );
        let holders = bookings_of_slot(&app, &slot).await;
        assert_eq!(holders.len(), 1, "one booking of the slot");
        app.replan().await;
        if accepted == StatusCode::OK {
            assert_eq!(holders, vec![id]);
        } else {
            // The loser is planned again, elsewhere, and the offer is gone.
            assert_eq!(holders, vec![other]);
            let replanned = referral(&app, &cast, id).await;
            assert_eq!(replanned["status"], "planned");
            assert_ne!(replanned["planned_slot"]["id"], json!(slot));
            let withdrawn = offers(&app, &cast.coordinator, "withdrawn").await;
            assert!(withdrawn.iter().any(|o| o["id"] == offer["id"]));
        }
    }
);

story!(
    when_no_table_is_left_the_coordinators_and_the_municipality_are_told,
    |app| {
        let cast = Cast::new(&app).await;
        // Centraal Gelderland holds no session at all in the horizon.
        sqlx::query(
            "UPDATE slots SET cancelled_at = $1, cancel_reason = 'test' WHERE region_id = $2",
        )
        .bind(app.state.now().timestamp_millis())
        .bind(HOME)
        .execute(&app.state.store.pool)
        .await
        .expect("cancel every session");
        let id = register(&app, &cast.coordinator, "OFF-8", "Arnhem").await;
        app.replan().await;
        // Every neighbour declines in turn.
        let mut declined = Vec::new();
        while let Some(offer) = open_offer_of(&app, &cast, id).await {
            assert!(
                declined.len() < 5,
                "at most one offer per neighbour: {declined:?}"
            );
            let to = text(&offer["to_region"]["id"]).to_string();
            assert!(!declined.contains(&to), "{to} asked twice");
            assert_eq!(
                decline(&app, cast.chair(&to), id_of(&offer), "Vol")
                    .await
                    .status(),
                StatusCode::OK
            );
            declined.push(to);
            app.replan().await;
        }
        assert_eq!(declined.len(), 5, "every neighbour was asked");
        assert_eq!(referral(&app, &cast, id).await["status"], "registered");
        let told = mailed(&app, "offers_exhausted", id).await;
        assert!(told.contains(&cast.coordinator.email), "{told:?}");
        assert!(
            told.iter()
                .any(|t| t == "jeugdbescherming@arnhem.example.org"),
            "{told:?}"
        );
        // Told once, however often the plan runs.
        app.replan().await;
        assert_eq!(mailed(&app, "offers_exhausted", id).await.len(), told.len());
    }
);

story!(
    a_slot_booked_directly_for_another_referral_withdraws_its_offer,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "OFF-9").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let slot = text(&offer["slot"]["id"]).to_string();
        let municipality = app
            .state
            .regions
            .region(&RegionId::parse(&to).expect("id"))
            .expect("region")
            .municipalities[0]
            .name
            .clone();
        let other = register(&app, &cast.coordinator, "OFF-9B", &municipality).await;
        let booking = json!({ "referral_id": other, "slot_id": slot });
        book_directly(&app, &cast.coordinator, &booking).await;
        // The minute job withdraws the offer, so plan runs go on.
        jbt::offers::expire_due(&app.state)
            .await
            .expect("minute job");
        app.replan().await;
        assert!(offers(&app, &cast.coordinator, "withdrawn")
            .await
            .iter()
            .any(|o| o["id"] == offer["id"]));
        let replanned = referral(&app, &cast, id).await;
        assert_eq!(replanned["status"], "planned");
        assert_ne!(replanned["planned_slot"]["id"], json!(slot));
        assert_eq!(
            excluded_regions(&app, id).await,
            Vec::<String>::new(),
            "the table did not refuse"
        );
        assert!(mailed(&app, "offer_withdrawn", id)
            .await
            .contains(&cast.chair(&to).email));
    }
);

story!(
    a_neighbouring_slot_too_soon_to_answer_is_not_offered_nor_planned,
    |app| {
        // Friday 11 December, 12:00. A neighbouring table's slot on Monday
        // 14 December would have to be answered a working day before, by
        // Friday morning: already past. Such slots are left to their own
        // region, and the referral goes to a later one whose table has at
        // least four working hours to answer.
        let now = local(2026, 12, 11, 12, 0);
        app.clock.set(now);
        let cast = Cast::new(&app).await;
        for date in ["2026-12-14", "2026-12-16", "2026-12-21", "2026-12-23"] {
            cancel_session(&app, &cast.coordinator, HOME, date).await;
        }
        let id = register(&app, &cast.coordinator, "SOON-1", "Arnhem").await;
        app.replan().await;
        let planned = referral(&app, &cast, id).await;
        let slot = &planned["planned_slot"];
        let start: DateTime<Utc> = text(&slot["start"]).parse().expect("start");
        assert!(start >= local(2026, 12, 15, 0, 0), "{planned}");
        if slot["region"] != HOME {
            let offer = open_offer_of(&app, &cast, id).await.expect("an offer");
            let deadline: DateTime<Utc> = text(&offer["deadline"]).parse().expect("deadline");
            let answer_time =
                jbt::calendar::working_time_between(&app.state.regions, now, deadline);
            assert!(answer_time >= chrono::TimeDelta::hours(4), "{offer}");
            assert!(deadline <= jbt::calendar::sub_working_days(&app.state.regions, start, 1));
        }
    }
);

story!(
    a_change_that_makes_the_offered_slot_impossible_withdraws_the_offer_at_once,
    |app| {
        let cast = Cast::new(&app).await;
        for date in CG_SESSIONS_UNTIL_DUE {
            cancel_session(&app, &cast.coordinator, HOME, date).await;
        }
        // Three referrals, each offered to a neighbour; then for each a
        // change after which its offered slot can never be accepted.
        let mut cases = Vec::new();
        for n in 0..3 {
            let id = register(&app, &cast.coordinator, &format!("STUCK-{n}"), "Arnhem").await;
            cases.push(id);
        }
        app.replan().await;
        for (n, id) in cases.iter().enumerate() {
            let offer = open_offer_of(&app, &cast, *id).await.expect("an offer");
            let planned = referral(&app, &cast, *id).await;
            // Held for the offer: tentative, and the explanation says so.
            let summary = text(&planned["explanation"]["summary"]);
            assert!(
                summary.starts_with("Aangeboden aan de tafel van"),
                "{summary}"
            );
            assert!(!summary.contains("Bevestigde afspraak"), "{summary}");
            let date = text(&offer["slot"]["date"]).to_string();
            let next_day = (chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").expect("date")
                + chrono::Duration::days(1))
            .to_string();
            let change = match n {
                0 => json!({ "unavailable": [date] }),
                1 => json!({ "cross_region": false }),
                _ => json!({ "earliest": next_day }),
            };
            let response = app
                .patch(
                    &cast.coordinator,
                    &format!("/api/v1/referrals/{id}"),
                    &change,
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{change}");
            // Withdrawn in the same transaction, its table told.
            let after = offers(&app, &cast.coordinator, "withdrawn").await;
            assert!(
                after.iter().any(|o| o["id"] == offer["id"]),
                "offer {} withdrawn after {change}",
                offer["id"]
            );
            let to = text(&offer["to_region"]["id"]).to_string();
            assert!(mailed(&app, "offer_withdrawn", *id)
                .await
                .contains(&cast.chair(&to).email));
            // The receiving chair cannot accept it any more.
            let accept = app
                .post(
                    cast.chair(&to),
                    &format!("/api/v1/offers/{}/accept", id_of(&offer)),
                    &json!({}),
                )
                .await;
            assert_eq!(accept.status(), StatusCode::CONFLICT);
            // And the next run plans the referral where it can go.
            app.replan().await;
            let replanned = referral(&app, &cast, *id).await;
            assert_ne!(
                replanned["planned_slot"]["id"], offer["slot"]["id"],
                "{change}"
            );
        }
    }
);

story!(
    cancelling_the_session_of_an_offered_slot_withdraws_the_offer,
    |app| {
        let cast = Cast::new(&app).await;
        let (id, offer) = overflowing_referral(&app, &cast, "STUCK-S-1").await;
        let to = text(&offer["to_region"]["id"]).to_string();
        let date = text(&offer["slot"]["date"]).to_string();
        cancel_session(&app, &cast.coordinator, &to, &date).await;
        let withdrawn = offers(&app, &cast.coordinator, "withdrawn").await;
        assert!(withdrawn.iter().any(|o| o["id"] == offer["id"]));
        assert!(mailed(&app, "offer_withdrawn", id)
            .await
            .contains(&cast.chair(&to).email));
        app.replan().await;
        let replanned = referral(&app, &cast, id).await;
        assert_ne!(replanned["planned_slot"]["id"], offer["slot"]["id"]);
    }
);
