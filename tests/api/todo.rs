//! Stories: the table's worklist, Te doen (issue 14): each list holds what
//! needs doing, in the viewer's scope, with its count.

use jbt::auth::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;
use crate::planning::{referral_body, register};
use crate::story;

/// The part of the page from the section with `id` up to the next one.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<h2 id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id}"));
    let rest = &page[start..];
    let end = rest[4..].find("<h2 ").map_or(rest.len(), |e| e + 4);
    &rest[..end]
}

story!(the_worklist_lists_what_needs_doing_in_scope, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let planned = register(&app, &coordinator, "TODO-1", "Ede").await;
    let mut body = referral_body("TODO-2", "Ede");
    body["safety_plan"] = json!(false);
    let created = app.post(&coordinator, "/api/v1/referrals", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let asked = app
        .post(
            &chair,
            &format!("/api/v1/referrals/{planned}/info-requests"),
            &json!({"text": "Is de school op de hoogte?"}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    app.replan().await;

    let mut browser = Browser::new(&app);
    browser.login(&chair).await;
    let page = browser.get("/te-doen").await.text().await.expect("page");
    assert!(page.contains("href=\"/te-doen\""), "in the menu");
    let confirm = section(&page, "bevestigen");
    assert!(
        confirm.contains("TODO-1") && confirm.contains("(1)"),
        "{confirm}"
    );
    let incomplete = section(&page, "onvolledig");
    assert!(
        incomplete.contains("TODO-2") && incomplete.contains("veiligheidsplan"),
        "{incomplete}"
    );
    let questions = section(&page, "vragen");
    assert!(
        questions.contains("TODO-1") && questions.contains("1 vraag open"),
        "{questions}"
    );
    assert!(section(&page, "uitkomst").contains("Niets te doen."));

    // Another region's chair has nothing of these; a referrer has no worklist.
    let elsewhere = app.user(Role::Chair, Some("achterhoek")).await;
    let mut theirs = Browser::new(&app);
    theirs.login(&elsewhere).await;
    let page = theirs.get("/te-doen").await.text().await.expect("page");
    assert!(!page.contains("TODO-"), "{page}");
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let mut professional = Browser::new(&app);
    professional.login(&referrer).await;
    assert_eq!(
        professional.get("/te-doen").await.status(),
        StatusCode::FORBIDDEN
    );
});
