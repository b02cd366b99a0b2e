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

story!(
    the_table_asks_for_information_and_the_professional_answers,
    |app| {
        let referrer = app.user(Role::Referrer, Some(EDE_TEAM)).await;
        let chair = app.user(Role::Chair, Some("food-valley")).await;
        let body = serde_json::json!({
            "municipality": "Ede", "kind": "vtb", "referrer_kind": "local_team",
            "safety_plan": true, "parents_informed": true, "child_12_plus": false,
        });
        let created = app.post(&referrer, "/api/v1/referrals", &body).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = json(created).await["id"].as_i64().expect("id");
        let requests = format!("/api/v1/referrals/{id}/info-requests");
        let question = "Is het veiligheidsplan met de school besproken?";
        let answer_text = "Ja, op 3 december met de intern begeleider.";

        // Only the table asks; the question is sealed at rest.
        assert_eq!(
            app.post(&referrer, &requests, &serde_json::json!({"text": question}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let asked = app
            .post(&chair, &requests, &serde_json::json!({"text": question}))
            .await;
        assert_eq!(asked.status(), StatusCode::CREATED);
        let request_id = json(asked).await["id"].as_i64().expect("id");
        let stored: String = sqlx::query_scalar("SELECT question FROM info_requests WHERE id = $1")
            .bind(request_id)
            .fetch_one(&app.state.store.pool)
            .await
            .expect("row");
        assert!(
            stored.starts_with("v1:") && !stored.contains("veiligheidsplan"),
            "{stored}"
        );

        // The professional sees it on the worklist and the referral.
        let browser = signed_in(&app, &referrer).await;
        let list = browser
            .get("/mijn-aanmeldingen")
            .await
            .text()
            .await
            .expect("page");
        assert!(list.contains("1 open"), "{list}");
        let page = browser
            .get(&format!("/referrals/{id}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains(question), "{page}");

        // And on the chair's worklist, the board's queue.
        let chairs = signed_in(&app, &chair).await;
        let board = chairs.get("/board").await.text().await.expect("board");
        assert!(board.contains("1 vraag open"), "{board}");

        // Outside the scope the request does not exist.
        let other = app.user(Role::Referrer, Some("Sociaal Team Tiel")).await;
        let chair_elsewhere = app.user(Role::Chair, Some("achterhoek")).await;
        assert_eq!(
            app.get(&other, &requests).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&chair_elsewhere, &requests).await.status(),
            StatusCode::NOT_FOUND
        );
        let answer_path = format!("{requests}/{request_id}/answer");
        assert_eq!(
            app.post(&other, &answer_path, &serde_json::json!({"text": "x"}))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let contact = app.user(Role::MunicipalContact, None).await;
        assert_eq!(
            app.get(&contact, &requests).await.status(),
            StatusCode::FORBIDDEN
        );

        // The answer, once; the chair reads it with its time.
        let empty = app
            .post(&referrer, &answer_path, &serde_json::json!({"text": "  "}))
            .await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let answered = app
            .post(
                &referrer,
                &answer_path,
                &serde_json::json!({"text": answer_text}),
            )
            .await;
        assert_eq!(answered.status(), StatusCode::NO_CONTENT);
        let again = app
            .post(
                &referrer,
                &answer_path,
                &serde_json::json!({"text": "nog eens"}),
            )
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let seen = json(app.get(&chair, &requests).await).await;
        assert_eq!(seen[0]["question"], question);
        assert_eq!(seen[0]["answer"], answer_text);
        assert!(seen[0]["answered_at"].is_string());

        // Mails say that there is a question or an answer, never what.
        let mails: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT kind, recipient, subject || body_text || body_html FROM outbox
         WHERE kind IN ('info_request', 'info_answer') ORDER BY id",
        )
        .fetch_all(&app.state.store.pool)
        .await
        .expect("outbox");
        assert_eq!(
            mails
                .iter()
                .map(|(k, to, _)| (k.as_str(), to.as_str()))
                .collect::<Vec<_>>(),
            [
                ("info_request", referrer.email.as_str()),
                ("info_answer", chair.email.as_str())
            ]
        );
        for (_, _, text) in &mails {
            assert!(
                !text.contains("veiligheidsplan") && !text.contains("intern begeleider"),
                "{text}"
            );
            assert!(text.contains(&format!("/referrals/{id}")), "{text}");
        }
        // Nor does the audit log hold them.
        let audit: Vec<Option<String>> =
            sqlx::query_scalar("SELECT detail FROM audit_log WHERE referral_id = $1")
                .bind(id)
                .fetch_all(&app.state.store.pool)
                .await
                .expect("audit");
        assert!(
            audit
                .iter()
                .flatten()
                .all(|d| !d.contains("school") && !d.contains("begeleider")),
            "{audit:?}"
        );
    }
);

story!(a_municipal_contact_sees_figures_but_no_case_page, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let contact = app.user(Role::MunicipalContact, Some("GM0228")).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let body = serde_json::json!({
            "case_ref": format!("GEM-EDE-{n}1"), "municipality": "Ede", "kind": "vtb",
            "referrer_kind": "local_team", "referrer_org": EDE_TEAM,
            "referrer_email": "p@sociaalteam-ede.example.org",
            "safety_plan": n == 0, "parents_informed": true, "child_12_plus": false,
        });
        let response = app.post(&coordinator, "/api/v1/referrals", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(json(response).await["id"].as_i64().expect("id"));
    }
    app.replan().await;
    let browser = signed_in(&app, &contact).await;
    assert_eq!(location(&browser.get("/").await), "/mijn-gemeente");
    let page = browser
        .get("/mijn-gemeente")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("Gemeente Ede aan de tafel FoodValley"),
        "{page}"
    );
    // One planned within the norm, one waiting because it is incomplete.
    assert!(
        page.contains("Ingepland binnen de norm</th><td>1"),
        "{page}"
    );
    assert!(page.contains("(waarvan 1 onvolledig)"), "{page}");
    assert!(page.contains("Verwachte wachttijd"));
    // Figures only: no case reference, no case page.
    assert!(!page.contains("GEM-EDE"), "{page}");
    assert_eq!(
        browser
            .get(&format!("/referrals/{}", ids[0]))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Another role has no such page.
    let other = signed_in(&app, &coordinator).await;
    assert_eq!(
        other.get("/mijn-gemeente").await.status(),
        StatusCode::FORBIDDEN
    );
});
