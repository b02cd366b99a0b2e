//! Stories: the referral page says what is true in each state, shows the
//! recorded outcome, and keeps refused forms out of the history (issue 14,
//! "wrong or contradictory"), on both databases.

use jbt::auth::Role;

use crate::browser::{location, Browser};
use crate::helpers::*;
use crate::planning::register;
use crate::story;

story!(
    the_page_follows_the_referral_from_booking_to_outcome,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "CASE-PAGE-1", "Ede").await;
        app.replan().await;
        let path = format!("/referrals/{id}");
        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let token = browser.csrf(&path).await;
        let planned = browser.get(&path).await.text().await.expect("page");
        assert!(
            planned.contains("wacht nu 0 dagen"),
            "the wait is labelled as today's"
        );

        browser
            .post_form(&format!("{path}/confirm"), &[("csrf", &token)], &[])
            .await;
        let booked = browser.get(&path).await.text().await.expect("page");
        assert!(
            booked.contains("De afspraak is bevestigd en blijft staan zoals geboekt"),
            "{booked}"
        );

        // After the conversation: held, then the outcome.
        let api = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        let start: chrono::DateTime<chrono::Utc> = api["booked_slot"]["start"]
            .as_str()
            .expect("start")
            .parse()
            .expect("instant");
        app.clock.set(start + chrono::Duration::hours(3));
        // Hours later: a new session.
        browser.login(&coordinator).await;
        let token = browser.csrf(&path).await;
        let held = browser
            .post_form(&format!("{path}/held"), &[("csrf", &token)], &[])
            .await;
        assert_eq!(held.status(), StatusCode::SEE_OTHER);
        let page = browser.get(&path).await.text().await.expect("page");
        assert!(page.contains("Het gesprek is gehouden."), "{page}");
        assert!(
            !page.contains("nog niet ingedeeld"),
            "the explanation matches the state"
        );

        // A refused outcome (an evaluation date in the past) is no event.
        let refused = browser
            .post_form(
                &format!("{path}/outcome"),
                &[
                    ("csrf", &token),
                    ("outcome", "voluntary_binding"),
                    ("route", "r"),
                    ("help", "h"),
                    ("safety_agreements", "s"),
                    ("evaluation_date", "2020-01-01"),
                ],
                &[],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // The same form again: the input kept, the problem said in Dutch.
        let form = refused.text().await.expect("page");
        assert!(
            form.contains("Evaluatie op: deze datum ligt in het verleden."),
            "{form}"
        );
        assert!(form.contains("value=\"2020-01-01\""), "the date is kept");
        assert!(
            form.contains("<option value=\"voluntary_binding\" selected>"),
            "the choice is kept"
        );
        let page = browser.get(&path).await.text().await.expect("page");
        assert!(!page.contains("geweigerd"), "{page}");

        let evaluation = (start + chrono::Duration::days(60))
            .date_naive()
            .to_string();
        let recorded = browser
            .post_form(
                &format!("{path}/outcome"),
                &[
                    ("csrf", &token),
                    ("outcome", "voluntary_binding"),
                    ("route", "Hulp via het lokale team"),
                    ("help", "Gezinscoach"),
                    ("safety_agreements", "Vader woont tijdelijk elders"),
                    ("evaluation_date", &evaluation),
                ],
                &[],
            )
            .await;
        assert_eq!(location(&recorded), format!("{path}?gedaan=uitkomst"));
        let page = browser.get(&path).await.text().await.expect("page");
        for shown in [
            "Uitkomst van het gesprek",
            "vrijwillig met bindende afspraken",
            "Hulp via het lokale team",
            "Gezinscoach",
            "Vader woont tijdelijk elders",
            "CASE-PAGE-1-EVAL1",
        ] {
            assert!(page.contains(shown), "{shown} not on the page");
        }
        // The free texts are case content: sealed at rest.
        let (route, safety): (String, String) =
            sqlx::query_as("SELECT route, safety_agreements FROM outcomes WHERE referral_id = $1")
                .bind(id)
                .fetch_one(&app.state.store.pool)
                .await
                .expect("outcome row");
        assert!(
            route.starts_with("v1:") && !route.contains("lokale"),
            "{route}"
        );
        assert!(
            safety.starts_with("v1:") && !safety.contains("Vader"),
            "{safety}"
        );
    }
);

story!(
    a_conversation_that_did_not_take_place_waits_again_with_its_due_date,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let id = register(&app, &coordinator, "CASE-NH-1", "Ede").await;
        app.replan().await;
        let path = format!("/referrals/{id}");
        let api_path = format!("/api/v1/referrals/{id}");
        let before = json(app.get(&coordinator, &api_path).await).await;
        let slot = before["planned_slot"]["id"]
            .as_str()
            .expect("planned")
            .to_string();
        let booked = app
            .post(
                &coordinator,
                "/api/v1/bookings",
                &serde_json::json!({"referral_id": id, "slot_id": slot}),
            )
            .await;
        assert_eq!(booked.status(), StatusCode::CREATED);
        let not_held = format!("{api_path}/not-held");
        let body = serde_json::json!({"reason": "family_absent"});

        // Before the conversation began: nothing to record yet, said so.
        let early = app.post(&chair, &not_held, &body).await;
        assert_eq!(early.status(), StatusCode::CONFLICT);

        let start: chrono::DateTime<chrono::Utc> = json(app.get(&coordinator, &api_path).await)
            .await["booked_slot"]["start"]
            .as_str()
            .expect("start")
            .parse()
            .expect("instant");
        app.clock.set(start + chrono::Duration::hours(2));
        // An unknown reason is named; a referrer may not record it.
        let bad = app
            .post(&chair, &not_held, &serde_json::json!({"reason": "ziek"}))
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        assert_eq!(
            app.post(&referrer, &not_held, &body).await.status(),
            StatusCode::FORBIDDEN
        );

        // Through the page's form, as the chair.
        let mut browser = Browser::new(&app);
        browser.login(&chair).await;
        let page = browser.get(&path).await.text().await.expect("page");
        assert!(page.contains("Gesprek ging niet door"), "{page}");
        let token = browser.csrf(&path).await;
        let done = browser
            .post_form(
                &format!("{path}/not-held"),
                &[("csrf", &token), ("reason", "family_absent")],
                &[],
            )
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let after = json(app.get(&coordinator, &api_path).await).await;
        assert_eq!(after["status"], "registered");
        assert_eq!(after["booked_slot"], serde_json::Value::Null);
        assert_eq!(
            after["norm"]["due"], before["norm"]["due"],
            "the norm clock runs on"
        );

        // Planned again, in a slot after the one that passed; the history
        // says why, without free text.
        app.replan().await;
        let replanned = json(app.get(&coordinator, &api_path).await).await;
        let new_start: chrono::DateTime<chrono::Utc> = replanned["planned_slot"]["start"]
            .as_str()
            .expect("planned again")
            .parse()
            .expect("instant");
        assert!(new_start >= app.state.now(), "not in the past: {replanned}");
        assert_ne!(
            replanned["planned_slot"]["id"].as_str(),
            Some(slot.as_str())
        );
        let page = browser.get(&path).await.text().await.expect("page");
        assert!(
            page.contains("gesprek niet doorgegaan: het gezin kwam niet"),
            "{page}"
        );
    }
);

story!(the_queue_and_the_list_find_a_case_reference, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    register(&app, &coordinator, "ST-EDE-0815", "Ede").await;
    register(&app, &coordinator, "ST-EDE-4711", "Ede").await;
    let found = json(
        app.get(&coordinator, "/api/v1/referrals?case_ref=ede-08")
            .await,
    )
    .await;
    let refs: Vec<&str> = found["items"]
        .as_array()
        .or_else(|| found.as_array())
        .expect("a list")
        .iter()
        .filter_map(|r| r["case_ref"].as_str())
        .collect();
    assert_eq!(refs, ["ST-EDE-0815"], "{found}");
    let bad = app
        .get(&coordinator, "/api/v1/referrals?case_ref=%25")
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let board = browser
        .get("/board?zaak=4711")
        .await
        .text()
        .await
        .expect("board");
    let queue = &board[board.find("queue-title").expect("the queue")..];
    assert!(queue.contains("ST-EDE-4711"), "{queue}");
    assert!(!queue.contains("ST-EDE-0815"), "only the one searched for");
    assert!(
        board.contains("value=\"4711\""),
        "the search is kept in the form"
    );
});

story!(
    several_tentative_slots_are_confirmed_at_once_from_the_queue,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let ids = [
            register(&app, &coordinator, "BULK-1", "Ede").await,
            register(&app, &coordinator, "BULK-2", "Ede").await,
            register(&app, &coordinator, "BULK-3", "Ede").await,
        ];
        app.replan().await;
        let chair = app.user(Role::Chair, Some("achterhoek")).await;
        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let board = browser.get("/board").await.text().await.expect("board");
        for id in ids {
            assert!(
                board.contains(&format!("name=\"confirm_{id}\"")),
                "a box for {id}"
            );
        }
        let token = browser.csrf("/board").await;
        let (first, second) = (format!("confirm_{}", ids[0]), format!("confirm_{}", ids[1]));
        // A chair of another table ticks the same boxes: nothing is booked.
        let mut theirs = Browser::new(&app);
        theirs.login(&chair).await;
        let their_token = theirs.csrf("/board").await;
        let refused = theirs
            .post_form(
                "/board/bevestigen",
                &[("csrf", &their_token), (&first, "on")],
                &[],
            )
            .await;
        assert_eq!(location(&refused), "/board?bevestigd=0&niet=1");

        let done = browser
            .post_form(
                "/board/bevestigen",
                &[("csrf", &token), (&first, "on"), (&second, "on")],
                &[],
            )
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let back = location(&done);
        assert_eq!(back, "/board?bevestigd=2&niet=0");
        let page = browser.get(&back).await.text().await.expect("board");
        assert!(page.contains("2 voorlopige plekken bevestigd."), "{page}");
        let statuses: Vec<String> = statuses_of(&app, &coordinator, &ids).await;
        assert_eq!(statuses, ["booked", "booked", "planned"]);
        // A box that names no referral is refused as a whole.
        let bad = browser
            .post_form(
                "/board/bevestigen",
                &[("csrf", &token), ("confirm_x", "on")],
                &[],
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

async fn statuses_of(app: &TestApp, user: &TestUser, ids: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let referral = json(app.get(user, &format!("/api/v1/referrals/{id}")).await).await;
        out.push(referral["status"].as_str().unwrap_or_default().to_string());
    }
    out
}

story!(
    the_queue_is_filtered_and_sorted_and_bad_choices_are_named,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        register(&app, &coordinator, "FLT-C1", "Ede").await;
        register(&app, &coordinator, "FLT-A1", "Arnhem").await;
        let mut evaluation = crate::planning::referral_body("FLT-B1", "Ede");
        evaluation["kind"] = "evaluation".into();
        let made = app
            .post(&coordinator, "/api/v1/referrals", &evaluation)
            .await;
        assert_eq!(made.status(), StatusCode::CREATED);

        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let queue = |page: String| -> Vec<String> {
            let from = page.find("queue-title").expect("the queue");
            let part = &page[from..];
            ["FLT-A1", "FLT-B1", "FLT-C1"]
                .into_iter()
                .filter_map(|c| part.find(&format!(">{c}<")).map(|at| (at, c.to_string())))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_values()
                .collect()
        };
        let show = |path: &'static str| {
            let browser = &browser;
            async move {
                let response = browser.get(path).await;
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                response.text().await.expect("board")
            }
        };
        let by_ref = queue(show("/board?sorteer=kenmerk").await);
        assert_eq!(by_ref, ["FLT-A1", "FLT-B1", "FLT-C1"]);
        let evaluations = show("/board?soort=evaluation&sorteer=kenmerk").await;
        assert_eq!(queue(evaluations.clone()), ["FLT-B1"]);
        assert!(
            evaluations.contains("gefilterd"),
            "the count says it is filtered"
        );
        assert!(
            evaluations.contains("<option value=\"evaluation\" selected>"),
            "the choice is kept in the form"
        );
        // Own table: Ede and its evaluation are FoodValley's, Arnhem is not.
        let own = show("/board?region=food-valley&tafel=eigen&sorteer=kenmerk").await;
        assert_eq!(queue(own), ["FLT-B1", "FLT-C1"]);
        // Planned in time: all on track, none at risk.
        app.replan().await;
        assert_eq!(queue(show("/board?norm=op-schema").await).len(), 3);
        let none = show("/board?norm=risico").await;
        assert!(queue(none.clone()).is_empty());
        assert!(none.contains("Geen aanmeldingen die aan de filters voldoen"));

        for (path, named) in [
            ("/board?sorteer=snelst", "sorteer"),
            ("/board?norm=groen", "norm"),
            ("/board?soort=gesprek", "soort"),
            ("/board?tafel=eigen", "kies eerst een regio"),
        ] {
            let response = browser.get(path).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}"
            );
            let page = response.text().await.expect("page");
            assert!(page.contains(named), "{path}: {page}");
        }
    }
);
