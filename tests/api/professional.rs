//! Stories: the professional's side in the browser (issue 18): register a
//! family through the form, follow it on Mijn aanmeldingen, change dates,
//! withdraw; on both databases, over HTTP as a browser sends it.

use jbt::auth::Role;
use serde_json::Value;

use crate::browser::{location, Browser};
use crate::helpers::*;
use crate::story;

const EDE_TEAM: &str = "Sociaal Team Ede";

async fn signed_in(app: &TestApp, user: &TestUser) -> Browser {
    let mut browser = Browser::new(app);
    let login = browser.login(user).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    browser
}

fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/referrals/")
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no referral id in {location}"))
}

async fn referral(app: &TestApp, user: &TestUser, id: i64) -> Value {
    json(app.get(user, &format!("/api/v1/referrals/{id}")).await).await
}

story!(
    a_referrer_registers_a_family_through_the_form_and_follows_it,
    |app| {
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let browser = signed_in(&app, &referrer).await;
        // The referrer starts on Mijn aanmeldingen.
        let home = browser.get("/").await;
        assert_eq!(location(&home), "/mijn-aanmeldingen");
        let form = browser.get("/aanmelden").await.text().await.expect("page");
        assert!(form.contains("Gezin aanmelden"), "{form}");
        assert!(
            form.contains("Ede (tafel FoodValley)"),
            "municipalities with their table"
        );
        let csrf = browser.csrf("/aanmelden").await;

        // Wrong input: the form again, in Dutch, the input kept, nothing stored.
        let refused = browser
            .post_form(
                "/aanmelden",
                &[
                    ("csrf", &csrf),
                    ("municipality", ""),
                    ("kind", "vtb"),
                    ("referrer_kind", "local_team"),
                    ("earliest", "2020-01-01"),
                    ("unavailable_1", "2026-12-09"),
                    ("safety_plan", "on"),
                ],
                &[],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.expect("page");
        for said in [
            "Gemeente: vul dit in.",
            "Niet eerder dan: deze datum ligt in het verleden.",
        ] {
            assert!(page.contains(said), "{said} not in the page");
        }
        assert!(
            page.contains("value=\"2026-12-09\""),
            "the date typed is kept"
        );
        assert!(
            page.contains("id=\"safety_plan\" name=\"safety_plan\" checked"),
            "the box stays checked"
        );
        let none = json(app.get(&referrer, "/api/v1/referrals").await).await;
        assert_eq!(none["items"].as_array().map(Vec::len), Some(0));

        // Right input: the referral's page, with the issued reference.
        let created = browser
            .post_form(
                "/aanmelden",
                &[
                    ("csrf", &csrf),
                    ("municipality", "GM0228"),
                    ("kind", "vtb"),
                    ("referrer_kind", "local_team"),
                    ("safety_plan", "on"),
                    ("parents_informed", "on"),
                    ("cross_region", "on"),
                    ("unavailable_1", "2026-12-09"),
                ],
                &[],
            )
            .await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let id = id_from(&location(&created));
        let stored = referral(&app, &referrer, id).await;
        assert!(
            stored["case_ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("JBT-")),
            "{stored}"
        );
        assert_eq!(stored["referrer_email"], referrer.email.as_str());
        assert_eq!(stored["referrer_org"], EDE_TEAM);
        assert_eq!(stored["unavailable"], serde_json::json!(["2026-12-09"]));
        let page = browser
            .get(&location(&created))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("De aanmelding is ontvangen"), "{page}");

        // Planned: the page and the list show the table and the date.
        app.replan().await;
        let planned = referral(&app, &referrer, id).await;
        let slot_date = planned["planned_slot"]["start"]
            .as_str()
            .expect("a planned slot")[..10]
            .to_string();
        let list = browser
            .get("/mijn-aanmeldingen")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            list.contains(stored["case_ref"].as_str().expect("ref")),
            "{list}"
        );
        assert!(list.contains("voorlopig:"), "{list}");
        let search = browser
            .get("/mijn-aanmeldingen?q=zzz-9")
            .await
            .text()
            .await
            .expect("page");
        assert!(search.contains("Geen aanmelding met dit kenmerk"));

        // The family cannot come on the planned date after all: a new date.
        let csrf = browser.csrf(&format!("/referrals/{id}")).await;
        let changed = browser
            .post_form(
                &format!("/referrals/{id}/change"),
                &[
                    ("csrf", &csrf),
                    ("unavailable_1", "2026-12-09"),
                    ("unavailable_2", &slot_date),
                    ("unavailable_3", ""),
                    ("unavailable_4", ""),
                ],
                &[],
            )
            .await;
        assert_eq!(
            location(&changed),
            format!("/referrals/{id}?gedaan=gewijzigd")
        );
        app.replan().await;
        let moved = referral(&app, &referrer, id).await;
        assert_eq!(moved["unavailable"].as_array().map(Vec::len), Some(2));
        let new_date = moved["planned_slot"]["start"]
            .as_str()
            .map(|s| s[..10].to_string());
        assert_ne!(new_date.as_deref(), Some(slot_date.as_str()), "{moved}");

        // Another organisation's referrer cannot open it.
        let other = app.user(Role::Referrer, Some("Sociaal Team Tiel")).await;
        let outsider = signed_in(&app, &other).await;
        assert_eq!(
            outsider.get(&format!("/referrals/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert!(!outsider
            .get("/mijn-aanmeldingen")
            .await
            .text()
            .await
            .expect("page")
            .contains(stored["case_ref"].as_str().expect("ref")));

        // Withdrawn with a reason, from the page.
        let withdrawn = browser
            .post_form(
                &format!("/referrals/{id}/withdraw"),
                &[("csrf", &csrf), ("reason", "gezin verhuisd")],
                &[],
            )
            .await;
        assert_eq!(
            location(&withdrawn),
            format!("/referrals/{id}?gedaan=ingetrokken")
        );
        assert_eq!(referral(&app, &referrer, id).await["status"], "withdrawn");
    }
);

story!(a_coordinator_registers_on_a_professionals_behalf, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let browser = signed_in(&app, &coordinator).await;
    let csrf = browser.csrf("/aanmelden").await;
    let created = browser
        .post_form(
            "/aanmelden",
            &[
                ("csrf", &csrf),
                ("municipality", "Arnhem"),
                ("kind", "vtb"),
                ("referrer_kind", "veilig_thuis"),
                ("referrer_org", "Veilig Thuis Gelderland-Midden"),
                ("referrer_email", "a.jansen@vtgm.example.org"),
                ("case_ref", "vt-2026-0042"),
            ],
            &[],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let id = id_from(&location(&created));
    let stored = referral(&app, &coordinator, id).await;
    assert_eq!(stored["case_ref"], "VT-2026-0042");
    assert_eq!(stored["referrer_email"], "a.jansen@vtgm.example.org");
    // Without safety plan and informed parents it waits, saying so.
    assert_eq!(stored["status"], "incomplete");
    // A municipal contact has no form.
    let contact = app.user(Role::MunicipalContact, None).await;
    let theirs = signed_in(&app, &contact).await;
    assert_eq!(
        theirs.get("/aanmelden").await.status(),
        StatusCode::FORBIDDEN
    );
});
