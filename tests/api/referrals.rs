//! Stories: referrals — registering, reading within one's scope, the
//! lifecycle through booking and outcome, and the audit trail of it all.

use chrono::{DateTime, Duration, Utc};
use jbt::auth::Role;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;
use crate::story;

const EDE_TEAM: &str = "Sociaal Team Ede";
const TIEL_TEAM: &str = "Sociaal Team Tiel";

/// A complete registration for a child in `municipality`.
fn registration(case_ref: &str, municipality: &str, org: &str) -> Value {
    json!({
        "case_ref": case_ref,
        "municipality": municipality,
        "kind": "vtb",
        "referrer_kind": "local_team",
        "referrer_org": org,
        "referrer_email": "j.jansen@sociaalteam.example.org",
        "safety_plan": true,
        "parents_informed": true,
        "child_12_plus": false
    })
}

/// `body` as `user` sends it: a referrer names their own address.
fn as_sent_by(user: &TestUser, body: &Value) -> Value {
    let mut body = body.clone();
    if user.email.starts_with("referrer-") {
        body["referrer_email"] = json!(user.email);
    }
    body
}

/// Registers and returns the referral's JSON, failing the test unless 201.
async fn register(app: &TestApp, user: &TestUser, body: &Value) -> Value {
    let response = app
        .post(user, "/api/v1/referrals", &as_sent_by(user, body))
        .await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn id_of(referral: &Value) -> i64 {
    referral["id"].as_i64().expect("referral id")
}

/// The first open slot of a region of at least `minutes`, after now.
async fn free_slot(app: &TestApp, region: &str, minutes: i64) -> (String, DateTime<Utc>) {
    let row = sqlx::query(
        "SELECT s.id, s.start_at FROM slots s
         WHERE s.region_id = $1 AND s.start_at > $2 AND s.minutes >= $3 AND s.cancelled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.booked_slot_id = s.id)
         ORDER BY s.start_at, s.id LIMIT 1",
    )
    .bind(region)
    .bind(app.state.now().timestamp_millis())
    .bind(minutes)
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a free slot");
    let start: i64 = row.try_get("start_at").expect("start");
    (
        row.try_get("id").expect("id"),
        DateTime::from_timestamp_millis(start).expect("instant"),
    )
}

/// `(action, result, user_id)` of every audit row about a referral.
async fn audit_rows(app: &TestApp, referral_id: i64) -> Vec<(String, String, Option<i64>)> {
    sqlx::query("SELECT action, result, user_id FROM audit_log WHERE referral_id = $1 ORDER BY id")
        .bind(referral_id)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("audit rows")
        .iter()
        .map(|row| {
            (
                row.try_get("action").expect("action"),
                row.try_get("result").expect("result"),
                row.try_get("user_id").expect("user"),
            )
        })
        .collect()
}

async fn count(app: &TestApp, sql: &str, value: &str) -> i64 {
    sqlx::query(sql)
        .bind(value)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get::<i64, _>(0)
        .expect("a number")
}

fn field_names(error: &Value) -> Vec<String> {
    error["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

story!(
    a_registered_referral_gets_its_region_and_norm_due_date,
    |app| {
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let mut body = registration("ST-EDE-0042", "GM0228", "Another Organisation");
        body["child_12_plus"] = json!(true);

        let response = app
            .post(
                &referrer,
                "/api/v1/referrals",
                &as_sent_by(&referrer, &body),
            )
            .await;

        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let referral = json(response).await;
        assert_eq!(
            location,
            Some(format!("/api/v1/referrals/{}", id_of(&referral)))
        );
        assert_eq!(referral["status"], "registered");
        assert_eq!(referral["missing"], json!([]));
        assert_eq!(
            referral["municipality"],
            json!({"cbs": "GM0228", "name": "Ede"})
        );
        assert_eq!(referral["region"]["id"], "food-valley");
        assert_eq!(
            referral["referrer_org"], EDE_TEAM,
            "a referrer registers for the own organisation"
        );
        assert_eq!(
            referral["minutes"], 120,
            "a child of 12+ is heard separately"
        );
        assert_eq!(referral["cross_region"], true);
        assert_eq!(referral["registered_at"], "2026-11-30T08:00:00+01:00");
        assert_eq!(referral["norm"]["due"], "2026-12-14");
        assert_eq!(referral["norm"]["days_waiting"], 0);
        let rows = audit_rows(&app, id_of(&referral)).await;
        assert_eq!(
            rows,
            vec![("referral.create".into(), "ok".into(), Some(referrer.id))]
        );
    }
);

story!(
    a_referral_without_safety_plan_stays_incomplete_until_both_are_supplied,
    |app| {
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let mut body = registration("ST-EDE-0043", "Ede", EDE_TEAM);
        body["safety_plan"] = json!(false);
        body.as_object_mut()
            .expect("object")
            .remove("parents_informed");

        let referral = register(&app, &referrer, &body).await;
        assert_eq!(referral["status"], "incomplete");
        assert_eq!(
            referral["missing"],
            json!(["safety_plan", "parents_informed"])
        );
        let path = format!("/api/v1/referrals/{}", id_of(&referral));

        let half = json(
            app.patch(&referrer, &path, &json!({"safety_plan": true}))
                .await,
        )
        .await;
        assert_eq!(half["status"], "incomplete");
        assert_eq!(half["missing"], json!(["parents_informed"]));

        let complete = json(
            app.patch(&referrer, &path, &json!({"parents_informed": true}))
                .await,
        )
        .await;
        assert_eq!(complete["status"], "registered");
        assert_eq!(complete["missing"], json!([]));

        let taken_back = app
            .patch(&referrer, &path, &json!({"safety_plan": false}))
            .await;
        assert_eq!(taken_back.status(), StatusCode::CONFLICT);
    }
);

story!(bad_registrations_are_refused_naming_every_field, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let body = json!({
        "case_ref": "X111222333",
        "municipality": "Amsterdam",
        "kind": "ots",
        "referrer_kind": "police",
        "referrer_org": "",
        "referrer_email": "jan at example.org",
        "child_12_plus": false,
        "unavailable": ["2026-12-32"],
        "earliest": "2026-11-01"
    });

    let response = app.post(&coordinator, "/api/v1/referrals", &body).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(response).await;
    let fields = field_names(&error);
    for field in [
        "case_ref",
        "municipality",
        "kind",
        "referrer_kind",
        "referrer_org",
        "referrer_email",
        "unavailable[0]",
        "earliest",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not named in {error}"
        );
    }
    let bsn = error["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["field"] == "case_ref"))
        .cloned();
    assert!(bsn.is_some_and(|f| f["message"].as_str().unwrap_or_default().contains("BSN")));

    let birth_date = registration("kind-05-03-2014", "Ede", EDE_TEAM);
    let response = app
        .post(&coordinator, "/api/v1/referrals", &birth_date)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&json(response).await), vec!["case_ref"]);

    let mut personal = registration("ST-EDE-0044", "Ede", EDE_TEAM);
    personal["child_name"] = json!("Jan");
    let response = app.post(&coordinator, "/api/v1/referrals", &personal).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM referrals WHERE referrer_org <> $1",
            ""
        )
        .await,
        0
    );
});

story!(who_may_read_a_referral_follows_role_and_region, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    // Tiel lies in Rivierenland.
    let referral = register(
        &app,
        &coordinator,
        &registration("ST-TIEL-0001", "Tiel", TIEL_TEAM),
    )
    .await;
    let path = format!("/api/v1/referrals/{}", id_of(&referral));
    let cases: [(Role, Option<&str>, StatusCode, &str); 7] = [
        (Role::Coordinator, None, StatusCode::OK, "ok"),
        (Role::Chair, Some("rivierenland"), StatusCode::OK, "ok"),
        (
            Role::Chair,
            Some("achterhoek"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (Role::Referrer, Some(TIEL_TEAM), StatusCode::OK, "ok"),
        (
            Role::Referrer,
            Some(EDE_TEAM),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (Role::Admin, None, StatusCode::FORBIDDEN, "forbidden"),
        (
            Role::MunicipalContact,
            Some("GM0281"),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ];

    for (role, scope, expected, result) in cases {
        let user = app.user(role, scope).await;
        let response = app.get(&user, &path).await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, expected, "{role:?} {scope:?}: {body}");
        if status == StatusCode::OK {
            assert_eq!(body["case_ref"], "ST-TIEL-0001");
        } else {
            assert!(
                body.get("case_ref").is_none(),
                "{role:?} {scope:?} must not see the referral"
            );
        }
        let rows = audit_rows(&app, id_of(&referral)).await;
        let read = (
            "referral.read".to_string(),
            result.to_string(),
            Some(user.id),
        );
        assert!(
            rows.contains(&read),
            "{role:?} {scope:?}: no audit row {read:?} in {rows:?}"
        );
    }
});

story!(a_chair_also_sees_referrals_booked_at_the_own_table, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let food_valley_chair = app.user(Role::Chair, Some("food-valley")).await;
    let referral = register(
        &app,
        &coordinator,
        &registration("ST-TIEL-0002", "Tiel", TIEL_TEAM),
    )
    .await;
    let path = format!("/api/v1/referrals/{}", id_of(&referral));
    assert_eq!(
        app.get(&food_valley_chair, &path).await.status(),
        StatusCode::NOT_FOUND
    );

    // FoodValley is a neighbour of Rivierenland.
    let (slot, _) = free_slot(&app, "food-valley", 90).await;
    let booking = json!({"referral_id": id_of(&referral), "slot_id": slot});
    assert_eq!(
        app.post(&coordinator, "/api/v1/bookings", &booking)
            .await
            .status(),
        StatusCode::CREATED
    );

    let seen = app.get(&food_valley_chair, &path).await;
    assert_eq!(seen.status(), StatusCode::OK);
    assert_eq!(json(seen).await["booked_slot"]["region"], "food-valley");
});

story!(
    a_list_shows_only_the_own_organisation_and_audits_each_referral,
    |app| {
        let ede = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let tiel = app.user(Role::Referrer, Some(TIEL_TEAM)).await;
        let own = register(&app, &ede, &registration("ST-EDE-0100", "Ede", EDE_TEAM)).await;
        let other = register(
            &app,
            &tiel,
            &registration("ST-TIEL-0100", "Tiel", TIEL_TEAM),
        )
        .await;

        let response = app
            .get(&ede, "/api/v1/referrals?status=registered,planned&limit=10")
            .await;

        assert_eq!(response.status(), StatusCode::OK);
        let list = json(response).await;
        let ids: Vec<i64> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(ids, vec![id_of(&own)]);
        let reads = |rows: Vec<(String, String, Option<i64>)>| {
            rows.into_iter()
                .filter(|(action, _, user)| action == "referral.read" && *user == Some(ede.id))
                .count()
        };
        assert_eq!(reads(audit_rows(&app, id_of(&own)).await), 1);
        assert_eq!(reads(audit_rows(&app, id_of(&other)).await), 0);

        let bad = app
            .get(&ede, "/api/v1/referrals?status=done&municipality=Amsterdam")
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            field_names(&json(bad).await),
            vec!["status", "municipality"]
        );
    }
);

story!(
    events_the_status_does_not_allow_are_conflicts_that_say_why,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let referral = register(
            &app,
            &referrer,
            &registration("ST-EDE-0200", "Ede", EDE_TEAM),
        )
        .await;
        let id = id_of(&referral);
        let outcome = json!({"outcome": "voluntary_local_team", "route": "lokaal team", "help": "gezinscoach", "safety_agreements": ""});

        let early = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{id}/outcome"),
                &outcome,
            )
            .await;
        assert_eq!(early.status(), StatusCode::CONFLICT);
        let message = json(early).await["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.contains("after the conversation was held"),
            "{message}"
        );

        let (slot, start) = free_slot(&app, "food-valley", 90).await;
        let booking = json!({"referral_id": id, "slot_id": slot});
        assert_eq!(
            app.post(&coordinator, "/api/v1/bookings", &booking)
                .await
                .status(),
            StatusCode::CREATED
        );
        let too_soon = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{id}/held"),
                &json!({}),
            )
            .await;
        assert_eq!(
            too_soon.status(),
            StatusCode::CONFLICT,
            "not held before the slot starts"
        );

        app.clock.set(start + Duration::hours(2));
        let held = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{id}/held"),
                &json!({}),
            )
            .await;
        assert_eq!(held.status(), StatusCode::OK);
        assert_eq!(json(held).await["status"], "held");

        let withdraw = app
            .post(
                &referrer,
                &format!("/api/v1/referrals/{id}/withdraw"),
                &json!({}),
            )
            .await;
        assert_eq!(withdraw.status(), StatusCode::CONFLICT);
        let message = json(withdraw).await["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.contains("before the conversation is held"),
            "{message}"
        );

        let cancel = app
            .post(
                &referrer,
                &format!("/api/v1/referrals/{id}/cancel"),
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(
            cancel.status(),
            StatusCode::FORBIDDEN,
            "referrers withdraw, tables cancel"
        );

        let rows = audit_rows(&app, id).await;
        for (action, result) in [
            ("referral.outcome", "conflict"),
            ("referral.confirm", "ok"),
            ("referral.held", "conflict"),
            ("referral.held", "ok"),
            ("referral.withdraw", "conflict"),
            ("referral.cancel", "forbidden"),
        ] {
            assert!(
                rows.iter().any(|(a, r, _)| a == action && r == result),
                "no audit row {action} {result} in {rows:?}"
            );
        }
    }
);

story!(
    withdrawing_frees_the_booked_slot_for_another_referral,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let first = register(
            &app,
            &referrer,
            &registration("ST-EDE-0300", "Ede", EDE_TEAM),
        )
        .await;
        let second = register(
            &app,
            &referrer,
            &registration("ST-EDE-0301", "Ede", EDE_TEAM),
        )
        .await;
        let (slot, _) = free_slot(&app, "food-valley", 90).await;
        let book = |id: i64| json!({"referral_id": id, "slot_id": slot});
        assert_eq!(
            app.post(&coordinator, "/api/v1/bookings", &book(id_of(&first)))
                .await
                .status(),
            StatusCode::CREATED
        );
        assert_eq!(
            app.post(&coordinator, "/api/v1/bookings", &book(id_of(&second)))
                .await
                .status(),
            StatusCode::CONFLICT
        );

        let withdrawn = app
            .post(
                &referrer,
                &format!("/api/v1/referrals/{}/withdraw", id_of(&first)),
                &json!({}),
            )
            .await;
        assert_eq!(withdrawn.status(), StatusCode::OK);
        let withdrawn = json(withdrawn).await;
        assert_eq!(withdrawn["status"], "withdrawn");
        assert_eq!(withdrawn["booked_slot"], Value::Null);

        let rebooked = app
            .post(&coordinator, "/api/v1/bookings", &book(id_of(&second)))
            .await;
        assert_eq!(rebooked.status(), StatusCode::CREATED);
        assert_eq!(json(rebooked).await["booked_slot"]["id"], json!(slot));
    }
);

story!(a_chair_books_only_at_the_own_table, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let referral = register(
        &app,
        &coordinator,
        &registration("ST-EDE-0400", "Ede", EDE_TEAM),
    )
    .await;
    let (elsewhere, _) = free_slot(&app, "rivierenland", 90).await;
    let (own, _) = free_slot(&app, "food-valley", 90).await;

    let refused = app
        .post(
            &chair,
            "/api/v1/bookings",
            &json!({"referral_id": id_of(&referral), "slot_id": elsewhere}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let booked = app
        .post(
            &chair,
            "/api/v1/bookings",
            &json!({"referral_id": id_of(&referral), "slot_id": own}),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    assert_eq!(json(booked).await["status"], "booked");
});

story!(
    a_retried_registration_with_the_same_idempotency_key_registers_once,
    |app| {
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let body = as_sent_by(&referrer, &registration("ST-EDE-0500", "Ede", EDE_TEAM));
        let send = || {
            app.client
                .post(app.url("/api/v1/referrals"))
                .bearer_auth(&referrer.token)
                .header("Idempotency-Key", "registration-0500")
                .json(&body)
                .send()
        };

        let first = send().await.expect("first");
        let second = send().await.expect("retry");

        assert_eq!(first.status(), StatusCode::CREATED);
        assert_eq!(second.status(), StatusCode::CREATED);
        // The replay carries the same Location as the first answer.
        assert!(first.headers().get("location").is_some());
        assert_eq!(
            first.headers().get("location"),
            second.headers().get("location")
        );
        assert_eq!(json(first).await, json(second).await);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM referrals WHERE case_ref = $1",
                "ST-EDE-0500"
            )
            .await,
            1
        );
    }
);

story!(
    of_twenty_concurrent_bookings_of_one_slot_exactly_one_wins,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let mut ids = Vec::new();
        for n in 0..20 {
            let referral = register(
                &app,
                &coordinator,
                &registration(&format!("ST-EDE-{:04}", 600 + n), "Ede", EDE_TEAM),
            )
            .await;
            ids.push(id_of(&referral));
        }
        let (slot, _) = free_slot(&app, "food-valley", 90).await;

        let mut bookings = tokio::task::JoinSet::new();
        for id in ids {
            let request = app
                .client
                .post(app.url("/api/v1/bookings"))
                .bearer_auth(&coordinator.token)
                .json(&json!({"referral_id": id, "slot_id": slot}));
            bookings.spawn(async move {
                let response = request.send().await.expect("booking request");
                let status = response.status();
                (status, response.text().await.unwrap_or_default())
            });
        }
        let mut statuses = Vec::new();
        while let Some(done) = bookings.join_next().await {
            statuses.push(done.expect("booking task"));
        }

        let won = statuses
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        let lost = statuses
            .iter()
            .filter(|(s, _)| *s == StatusCode::CONFLICT)
            .count();
        assert_eq!((won, lost), (1, 19), "{statuses:?}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM referrals WHERE booked_slot_id = $1",
                &slot
            )
            .await,
            1
        );
        let conflicts = count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'referral.confirm' AND result = $1",
            "conflict",
        )
        .await;
        assert_eq!(conflicts, 19);
    }
);

story!(
    an_outcome_with_an_evaluation_date_registers_the_evaluation,
    |app| {
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let referral = register(
            &app,
            &referrer,
            &registration("ST-EDE-0700", "Ede", EDE_TEAM),
        )
        .await;
        let id = id_of(&referral);
        let (slot, start) = free_slot(&app, "food-valley", 90).await;
        assert_eq!(
            app.post(
                &chair,
                "/api/v1/bookings",
                &json!({"referral_id": id, "slot_id": slot})
            )
            .await
            .status(),
            StatusCode::CREATED
        );
        app.clock.set(start + Duration::hours(2));
        assert_eq!(
            app.post(&chair, &format!("/api/v1/referrals/{id}/held"), &json!({}))
                .await
                .status(),
            StatusCode::OK
        );

        let outcome = json!({
            "outcome": "voluntary_binding",
            "route": "vrijwillig kader met gecertificeerde instelling",
            "help": "gezinshuis, ouderbegeleiding",
            "safety_agreements": "dagelijks contact met de gezinsvoogd",
            "evaluation_date": "2027-03-01"
        });
        let response = app
            .post(&chair, &format!("/api/v1/referrals/{id}/outcome"), &outcome)
            .await;

        assert_eq!(response.status(), StatusCode::CREATED);
        let recorded = json(response).await;
        assert_eq!(recorded["referral"]["status"], "outcome_recorded");
        let evaluation = &recorded["evaluation"];
        assert_eq!(evaluation["kind"], "evaluation");
        assert_eq!(evaluation["case_ref"], "ST-EDE-0700-EVAL1");
        assert_eq!(evaluation["status"], "registered");
        assert_eq!(evaluation["municipality"]["cbs"], "GM0228");
        assert_eq!(evaluation["referrer_org"], EDE_TEAM);
        assert_eq!(evaluation["earliest"], "2027-02-22");
        assert_eq!(evaluation["norm"]["due"], "2027-03-08");
        assert_eq!(evaluation["parent_referral_id"], id);
        let seen = app
            .get(
                &referrer,
                &format!("/api/v1/referrals/{}", id_of(evaluation)),
            )
            .await;
        assert_eq!(
            seen.status(),
            StatusCode::OK,
            "the referrer follows the evaluation"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM outcomes WHERE outcome = $1",
                "voluntary_binding"
            )
            .await,
            1
        );

        let again = app
            .post(&chair, &format!("/api/v1/referrals/{id}/outcome"), &outcome)
            .await;
        assert_eq!(
            again.status(),
            StatusCode::CONFLICT,
            "one outcome per conversation"
        );
    }
);

story!(
    a_cancelled_session_sends_its_referrals_back_to_the_planner,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let referral = register(
            &app,
            &coordinator,
            &registration("ST-EDE-0800", "Ede", EDE_TEAM),
        )
        .await;
        let (slot, _) = free_slot(&app, "food-valley", 90).await;
        let booking = json!({"referral_id": id_of(&referral), "slot_id": slot});
        assert_eq!(
            app.post(&coordinator, "/api/v1/bookings", &booking)
                .await
                .status(),
            StatusCode::CREATED
        );

        let mut tx = app.state.store.write().await.expect("write");
        let released = jbt::referrals::store::release_slot(&mut tx, &slot, app.state.now())
            .await
            .expect("release");
        tx.commit().await.expect("commit");

        assert_eq!(released, vec![id_of(&referral)]);
        let after = json(
            app.get(
                &coordinator,
                &format!("/api/v1/referrals/{}", id_of(&referral)),
            )
            .await,
        )
        .await;
        assert!(
            ["registered", "planned"].contains(&after["status"].as_str().unwrap_or_default()),
            "{after}"
        );
        assert_eq!(after["booked_slot"], Value::Null);
    }
);

story!(
    references_are_issued_by_jbt_and_typed_ones_cannot_be_probed,
    |app| {
        let ede = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let tiel = app.user(Role::Referrer, Some(TIEL_TEAM)).await;
        // Left out: jbt issues the next reference of the year.
        let mut body = registration("x", "Ede", EDE_TEAM);
        body.as_object_mut().map(|b| b.remove("case_ref"));
        let first = register(&app, &ede, &body).await;
        let second = register(&app, &ede, &body).await;
        let year = app.state.now().format("%y").to_string();
        assert_eq!(first["case_ref"], format!("JBT-{year}-0001"));
        assert_eq!(second["case_ref"], format!("JBT-{year}-0002"));

        // A typed reference is the referrer's own; in capitals.
        let typed = register(&app, &ede, &registration("st-ede-0042", "Ede", EDE_TEAM)).await;
        assert_eq!(typed["case_ref"], "ST-EDE-0042");
        // Another organisation typing it (in any case) learns nothing.
        for probe in ["ST-EDE-0042", "st-ede-0042"] {
            let response = app
                .post(
                    &tiel,
                    "/api/v1/referrals",
                    &as_sent_by(&tiel, &registration(probe, "Tiel", TIEL_TEAM)),
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let text = json(response).await.to_string();
            assert!(text.contains("cannot be used"), "{text}");
            assert!(
                !text.contains("already") && !text.contains("registered"),
                "{text}"
            );
        }
        // Names and the issued range are refused, saying why.
        for (bad, why) in [
            ("Jan-Jansen", "a name is not a case reference"),
            ("JBT-26-0815", "issued by jbt"),
        ] {
            let response = app
                .post(
                    &ede,
                    "/api/v1/referrals",
                    &as_sent_by(&ede, &registration(bad, "Ede", EDE_TEAM)),
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(json(response).await.to_string().contains(why), "{bad}");
        }
    }
);

story!(
    a_list_read_is_one_audit_row_naming_every_referral_shown,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let admin = app.user(Role::Admin, None).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            let referral = register(
                &app,
                &coordinator,
                &registration(&format!("ST-EDE-07{n}0"), "Ede", EDE_TEAM),
            )
            .await;
            ids.push(id_of(&referral));
        }
        let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count");
        let list = app.get(&coordinator, "/api/v1/referrals?limit=50").await;
        assert_eq!(list.status(), StatusCode::OK);
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count");
        assert_eq!(after - before, 1, "one row for the whole list");
        // Each referral's history still shows that it was read, and by whom.
        for id in &ids {
            let log = json(
                app.get(&admin, &format!("/api/v1/audit?referral_id={id}"))
                    .await,
            )
            .await;
            let read = log["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .find(|e| e["action"] == "referral.read")
                .unwrap_or_else(|| panic!("no read of {id} in {log}"));
            assert_eq!(read["user_id"], coordinator.id);
            let shown: Vec<i64> =
                serde_json::from_value(read["referral_ids"].clone()).expect("ids");
            assert!(ids.iter().all(|i| shown.contains(i)), "{shown:?}");
        }
    }
);
