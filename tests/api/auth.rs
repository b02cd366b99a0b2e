//! Stories: auth — who is asking (bearer tokens), what each role may do with
//! users and tokens, and the append-only audit log.

use jbt::auth::users::verify_password;
use jbt::auth::Role;
use jbt::config::Email;
use serde_json::{json, Value};
use sqlx::Row;

use crate::browser::Browser;
use crate::helpers::*;
use crate::story;

async fn get_with_token(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn delete(app: &TestApp, user: &TestUser, path: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request")
}

/// Posts a new user as `admin` and returns the status and body.
async fn create(app: &TestApp, admin: &TestUser, body: Value) -> (StatusCode, Value) {
    let response = app.post(admin, "/api/v1/users", &body).await;
    let status = response.status();
    (status, json(response).await)
}

/// The `field` names of a validation error body.
fn fields(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|f| f["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The audit log as an admin sees it.
async fn audit(app: &TestApp, admin: &TestUser, query: &str) -> Value {
    let response = app.get(admin, &format!("/api/v1/audit{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

story!(a_request_without_a_token_is_401_in_the_error_shape, |app| {
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = json(response).await;
    assert_eq!(body["error"], "unauthenticated");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{body}"
    );
});

story!(an_unknown_or_malformed_credential_is_401, |app| {
    let real = app.user(Role::Coordinator, None).await;
    let wrong_secret = format!("{}x", real.token);
    for token in ["jbt_not-a-token", "no-prefix", wrong_secret.as_str()] {
        let response = get_with_token(&app, token, "/api/v1/me").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(json(response).await["error"], "unauthenticated");
    }
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Basic {}", real.token))
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
});

story!(me_returns_the_role_and_its_scope, |app| {
    let chair = app.user(Role::Chair, Some("food-valley")).await;

    let response = app.get(&chair, "/api/v1/me").await;

    assert_eq!(response.status(), StatusCode::OK);
    let me = json(response).await;
    assert_eq!(me["id"], chair.id);
    assert_eq!(me["email"], chair.email.as_str());
    assert_eq!(me["role"], "chair");
    assert_eq!(me["region"], "food-valley");
    assert_eq!(me["organisation"], Value::Null);
});

story!(
    an_admin_creates_a_user_with_a_password_and_no_token,
    |app| {
        let admin = app.user(Role::Admin, None).await;

        let response = app
        .post(&admin, "/api/v1/users", &json!({"email": "m.smit@ede.example.org", "role": "municipal_contact", "municipality": "gm0228"}))
        .await;

        assert_eq!(response.status(), StatusCode::CREATED);
        let no_store = response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        assert_eq!(no_store.as_deref(), Some("no-store"));
        let created = json(response).await;
        assert_eq!(created["user"]["role"], "municipal_contact");
        assert_eq!(created["user"]["municipality"], "GM0228");
        assert!(created["user"].get("password_hash").is_none(), "{created}");
        let password = created["password"].as_str().expect("password");
        assert!(password.len() >= 20, "{password}");
        // No credential to act as the new user: tokens are their owner's to make.
        assert!(created.get("token").is_none(), "{created}");
        let id = created["user"]["id"].as_i64().expect("id");
        let tokens: i64 = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = $1")
            .bind(id)
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count")
            .try_get("n")
            .expect("n");
        assert_eq!(tokens, 0);

        let email = Email::parse("m.smit@ede.example.org").expect("email");
        let signed_in = verify_password(&app.state.store, &email, password)
            .await
            .expect("check");
        assert_eq!(signed_in.map(|u| u.id), Some(id));

        let log = audit(&app, &admin, &format!("?user_id={}", admin.id)).await;
        let entry = &log["entries"][0];
        assert_eq!(entry["action"], "user.create");
        assert_eq!(entry["result"], "ok");
        assert_eq!(entry["role"], "admin");
        assert!(
            entry["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{entry}"
        );
    }
);

story!(only_the_hash_of_a_credential_is_stored, |app| {
    let user = app.user(Role::Referrer, None).await;

    let row = sqlx::query("SELECT u.password_hash, t.token_hash FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE u.id = $1")
        .bind(user.id)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("user row");

    let password_hash: String = row.try_get("password_hash").expect("password_hash");
    let token_hash: String = row.try_get("token_hash").expect("token_hash");
    assert!(password_hash.starts_with("$argon2id$"), "{password_hash}");
    assert!(!password_hash.contains(&user.password));
    assert_eq!(token_hash.len(), 64);
    assert!(!token_hash.contains(&user.token));
});

story!(a_password_signs_in_only_its_own_user, |app| {
    let user = app.user(Role::Coordinator, None).await;
    let email = Email::parse(&user.email).expect("email");
    let store = &app.state.store;

    let right = verify_password(store, &email, &user.password)
        .await
        .expect("check");
    let wrong = verify_password(store, &email, "not the password")
        .await
        .expect("check");
    let unknown = Email::parse("nobody@example.org").expect("email");
    let nobody = verify_password(store, &unknown, &user.password)
        .await
        .expect("check");

    assert_eq!(right.map(|u| u.id), Some(user.id));
    assert!(wrong.is_none());
    assert!(nobody.is_none());
});

story!(only_admins_list_users, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let admin = app.user(Role::Admin, None).await;

    let refused = app.get(&coordinator, "/api/v1/users").await;
    let listed = app.get(&admin, "/api/v1/users").await;

    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = json(refused).await;
    assert_eq!(body["error"], "forbidden");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("admin")),
        "{body}"
    );
    assert_eq!(listed.status(), StatusCode::OK);
    let users = json(listed).await;
    let emails: Vec<&str> = users
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, [coordinator.email.as_str(), admin.email.as_str()]);
});

story!(
    only_admins_read_the_audit_log_and_refusals_are_recorded,
    |app| {
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let admin = app.user(Role::Admin, None).await;

        let refused = app.get(&chair, "/api/v1/audit").await;

        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(json(refused).await["error"], "forbidden");
        let log = audit(&app, &admin, &format!("?user_id={}", chair.id)).await;
        let entry = &log["entries"][0];
        assert_eq!(entry["action"], "audit.read");
        assert_eq!(entry["result"], "forbidden");
        assert_eq!(entry["role"], "chair");
    }
);

story!(invalid_user_input_is_422_naming_each_field, |app| {
    let admin = app.user(Role::Admin, None).await;
    let cases = [
        (
            json!({"email": "no-at-sign", "role": "boss"}),
            vec!["email", "role"],
        ),
        (
            json!({"email": "a@example.org", "role": "chair"}),
            vec!["region"],
        ),
        (
            json!({"email": "a@example.org", "role": "chair", "region": "atlantis"}),
            vec!["region"],
        ),
        (
            json!({"email": "a@example.org", "role": "referrer", "region": "food-valley"}),
            vec!["region", "organisation"],
        ),
        (
            json!({"email": "a@example.org", "role": "municipal_contact", "municipality": "GM9999"}),
            vec!["municipality"],
        ),
        (
            json!({"email": "a@example.org", "role": "admin", "organisation": "Gemeente Ede"}),
            vec!["organisation"],
        ),
    ];
    for (body, expected) in cases {
        let (status, error) = create(&app, &admin, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {error}"
        );
        assert_eq!(error["error"], "validation");
        let mut named = fields(&error);
        named.sort();
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(named, expected, "{body} -> {error}");
    }
    // A misspelt field is refused, not silently dropped.
    let (status, error) = create(
        &app,
        &admin,
        json!({"email": "a@example.org", "role": "admin", "team": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error.to_string().contains("team"), "{error}");
});

story!(
    an_admin_deactivates_a_user_whose_token_stops_at_once,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let chair = app.user(Role::Chair, Some("achterhoek")).await;
        let path = format!("/api/v1/users/{}", chair.id);
        assert_eq!(app.get(&chair, "/api/v1/me").await.status(), StatusCode::OK);

        let response = app.patch(&admin, &path, &json!({"active": false})).await;
        assert_eq!(response.status(), StatusCode::OK);
        let record = json(response).await;
        assert_eq!(record["active"], false);
        assert_eq!(record["role"], "chair", "only what was asked changes");
        assert_eq!(
            app.get(&chair, "/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
        let email = Email::parse(&chair.email).expect("email");
        let signed_in = verify_password(&app.state.store, &email, &chair.password)
            .await
            .expect("query");
        assert!(signed_in.is_none(), "a deactivated user cannot sign in");

        let response = app.patch(&admin, &path, &json!({"active": true})).await;
        assert_eq!(json(response).await["active"], true);
        // The old token was revoked with the deactivation: a new one is needed.
        assert_eq!(
            app.get(&chair, "/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
        // The user signs in again and makes a token of their own.
        let mut browser = Browser::new(&app);
        browser.login(&chair).await;
        let issued = browser
            .post_json(
                &format!("{path}/tokens"),
                &json!({"label": "terug", "password": chair.password}),
            )
            .await;
        assert_eq!(issued.status(), StatusCode::CREATED);
        let token = json(issued).await["token"]
            .as_str()
            .expect("token")
            .to_string();
        assert_eq!(
            get_with_token(&app, &token, "/api/v1/me").await.status(),
            StatusCode::OK
        );
        // Reactivating an active user changes nothing and claims nothing.
        let again = app.patch(&admin, &path, &json!({"active": true})).await;
        assert_eq!(again.status(), StatusCode::OK);

        let log = audit(&app, &admin, &format!("?user_id={}", admin.id)).await;
        let details: Vec<&str> = log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["action"] == "user.update")
            .filter_map(|e| e["detail"].as_str())
            .collect();
        assert_eq!(
            details,
            [
                format!("user {}: reactivated", chair.id),
                format!("user {}: deactivated", chair.id)
            ]
        );
    }
);

story!(
    a_role_change_brings_its_scope_and_is_checked_as_at_creation,
    |app| {
        let admin = app.user(Role::Admin, None).await;
        let chair = app.user(Role::Chair, Some("achterhoek")).await;
        let path = format!("/api/v1/users/{}", chair.id);

        let cases = [
            (json!({}), "body"),
            (
                json!({"role": "coordinator", "region": "achterhoek"}),
                "region",
            ),
            (json!({"role": "municipal_contact"}), "municipality"),
            (json!({"role": "boss"}), "role"),
            (json!({"region": "atlantis"}), "region"),
        ];
        for (body, field) in cases {
            let response = app.patch(&admin, &path, &body).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}"
            );
            assert_eq!(fields(&json(response).await), [field], "{body}");
        }
        let unchanged = json(app.get(&chair, "/api/v1/me").await).await;
        assert_eq!(
            unchanged["region"], "achterhoek",
            "a refused change changes nothing"
        );

        // A scope field alone keeps the role: the chair moves to another table.
        let moved = app
            .patch(&admin, &path, &json!({"region": "food-valley"}))
            .await;
        assert_eq!(json(moved).await["region"], "food-valley");

        let response = app
            .patch(
                &admin,
                &path,
                &json!({"role": "municipal_contact", "municipality": "GM0228"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let me = json(app.get(&chair, "/api/v1/me").await).await;
        assert_eq!(me["role"], "municipal_contact");
        assert_eq!(me["municipality"], "GM0228");
        assert_eq!(
            me["region"],
            Value::Null,
            "the old scope goes with the old role"
        );

        let missing = app
            .patch(&admin, "/api/v1/users/999999", &json!({"active": false}))
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let coordinator = app.user(Role::Coordinator, None).await;
        let refused = app
            .patch(&coordinator, &path, &json!({"active": false}))
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
);

story!(an_admin_cannot_deactivate_or_demote_themself, |app| {
    let admin = app.user(Role::Admin, None).await;
    let path = format!("/api/v1/users/{}", admin.id);
    for body in [json!({"active": false}), json!({"role": "coordinator"})] {
        let response = app.patch(&admin, &path, &body).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{body}");
    }
    let me = json(app.get(&admin, "/api/v1/me").await).await;
    assert_eq!(me["role"], "admin");
    let log = audit(&app, &admin, &format!("?user_id={}", admin.id)).await;
    let refusals = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "user.update" && e["result"] == "conflict")
        .count();
    assert_eq!(refusals, 2, "each refusal is audited: {log}");
    // Another admin can.
    let other = app.user(Role::Admin, None).await;
    let response = app.patch(&other, &path, &json!({"active": false})).await;
    assert_eq!(response.status(), StatusCode::OK);
});

story!(
    two_admins_deactivating_each_other_at_once_leave_one,
    |app| {
        for round in 0..10 {
            let a = app.user(Role::Admin, None).await;
            let b = app.user(Role::Admin, None).await;
            let off = json!({"active": false});
            let to_b = format!("/api/v1/users/{}", b.id);
            let to_a = format!("/api/v1/users/{}", a.id);
            let (by_a, by_b) = tokio::join!(app.patch(&a, &to_b, &off), app.patch(&b, &to_a, &off));
            let statuses = [by_a.status(), by_b.status()];
            let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
            assert_eq!(won, 1, "round {round}: {statuses:?}");
        }
    }
);

story!(a_taken_email_address_is_409, |app| {
    let admin = app.user(Role::Admin, None).await;
    let body = json!({"email": "j.jansen@example.org", "role": "coordinator"});
    let (first, _) = create(&app, &admin, body.clone()).await;

    let (second, error) = create(&app, &admin, body).await;

    assert_eq!(first, StatusCode::CREATED);
    assert_eq!(second, StatusCode::CONFLICT);
    assert_eq!(error["error"], "conflict");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("j.jansen@example.org")),
        "{error}"
    );
});

story!(users_manage_their_own_tokens_and_only_theirs, |app| {
    let referrer = app.user(Role::Referrer, None).await;
    let other = app.user(Role::Referrer, None).await;
    let own_tokens = format!("/api/v1/users/{}/tokens", referrer.id);

    let response = app
        .post(
            &referrer,
            &own_tokens,
            &json!({"label": "export", "password": referrer.password}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let issued = json(response).await;
    let token = issued["token"].as_str().expect("token").to_string();
    let token_id = issued["id"].as_i64().expect("id");
    assert_eq!(issued["label"], "export");
    assert_eq!(
        get_with_token(&app, &token, "/api/v1/me").await.status(),
        StatusCode::OK
    );

    let foreign = app
        .post(
            &other,
            &own_tokens,
            &json!({"label": "mine now", "password": other.password}),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let blank = app
        .post(
            &referrer,
            &own_tokens,
            &json!({"label": "  ", "password": referrer.password}),
        )
        .await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&json(blank).await), ["label"]);

    let revoke = format!("{own_tokens}/{token_id}");
    assert_eq!(
        delete(&app, &other, &revoke).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&app, &referrer, &revoke).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_with_token(&app, &token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        delete(&app, &referrer, &revoke).await.status(),
        StatusCode::NOT_FOUND
    );
    // The first token still works.
    assert_eq!(
        app.get(&referrer, "/api/v1/me").await.status(),
        StatusCode::OK
    );
});

story!(tokens_are_issued_to_their_owner_only, |app| {
    let admin = app.user(Role::Admin, None).await;
    let chair = app.user(Role::Chair, Some("achterhoek")).await;

    // An admin cannot obtain a credential to act as someone else.
    let for_chair = app
        .post(
            &admin,
            &format!("/api/v1/users/{}/tokens", chair.id),
            &json!({"label": "by admin", "password": admin.password}),
        )
        .await;
    assert_eq!(for_chair.status(), StatusCode::FORBIDDEN);
    let tokens: i64 = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = $1")
        .bind(chair.id)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    assert_eq!(tokens, 1, "only the chair's own initial token");
    let log = audit(&app, &admin, &format!("?user_id={}", admin.id)).await;
    let refused = &log["entries"][0];
    assert_eq!(
        (refused["action"].as_str(), refused["result"].as_str()),
        (Some("token.create"), Some("forbidden"))
    );

    // The owner makes one for themself.
    let own = app
        .post(
            &chair,
            &format!("/api/v1/users/{}/tokens", chair.id),
            &json!({"label": "eigen", "password": chair.password}),
        )
        .await;
    assert_eq!(own.status(), StatusCode::CREATED);
    let token = json(own).await["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        json(get_with_token(&app, &token, "/api/v1/me").await).await["id"],
        chair.id
    );
    let not_an_id = app
        .post(
            &admin,
            "/api/v1/users/abc/tokens",
            &json!({"label": "x", "password": admin.password}),
        )
        .await;
    assert_eq!(not_an_id.status(), StatusCode::NOT_FOUND);
});

story!(the_audit_log_pages_newest_first, |app| {
    let admin = app.user(Role::Admin, None).await;
    for n in 0..3 {
        let (status, _) = create(
            &app,
            &admin,
            json!({"email": format!("u{n}@example.org"), "role": "coordinator"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let filter = format!("user_id={}", admin.id);

    let first = audit(&app, &admin, &format!("?{filter}&limit=2")).await;
    let before = first["next_before_id"].as_i64().expect("a next page");
    let second = audit(
        &app,
        &admin,
        &format!("?{filter}&limit=2&before_id={before}"),
    )
    .await;

    let ids = |page: &Value| -> Vec<i64> {
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["id"].as_i64())
            .collect()
    };
    let (first_ids, second_ids) = (ids(&first), ids(&second));
    assert_eq!(first_ids.len(), 2);
    assert!(first_ids[0] > first_ids[1], "{first_ids:?}");
    assert_eq!(second_ids.len(), 1);
    assert!(second_ids[0] < first_ids[1]);
    assert_eq!(second["next_before_id"], Value::Null);
    let details: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|p| p["entries"].as_array().into_iter().flatten())
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details[0].contains("u2@example.org") && details[2].contains("u0@example.org"),
        "{details:?}"
    );
});

story!(bad_audit_filters_are_422_naming_the_parameter, |app| {
    let admin = app.user(Role::Admin, None).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("referral_id=-3", "referral_id"),
    ] {
        let response = app.get(&admin, &format!("/api/v1/audit?{query}")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        assert_eq!(fields(&json(response).await), [field], "{query}");
    }
    let unknown = app.get(&admin, "/api/v1/audit?referal_id=3").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
});

story!(the_audit_log_cannot_be_changed_even_with_raw_sql, |app| {
    // Creating a user writes an audit row; row-level triggers need a row.
    app.user(Role::Admin, None).await;
    let pool = &app.state.store.pool;
    let count = || async {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(pool)
            .await
            .expect("count");
        row.try_get::<i64, _>("n").expect("n")
    };
    let before = count().await;
    assert!(before > 0);

    let update = sqlx::query("UPDATE audit_log SET result = 'tampered'")
        .execute(pool)
        .await;
    let delete = sqlx::query("DELETE FROM audit_log").execute(pool).await;

    let update_error = update
        .expect_err("UPDATE on audit_log must fail")
        .to_string();
    let delete_error = delete
        .expect_err("DELETE on audit_log must fail")
        .to_string();
    assert!(update_error.contains("append-only"), "{update_error}");
    assert!(delete_error.contains("append-only"), "{delete_error}");
    assert_eq!(count().await, before);
    let tampered = sqlx::query("SELECT id FROM audit_log WHERE result = 'tampered'")
        .fetch_all(pool)
        .await
        .expect("query");
    assert!(tampered.is_empty());
});

story!(the_openapi_document_lists_the_auth_endpoints, |app| {
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request");

    let doc = json(response).await;
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{id}/tokens",
        "/api/v1/users/{id}/tokens/{token_id}",
        "/api/v1/audit",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
});
