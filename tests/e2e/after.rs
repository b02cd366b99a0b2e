//! After the conversation in the browser (issue 15): the chair writes and
//! sends the report; the referrer records the parents' reaction; the chair
//! sees version 2; the PDF holds the agreements; the feedback form and
//! the half-yearly evaluation pass axe.

use fantoccini::Client;
use serde_json::json;

use super::helpers::{json as body, TestApp, TestUser};
use super::*;

const AGREEMENT: &str = "Dagelijks contact met school";

/// A referral of Ede booked at FoodValley and held; its id.
async fn held(app: &TestApp, coordinator: &TestUser, chair: &TestUser) -> i64 {
    let registered = app
        .post(
            coordinator,
            "/api/v1/referrals",
            &json!({
                "case_ref": "VER-0001",
                "municipality": "Ede",
                "kind": "vtb",
                "referrer_kind": "local_team",
                "referrer_org": "Sociaal Team Ede",
                "referrer_email": "professional@sociaalteam-ede.example.org",
                "safety_plan": true,
                "parents_informed": true,
                "child_12_plus": false,
            }),
        )
        .await;
    let id = body(registered).await["id"].as_i64().expect("id");
    replan(app).await;
    let booked = body(
        app.post(
            coordinator,
            "/api/v1/bookings",
            &json!({ "referral_id": id }),
        )
        .await,
    )
    .await;
    let start: chrono::DateTime<chrono::Utc> = booked["booked_slot"]["start"]
        .as_str()
        .unwrap_or_else(|| panic!("booked: {booked}"))
        .parse()
        .expect("instant");
    app.clock
        .advance(start - app.state.now() + chrono::Duration::hours(2));
    let done = app
        .post(chair, &format!("/api/v1/referrals/{id}/held"), &json!({}))
        .await;
    assert!(done.status().is_success(), "held");
    id
}

/// The PDF at `path` fetched with the browser's session cookie, as text.
async fn pdf_text(client: &Client, base: &str, path: &str) -> String {
    let cookies = client.get_all_cookies().await.expect("cookies");
    let header: Vec<String> = cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", header.join("; "))
        .send()
        .await
        .expect("pdf");
    assert_eq!(response.status(), 200, "{path}");
    let bytes = response.bytes().await.expect("bytes");
    pdf_extract::extract_text_from_mem(&bytes)
        .expect("text")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_written_reacted_to_and_read_as_a_pdf() {
    let Some(Stage {
        axe,
        app,
        base,
        driver,
        profiles,
    }) = stage().await
    else {
        return;
    };
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let id = held(&app, &coordinator, &chair).await;
    let path = format!("/referrals/{id}/verslag");

    // The chair writes the report and sends it.
    let chairs = browser(&driver, &profiles.path().join("chair")).await;
    login(&chairs, &base, &chair.email, &chair.password).await;
    chairs.goto(&format!("{base}{path}")).await.expect("report");
    assert_accessible(&chairs, &axe, "verslag (concept)").await;
    type_into(
        &chairs,
        "#verslag-tekst",
        "Besproken: de zorgen van school.",
    )
    .await;
    type_into(
        &chairs,
        "#verslag-afspraken",
        &format!("{AGREEMENT} | moeder | 2027-01-15"),
    )
    .await;
    click(&chairs, "#aanwezig-parents").await;
    click(&chairs, "form[action$='/verslag'] button[type=submit]").await;
    text_with(&chairs, "Het concept is bewaard").await;
    click(&chairs, "form[action$='/versturen'] button[type=submit]").await;
    text_with(&chairs, "vastgesteld en verstuurd").await;
    screenshot(&chairs, "verslag").await;

    // The referrer records the parents' reaction.
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let referrers = browser(&driver, &profiles.path().join("referrer")).await;
    login(&referrers, &base, &referrer.email, &referrer.password).await;
    referrers
        .goto(&format!("{base}{path}"))
        .await
        .expect("report");
    assert!(text(&referrers).await.contains(AGREEMENT));
    assert_accessible(&referrers, &axe, "verslag met reactieformulier").await;
    click(&referrers, "input[name=from][value=parents]").await;
    type_into(&referrers, "#reactie-tekst", "Wij zien het anders.").await;
    click(&referrers, "form[action$='/reactie'] button[type=submit]").await;
    text_with(&referrers, "als nieuwe versie").await;

    // The chair sees version 2, with the reaction.
    chairs.goto(&format!("{base}{path}")).await.expect("report");
    let page = text(&chairs).await;
    assert!(
        page.contains("Versie 2") && page.contains("Reactie van de ouders"),
        "{page}"
    );
    let pdf = pdf_text(&chairs, &base, &format!("/referrals/{id}/verslag.pdf")).await;
    assert!(
        pdf.contains(AGREEMENT) && pdf.contains("Wij zien het anders."),
        "{pdf}"
    );

    // The feedback form, without login, passes axe.
    let mail: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE kind = 'feedback'")
        .fetch_one(&app.state.store.pool)
        .await
        .expect("feedback mail");
    let link = mail
        .split_whitespace()
        .find_map(|w| w.find("/feedback/").map(|at| w[at..].to_string()))
        .expect("a link");
    let anyone = browser(&driver, &profiles.path().join("anyone")).await;
    anyone.goto(&format!("{base}{link}")).await.expect("form");
    assert_accessible(&anyone, &axe, "feedbackformulier").await;
    click(&anyone, "form button[type=submit]").await;
    text_with(&anyone, "Controleer").await;
    assert_accessible(&anyone, &axe, "feedbackformulier met fouten").await;

    // The half-yearly evaluation of the table.
    chairs
        .goto(&format!("{base}/evaluatie"))
        .await
        .expect("evaluation");
    let page = text(&chairs).await;
    assert!(page.contains("Halfjaarlijkse evaluatie"), "{page}");
    assert_accessible(&chairs, &axe, "halfjaarlijkse evaluatie").await;
    screenshot(&chairs, "evaluatie").await;

    for c in [chairs, referrers, anyone] {
        c.close().await.expect("close");
    }
    app.stop().await;
}
