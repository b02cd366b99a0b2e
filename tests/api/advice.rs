//! Stories: capacity advice (issue 16). A table over the norm gets advice;
//! adding the advised sessions (the dashboard's button, through the
//! sessions service) and re-planning brings the late days to exactly what
//! was promised; a chair of another region cannot add the session; the
//! API answers every role with figures only.

use jbt::auth::Role;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::*;
use crate::planning::referral_body;
use crate::story;

const REGION: &str = "centraal-gelderland";

/// Registers `n` referrals of Arnhem that must stay at their own table, so
/// Centraal Gelderland (6 slots a week) runs past the norm.
async fn overload(app: &TestApp, coordinator: &TestUser, n: usize) {
    for i in 0..n {
        let mut body = referral_body(&format!("ADV-{i:03}"), "Arnhem");
        body["cross_region"] = json!(false);
        let created = app.post(coordinator, "/api/v1/referrals", &body).await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    app.replan().await;
}

async fn advice(app: &TestApp, user: &TestUser) -> Value {
    let response = app
        .get(user, &format!("/api/v1/advice?region={REGION}"))
        .await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The dashboard button's form for an advised session of the API's answer.
fn session_form(csrf: &str, session: &Value) -> [(&'static str, String); 6] {
    let text = |key: &str| session[key].as_str().expect(key).to_string();
    [
        ("csrf", csrf.to_string()),
        ("region", text("region")),
        ("date", text("date")),
        ("start", text("start")[..5].to_string()),
        ("slots", session["slots"].to_string()),
        ("minutes", session["slot_minutes"].to_string()),
    ]
}

story!(
    the_advised_sessions_bring_the_table_back_within_the_norm,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        overload(&app, &coordinator, 16).await;
        let given = advice(&app, &coordinator).await;
        assert!(
            given["before"]["could_make_it"].as_u64().unwrap_or(0) > 0,
            "the table is over the norm: {given}"
        );
        let advised = given["advised"]["sessions"]
            .as_array()
            .unwrap_or_else(|| panic!("an advice that meets the norm: {given}"))
            .clone();
        assert!(!advised.is_empty(), "{given}");
        assert_eq!(given["advised"]["after"]["could_make_it"], 0, "{given}");
        assert!(
            given["sentence"]
                .as_str()
                .is_some_and(|s| s.starts_with("Met ")),
            "{given}"
        );
        // Figures only: no case reference anywhere in it.
        assert!(!given.to_string().contains("ADV-"), "{given}");

        // The region's digest mail quotes it, with figures only.
        let sentences = jbt::jobs::advice::over_norm(&app.state).await;
        assert!(sentences.contains_key(REGION), "{sentences:?}");
        jbt::alerts::forecast_digest(&app.state, &sentences)
            .await
            .expect("digest");
        let mails: Vec<String> = sqlx::query_scalar(
            "SELECT subject || body_text || body_html FROM outbox WHERE kind = 'forecast_digest'",
        )
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox");
        assert!(!mails.is_empty());
        for mail in &mails {
            assert!(mail.contains("Advies van JBT-planner: Met "), "{mail}");
            assert!(!mail.contains("ADV-"), "no case reference: {mail}");
        }

        // The dashboard shows it with a button for the coordinator; a chair of
        // another region sees it without a button and cannot add it.
        let browser = Browser::new(&app);
        let mut browser = browser;
        assert_eq!(
            browser.login(&coordinator).await.status(),
            StatusCode::SEE_OTHER
        );
        let page = browser.get("/dashboard").await.text().await.expect("page");
        assert!(page.contains("Advies: terug binnen de norm"), "{page}");
        assert!(page.contains("Zitting toevoegen"), "{page}");
        let stranger = app.user(Role::Chair, Some("achterhoek")).await;
        let mut theirs = Browser::new(&app);
        assert_eq!(
            theirs.login(&stranger).await.status(),
            StatusCode::SEE_OTHER
        );
        let page = theirs.get("/dashboard").await.text().await.expect("page");
        assert!(page.contains("Advies: terug binnen de norm"), "{page}");
        // Arnhem's municipal contact reads it on Mijn gemeente.
        let arnhem = app.user(Role::MunicipalContact, Some("GM0202")).await;
        let mut contact = Browser::new(&app);
        assert_eq!(contact.login(&arnhem).await.status(), StatusCode::SEE_OTHER);
        let page = contact
            .get("/mijn-gemeente")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Advies:</strong> Met "), "{page}");
        let their_csrf = theirs.csrf("/dashboard").await;
        let fields = session_form(&their_csrf, &advised[0]);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = theirs
            .post_form("/dashboard/extra-zitting", &pairs, &[])
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);

        // The coordinator presses each button; the re-plan meets the promise.
        for session in &advised {
            let csrf = browser.csrf("/dashboard").await;
            let fields = session_form(&csrf, session);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let added = browser
                .post_form("/dashboard/extra-zitting", &pairs, &[])
                .await;
            assert_eq!(added.status(), StatusCode::SEE_OTHER);
        }
        app.replan().await;
        let after = advice(&app, &coordinator).await;
        for key in ["referrals", "days", "days_sq", "could_make_it"] {
            assert_eq!(
                after["before"][key], given["advised"]["after"][key],
                "{key}: promised {given}, got {after}"
            );
        }
        assert_eq!(after["advised"]["sessions"], json!([]), "{after}");

        // Every role may read the figures; a bad region is named.
        let contact = app.user(Role::MunicipalContact, None).await;
        assert_eq!(advice(&app, &contact).await["region"], REGION);
        let bad = app.get(&coordinator, "/api/v1/advice?region=utrecht").await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json(bad).await.to_string().contains("region"));
    }
);
