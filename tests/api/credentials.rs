//! Stories: the login throttle, password changes, API token lifetimes and
//! the second factor (issue 17.6, 17.7), on both databases.

use chrono::Duration;
use jbt::auth::Role;
use reqwest::header::COOKIE;
use serde_json::{json, Value};

use crate::browser::{location, Browser};
use crate::helpers::*;
use crate::story;

async fn wrong_login(app: &TestApp, email: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    Browser::new(app)
        .post_form("/login", &[("email", email), ("password", "raden")], extra)
        .await
}

async fn refusals(app: &TestApp, admin: &TestUser, result: &str) -> usize {
    let log = json(app.get(admin, "/api/v1/audit?limit=200").await).await;
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "session.login" && e["result"] == result)
        .count()
}

story!(
    failed_logins_slow_an_account_down_but_never_lock_it,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        for _ in 0..5 {
            let wrong = wrong_login(&app, &chair.email, &[]).await;
            assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        }
        // Right after the fifth failure the account asks for a short wait,
        // even with the right password (which is not checked)...
        let mut right = Browser::new(&app);
        let wait = right.login(&chair).await;
        assert_eq!(wait.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(wait
            .text()
            .await
            .expect("page")
            .contains("Wacht 2 seconden"));
        assert!(right.cookie.is_none());
        // ...which is all it takes: no lock-out for the real chair.
        app.clock.advance(Duration::seconds(2));
        let ok = right.login(&chair).await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&ok), "/board");

        // Each further failure doubles the wait: 2, 4, 8 ... seconds.
        for expected in [2, 4, 8] {
            app.clock.advance(Duration::seconds(expected));
            assert_eq!(
                wrong_login(&app, &chair.email, &[]).await.status(),
                StatusCode::UNAUTHORIZED
            );
            let text = Browser::new(&app)
                .login(&chair)
                .await
                .text()
                .await
                .expect("page");
            assert!(
                text.contains(&format!("Wacht {} seconden", expected * 2)),
                "{text}"
            );
        }
        // Another account from the same client is not slowed down.
        let other = app.user(Role::Coordinator, None).await;
        assert_eq!(
            Browser::new(&app).login(&other).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(refusals(&app, &admin, "refused").await, 8);
        assert!(refusals(&app, &admin, "rate_limited").await >= 4);
    }
);

story!(one_client_guessing_at_many_addresses_is_stopped, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    // Password spraying: one guess each at 20 addresses.
    for n in 0..20 {
        let wrong = wrong_login(&app, &format!("iemand-{n}@example.org"), &[]).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    // The 21st attempt from this client is refused, whatever the account;
    // a forwarded address from an untrusted peer changes nothing.
    let mut browser = Browser::new(&app);
    let blocked = browser.login(&coordinator).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked
        .text()
        .await
        .expect("page")
        .contains("Vanaf deze verbinding"));
    let spoofed = wrong_login(
        &app,
        "nog-iemand@example.org",
        &[("x-forwarded-for", "198.51.100.7")],
    )
    .await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
    // After the window (15 minutes) the client may try again.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(
        browser.login(&coordinator).await.status(),
        StatusCode::SEE_OTHER
    );
});

story!(
    a_password_an_admin_made_is_changed_at_the_first_login,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let created = app
            .post(
                &admin,
                "/api/v1/users",
                &json!({"email": "nieuw@example.org", "role": "coordinator"}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created = json(created).await;
        let handed_over = created["password"].as_str().expect("password").to_string();
        let user = TestUser {
            id: created["user"]["id"].as_i64().unwrap_or_default(),
            email: "nieuw@example.org".into(),
            token: String::new(),
            password: handed_over.clone(),
        };
        let mut browser = Browser::new(&app);
        let login = browser.login(&user).await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&login), "/account/password");
        // Nothing else opens before the password is changed, nor the API.
        let board = browser.get("/board").await;
        assert_eq!(board.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&board), "/account/password");
        let api = app
            .client
            .get(app.url("/api/v1/me"))
            .header(COOKIE, browser.cookie.clone().expect("cookie"))
            .send()
            .await
            .expect("me");
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

        let page = browser
            .get("/account/password")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Kies eerst een eigen wachtwoord"), "{page}");
        let csrf = browser.csrf("/account/password").await;
        // A weak password, a mismatch and a wrong current one: the form again,
        // in Dutch, naming each field.
        for (current, new, repeat, said) in [
            (
                handed_over.as_str(),
                "wachtwoord12",
                "wachtwoord12",
                "te makkelijk te raden",
            ),
            (handed_over.as_str(), "kort", "kort", "minstens 12 tekens"),
            (
                handed_over.as_str(),
                "paraplu vlinder kachel 47",
                "paraplu vlinder kachel",
                "niet gelijk",
            ),
            (
                "fout",
                "paraplu vlinder kachel 47",
                "paraplu vlinder kachel 47",
                "huidige wachtwoord klopt niet",
            ),
        ] {
            let refused = browser
                .post_form(
                    "/account/password",
                    &[
                        ("csrf", &csrf),
                        ("current", current),
                        ("new", new),
                        ("repeat", repeat),
                    ],
                    &[],
                )
                .await;
            assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let text = refused.text().await.expect("page");
            assert!(text.contains(said), "{said} not in {text}");
        }
        let new = "paraplu vlinder kachel 47";
        let changed = browser
            .post_form(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current", &handed_over),
                    ("new", new),
                    ("repeat", new),
                ],
                &[],
            )
            .await;
        assert_eq!(changed.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&changed), "/board");
        assert_eq!(browser.get("/board").await.status(), StatusCode::OK);

        // The handed-over password no longer works; the new one does, with no
        // further step.
        assert_eq!(
            Browser::new(&app).login(&user).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let mut again = Browser::new(&app);
        let ok = again
            .login(&TestUser {
                password: new.into(),
                ..user
            })
            .await;
        assert_eq!(location(&ok), "/board");
    }
);

story!(api_tokens_need_the_password_expire_and_are_listed, |app| {
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let path = format!("/api/v1/users/{}/tokens", chair.id);
    let mut browser = Browser::new(&app);
    browser.login(&chair).await;
    // A session alone cannot mint a credential that outlives it.
    let without = browser.post_json(&path, &json!({"label": "export"})).await;
    assert_eq!(without.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = browser
        .post_json(&path, &json!({"label": "export", "password": "fout"}))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(wrong).await.to_string().contains("password"));
    let issued = browser
        .post_json(
            &path,
            &json!({"label": "export", "password": chair.password}),
        )
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued = json(issued).await;
    let token = issued["token"].as_str().expect("token").to_string();
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(issued["expires_at"].clone()).expect("expiry");
    let days = i64::from(app.state.settings.web.token_days);
    assert_eq!(expires, app.state.now() + Duration::days(days));

    let me = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .expect("me")
                .status()
        }
    };
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    // The owner sees label, expiry and last use; never the token.
    let listed = json(app.get(&chair, &path).await).await;
    let rows = listed.as_array().expect("list");
    let export = rows
        .iter()
        .find(|t| t["label"] == "export")
        .expect("listed");
    assert!(export["last_used_at"].is_string(), "{export}");
    assert!(!listed.to_string().contains(&token));
    // Nobody else lists them, an admin neither.
    let admin = app.user(Role::Admin, None).await;
    assert_eq!(app.get(&admin, &path).await.status(), StatusCode::FORBIDDEN);

    app.clock.advance(Duration::days(days));
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
});

/// The code an authenticator app shows now for the secret on the page.
fn code_for(app: &TestApp, page: &str) -> String {
    let secret = between(page, "<code id=\"totp-secret\">", "<");
    let now = u64::try_from(app.state.now().timestamp()).expect("after 1970");
    jbt::auth::second_factor::code_at(&secret, now).expect("a code")
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    text[from..].split(end).next().expect("end").to_string()
}

story!(
    a_second_factor_is_enrolled_and_then_asked_at_every_login,
    |app| {
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let mut browser = Browser::new(&app);
        assert_eq!(location(&browser.login(&chair).await), "/board");
        let page = browser
            .get("/account/second-factor")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("<svg"), "a QR code");
        let sealed = between(&page, "name=\"sealed\" value=\"", "\"");
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
        let wrong = browser
            .post_form(
                "/account/second-factor",
                &[("csrf", &csrf), ("sealed", &sealed), ("code", "000000")],
                &[],
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong
            .text()
            .await
            .expect("page")
            .contains("code klopt niet"));
        let code = code_for(&app, &page);
        let enrolled = browser
            .post_form(
                "/account/second-factor",
                &[("csrf", &csrf), ("sealed", &sealed), ("code", &code)],
                &[],
            )
            .await;
        assert_eq!(location(&enrolled), "/account?gedaan=tweede-factor");
        // The secret is stored sealed, never as the base32 the page showed.
        let secret = between(&page, "<code id=\"totp-secret\">", "<");
        let stored: String = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(chair.id)
            .fetch_one(&app.state.store.pool)
            .await
            .expect("stored");
        assert!(stored.starts_with("v1:") && !stored.contains(&secret));

        // The next login stops at the code.
        app.clock.advance(Duration::seconds(30));
        let mut next = Browser::new(&app);
        let login = next.login(&chair).await;
        assert_eq!(location(&login), "/login/code");
        assert_eq!(location(&next.get("/board").await), "/login/code");
        let csrf = next.csrf("/login/code").await;
        let now = u64::try_from(app.state.now().timestamp()).expect("after 1970");
        let code = jbt::auth::second_factor::code_at(&secret, now).expect("code");
        let ok = next
            .post_form("/login/code", &[("csrf", &csrf), ("code", &code)], &[])
            .await;
        assert_eq!(location(&ok), "/board");
        assert_eq!(next.get("/board").await.status(), StatusCode::OK);
        // The same code is accepted once only.
        let mut third = Browser::new(&app);
        third.login(&chair).await;
        let csrf = third.csrf("/login/code").await;
        let replay = third
            .post_form("/login/code", &[("csrf", &csrf), ("code", &code)], &[])
            .await;
        assert_eq!(replay.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

async fn required_for_admins(db: Db) {
    let app = spawn_app_with(db, &[("web.totp_required_roles", "admin".to_string())]).await;
    let admin = app.user(Role::Admin, None).await;
    let mut browser = Browser::new(&app);
    let login = browser.login(&admin).await;
    assert_eq!(location(&login), "/account/second-factor");
    assert_eq!(
        location(&browser.get("/admin").await),
        "/account/second-factor"
    );
    let page = browser
        .get("/account/second-factor")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("verplicht"), "{page}");
    let code = code_for(&app, &page);
    let done = browser
        .post_form(
            "/account/second-factor",
            &[
                ("csrf", &between(&page, "name=\"csrf\" value=\"", "\"")),
                ("sealed", &between(&page, "name=\"sealed\" value=\"", "\"")),
                ("code", &code),
            ],
            &[],
        )
        .await;
    assert_eq!(location(&done), "/admin");
    assert_eq!(browser.get("/admin").await.status(), StatusCode::OK);
    // Others are not asked.
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    assert_eq!(location(&Browser::new(&app).login(&chair).await), "/board");
    let value: Value = json(app.get(&admin, "/api/v1/me").await).await;
    assert_eq!(value["role"], "admin");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_second_factor_is_enrolled_at_the_first_login_sqlite() {
    required_for_admins(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_second_factor_is_enrolled_at_the_first_login_postgres() {
    if let Some(db) = Db::postgres() {
        required_for_admins(db).await;
    }
}

story!(
    addresses_are_validated_as_the_mailer_does_and_compared_case_folded,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let create = |email: &'static str| {
            let app = &app;
            let admin = &admin;
            async move {
                app.post(
                    admin,
                    "/api/v1/users",
                    &json!({"email": email, "role": "coordinator"}),
                )
                .await
                .status()
            }
        };
        assert_eq!(
            create("j.jansen@gemeente-ede.example.org").await,
            StatusCode::CREATED
        );
        // An upper-case copy is the same mailbox: taken.
        assert_eq!(
            create("J.Jansen@Gemeente-Ede.example.org").await,
            StatusCode::CONFLICT
        );
        // Markup and a Cyrillic look-alike of the same address are refused.
        assert_eq!(
            create("x\"><svg/onload=alert(1)>@example.org").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            create("j.j\u{430}nsen@gemeente-ede.example.org").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // And the upper-case spelling signs in as the one user.
        let users = json(app.get(&admin, "/api/v1/users").await).await;
        let count = users
            .as_array()
            .expect("users")
            .iter()
            .filter(|u| {
                u["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case("j.jansen@gemeente-ede.example.org"))
            })
            .count();
        assert_eq!(count, 1);
    }
);
