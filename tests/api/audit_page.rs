//! Story: the administrator's audit page reads as Dutch, names users by
//! e-mail address and cases by reference, and filters by case reference,
//! user, action and period, keeping the filters and naming bad ones.

use chrono::Duration;
use jbt::auth::Role;

use crate::browser::Browser;
use crate::helpers::*;
use crate::planning::register;
use crate::story;

/// The table rows of the audit page, as text per row.
fn rows(page: &str) -> Vec<String> {
    let body = &page[page.find("<tbody>").expect("a table")..];
    body.split("<tr>")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap_or_default().to_string())
        .collect()
}

story!(the_audit_page_is_readable_and_filtered, |app| {
    let admin = app.user(Role::Admin, None).await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let first = register(&app, &coordinator, "AUD-0001", "Ede").await;
    // The next day, the chair reads one referral, the coordinator another.
    app.clock.advance(Duration::days(1));
    let second = register(&app, &coordinator, "AUD-0002", "Ede").await;
    for (user, id) in [(&chair, first), (&coordinator, second)] {
        let read = app.get(user, &format!("/api/v1/referrals/{id}")).await;
        assert_eq!(read.status(), StatusCode::OK);
    }

    let mut browser = Browser::new(&app);
    browser.login(&admin).await;
    let all = browser
        .get("/admin/audit")
        .await
        .text()
        .await
        .expect("page");
    let created = rows(&all)
        .into_iter()
        .find(|r| r.contains("AUD-0001") && r.contains("<td>aangemeld</td>"))
        .expect("the registration, in Dutch, by case reference");
    assert!(created.contains(&coordinator.email), "{created}");
    assert!(created.contains("coördinator"), "{created}");
    assert!(
        !created.contains(&format!("#{}", coordinator.id)),
        "{created}"
    );

    // By case reference (any case), by user, by action.
    let by_case = rows(
        &browser
            .get("/admin/audit?zaak=aud-0001")
            .await
            .text()
            .await
            .expect("page"),
    );
    assert!(!by_case.is_empty());
    assert!(
        by_case.iter().all(|r| r.contains("AUD-0001")),
        "{by_case:?}"
    );
    let path = format!(
        "/admin/audit?gebruiker={}&actie=referral.read",
        chair.email.to_uppercase()
    );
    let page = browser.get(&path).await.text().await.expect("page");
    let chair_reads = rows(&page);
    assert_eq!(chair_reads.len(), 1, "{chair_reads:?}");
    assert!(chair_reads[0].contains("AUD-0001") && chair_reads[0].contains("<td>ingezien</td>"));
    assert!(
        page.contains("<option value=\"referral.read\" selected>"),
        "the action is kept"
    );

    // By period: the first day holds the first registration only.
    let today = jbt::referrals::norm::local_date(app.state.now(), app.state.regions.timezone);
    let day_before = today.pred_opt().expect("a day");
    let first_day = rows(
        &browser
            .get(&format!(
                "/admin/audit?actie=referral.create&van={day_before}&tot={day_before}"
            ))
            .await
            .text()
            .await
            .expect("page"),
    );
    assert_eq!(first_day.len(), 1, "{first_day:?}");
    assert!(first_day[0].contains("AUD-0001"));

    // A case reference that is not there: no rows, no error.
    let unknown = browser.get("/admin/audit?zaak=NIET-9999").await;
    assert_eq!(unknown.status(), StatusCode::OK);
    assert!(rows(&unknown.text().await.expect("page")).is_empty());

    // Bad filters: 422, the input kept, the problem at its field.
    let bad = browser
        .get("/admin/audit?zaak=%3Cb%3E&van=morgen&tot=2026-01-01&actie=referral.steal")
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.expect("page");
    for (field, words) in [
        ("a-zaak-fout", "geen kenmerk"),
        ("a-van-fout", "jjjj-mm-dd"),
        ("a-actie-fout", "Kies een actie"),
    ] {
        let at = page
            .find(&format!("id=\"{field}\""))
            .unwrap_or_else(|| panic!("{field}: {page}"));
        assert!(page[at..].contains(words), "{field}");
    }
    assert!(page.contains("value=\"morgen\""), "the input is kept");
    assert!(rows(&page).is_empty());

    // The API takes the same action and period filters.
    let reads = json(
        app.get(
            &admin,
            &format!("/api/v1/audit?action=referral.read&from={today}&to={today}"),
        )
        .await,
    )
    .await;
    let entries = reads["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{reads}");
    assert!(entries.iter().all(|e| e["action"] == "referral.read"));
    let refused = app
        .get(
            &admin,
            "/api/v1/audit?action=referral.steal&from=2026-13-01",
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.expect("body");
    assert!(
        body.contains("\"action\"") && body.contains("\"from\""),
        "{body}"
    );
});
