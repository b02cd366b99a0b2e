//! Stories: moving a referral to another slot by hand (issue 14). At its
//! own table a waiting referral is pinned there and a booking moves with
//! its invitations updated; at another table it becomes an offer its chair
//! answers. Every move checked and audited.

use jbt::auth::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::planning::register;
use crate::story;

/// Free slots of `region` in the next four weeks, in time order.
async fn free_slots(app: &TestApp, user: &TestUser, region: &str) -> Vec<String> {
    let slots = json(
        app.get(user, &format!("/api/v1/slots?region={region}&weeks=4"))
            .await,
    )
    .await;
    let mut free: Vec<(String, String)> = slots
        .as_array()
        .or_else(|| slots["items"].as_array())
        .expect("slots")
        .iter()
        .filter(|s| s["state"] == "free")
        .map(|s| {
            (
                s["start"].as_str().unwrap_or_default().to_string(),
                s["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    free.sort();
    free.into_iter().map(|(_, id)| id).collect()
}

async fn move_to(app: &TestApp, user: &TestUser, id: i64, slot: &str) -> reqwest::Response {
    app.post(
        user,
        &format!("/api/v1/referrals/{id}/move"),
        &json!({ "slot_id": slot }),
    )
    .await
}

async fn referral(app: &TestApp, user: &TestUser, id: i64) -> Value {
    json(app.get(user, &format!("/api/v1/referrals/{id}")).await).await
}

async fn outbox_subjects(app: &TestApp, kind: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT subject FROM outbox WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox")
}

story!(
    a_waiting_referral_moved_by_hand_is_pinned_and_the_planner_keeps_it,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "MOVE-0001", "Ede").await;
        app.replan().await;
        let planned = referral(&app, &coordinator, id).await["planned_slot"]["id"]
            .as_str()
            .expect("planned")
            .to_string();
        // The last free slot of the four weeks: later than the planner would choose.
        let target = free_slots(&app, &coordinator, "food-valley")
            .await
            .pop()
            .expect("a free slot");
        assert_ne!(planned, target);

        let moved = move_to(&app, &coordinator, id, &target).await;
        assert_eq!(moved.status(), StatusCode::OK);
        let body = json(moved).await;
        assert_eq!(body["moved"], "pinned");
        assert_eq!(body["referral"]["planned_slot"]["id"], target.as_str());

        app.replan().await;
        let after = referral(&app, &coordinator, id).await;
        assert_eq!(
            after["planned_slot"]["id"],
            target.as_str(),
            "the planner keeps it"
        );
        assert_eq!(after["status"], "planned");
        let audit: Vec<String> = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'referral.move' AND referral_id = $1",
        )
        .bind(id)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("audit");
        assert_eq!(audit, [format!("{planned} -> {target} (Pinned)")]);

        // Already there, an unknown slot, a referrer: each refused as such.
        assert_eq!(
            move_to(&app, &coordinator, id, &target).await.status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            move_to(&app, &coordinator, id, "food-valley-20990101-0900")
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        assert_eq!(
            move_to(&app, &referrer, id, &planned).await.status(),
            StatusCode::FORBIDDEN
        );
        // A chair of a region that does not see it: not found.
        let stranger = app.user(Role::Chair, Some("achterhoek")).await;
        assert_eq!(
            move_to(&app, &stranger, id, &planned).await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

story!(
    a_booked_conversation_moves_within_its_table_with_the_invitation_updated,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let id = register(&app, &coordinator, "MOVE-0002", "Ede").await;
        let other = register(&app, &coordinator, "MOVE-0003", "Ede").await;
        app.replan().await;
        let booked = app
            .post(&chair, "/api/v1/bookings", &json!({ "referral_id": id }))
            .await;
        assert_eq!(booked.status(), StatusCode::CREATED);
        assert_eq!(
            outbox_subjects(&app, "invitation").await.len(),
            2,
            "chair and referrer"
        );

        // The other referral's tentative slot: a booking may take it.
        let taken = referral(&app, &coordinator, other).await["planned_slot"]["id"]
            .as_str()
            .expect("planned")
            .to_string();
        let moved = move_to(&app, &chair, id, &taken).await;
        assert_eq!(moved.status(), StatusCode::OK);
        let body = json(moved).await;
        assert_eq!(body["moved"], "rebooked");
        assert_eq!(body["referral"]["status"], "booked");
        assert_eq!(body["referral"]["booked_slot"]["id"], taken.as_str());
        let invitations = outbox_subjects(&app, "invitation").await;
        assert_eq!(invitations.len(), 4, "{invitations:?}");
        assert!(
            invitations[2..]
                .iter()
                .all(|s| s.starts_with("Gewijzigd: ")),
            "{invitations:?}"
        );
        // The other one lost its tentative slot and is planned again.
        app.replan().await;
        let again = referral(&app, &coordinator, other).await;
        assert_eq!(again["status"], "planned");
        assert_ne!(again["planned_slot"]["id"], taken.as_str());

        // A booking does not move to another table, nor onto a booked slot.
        let neighbour = free_slots(&app, &coordinator, "centraal-gelderland").await;
        let refused = move_to(&app, &coordinator, id, &neighbour[neighbour.len() / 2]).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(refused.text().await.expect("body").contains("own table"));
        let booked_other = app
            .post(&chair, "/api/v1/bookings", &json!({ "referral_id": other }))
            .await;
        assert_eq!(booked_other.status(), StatusCode::CREATED);
        let theirs = referral(&app, &coordinator, other).await["booked_slot"]["id"]
            .as_str()
            .expect("booked")
            .to_string();
        let clash = move_to(&app, &chair, id, &theirs).await;
        assert_eq!(clash.status(), StatusCode::CONFLICT);
        assert!(clash
            .text()
            .await
            .expect("body")
            .contains("booked for another referral"));
    }
);

story!(
    a_move_to_another_table_is_an_offer_its_chair_answers,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "MOVE-0004", "Ede").await;
        app.replan().await;
        let chair = app.user(Role::Chair, Some("centraal-gelderland")).await;
        let target = free_slots(&app, &coordinator, "centraal-gelderland").await[4].clone();
        let moved = move_to(&app, &coordinator, id, &target).await;
        assert_eq!(moved.status(), StatusCode::OK);
        assert_eq!(json(moved).await["moved"], "offered");
        let told: Vec<String> =
            sqlx::query_scalar("SELECT recipient FROM outbox WHERE kind = 'offer'")
                .fetch_all(&app.state.store.pool)
                .await
                .expect("outbox");
        assert_eq!(told, vec![chair.email.clone()], "the chair there is asked");
        let offers = json(app.get(&chair, "/api/v1/offers?status=open").await).await;
        let list = offers["items"]
            .as_array()
            .or_else(|| offers.as_array())
            .expect("offers");
        assert_eq!(list.len(), 1, "{offers}");
        assert_eq!(list[0]["slot"]["id"], target.as_str());
        // The plan run keeps the offered slot for it.
        app.replan().await;
        let held = referral(&app, &coordinator, id).await;
        assert_eq!(held["planned_slot"]["id"], target.as_str(), "{held}");
        let offer_id = list[0]["id"].as_i64().expect("offer id");
        let accepted = app
            .post(
                &chair,
                &format!("/api/v1/offers/{offer_id}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(accepted.status(), StatusCode::OK);
        let booked = referral(&app, &coordinator, id).await;
        assert_eq!(booked["status"], "booked");
        assert_eq!(booked["booked_slot"]["id"], target.as_str());

        // A chair of FoodValley (the home table) places only at the own table:
        // Centraal Gelderland's slots become offers, Achterhoek is no neighbour.
        let second = register(&app, &coordinator, "MOVE-0005", "Ede").await;
        app.replan().await;
        let home_chair = app.user(Role::Chair, Some("food-valley")).await;
        let far = free_slots(&app, &coordinator, "achterhoek").await[3].clone();
        let refused = move_to(&app, &home_chair, second, &far).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let text = refused.text().await.expect("body");
        assert!(text.contains("cannot move to this slot"), "{text}");
    }
);

story!(
    the_referral_page_lists_allowed_slots_and_moves_by_form,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "MOVE-0006", "Ede").await;
        app.replan().await;
        let mut browser = crate::browser::Browser::new(&app);
        browser.login(&coordinator).await;
        let path = format!("/referrals/{id}");
        let page = browser.get(&path).await.text().await.expect("page");
        let form = &page[page.find("id=\"move-slot\"").expect("a move form")..];
        let form = &form[..form.find("</select>").expect("the list")];
        let own = form
            .find("label=\"Eigen tafel: FoodValley\"")
            .expect("the own table");
        let offers = form
            .find("label=\"Aanbod aan de tafel van Centraal Gelderland\"")
            .expect("neighbours are offers");
        assert!(own < offers, "the own table first: {form}");
        assert!(
            !form.contains("Achterhoek"),
            "no neighbour of FoodValley: {form}"
        );
        let chosen = free_slots(&app, &coordinator, "food-valley").await[8].clone();
        assert!(form.contains(&format!("value=\"{chosen}\"")), "{form}");

        let token = browser.csrf(&path).await;
        let done = browser
            .post_form(
                &format!("/referrals/{id}/verplaatsen"),
                &[("csrf", &token), ("slot_id", &chosen)],
                &[],
            )
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            crate::browser::location(&done),
            format!("/referrals/{id}?gedaan=vastgezet")
        );
        let after = browser
            .get(&format!("{path}?gedaan=vastgezet"))
            .await
            .text()
            .await
            .expect("page");
        assert!(after.contains("de planner houdt haar daar"), "{after}");
        assert!(
            after.contains("Met de hand op deze plek gezet")
                || after.contains("met de hand verplaatst")
        );

        // A referrer sees no move form; a slot taken meanwhile is refused in Dutch.
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        let mut theirs = crate::browser::Browser::new(&app);
        theirs.login(&referrer).await;
        let their_page = theirs.get(&path).await.text().await.expect("page");
        assert!(!their_page.contains("move-slot"));
        let refused = browser
            .post_form(
                &format!("/referrals/{id}/verplaatsen"),
                &[("csrf", &token), ("slot_id", &chosen)],
                &[],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(refused
            .text()
            .await
            .expect("page")
            .contains("staat al op deze plek"));
    }
);

story!(
    accepting_an_offer_in_the_inbox_asks_for_confirmation,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair = app.user(Role::Chair, Some("centraal-gelderland")).await;
        let id = register(&app, &coordinator, "MOVE-0007", "Ede").await;
        app.replan().await;
        let target = free_slots(&app, &coordinator, "centraal-gelderland").await[5].clone();
        assert_eq!(
            move_to(&app, &coordinator, id, &target).await.status(),
            StatusCode::OK
        );
        let offers = json(app.get(&chair, "/api/v1/offers?status=open").await).await;
        let offer = offers["items"].as_array().expect("offers")[0]["id"]
            .as_i64()
            .expect("id");

        let mut browser = crate::browser::Browser::new(&app);
        browser.login(&chair).await;
        let inbox = browser.get("/inbox").await.text().await.expect("inbox");
        assert!(inbox.contains("Waarom bij u"), "the inbox says why");
        let token = browser.csrf("/inbox").await;
        let path = format!("/inbox/{offer}/accept");
        let unconfirmed = browser.post_form(&path, &[("csrf", &token)], &[]).await;
        assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unconfirmed.text().await.expect("page").contains("Vink aan"));
        assert_eq!(
            referral(&app, &coordinator, id).await["status"],
            "planned",
            "not booked"
        );
        let confirmed = browser
            .post_form(&path, &[("csrf", &token), ("zeker", "on")], &[])
            .await;
        assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
        assert_eq!(referral(&app, &coordinator, id).await["status"], "booked");
        let after = browser.get("/inbox").await.text().await.expect("inbox");
        assert!(
            after.contains(&format!("<a href=\"/referrals/{id}\">MOVE-0007</a>")),
            "answered offers link to their referral"
        );
    }
);
