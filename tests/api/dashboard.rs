//! Stories: the dashboard's trend over a chosen period and its list of
//! undeliverable mails; the board's compact overview and today marker; the
//! worklist's offers (issue 14).

use jbt::auth::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;
use crate::planning::register;
use crate::story;

story!(
    the_trend_covers_the_chosen_weeks_and_bad_periods_are_named,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let page = browser
            .get("/dashboard?van=2026-11-02&tot=2026-11-29")
            .await
            .text()
            .await
            .expect("dashboard");
        let trend = &page[page.find("Verloop per week").expect("the trend")..];
        for week in ["week 45", "week 46", "week 47", "week 48"] {
            assert!(trend.contains(week), "{week} in {trend}");
        }
        assert!(!trend.contains("week 49"), "not past the period");
        assert!(page.contains("value=\"2026-11-02\""), "the period is kept");
        // Dutch decimals: the demo estimate of FoodValley's arrivals, 5.1.
        assert!(page.contains("5,1"), "a decimal comma");
        for (query, named) in [
            ("van=gisteren", "van moet een datum zijn"),
            ("van=2026-11-30&tot=2026-11-01", "tot ligt vóór van"),
            ("van=2024-01-01&tot=2026-01-01", "hoogstens een jaar"),
        ] {
            let response = browser.get(&format!("/dashboard?{query}")).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{query}"
            );
            assert!(
                response.text().await.expect("page").contains(named),
                "{query}"
            );
        }
    }
);

story!(
    undeliverable_mails_are_listed_for_coordinators_only,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        sqlx::query(
        "INSERT INTO outbox (message_id, kind, recipient, subject, body_text, body_html, status, attempts,
                             next_attempt_at, last_error, created_at)
         VALUES ('<dead-1@test>', 'invitation', 'weg@example.org', 'Uitnodiging X', '', '', 'dead', 8, 0,
                 '550 no such user', $1)",
    )
    .bind(app.state.now().timestamp_millis())
    .execute(&app.state.store.pool)
    .await
    .expect("a dead mail");
        let mut desk = Browser::new(&app);
        desk.login(&coordinator).await;
        let page = desk
            .get("/dashboard")
            .await
            .text()
            .await
            .expect("dashboard");
        let list = &page[page
            .find("Niet te bezorgen mail (nieuwste eerst)")
            .expect("the list")..];
        assert!(
            list.contains("weg@example.org") && list.contains("550 no such user"),
            "{list}"
        );
        assert!(list.contains("uitnodiging"), "the kind in Dutch");
        assert!(!list.contains("Uitnodiging X"), "never the subject");
        let mut theirs = Browser::new(&app);
        theirs.login(&referrer).await;
        let page = theirs
            .get("/dashboard")
            .await
            .text()
            .await
            .expect("dashboard");
        assert!(
            !page.contains("weg@example.org"),
            "a referrer sees figures only"
        );
    }
);

story!(the_board_marks_today_and_offers_a_compact_overview, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    register(&app, &coordinator, "OVW-0001", "Ede").await;
    app.replan().await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let board = browser
        .get("/board?zaak=ovw")
        .await
        .text()
        .await
        .expect("board");
    assert!(board.contains("(deze week)"), "the current week is marked");
    assert!(board.contains("vandaag"), "today's sessions are marked");
    assert!(
        board.contains("class=\"found-mark\">gezocht"),
        "the search is marked on the board"
    );
    assert!(
        board.contains("Planbord van ma 30-11-2026"),
        "the print line"
    );
    let overview = browser
        .get("/board?weergave=overzicht")
        .await
        .text()
        .await
        .expect("overview");
    assert!(overview.contains("Overzicht: plekken per regio en week"));
    let link = "/board?region=food-valley&#38;weeks=1&#38;from=2026-11-30";
    let cell = &overview[overview.find(link).unwrap_or_else(|| {
        panic!(
            "a cell links to its week: {}",
            &overview[overview.find("<tbody>").unwrap_or(0)..][..600]
        )
    })..];
    let text = &cell[cell.find('>').expect("link text") + 1..cell.find("</a>").expect("end")];
    assert!(
        text.contains("voorlopig") && text.contains("vrij"),
        "{text}"
    );
    assert!(
        overview.contains("name=\"weergave\" value=\"overzicht\""),
        "the filters keep the view"
    );
    let drill = browser
        .get("/board?region=food-valley&weeks=1&from=2026-11-30")
        .await;
    assert!(drill.text().await.expect("board").contains("OVW-0001"));
});

story!(the_worklist_lists_open_offers_by_deadline, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair = app.user(Role::Chair, Some("centraal-gelderland")).await;
    let id = register(&app, &coordinator, "OVW-0002", "Ede").await;
    app.replan().await;
    let slots = json(
        app.get(
            &coordinator,
            "/api/v1/slots?region=centraal-gelderland&weeks=4",
        )
        .await,
    )
    .await;
    let target = slots
        .as_array()
        .expect("slots")
        .iter()
        .filter(|s| s["state"] == "free")
        .nth(5)
        .expect("a free slot")["id"]
        .clone();
    let moved = app
        .post(
            &coordinator,
            &format!("/api/v1/referrals/{id}/move"),
            &json!({ "slot_id": target }),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let mut browser = Browser::new(&app);
    browser.login(&chair).await;
    let page = browser
        .get("/te-doen")
        .await
        .text()
        .await
        .expect("worklist");
    let section = &page[page.find("id=\"aanbiedingen\"").expect("the offers")..];
    assert!(
        section.contains("OVW-0002") && section.contains("antwoord uiterlijk"),
        "{section}"
    );
    assert!(
        page.contains("Te doen <span class=\"count\">("),
        "the menu counts"
    );
    assert!(
        page.contains("Aanbiedingen <span class=\"count\">(1)</span>"),
        "{page}"
    );
});

story!(a_sessions_agenda_lists_its_slots_for_print, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let id = register(&app, &coordinator, "AGD-0001", "Ede").await;
    app.replan().await;
    let referral = json(
        app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
            .await,
    )
    .await;
    let date = referral["planned_slot"]["date"]
        .as_str()
        .expect("planned")
        .to_string();
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let board = browser.get("/board").await.text().await.expect("board");
    let link = format!("/zitting?region=food-valley&#38;datum={date}");
    assert!(
        board.contains(&link),
        "the board links each day to its agenda"
    );
    let page = browser
        .get(&format!("/zitting?region=food-valley&datum={date}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("agenda");
    assert!(page.contains("Jeugdbeschermingstafel FoodValley"), "{page}");
    let rows = page.matches("<tr><td>").count();
    assert!(rows >= 2, "every slot of the session: {rows}");
    assert!(
        page.contains(">AGD-0001</a>") && page.contains("voorlopig"),
        "{page}"
    );
    for (query, named) in [
        ("region=nergens&datum=2026-12-02", "onbekende regio"),
        (
            "region=food-valley&datum=morgen",
            "datum moet een datum zijn",
        ),
    ] {
        let refused = browser.get(&format!("/zitting?{query}")).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.expect("page").contains(named));
    }
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let mut theirs = Browser::new(&app);
    theirs.login(&referrer).await;
    let refused = theirs
        .get(&format!("/zitting?region=food-valley&datum={date}"))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
});

story!(the_live_update_sends_only_the_changed_regions_rows, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let before = browser
        .get("/board/stamp")
        .await
        .text()
        .await
        .expect("stamp");
    let part = |stamp: &str, key: &str| -> String {
        stamp
            .split(';')
            .find_map(|p| p.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} in {stamp}"))
            .to_string()
    };
    register(&app, &coordinator, "LIVE-0001", "Ede").await;
    app.replan().await;
    let after = browser
        .get("/board/stamp")
        .await
        .text()
        .await
        .expect("stamp");
    assert_ne!(part(&before, "queue"), part(&after, "queue"));
    assert_ne!(
        part(&before, "food-valley"),
        part(&after, "food-valley"),
        "FoodValley changed"
    );
    assert_eq!(
        part(&before, "achterhoek"),
        part(&after, "achterhoek"),
        "Achterhoek did not"
    );

    let reads = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'slot.read'")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("audit")
    };
    let before_reads = reads().await;
    let fragment = browser
        .get("/board/fragment?alleen=food-valley")
        .await
        .text()
        .await
        .expect("fragment");
    assert!(fragment.contains("data-region=\"food-valley\""));
    assert!(
        !fragment.contains("data-region=\"achterhoek\""),
        "only the changed region"
    );
    assert!(fragment.contains("LIVE-0001"), "with the queue");
    assert_eq!(
        reads().await,
        before_reads + 1,
        "the one case shown is audited"
    );
    let full = browser
        .get("/board/fragment")
        .await
        .text()
        .await
        .expect("fragment");
    assert!(
        full.contains("data-region=\"achterhoek\""),
        "without alleen: every region"
    );
});

story!(
    the_past_is_visibly_past_and_a_passed_tentative_slot_is_said,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "PAST-0001", "Ede").await;
        app.replan().await;
        let planned = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        let start: chrono::DateTime<chrono::Utc> = planned["planned_slot"]["start"]
            .as_str()
            .expect("planned")
            .parse()
            .expect("instant");
        let date = planned["planned_slot"]["date"]
            .as_str()
            .expect("date")
            .to_string();
        // Nobody confirms; the slot's time passes.
        app.clock
            .advance(start - app.state.now() + chrono::Duration::minutes(5));
        app.replan().await;
        let moved = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        assert_ne!(
            moved["planned_slot"]["start"],
            planned["planned_slot"]["start"]
        );
        // Another run that keeps it there keeps saying so.
        app.replan().await;
        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let page = browser
            .get(&format!("/referrals/{id}"))
            .await
            .text()
            .await
            .expect("page");
        let day = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .expect("date")
            .format("%d-%m-%Y")
            .to_string();
        assert!(
            page.contains(&format!(
                "De voorlopige plek van {day} is voorbij zonder bevestiging"
            )),
            "{page}"
        );
        let board = browser.get("/board").await.text().await.expect("board");
        assert!(
            board.contains("class=\"past-mark\">voorbij</span>"),
            "past slots are marked"
        );
    }
);
