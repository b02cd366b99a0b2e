//! Stories: plan runs, the plan view, cancelled and extra sessions.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::story;
use jbt::auth::Role;

pub fn referral_body(case_ref: &str, municipality: &str) -> Value {
    json!({
        "case_ref": case_ref,
        "municipality": municipality,
        "kind": "vtb",
        "referrer_kind": "local_team",
        "referrer_org": "Sociaal Team Ede",
        "referrer_email": "professional@sociaalteam-ede.example.org",
        "safety_plan": true,
        "parents_informed": true,
        "child_12_plus": false,
    })
}

/// Registers a referral as coordinator and returns its id.
pub async fn register(
    app: &TestApp,
    coordinator: &TestUser,
    case_ref: &str,
    municipality: &str,
) -> i64 {
    let response = app
        .post(
            coordinator,
            "/api/v1/referrals",
            &referral_body(case_ref, municipality),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json(response).await["id"].as_i64().expect("id")
}

story!(
    a_plan_run_gives_a_registered_referral_a_slot_in_its_region,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "CASE-A1", "Ede").await;
        let summary = app.replan().await;
        assert!(summary.planned >= 1, "{summary:?}");
        let referral = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        assert_eq!(referral["status"], "planned");
        assert_eq!(referral["planned_slot"]["region"], "food-valley");
        assert!(referral["explanation"]["summary"]
            .as_str()
            .expect("explanation")
            .contains("FoodValley"));
    }
);

story!(new_referrals_are_planned_without_asking, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let id = register(&app, &coordinator, "CASE-A2", "Arnhem").await;
    // The debounced loop picks the change up by itself.
    let mut status = Value::Null;
    for _ in 0..100 {
        let referral = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        status = referral["status"].clone();
        if status == "planned" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "planned");
});

story!(
    a_cancelled_session_sends_its_referrals_to_another_slot,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "CASE-A3", "Nijmegen").await;
        app.replan().await;
        let before = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        let slot = before["planned_slot"].clone();
        let (region, date) = (
            slot["region"].as_str().expect("region"),
            slot["date"].as_str().expect("date"),
        );

        let response = app
            .post(
                &coordinator,
                "/api/v1/slots/sessions/cancel",
                &json!({ "region": region, "date": date, "reason": "voorzitter ziek" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let cancelled = json(response).await;
        assert!(cancelled["released_referrals"]
            .as_array()
            .expect("list")
            .contains(&json!(id)));

        app.replan().await;
        let after = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        assert_eq!(after["status"], "planned");
        assert_ne!(
            after["planned_slot"]["date"],
            json!(date),
            "moved off the cancelled day"
        );
        let slots = json(
            app.get(
                &coordinator,
                &format!("/api/v1/slots?region={region}&from={date}&weeks=1"),
            )
            .await,
        )
        .await;
        let that_day: Vec<&Value> = slots
            .as_array()
            .expect("list")
            .iter()
            .filter(|s| s["date"] == json!(date))
            .collect();
        assert!(!that_day.is_empty() && that_day.iter().all(|s| s["state"] == "cancelled"));
    }
);

story!(
    an_extra_session_adds_slots_that_the_planner_can_use,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let body = json!({ "region": "noord-veluwe", "date": "2026-12-01", "start": "13:00", "slots": 2, "minutes": 120 });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let ids = json(response).await["slot_ids"].clone();
        assert_eq!(ids.as_array().map(Vec::len), Some(2));
        // 13:00 and 15:00 local on a winter day are 12:00Z and 14:00Z.
        let slots = json(
            app.get(
                &coordinator,
                "/api/v1/slots?region=noord-veluwe&from=2026-12-01&weeks=1",
            )
            .await,
        )
        .await;
        let extra: Vec<&str> = slots
            .as_array()
            .expect("list")
            .iter()
            .filter(|s| s["origin"] == "extra")
            .map(|s| s["start"].as_str().expect("start"))
            .collect();
        assert_eq!(
            extra,
            vec!["2026-12-01T13:00:00+01:00", "2026-12-01T15:00:00+01:00"]
        );
        // The same session twice is a conflict, bad input names its fields.
        assert_eq!(
            app.post(&coordinator, "/api/v1/slots/sessions", &body)
                .await
                .status(),
            StatusCode::CONFLICT
        );
        let bad = json!({ "region": "noord-veluw", "date": "2026-13-01", "start": "25:00", "slots": 0, "minutes": 5 });
        let response = app.post(&coordinator, "/api/v1/slots/sessions", &bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = json(response).await["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("field").to_string())
            .collect();
        assert_eq!(fields, vec!["region", "date", "start", "slots", "minutes"]);
    }
);

story!(
    chairs_see_their_own_table_in_the_plan_and_cannot_run_it,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair_fv = app.user(Role::Chair, Some("food-valley")).await;
        let chair_ah = app.user(Role::Chair, Some("achterhoek")).await;
        register(&app, &coordinator, "CASE-A4", "Ede").await;
        app.replan().await;
        let seen = |v: Value| {
            v["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .any(|e| e["case_ref"] == "CASE-A4")
        };
        assert!(seen(
            json(app.get(&coordinator, "/api/v1/plan").await).await
        ));
        assert!(seen(json(app.get(&chair_fv, "/api/v1/plan").await).await));
        assert!(!seen(json(app.get(&chair_ah, "/api/v1/plan").await).await));
        let response = app.post(&chair_fv, "/api/v1/plan/run", &json!({})).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        assert_eq!(
            app.get(&referrer, "/api/v1/plan").await.status(),
            StatusCode::FORBIDDEN
        );
    }
);

story!(two_plan_runs_at_once_do_not_interleave, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    for n in 0..6 {
        register(
            &app,
            &coordinator,
            &format!("CASE-B{n}"),
            if n % 2 == 0 { "Arnhem" } else { "Ede" },
        )
        .await;
    }
    let (a, b) = tokio::join!(app.replan(), app.replan());
    assert_ne!(a.run_id, b.run_id);
    // Whatever order they ran in, the plan is consistent: one referral per slot.
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT planned_slot_id FROM referrals WHERE planned_slot_id IS NOT NULL")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("query");
    let mut slots: Vec<String> = rows.into_iter().filter_map(|(s,)| s).collect();
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n);
    assert_eq!(n, 6);
});

story!(
    an_ots_end_review_from_nijmegen_goes_to_a_neighbouring_table_that_holds_them,
    |app| {
        // The working agreement (footnote 3): the Rijk van Nijmegen table
        // does not yet review intended ends of supervision orders.
        let coordinator = app.user(Role::Coordinator, None).await;
        let mut ids = Vec::new();
        for (i, kind) in ["ots_end", "ots_end", "vtb"].iter().enumerate() {
            let mut body = referral_body(&format!("NIJM-{i}"), "Nijmegen");
            body["kind"] = json!(kind);
            let response = app.post(&coordinator, "/api/v1/referrals", &body).await;
            assert_eq!(response.status(), StatusCode::CREATED);
            ids.push(json(response).await["id"].as_i64().expect("id"));
        }
        app.replan().await;
        for (i, id) in ids.iter().enumerate() {
            let referral = json(
                app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                    .await,
            )
            .await;
            let region = referral["planned_slot"]["region"].as_str().unwrap_or("");
            let summary = referral["explanation"]["summary"].as_str().unwrap_or("");
            let why = "De tafel van Rijk van Nijmegen voert (nog) geen gesprekken over het einde van een OTS";
            if i < 2 {
                assert!(
                    ["centraal-gelderland", "rivierenland"].contains(&region),
                    "an ots_end review planned at {region:?}: {referral}"
                );
                assert!(summary.starts_with(why), "{summary}");
            } else {
                assert_eq!(region, "rijk-van-nijmegen", "{referral}");
                assert!(!summary.contains(why), "{summary}");
            }
        }
    }
);

/// The fields named by a 422 answer.
async fn refused_fields(response: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    json(response).await["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

story!(
    extra_sessions_meet_the_rules_of_the_region_configuration,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let add = |region: &str, date: &str, start: &str, slots: u32, minutes: u32| json!({ "region": region, "date": date, "start": start, "slots": slots, "minutes": minutes });
        // A hard holiday never gets slots.
        let response = app
            .post(
                &coordinator,
                "/api/v1/slots/sessions",
                &add("food-valley", "2026-12-25", "09:00", 1, 90),
            )
            .await;
        let fields = refused_fields(response).await;
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(fields[0].0, "date");
        assert!(fields[0].1.contains("holiday"), "{fields:?}");
        // A session running past midnight.
        let response = app
            .post(
                &coordinator,
                "/api/v1/slots/sessions",
                &add("food-valley", "2027-01-31", "23:00", 2, 90),
            )
            .await;
        let fields = refused_fields(response).await;
        assert_eq!(fields[0].0, "start");
        assert!(fields[0].1.contains("past midnight"), "{fields:?}");
        // Overlapping the table's own weekly slots (Tuesday 09:00 and 10:30).
        let response = app
            .post(
                &coordinator,
                "/api/v1/slots/sessions",
                &add("achterhoek", "2027-02-02", "09:30", 1, 90),
            )
            .await;
        let fields = refused_fields(response).await;
        assert_eq!(fields[0].0, "start");
        assert!(fields[0].1.contains("09:00-10:30"), "{fields:?}");
        // Right after the table's last weekly slot of the day it fits.
        let response = app
            .post(
                &coordinator,
                "/api/v1/slots/sessions",
                &add("achterhoek", "2027-02-02", "13:30", 1, 90),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
);

story!(
    an_extra_session_across_the_spring_clock_change_runs_in_real_time,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        app.clock
            .set("2028-03-01T08:00:00Z".parse().expect("instant"));
        let body = json!({ "region": "rijk-van-nijmegen", "date": "2028-03-26",
                           "start": "01:00", "slots": 3, "minutes": 90 });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let slots = json(
            app.get(
                &coordinator,
                "/api/v1/slots?region=rijk-van-nijmegen&from=2028-03-26&weeks=1",
            )
            .await,
        )
        .await;
        let starts: Vec<&str> = slots
            .as_array()
            .expect("list")
            .iter()
            .filter(|s| s["date"] == "2028-03-26")
            .map(|s| s["start"].as_str().expect("start"))
            .collect();
        // 00:00Z, 01:30Z and 03:00Z: back to back in real time.
        assert_eq!(
            starts,
            [
                "2028-03-26T01:00:00+01:00",
                "2028-03-26T03:30:00+02:00",
                "2028-03-26T05:00:00+02:00"
            ]
        );
        // A start inside the hour that does not exist is refused.
        let body = json!({ "region": "rivierenland", "date": "2028-03-26",
                           "start": "02:30", "slots": 1, "minutes": 90 });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions", &body)
            .await;
        let fields = refused_fields(response).await;
        assert_eq!(fields[0].0, "start");
        assert!(fields[0].1.contains("does not exist"), "{fields:?}");
    }
);

story!(
    weekly_slots_give_way_to_an_extra_session_added_before_them,
    |app| {
        // An extra session months ahead, on a day whose weekly slots the
        // horizon does not hold yet (Achterhoek, Tuesdays 09:00, 10:30, 12:00).
        let coordinator = app.user(Role::Coordinator, None).await;
        let body = json!({ "region": "achterhoek", "date": "2027-06-01",
                           "start": "09:30", "slots": 1, "minutes": 90 });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        app.clock
            .set("2027-05-20T08:00:00Z".parse().expect("instant"));
        jbt::slots::sync_horizon(&app.state).await.expect("horizon");
        let slots = json(
            app.get(
                &coordinator,
                "/api/v1/slots?region=achterhoek&from=2027-06-01&weeks=1",
            )
            .await,
        )
        .await;
        let day: Vec<(&str, &str)> = slots
            .as_array()
            .expect("list")
            .iter()
            .filter(|s| s["date"] == "2027-06-01")
            .map(|s| {
                (
                    s["start"].as_str().expect("start"),
                    s["origin"].as_str().expect("origin"),
                )
            })
            .collect();
        assert_eq!(
            day,
            [
                ("2027-06-01T09:30:00+02:00", "extra"),
                ("2027-06-01T12:00:00+02:00", "template")
            ]
        );
    }
);

/// Waits until the debounced background plan runs (after registrations,
/// and the one at start-up) are done: no new run for a while.
async fn settle(app: &TestApp) {
    let runs = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM plan_runs")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count");
        n
    };
    let mut before = runs().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = runs().await;
        if now == before {
            return;
        }
        before = now;
    }
}

story!(
    a_plan_run_after_a_registration_goes_on_from_the_kept_network_and_checks_it,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        register(&app, &coordinator, "CASE-W1", "Ede").await;
        let first = app.replan().await;
        // Only a new referral since: the planner goes on from its network
        // (so does a debounced background run that comes first; this run
        // then finds nothing new and goes on too).
        let second_id = register(&app, &coordinator, "CASE-W2", "Ede").await;
        let second = app.replan().await;
        assert!(second.warm, "{second:?}");
        assert_eq!(second.planned, first.planned + 1, "{second:?}");
        let referral = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{second_id}"))
                .await,
        )
        .await;
        assert_eq!(referral["status"], "planned");
        // Another instance changed the stored placements: the kept network
        // no longer matches the database, so the run starts cold and plans
        // from what the database holds.
        settle(&app).await;
        sqlx::query("UPDATE referrals SET planned_slot_id = NULL WHERE id = $1")
            .bind(second_id)
            .execute(&app.state.store.pool)
            .await
            .expect("update");
        let third = app.replan().await;
        assert!(!third.warm, "{third:?}");
        assert_eq!(third.planned, second.planned, "{third:?}");
        assert_eq!(third.score, second.score, "{third:?}");
        // A run from nothing gives the same score and moves nobody.
        *app.state.planner.lock().expect("planner") = Default::default();
        let cold = app.replan().await;
        assert!(!cold.warm);
        assert_eq!(cold.score, third.score);
        assert!(cold.moved.is_empty(), "{cold:?}");
    }
);

story!(
    a_booking_a_withdrawal_a_cancelled_session_and_one_after_the_last_are_followed_by_the_kept_network,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let first = register(&app, &coordinator, "CASE-K1", "Ede").await;
        let second = register(&app, &coordinator, "CASE-K2", "Ede").await;
        let third = register(&app, &coordinator, "CASE-K3", "Ede").await;
        settle(&app).await;
        app.replan().await;
        let runs = || app.state.planner.lock().expect("planner").runs();
        let before = runs();
        // The coordinator confirms the first referral's planned slot.
        let referral = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{first}"))
                .await,
        )
        .await;
        let slot = referral["planned_slot"]["id"]
            .as_str()
            .expect("a planned slot")
            .to_string();
        let response = app
            .post(
                &coordinator,
                "/api/v1/bookings",
                &json!({ "referral_id": first, "slot_id": slot }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        settle(&app).await;
        let booked = app.replan().await;
        // Every run since (the debounced one and this) went on from the
        // kept network: none started cold.
        let after_booking = runs();
        assert_eq!(after_booking.cold, before.cold, "{after_booking:?}");
        assert!(after_booking.warm > before.warm, "{after_booking:?}");
        assert!(booked.warm);
        // The second referral is withdrawn.
        let response = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{second}/withdraw"),
                &json!({}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        settle(&app).await;
        let withdrawn = app.replan().await;
        let after_withdrawal = runs();
        assert_eq!(after_withdrawal.cold, before.cold, "{after_withdrawal:?}");
        assert_eq!(withdrawn.referrals + 1, booked.referrals, "{withdrawn:?}");
        // The session the third referral is planned in is cancelled: it
        // is planned elsewhere, still without a cold run.
        let planned = |id: i64| {
            let app = &app;
            let coordinator = &coordinator;
            async move {
                let referral = json(
                    app.get(coordinator, &format!("/api/v1/referrals/{id}"))
                        .await,
                )
                .await;
                referral["planned_slot"].clone()
            }
        };
        let slot = planned(third).await;
        let body = json!({
            "region": slot["region"],
            "date": slot["date"],
            "reason": "voorzitter afwezig",
        });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions/cancel", &body)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        settle(&app).await;
        let cancelled = app.replan().await;
        let after_cancel = runs();
        assert_eq!(after_cancel.cold, before.cold, "{after_cancel:?}");
        assert_ne!(planned(third).await["date"], slot["date"]);
        assert_eq!(cancelled.planned, withdrawn.planned, "{cancelled:?}");
        // An extra session after the last one of the horizon (ten weeks
        // from 2026-11-30): the day unplanned referrals count at moves, and
        // the kept network follows that too.
        let after_the_last = |from: &str| {
            let (app, coordinator) = (&app, &coordinator);
            let path = format!("/api/v1/slots?from={from}&weeks=4");
            async move { json(app.get(coordinator, &path).await).await }
        };
        assert_eq!(after_the_last("2027-02-09").await, json!([]), "no slot yet");
        let body = json!({ "region": slot["region"], "date": "2027-02-16",
                           "start": "09:30", "slots": 1, "minutes": 90 });
        let response = app
            .post(&coordinator, "/api/v1/slots/sessions", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let added = after_the_last("2027-02-09").await;
        assert_eq!(added.as_array().map(Vec::len), Some(1), "{added}");
        settle(&app).await;
        let later = app.replan().await;
        let after_later = runs();
        assert_eq!(after_later.cold, before.cold, "{after_later:?}");
        assert!(later.warm);
        // The same score as a plan from nothing.
        *app.state.planner.lock().expect("planner") = Default::default();
        let cold = app.replan().await;
        assert!(!cold.warm);
        assert_eq!(cold.score, later.score);
    }
);
