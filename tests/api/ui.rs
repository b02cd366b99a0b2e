//! Stories: the browser pages over HTTP, as a browser sends them (cookies,
//! forms, redirects not followed), on both databases. The same flows in a
//! real browser are in `tests/e2e.rs`.

use chrono::Duration;
use jbt::auth::Role;
use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, COOKIE, SET_COOKIE};
use serde_json::{json, Value};

use crate::browser::{location, session_cookie, Browser};
use crate::helpers::*;
use crate::planning::register;
use crate::story;

story!(login_starts_a_hardened_session_and_logout_ends_it, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut browser = Browser::new(&app);

    let home = browser.get("/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/login");
    let form = browser.get("/login").await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.expect("page").contains("Inloggen"));

    // A wrong password: the form again, with the reason, and no cookie.
    let wrong = browser
        .post_form(
            "/login",
            &[("email", &coordinator.email), ("password", "nope")],
            &[],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(wrong.headers()).is_none());
    assert!(wrong.text().await.expect("page").contains("klopt niet"));

    let ok = browser.login(&coordinator).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/board");
    let set_cookie = ok
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    for part in [
        "__Host-jbt_session=",
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
    ] {
        assert!(set_cookie.contains(part), "{part} missing in {set_cookie}");
    }
    let first = browser.cookie.clone().expect("cookie");

    let board = browser.get("/board").await;
    assert_eq!(board.status(), StatusCode::OK);
    assert_eq!(board.headers()["cache-control"], "no-store");
    assert!(board.text().await.expect("page").contains("Planbord"));

    // Logging in again gives a new session id and ends the old one.
    browser.login(&coordinator).await;
    let second = browser.cookie.clone().expect("cookie");
    assert_ne!(first, second, "a login must start a new session id");
    let mut old = Browser::new(&app);
    old.cookie = Some(first);
    assert_eq!(old.get("/board").await.status(), StatusCode::SEE_OTHER);

    // Logout needs the form token, then ends the session for good.
    let refused = browser
        .post_form("/logout", &[("csrf", "wrong")], &[])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let token = browser.csrf("/board").await;
    let out = browser.post_form("/logout", &[("csrf", &token)], &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(location(&out).starts_with("/login"));
    let after = browser.get("/board").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login?next=%2Fboard");
    // The API does not take the ended session either.
    let mut request = app.client.get(app.url("/api/v1/me"));
    request = request.header(COOKIE, browser.cookie.clone().expect("cookie"));
    assert_eq!(
        request.send().await.expect("me").status(),
        StatusCode::UNAUTHORIZED
    );
});

story!(sessions_end_when_idle_and_after_the_absolute_limit, |app| {
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let mut browser = Browser::new(&app);
    browser.login(&chair).await;
    assert_eq!(browser.get("/board").await.status(), StatusCode::OK);

    // Active every 20 minutes: the idle limit (30) never strikes...
    for _ in 0..29 {
        app.clock.advance(Duration::minutes(20));
        let page = browser.get("/inbox").await;
        assert_eq!(page.status(), StatusCode::OK, "at {}", app.state.now());
    }
    // ...but 10 hours after login the session is over.
    app.clock.advance(Duration::minutes(20));
    assert_eq!(browser.get("/inbox").await.status(), StatusCode::SEE_OTHER);

    browser.login(&chair).await;
    app.clock.advance(Duration::minutes(31));
    let idle = browser.get("/board").await;
    assert_eq!(
        idle.status(),
        StatusCode::SEE_OTHER,
        "31 idle minutes end a session"
    );
});

story!(cross_site_writes_are_refused_before_any_handler, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let token = browser.csrf("/board").await;
    // With a valid token but from another site: refused by the Origin...
    let foreign_origin = browser
        .client
        .post(app.url("/logout"))
        .header(COOKIE, browser.cookie.clone().expect("cookie"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(foreign_origin.status(), StatusCode::FORBIDDEN);
    // ...and by Sec-Fetch-Site.
    let cross = browser
        .post_form(
            "/logout",
            &[("csrf", &token)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    // The JSON API with the session cookie and no token is guarded the same way.
    let api = browser
        .client
        .post(app.url("/api/v1/referrals"))
        .header(COOKIE, browser.cookie.clone().expect("cookie"))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    // Still logged in: none of it took effect.
    assert_eq!(browser.get("/board").await.status(), StatusCode::OK);
});

story!(every_response_carries_the_security_headers, |app| {
    let browser = Browser::new(&app);
    for path in ["/login", "/healthz", "/api/v1/me", "/static/app.css"] {
        let response = browser.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.contains_key("strict-transport-security"), "{path}");
    }
    let css = browser.get("/static/app.css").await;
    assert!(css.headers()["cache-control"]
        .to_str()
        .expect("cc")
        .contains("max-age"));
});

story!(
    the_board_shows_slots_cases_and_the_queue_within_scope,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let chair = app.user(Role::Chair, Some("achterhoek")).await;
        let ede = register(&app, &coordinator, "CASE-UI-EDE-1", "Ede").await;
        register(&app, &coordinator, "CASE-UI-ARN-1", "Arnhem").await;
        app.replan().await;

        let mut coord = Browser::new(&app);
        coord.login(&coordinator).await;
        let page = coord
            .get("/board?weeks=2")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("week 49") && page.contains("week 50"),
            "ISO weeks"
        );
        assert!(page.contains("FoodValley") && page.contains("Achterhoek"));
        assert!(
            page.contains("CASE-UI-EDE-1"),
            "the coordinator sees the case"
        );
        assert!(page.contains(&format!("/referrals/{ede}")));
        assert!(page.contains("voorlopig") && page.contains("vrij"));

        // Christmas: the session days show as holidays, in words.
        let christmas = coord
            .get("/board?from=2026-12-21&weeks=2")
            .await
            .text()
            .await
            .expect("page");
        assert!(christmas.contains("feestdag"), "holiday cells");
        assert!(christmas.contains("week 52"));

        // A bad filter says what is wrong.
        let bad = coord.get("/board?weeks=40").await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().await.expect("page").contains("weken"));

        // The Achterhoek chair sees the board, own region first, without
        // the other regions' cases.
        let mut achterhoek = Browser::new(&app);
        achterhoek.login(&chair).await;
        let theirs = achterhoek.get("/board").await.text().await.expect("page");
        assert!(
            theirs.contains("voorzitter Achterhoek"),
            "the header names role and region"
        );
        let own_row = theirs.find("Achterhoek").expect("own row");
        let other_row = theirs.find("FoodValley").expect("other row");
        assert!(own_row < other_row, "own region first");
        assert!(
            !theirs.contains("CASE-UI-EDE-1"),
            "another region's case stays hidden"
        );
        let other = achterhoek.get(&format!("/referrals/{ede}")).await;
        assert_eq!(other.status(), StatusCode::NOT_FOUND);

        // The refresh stamp changes when the board does.
        let before = coord.get("/board/stamp").await.text().await.expect("stamp");
        register(&app, &coordinator, "CASE-UI-NEW-1", "Ede").await;
        let after = coord.get("/board/stamp").await.text().await.expect("stamp");
        assert_ne!(before, after);
        let fragment = coord
            .get("/board/fragment")
            .await
            .text()
            .await
            .expect("fragment");
        assert!(fragment.contains("CASE-UI-NEW-1") && !fragment.contains("<html"));
    }
);

story!(
    a_referral_page_confirms_the_planned_slot_through_a_form,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = register(&app, &coordinator, "CASE-UI-CONF-1", "Ede").await;
        app.replan().await;
        let mut browser = Browser::new(&app);
        browser.login(&coordinator).await;
        let path = format!("/referrals/{id}");
        let page = browser.get(&path).await.text().await.expect("page");
        assert!(page.contains("Normklok") && page.contains("op schema"));
        assert!(page.contains("Waarom deze plek"));
        assert!(page.contains("Voorlopige plek bevestigen"));
        let token = browser.csrf(&path).await;
        let done = browser
            .post_form(&format!("{path}/confirm"), &[("csrf", &token)], &[])
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let after = browser
            .get(&location(&done))
            .await
            .text()
            .await
            .expect("page");
        assert!(after.contains("bevestigd"), "{after}");
        assert!(after.contains("afspraak bevestigd"), "the timeline says it");
        let api = json(
            app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
                .await,
        )
        .await;
        assert_eq!(api["status"], "booked");
        // Confirming again is refused with the reason, not a crash.
        let again = browser
            .post_form(&format!("{path}/confirm"), &[("csrf", &token)], &[])
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let refusal = again.text().await.expect("page");
        assert!(
            refusal.contains(
                "<p class=\"detail\" lang=\"nl\">Een boeking bevestigen kan niet: de aanmelding is geboekt;"
            ),
            "the reason in Dutch: {refusal}"
        );
        // Held before the conversation started: refused in Dutch on the page...
        let early = browser
            .post_form(&format!("{path}/held"), &[("csrf", &token)], &[])
            .await;
        assert_eq!(early.status(), StatusCode::CONFLICT);
        let early = early.text().await.expect("page");
        assert!(
            early.contains("lang=\"nl\">Het gesprek staat gepland op "),
            "{early}"
        );
        // ...and in English, the API's language, through the API.
        let api = app
            .post(
                &coordinator,
                &format!("/api/v1/referrals/{id}/held"),
                &json!({}),
            )
            .await;
        assert_eq!(api.status(), StatusCode::CONFLICT);
        let body = json(api).await;
        assert_eq!(body["error"], "conflict");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the conversation is booked for ")),
            "{body}"
        );
    }
);

story!(admin_pages_are_for_admins_and_create_users, |app| {
    let admin = app.user(Role::Admin, None).await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut boss = Browser::new(&app);
    let landing = boss.login(&admin).await;
    assert_eq!(location(&landing), "/admin");
    let page = boss.get("/admin").await.text().await.expect("page");
    assert!(page.contains(&coordinator.email));
    let chairless = |page: &str| -> String {
        page.split("class=\"warning\"")
            .nth(1)
            .and_then(|w| w.split("</p>").next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        chairless(&page).contains("Achterhoek"),
        "no chair there yet"
    );
    let token = boss.csrf("/admin").await;
    let created = boss
        .post_form(
            "/admin/users",
            &[
                ("csrf", &token),
                ("email", "nieuw@example.org"),
                ("role", "chair"),
                ("region", "achterhoek"),
                ("organisation", ""),
                ("municipality", ""),
            ],
            &[],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(created
        .text()
        .await
        .expect("page")
        .contains("nieuw@example.org is aangemaakt"));
    let page = boss.get("/admin").await.text().await.expect("page");
    assert!(
        !chairless(&page).contains("Achterhoek"),
        "a chair now: {page}"
    );
    let wrong = boss
        .post_form(
            "/admin/users",
            &[
                ("csrf", &token),
                ("email", "x@example.org"),
                ("role", "chair"),
            ],
            &[],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = wrong.text().await.expect("page");
    assert!(
        form.contains("value=\"x@example.org\""),
        "the input is kept"
    );
    assert!(
        form.contains("<option value=\"chair\" selected>"),
        "the role is kept"
    );
    let at = form
        .find("id=\"u-region-fout\"")
        .expect("the message at the region");
    assert!(form[at..].contains("kies de regio"), "in Dutch: {form}");
    assert!(form.contains("href=\"#u-region\""), "and in the summary");
    let audit = boss.get("/admin/audit").await.text().await.expect("page");
    assert!(audit.contains("<td>gebruiker aangemaakt</td>"), "{audit}");
    assert!(audit.contains(&admin.email), "the admin by e-mail address");

    let mut other = Browser::new(&app);
    other.login(&coordinator).await;
    assert_eq!(other.get("/admin").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        other.get("/admin/audit").await.status(),
        StatusCode::FORBIDDEN
    );
    // A forged create-user form from a coordinator is refused and audited.
    let their_token = other.csrf("/dashboard").await;
    let forged = other
        .post_form(
            "/admin/users",
            &[
                ("csrf", &their_token),
                ("email", "stiekem@example.org"),
                ("role", "admin"),
            ],
            &[],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let log = json(
        app.get(&admin, &format!("/api/v1/audit?user_id={}", coordinator.id))
            .await,
    )
    .await;
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "user.create" && e["result"] == "forbidden"),
        "{log}"
    );
    let dashboard = other.get("/dashboard").await.text().await.expect("page");
    assert!(dashboard.contains("<svg") && dashboard.contains("Verwachte wachttijd"));
});

story!(
    an_admin_deactivates_a_user_in_the_page_and_their_session_ends,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let chair = app.user(Role::Chair, Some("achterhoek")).await;
        let mut desk = Browser::new(&app);
        desk.login(&chair).await;
        assert_eq!(desk.get("/inbox").await.status(), StatusCode::OK);

        let mut boss = Browser::new(&app);
        boss.login(&admin).await;
        let page = boss.get("/admin").await.text().await.expect("page");
        assert!(page.contains(&format!("action=\"/admin/users/{}\"", chair.id)));
        assert!(
            !page.contains(&format!("action=\"/admin/users/{}\"", admin.id)),
            "no deactivate button for the admin's own row"
        );
        let token = boss.csrf("/admin").await;
        let path = format!("/admin/users/{}", chair.id);
        let done = boss
            .post_form(&path, &[("csrf", &token), ("change", "deactivate")], &[])
            .await;
        assert_eq!(done.status(), StatusCode::OK);

        // The chair's open session is over at once, and a new login fails.
        let after = desk.get("/inbox").await;
        assert_eq!(after.status(), StatusCode::SEE_OTHER);
        assert!(location(&after).starts_with("/login"));
        let again = Browser::new(&app).login(&chair).await;
        assert!(session_cookie(again.headers()).is_none());

        // Reactivated, the old session stays dead; a new login works.
        let back = boss
            .post_form(&path, &[("csrf", &token), ("change", "activate")], &[])
            .await;
        assert_eq!(back.status(), StatusCode::OK);
        assert_eq!(desk.get("/inbox").await.status(), StatusCode::SEE_OTHER);
        let mut fresh = Browser::new(&app);
        fresh.login(&chair).await;
        assert_eq!(fresh.get("/inbox").await.status(), StatusCode::OK);

        // The admin's own row has no buttons, and a forged form is refused in Dutch.
        let own = format!("/admin/users/{}", admin.id);
        let itself = boss
            .post_form(&own, &[("csrf", &token), ("change", "deactivate")], &[])
            .await;
        assert_eq!(itself.status(), StatusCode::CONFLICT);
        let itself = itself.text().await.expect("page");
        assert!(
            itself.contains("lang=\"nl\">Een beheerder kan zichzelf niet deactiveren"),
            "{itself}"
        );

        // A role change with a scope that does not fit comes back on the page.
        let refused = boss
            .post_form(
                &path,
                &[
                    ("csrf", &token),
                    ("change", "role"),
                    ("role", "chair"),
                    ("region", ""),
                    ("organisation", ""),
                    ("municipality", ""),
                ],
                &[],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let refused = refused.text().await.expect("page");
        assert!(refused.contains("a chair needs a region"), "{refused}");
        let moved = boss
            .post_form(
                &path,
                &[
                    ("csrf", &token),
                    ("change", "role"),
                    ("role", "chair"),
                    ("region", "food-valley"),
                    // The form shows every scope field; only the region goes along.
                    ("organisation", "Sociaal Team Ede"),
                    ("municipality", "GM0228"),
                ],
                &[],
            )
            .await;
        assert_eq!(moved.status(), StatusCode::OK);
        // (The chair's old token was revoked with the deactivation: ask as admin.)
        let users = json(app.get(&admin, "/api/v1/users").await).await;
        let record = users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["id"] == chair.id)
            .expect("the chair")
            .clone();
        assert_eq!(record["region"], "food-valley");
        assert_eq!(record["organisation"], Value::Null);
        assert_eq!(record["municipality"], Value::Null);
    }
);

crate::on_both_backends!(a_short_idle_timeout_does_not_end_a_session_in_use, |db| {
    // One minute idle limit; a request every 50 seconds for five minutes.
    let app = spawn_app_with(db, &[("web.session_idle_minutes", "1".to_string())]).await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    for step in 0..6 {
        let page = browser.get("/board").await;
        assert_eq!(page.status(), StatusCode::OK, "request {step}, in use");
        app.clock.advance(Duration::seconds(50));
    }
    // And a minute and more without one still ends it.
    app.clock.advance(Duration::seconds(70));
    assert_eq!(browser.get("/board").await.status(), StatusCode::SEE_OTHER);
    app.stop().await;
});

story!(page_forms_refuse_what_the_api_refuses, |app| {
    let admin = app.user(Role::Admin, None).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin).await;
    let token = boss.csrf("/admin").await;
    let raw = |body: String| {
        boss.client
            .post(app.url("/admin/users"))
            .header(COOKIE, boss.cookie.clone().expect("cookie"))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // A NUL, bytes that are not UTF-8, an escape character: 422, naming
    // the field, and nothing stored.
    for (value, field) in [
        ("Team%00Ede", "organisation"),
        ("%FF%FE", "organisation"),
        ("Team%1B[31m", "organisation"),
    ] {
        let response = raw(format!(
            "csrf={token}&email=vorm@example.org&role=referrer&region=&organisation={value}&municipality="
        ))
        .await
        .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{value}"
        );
        let page = response.text().await.expect("page");
        assert!(
            page.contains(field) && page.contains("niet zijn toegestaan"),
            "{page}"
        );
    }
    let users = json(app.get(&admin, "/api/v1/users").await).await;
    assert!(!users.to_string().contains("vorm@example.org"));
    // The same through the API: refused as well.
    let api = app
        .post(
            &admin,
            "/api/v1/users",
            &json!({"email": "vorm@example.org", "role": "referrer", "organisation": "Team\u{0}Ede"}),
        )
        .await;
    assert_eq!(api.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

story!(pages_and_json_are_gzipped_when_the_browser_asks, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let mut browser = Browser::new(&app);
    browser.login(&coordinator).await;
    let fetch = |path: &'static str, gzip: bool| {
        let mut request = browser.client.get(format!("{}{path}", browser.base));
        request = request.header(COOKIE, browser.cookie.clone().expect("cookie"));
        request = request.header(AUTHORIZATION, format!("Bearer {}", coordinator.token));
        if gzip {
            request = request.header(ACCEPT_ENCODING, "gzip");
        }
        request.send()
    };
    for path in ["/board", "/api/v1/slots?limit=500"] {
        let plain = fetch(path, false).await.expect("plain");
        assert!(plain.headers().get(CONTENT_ENCODING).is_none(), "{path}");
        let plain = plain.bytes().await.expect("body");
        let packed = fetch(path, true).await.expect("gzip");
        assert_eq!(packed.status(), StatusCode::OK, "{path}");
        assert_eq!(packed.headers()[CONTENT_ENCODING], "gzip", "{path}");
        let packed = packed.bytes().await.expect("body");
        assert_eq!(&packed[..2], &[0x1f, 0x8b], "{path}: a gzip stream");
        assert!(
            packed.len() * 3 < plain.len(),
            "{path}: {} bytes packed from {}",
            packed.len(),
            plain.len()
        );
    }
});
