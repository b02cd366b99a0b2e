//! The professional's side in the browser (issue 18): a referrer registers
//! a family with remarks for the chair and sees it planned; changes a date
//! and sees the new slot; the chair reads the remarks and asks for
//! information, the referrer answers, the chair reads the answer; a
//! referrer of another organisation finds nothing (Niet gevonden); the
//! municipal contact sees figures but no case page.

use serde_json::json;

use super::helpers::{json as body, TestApp, TestUser};
use super::*;

const REMARK: &str = "Moeder komt met een tolk; vader alleen telefonisch.";

/// The local date (YYYY-MM-DD) of the referral's planned slot.
async fn planned_date(app: &TestApp, user: &TestUser, id: i64) -> String {
    let referral = body(app.get(user, &format!("/api/v1/referrals/{id}")).await).await;
    let start = referral["planned_slot"]["start"]
        .as_str()
        .unwrap_or_else(|| panic!("not planned: {referral}"));
    chrono::DateTime::parse_from_rfc3339(start)
        .expect("start")
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .format("%Y-%m-%d")
        .to_string()
}

fn dutch(iso: &str) -> String {
    format!("{}-{}-{}", &iso[8..10], &iso[5..7], &iso[..4])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referrer_and_the_chair_work_on_a_registration() {
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
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let client = browser(&driver, &profiles.path().join("referrer")).await;
    login(&client, &base, &referrer.email, &referrer.password).await;

    // Register, with remarks for the chair.
    client
        .goto(&format!("{base}/aanmelden"))
        .await
        .expect("form");
    click(&client, "#municipality option[value='GM0228']").await;
    click(&client, "#kind").await;
    click(&client, "#safety_plan").await;
    click(&client, "#parents_informed").await;
    type_into(&client, "#remarks", REMARK).await;
    click(&client, "form.register button[type=submit]").await;
    text_with(&client, "De aanmelding is ontvangen").await;
    let path = client.current_url().await.expect("url").path().to_string();
    let id: i64 = path
        .trim_start_matches("/referrals/")
        .parse()
        .expect("referral id");

    // Planned: the page shows the table's date.
    app.replan().await;
    let first = planned_date(&app, &referrer, id).await;
    client.goto(&format!("{base}{path}")).await.expect("page");
    let page = text(&client).await;
    assert!(
        page.contains(&dutch(&first)[..5]),
        "planned {first}: {page}"
    );

    // The family cannot come that day: the new slot is another day.
    client
        .execute(
            "document.querySelector('input[name=unavailable_1]').value = arguments[0];",
            vec![json!(first)],
        )
        .await
        .expect("set the date");
    click(&client, "form[action$='/change'] button[type=submit]").await;
    text_with(&client, "opgeslagen").await;
    app.replan().await;
    let second = planned_date(&app, &referrer, id).await;
    assert_ne!(first, second, "the family cannot come on {first}");
    client.goto(&format!("{base}{path}")).await.expect("page");
    let page = text(&client).await;
    assert!(
        page.contains(&dutch(&second)[..5]),
        "new date {second}: {page}"
    );

    // The chair reads the remarks and asks a question.
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let chairs = browser(&driver, &profiles.path().join("chair")).await;
    login(&chairs, &base, &chair.email, &chair.password).await;
    // The chair's worklist has it, and passes axe.
    chairs
        .goto(&format!("{base}/te-doen"))
        .await
        .expect("worklist");
    assert!(text(&chairs).await.contains("Te doen"));
    assert_accessible(&chairs, &axe, "te doen (chair)").await;
    chairs.goto(&format!("{base}{path}")).await.expect("page");
    assert!(
        text(&chairs).await.contains(REMARK),
        "the chair reads the remarks"
    );
    assert_accessible(&chairs, &axe, "referral with remarks (chair)").await;
    type_into(&chairs, "#ask-text", "Weet de school ervan?").await;
    click(&chairs, "form[action$='/info'] button[type=submit]").await;
    assert!(text_with(&chairs, "Nog niet beantwoord")
        .await
        .contains("Weet de school ervan?"));

    // The referrer answers on the page; the chair sees the answer.
    client.goto(&format!("{base}{path}")).await.expect("page");
    type_into(&client, "textarea[id^='answer-']", "Ja, sinds vorige week.").await;
    click(&client, "form[action*='/answer'] button[type=submit]").await;
    text_with(&client, "Ja, sinds vorige week.").await;
    chairs.goto(&format!("{base}{path}")).await.expect("page");
    assert!(text(&chairs).await.contains("Ja, sinds vorige week."));

    // Another organisation's professional finds nothing.
    let other = app.user(Role::Referrer, Some("Sociaal Team Tiel")).await;
    let others = browser(&driver, &profiles.path().join("other")).await;
    login(&others, &base, &other.email, &other.password).await;
    others.goto(&format!("{base}{path}")).await.expect("page");
    let refused = text(&others).await;
    assert!(
        refused.contains("Niet gevonden") && !refused.contains(REMARK),
        "{refused}"
    );

    // The municipal contact of Ede: figures, no case page.
    let contact = app.user(Role::MunicipalContact, Some("GM0228")).await;
    let contacts = browser(&driver, &profiles.path().join("contact")).await;
    login(&contacts, &base, &contact.email, &contact.password).await;
    assert_eq!(
        contacts.current_url().await.expect("url").path(),
        "/mijn-gemeente"
    );
    let figures = text(&contacts).await;
    assert!(figures.contains("Ede"), "{figures}");
    assert_accessible(&contacts, &axe, "mijn gemeente").await;
    contacts.goto(&format!("{base}{path}")).await.expect("page");
    let refused = text(&contacts).await;
    assert!(
        refused.contains("Geen toegang") && !refused.contains(REMARK),
        "{refused}"
    );

    for c in [client, chairs, others, contacts] {
        c.close().await.expect("close");
    }
    app.stop().await;
}
