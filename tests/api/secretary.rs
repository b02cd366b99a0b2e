//! Stories: the table's secretary (issue 18) and what a registration
//! carries for the chair: a secretary registers a family of the own region
//! on a professional's behalf (never one of another region), asks for
//! information, and neither answers offers nor records outcomes; the
//! professional's remarks for the chair are sealed at rest and shown only
//! with the referral; a booked conversation downloads as a calendar file.

use jbt::auth::Role;
use serde_json::{json, Value};

use crate::browser::{location, Browser};
use crate::helpers::*;
use crate::story;

const REMARK: &str = "Vader wil niet dat de school aanwezig is; moeder wel.";

async fn signed_in(app: &TestApp, user: &TestUser) -> Browser {
    let mut browser = Browser::new(app);
    let login = browser.login(user).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    browser
}

fn form<'a>(csrf: &'a str, municipality: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("municipality", municipality),
        ("kind", "vtb"),
        ("referrer_kind", "local_team"),
        ("referrer_org", "Sociaal Team Ede"),
        ("referrer_email", "p.de.vries@sociaalteam-ede.example.org"),
        ("safety_plan", "on"),
        ("parents_informed", "on"),
        ("remarks", REMARK),
    ]
}

story!(
    a_secretary_registers_for_the_own_table_with_remarks_for_the_chair,
    |app| {
        let secretary = app.user(Role::Secretary, Some("food-valley")).await;
        let browser = signed_in(&app, &secretary).await;
        // The secretary starts on the board; the menu has Aanmelden, no inbox.
        assert_eq!(location(&browser.get("/").await), "/board");
        let board = browser.get("/board").await.text().await.expect("page");
        assert!(board.contains("href=\"/aanmelden\""), "menu: {board}");
        assert!(!board.contains("href=\"/inbox\""), "no inbox in the menu");
        assert_eq!(browser.get("/inbox").await.status(), StatusCode::FORBIDDEN);

        // Another region's family: the form again, in Dutch, nothing stored.
        let csrf = browser.csrf("/aanmelden").await;
        let refused = browser
            .post_form("/aanmelden", &form(&csrf, "Winterswijk"), &[])
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.expect("page");
        assert!(
            page.contains("alleen gezinnen uit de eigen regio"),
            "{page}"
        );
        assert!(page.contains(REMARK), "the remarks typed are kept");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM referrals")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count");
        assert_eq!(count, 0);

        // The own region's family: registered for the professional.
        let created = browser
            .post_form("/aanmelden", &form(&csrf, "Ede"), &[])
            .await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let path = location(&created);
        let id: i64 = path
            .trim_start_matches("/referrals/")
            .split('?')
            .next()
            .and_then(|t| t.parse().ok())
            .expect("id");
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let stored = json(app.get(&chair, &format!("/api/v1/referrals/{id}")).await).await;
        assert_eq!(stored["referrer_org"], "Sociaal Team Ede");
        assert_eq!(
            stored["referrer_email"],
            "p.de.vries@sociaalteam-ede.example.org"
        );

        // The remarks are sealed at rest, bound to the referral.
        let sealed: String =
            sqlx::query_scalar("SELECT text FROM referral_remarks WHERE referral_id = $1")
                .bind(id)
                .fetch_one(&app.state.store.pool)
                .await
                .expect("remarks row");
        assert!(
            sealed.starts_with("v1:") && !sealed.contains("school"),
            "{sealed}"
        );

        // The chair reads them on the referral page; a chair elsewhere
        // finds no such page.
        let chairs = signed_in(&app, &chair).await;
        let page = chairs.get(&path).await.text().await.expect("page");
        assert!(page.contains("Opmerkingen van de verwijzer"), "{page}");
        assert!(page.contains(REMARK), "{page}");
        let elsewhere = app.user(Role::Chair, Some("achterhoek")).await;
        let theirs = signed_in(&app, &elsewhere).await;
        assert_eq!(theirs.get(&path).await.status(), StatusCode::NOT_FOUND);

        // The secretary asks for information; the referrer gets a mail.
        let asked = app
            .post(
                &secretary,
                &format!("/api/v1/referrals/{id}/info-requests"),
                &json!({"text": "Is de school op de hoogte?"}),
            )
            .await;
        assert_eq!(asked.status(), StatusCode::CREATED);

        // Not in a log of the service: mails and the audit log.
        let mails: Vec<String> =
            sqlx::query_scalar("SELECT subject || body_text || body_html FROM outbox")
                .fetch_all(&app.state.store.pool)
                .await
                .expect("outbox");
        assert!(!mails.is_empty());
        assert!(mails.iter().all(|m| !m.contains("Vader")), "{mails:?}");
        let audit: Vec<Option<String>> = sqlx::query_scalar("SELECT detail FROM audit_log")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("audit");
        assert!(
            audit.iter().flatten().all(|d| !d.contains("Vader")),
            "{audit:?}"
        );
    }
);

story!(
    a_secretary_neither_records_outcomes_nor_answers_offers,
    |app| {
        let secretary = app.user(Role::Secretary, Some("food-valley")).await;
        let body = json!({
            "municipality": "Ede", "kind": "vtb", "referrer_kind": "local_team",
            "referrer_org": "Sociaal Team Ede", "referrer_email": "a@sociaalteam-ede.example.org",
            "safety_plan": true, "parents_informed": true, "child_12_plus": false,
        });
        let created = app.post(&secretary, "/api/v1/referrals", &body).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = json(created).await["id"].as_i64().expect("id");
        for (path, body) in [
            (
                format!("/api/v1/referrals/{id}/cancel"),
                json!({"reason": "x"}),
            ),
            (format!("/api/v1/referrals/{id}/held"), json!({})),
            (
                format!("/api/v1/referrals/{id}/outcome"),
                json!({"outcome": "voluntary"}),
            ),
        ] {
            let refused = app.post(&secretary, &path, &body).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        }
        let offers = app.get(&secretary, "/api/v1/offers").await;
        assert_eq!(offers.status(), StatusCode::FORBIDDEN);
        // Another region's family is refused, naming the field, in both languages.
        let mut elsewhere = body.clone();
        elsewhere["municipality"] = json!("Winterswijk");
        let refused = app.post(&secretary, "/api/v1/referrals", &elsewhere).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let said = json(refused).await.to_string();
        assert!(
            said.contains("municipality") && said.contains("own region"),
            "{said}"
        );
    }
);

story!(a_booked_conversation_downloads_as_a_calendar_file, |app| {
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let body = json!({
        "municipality": "Ede", "kind": "vtb", "referrer_kind": "local_team",
        "safety_plan": true, "parents_informed": true, "child_12_plus": false,
    });
    let created = app.post(&referrer, "/api/v1/referrals", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let referral: Value = json(created).await;
    let id = referral["id"].as_i64().expect("id");
    let case_ref = referral["case_ref"].as_str().expect("case ref").to_string();
    let browser = signed_in(&app, &referrer).await;
    let agenda = format!("/referrals/{id}/agenda.ics");

    // Not booked yet: nothing to put in an agenda, said in Dutch.
    let early = browser.get(&agenda).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert!(early.text().await.expect("page").contains("niet geboekt"));

    app.replan().await;
    let planned = json(
        app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
            .await,
    )
    .await;
    let slot = planned["planned_slot"]["id"]
        .as_str()
        .expect("planned")
        .to_string();
    let booked = app
        .post(
            &coordinator,
            "/api/v1/bookings",
            &json!({"referral_id": id, "slot_id": slot}),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::CREATED);

    let page = browser
        .get(&format!("/referrals/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains(&agenda), "the page links the file: {page}");
    let file = browser.get(&agenda).await;
    assert_eq!(file.status(), StatusCode::OK);
    let headers = file.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/calendar"));
    assert_eq!(
        headers["content-disposition"]
            .to_str()
            .expect("disposition"),
        format!("attachment; filename=\"jbt-{case_ref}.ics\"")
    );
    let ics = file.text().await.expect("body");
    // The same entry as the mailed invitation: one UID per referral.
    let mailed: String = sqlx::query_scalar(
        "SELECT ics FROM outbox WHERE kind = 'invitation' AND referral_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.state.store.pool)
    .await
    .expect("the invitation");
    let uid = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("UID:"))
            .map(str::to_string)
            .expect("a UID")
    };
    assert_eq!(uid(&ics), uid(&mailed));
    assert!(ics.contains("ATTENDEE;"), "{ics}");
    assert!(ics.contains(&case_ref), "{ics}");

    // Another organisation's professional gets no file.
    let other = app.user(Role::Referrer, Some("Sociaal Team Tiel")).await;
    let theirs = signed_in(&app, &other).await;
    assert_eq!(theirs.get(&agenda).await.status(), StatusCode::NOT_FOUND);
});

crate::on_both_backends!(
    the_secretary_migration_keeps_every_user_and_what_refers_to_them,
    |db| {
        let (pool, backend, _dir) = crate::audit_privacy::old_database(db).await;
        crate::audit_privacy::migrate_to(&pool, backend, 9).await;
        for (id, role, region) in [(1, "chair", Some("food-valley")), (2, "admin", None)] {
            sqlx::query(
                "INSERT INTO users (email, role, region_id, password_hash, active, created_at, totp_last_step)
                 VALUES ($1, $2, $3, 'h', TRUE, 5, 7)",
            )
            .bind(format!("u{id}@example.org"))
            .bind(role)
            .bind(region)
            .execute(&pool)
            .await
            .expect("old user");
        }
        sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (1, 'x', 'l', 1)",
        )
        .execute(&pool)
        .await
        .expect("old token");

        crate::audit_privacy::migrate_to(&pool, backend, i64::MAX).await;

        let users: Vec<(i64, String, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT id, role, region_id, totp_last_step FROM users ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("users");
        assert_eq!(
            users,
            [
                (1, "chair".into(), Some("food-valley".into()), Some(7)),
                (2, "admin".into(), None, Some(7))
            ]
        );
        let owner: i64 =
            sqlx::query_scalar("SELECT u.id FROM api_tokens t JOIN users u ON u.id = t.user_id")
                .fetch_one(&pool)
                .await
                .expect("the token keeps its user");
        assert_eq!(owner, 1);
        // The new role is accepted, an unknown one still refused, and new
        // ids continue after the old ones.
        sqlx::query(
            "INSERT INTO users (email, role, region_id, password_hash, active, created_at)
             VALUES ('s@example.org', 'secretary', 'food-valley', 'h', TRUE, 9)",
        )
        .execute(&pool)
        .await
        .expect("a secretary");
        let next: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'secretary'")
            .fetch_one(&pool)
            .await
            .expect("id");
        assert_eq!(next, 3);
        assert!(sqlx::query(
            "INSERT INTO users (email, role, password_hash, active, created_at)
             VALUES ('x@example.org', 'boss', 'h', TRUE, 9)"
        )
        .execute(&pool)
        .await
        .is_err());
        if backend == "sqlite" {
            // Foreign keys are on again and nothing dangles.
            let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(&pool)
                .await
                .expect("pragma");
            assert_eq!(on, 1);
            assert!(sqlx::query("INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (99, 'y', 'l', 1)")
                .execute(&pool)
                .await
                .is_err(), "a token of no user is refused");
        }
        pool.close().await;
    }
);
