//! Stories: the report of a held conversation (issue 15): draft, send,
//! reaction as a new version; scope (the table where it was held and the
//! referring organisation read it, a coordinator sees only that it exists
//! and whether it is late); sealed at rest; every read audited.

use chrono::Duration;
use jbt::auth::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::planning::register;
use crate::story;

pub(crate) const TEXT: &str =
    "Besproken: de zorgen van school. Besloten: vrijwillig hulp met bindende afspraken.";

/// Referrals of Ede booked at FoodValley and held: (ids, the table's chair).
pub(crate) async fn held_all(
    app: &TestApp,
    coordinator: &TestUser,
    case_refs: &[&str],
) -> (Vec<i64>, TestUser) {
    let mut ids = Vec::new();
    for case_ref in case_refs {
        ids.push(register(app, coordinator, case_ref, "Ede").await);
    }
    app.replan().await;
    let mut latest = app.state.now();
    for id in &ids {
        let booked = app
            .post(
                coordinator,
                "/api/v1/bookings",
                &json!({ "referral_id": id }),
            )
            .await;
        let status = booked.status();
        let booked = json(booked).await;
        assert_eq!(status, StatusCode::CREATED, "{booked}");
        let start: chrono::DateTime<chrono::Utc> = booked["booked_slot"]["start"]
            .as_str()
            .expect("booked")
            .parse()
            .expect("instant");
        latest = latest.max(start);
    }
    app.clock
        .advance(latest - app.state.now() + Duration::hours(2));
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    for id in &ids {
        let done = app
            .post(&chair, &format!("/api/v1/referrals/{id}/held"), &json!({}))
            .await;
        assert_eq!(done.status(), StatusCode::OK);
    }
    (ids, chair)
}

/// One referral of Ede booked at FoodValley and held: (id, the chair).
pub(crate) async fn held(app: &TestApp, coordinator: &TestUser, case_ref: &str) -> (i64, TestUser) {
    let (ids, chair) = held_all(app, coordinator, &[case_ref]).await;
    (ids[0], chair)
}

/// Drafts and sends the report of `id` as `chair`.
pub(crate) async fn send(app: &TestApp, chair: &TestUser, id: i64) {
    let path = format!("/api/v1/referrals/{id}/report");
    assert_eq!(
        app.put(chair, &path, &draft()).await.status(),
        StatusCode::OK
    );
    let sent = app.post(chair, &format!("{path}/send"), &json!({})).await;
    assert_eq!(sent.status(), StatusCode::OK);
}

pub(crate) fn draft() -> Value {
    json!({
        "text": TEXT,
        "agreements": [{ "what": "Dagelijks contact met school", "who": "moeder", "by": "2027-01-15" }],
        "participants": ["parents", "referrer"],
        "professionals": ["mentor@school.example.org"],
    })
}

pub(crate) async fn mails(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT recipient, body_text FROM outbox WHERE kind = $1 ORDER BY id",
    )
    .bind(kind)
    .fetch_all(&app.state.store.pool)
    .await
    .expect("outbox")
}

story!(a_report_is_drafted_sent_and_reacted_to_in_versions, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let (id, chair) = held(&app, &coordinator, "REP-0001").await;
    let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
    let path = format!("/api/v1/referrals/{id}/report");

    // The referrer cannot write it; the table's chair drafts it.
    assert_eq!(
        app.put(&referrer, &path, &draft()).await.status(),
        StatusCode::FORBIDDEN
    );
    let drafted = app.put(&chair, &path, &draft()).await;
    assert_eq!(drafted.status(), StatusCode::OK);
    let view = json(drafted).await;
    assert_eq!(view["draft"]["text"], TEXT);
    assert_eq!(view["sent"], false);
    // Nothing sent: the referrer sees no draft.
    let theirs = json(app.get(&referrer, &path).await).await;
    assert_eq!(theirs["draft"], Value::Null);
    assert_eq!(theirs["versions"], json!([]));

    let sent = app.post(&chair, &format!("{path}/send"), &json!({})).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let view = json(sent).await;
    assert_eq!(view["versions"][0]["version"], 1);
    let told = mails(&app, "report").await;
    let to: Vec<&str> = told.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(
        to,
        [
            "mentor@school.example.org",
            "professional@sociaalteam-ede.example.org"
        ]
    );
    assert!(
        told.iter()
            .all(|(_, body)| !body.contains("zorgen van school")),
        "no content in mails"
    );

    // The referring organisation reads it and records the parents' reaction.
    let read = json(app.get(&referrer, &path).await).await;
    assert_eq!(
        read["versions"][0]["content"]["agreements"][0]["who"],
        "moeder"
    );
    assert_eq!(read["may_react"], true);
    let reaction =
        json!({ "from": "parents", "text": "Wij herkennen ons niet in de tweede afspraak." });
    let reacted = app
        .post(&referrer, &format!("{path}/reactions"), &reaction)
        .await;
    assert_eq!(reacted.status(), StatusCode::CREATED);
    let view = json(reacted).await;
    let versions = view["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "a new version, the first kept");
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["content"]["reactions"][0]["from"], "parents");
    assert_eq!(versions[1]["content"]["reactions"], json!([]));
    assert!(
        !mails(&app, "report_reaction").await.is_empty(),
        "the table is told"
    );

    // Sealed at rest, bound to referral and version.
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM reports WHERE referral_id = $1")
        .bind(id)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("bodies");
    assert!(bodies
        .iter()
        .all(|b| b.starts_with("v1:") && !b.contains("school")));
    // Every read of content is in the audit log.
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'report.read' AND referral_id = $1",
    )
    .bind(id)
    .fetch_one(&app.state.store.pool)
    .await
    .expect("audit");
    assert!(reads >= 4, "{reads}");

    // After the window (10 working days) no more reactions.
    app.clock.advance(Duration::days(20));
    let late = app
        .post(&referrer, &format!("{path}/reactions"), &reaction)
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
});

story!(
    a_report_is_read_only_where_it_may_be_and_a_late_one_says_so,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (ids, chair) = held_all(&app, &coordinator, &["REP-0002", "REP-0003"]).await;
        let (id, other) = (ids[0], ids[1]);
        let path = format!("/api/v1/referrals/{id}/report");
        send(&app, &chair, id).await;

        // A coordinator: that it exists, not what it says.
        let seen = json(app.get(&coordinator, &path).await).await;
        assert_eq!(seen["sent"], true);
        assert_eq!(seen["versions"], json!([]));
        // Another region's chair: not found; a municipal contact: forbidden.
        let stranger = app.user(Role::Chair, Some("achterhoek")).await;
        assert_eq!(
            app.get(&stranger, &path).await.status(),
            StatusCode::NOT_FOUND
        );
        let contact = app.user(Role::MunicipalContact, Some("GM0228")).await;
        assert_eq!(
            app.get(&contact, &path).await.status(),
            StatusCode::FORBIDDEN
        );
        // The secretary of the table reads it.
        let secretary = app.user(Role::Secretary, Some("food-valley")).await;
        let theirs = json(app.get(&secretary, &path).await).await;
        assert_eq!(theirs["versions"][0]["content"]["text"], TEXT);

        // Bad drafts name their fields.
        let bad = app
            .put(
                &chair,
                &path,
                &json!({ "text": "", "participants": ["buurman"], "professionals": ["x"] }),
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = bad.text().await.expect("body");
        for field in ["text", "participants[0]", "professionals[0]"] {
            assert!(body.contains(&format!("\"{field}\"")), "{field}: {body}");
        }

        // A held conversation without a report: late after 5 working days.
        let other_path = format!("/api/v1/referrals/{other}/report");
        assert_eq!(
            json(app.get(&coordinator, &other_path).await).await["late"],
            false
        );
        app.clock.advance(Duration::days(9));
        assert_eq!(
            json(app.get(&coordinator, &other_path).await).await["late"],
            true
        );
        // Nothing to send without a draft.
        let nothing = app
            .post(&chair, &format!("{other_path}/send"), &json!({}))
            .await;
        assert_eq!(nothing.status(), StatusCode::CONFLICT);
    }
);

story!(
    the_report_is_written_sent_and_reacted_to_in_the_browser,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (id, chair) = held(&app, &coordinator, "REP-0004").await;
        let page = format!("/referrals/{id}/verslag");
        let mut desk = crate::browser::Browser::new(&app);
        desk.login(&chair).await;
        let todo = desk.get("/te-doen").await.text().await.expect("worklist");
        let section = &todo[todo.find("id=\"verslagen\"").expect("the reports to send")..];
        assert!(section.contains(&format!("href=\"{page}\"")), "{section}");
        let referral = desk
            .get(&format!("/referrals/{id}"))
            .await
            .text()
            .await
            .expect("referral");
        assert!(
            referral.contains(&format!("href=\"{page}\"")),
            "the referral links its report"
        );

        // A line of agreements with a bad date: the form again, input kept.
        let token = desk.csrf(&page).await;
        let refused = desk
            .post_form(
                &page,
                &[
                    ("csrf", &token),
                    ("text", TEXT),
                    (
                        "afspraken",
                        "Dagelijks contact met school | moeder | morgen",
                    ),
                    ("aanwezig_parents", "on"),
                    ("professionals", "mentor@school.example.org"),
                ],
                &[],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let form = refused.text().await.expect("page");
        assert!(form.contains("id=\"verslag-afspraken-fout\""), "{form}");
        assert!(form.contains("Regel 1: de datum moet jjjj-mm-dd zijn."));
        assert!(
            form.contains("Besproken: de zorgen van school."),
            "the text is kept"
        );
        assert!(
            form.contains("id=\"aanwezig-parents\" name=\"aanwezig_parents\" checked"),
            "the box is kept"
        );

        let saved = desk
            .post_form(
                &page,
                &[
                    ("csrf", &token),
                    ("text", TEXT),
                    (
                        "afspraken",
                        "Dagelijks contact met school | moeder | 2027-01-15",
                    ),
                    ("aanwezig_parents", "on"),
                    ("professionals", "mentor@school.example.org"),
                ],
                &[],
            )
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let sent = desk
            .post_form(&format!("{page}/versturen"), &[("csrf", &token)], &[])
            .await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        let todo = desk.get("/te-doen").await.text().await.expect("worklist");
        assert!(
            !todo.contains(&format!("href=\"{page}\"")),
            "sent: off the worklist"
        );

        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        let mut theirs = crate::browser::Browser::new(&app);
        theirs.login(&referrer).await;
        let read = theirs.get(&page).await.text().await.expect("report");
        assert!(
            read.contains("Versie 1") && read.contains("Dagelijks contact met school"),
            "{read}"
        );
        assert!(
            !read.contains("Concept bewaren"),
            "the referrer does not write it"
        );
        let their_token = theirs.csrf(&page).await;
        let reacted = theirs
            .post_form(
                &format!("{page}/reactie"),
                &[
                    ("csrf", &their_token),
                    ("from", "parents"),
                    ("text", "Wij zien het anders."),
                ],
                &[],
            )
            .await;
        assert_eq!(reacted.status(), StatusCode::SEE_OTHER);
        let after = theirs.get(&page).await.text().await.expect("report");
        assert!(
            after.contains("Versie 2") && after.contains("Reactie van de ouders, ontvangen"),
            "{after}"
        );
    }
);

story!(a_slot_starting_now_is_not_planned_into, |app| {
    // Found writing the report stories: at 15:00 the planner offered the
    // 15:00 slot, which can no longer be booked (it has started).
    let coordinator = app.user(Role::Coordinator, None).await;
    let _ = held(&app, &coordinator, "NOW-0001").await;
    let id = register(&app, &coordinator, "NOW-0002", "Ede").await;
    app.replan().await;
    let referral = json(
        app.get(&coordinator, &format!("/api/v1/referrals/{id}"))
            .await,
    )
    .await;
    let start: chrono::DateTime<chrono::Utc> = referral["planned_slot"]["start"]
        .as_str()
        .expect("planned")
        .parse()
        .expect("instant");
    assert!(
        start > app.state.now(),
        "planned at {start}, now {}",
        app.state.now()
    );
    let booked = app
        .post(
            &coordinator,
            "/api/v1/bookings",
            &json!({ "referral_id": id }),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::CREATED);
});

story!(
    a_written_evaluation_comes_on_the_worklist_on_its_date,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (ids, chair) = held_all(&app, &coordinator, &["WRT-0001", "WRT-0002"]).await;
        let (id, other) = (ids[0], ids[1]);
        let due = (app.state.now() + Duration::days(5))
            .format("%Y-%m-%d")
            .to_string();
        let body = json!({
            "outcome": "voluntary_binding", "route": "r", "help": "h",
            "written_evaluation_date": due, "written_evaluation_by": "lokaal team Ede",
        });
        let recorded = app
            .post(&chair, &format!("/api/v1/referrals/{id}/outcome"), &body)
            .await;
        assert_eq!(recorded.status(), StatusCode::CREATED);
        let half =
            json!({ "outcome": "voluntary_binding", "written_evaluation_by": "lokaal team" });
        let refused = app
            .post(&chair, &format!("/api/v1/referrals/{other}/outcome"), &half)
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused
            .text()
            .await
            .expect("body")
            .contains("written_evaluation_date"));

        let mut desk = crate::browser::Browser::new(&app);
        desk.login(&chair).await;
        let listed = |page: &str| {
            page.find("id=\"schriftelijk\"")
                .is_some_and(|at| page[at..].contains("WRT-0001"))
        };
        let before = desk.get("/te-doen").await.text().await.expect("worklist");
        assert!(!listed(&before), "not before its date");
        app.clock.advance(Duration::days(6));
        desk.login(&chair).await; // six days on: a new session
        let after = desk.get("/te-doen").await.text().await.expect("worklist");
        assert!(listed(&after), "due: on the worklist");
        assert!(after.contains("door lokaal team Ede"));
        let page = desk
            .get(&format!("/referrals/{id}"))
            .await
            .text()
            .await
            .expect("referral");
        assert!(
            page.contains("/schriftelijke-evaluatie") && page.contains("verwacht"),
            "{page}"
        );

        let path = format!("/api/v1/referrals/{id}/written-evaluation");
        let secretary = app.user(Role::Secretary, Some("food-valley")).await;
        assert_eq!(
            app.post(&secretary, &path, &json!({ "received": true }))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let stranger = app.user(Role::Chair, Some("achterhoek")).await;
        assert_eq!(
            app.post(&stranger, &path, &json!({ "received": true }))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let done = app.post(&chair, &path, &json!({ "received": true })).await;
        assert_eq!(done.status(), StatusCode::OK);
        assert_eq!(json(done).await["status"], "received");
        assert_eq!(
            app.post(&chair, &path, &json!({ "received": false }))
                .await
                .status(),
            StatusCode::CONFLICT
        );
        let later = desk.get("/te-doen").await.text().await.expect("worklist");
        assert!(!listed(&later), "recorded: off the worklist");
    }
);

story!(
    feedback_links_come_with_the_report_and_answers_stay_anonymous,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (id, chair) = held(&app, &coordinator, "FBK-0001").await;
        send(&app, &chair, id).await;
        let mails = mails(&app, "feedback").await;
        assert_eq!(mails.len(), 1, "one mail, to the referring professional");
        assert_eq!(mails[0].0, "professional@sociaalteam-ede.example.org");
        let links: Vec<String> = mails[0]
            .1
            .split_whitespace()
            .filter_map(|w| w.find("/feedback/").map(|at| w[at..].to_string()))
            .collect();
        assert_eq!(links.len(), 2, "{}", mails[0].1);
        assert!(!mails[0].1.contains("FBK-0001"), "no case reference in it");

        // No login: the link is the key.
        let anyone = crate::browser::Browser::new(&app);
        let form = anyone.get(&links[1]).await;
        assert_eq!(form.status(), StatusCode::OK);
        assert!(form.text().await.expect("form").contains("Voor de ouders"));
        let partial = anyone
            .post_form(
                &links[1],
                &[
                    ("prepared", "4"),
                    ("heard", "9"),
                    ("remark", "Fijn gesprek."),
                ],
                &[],
            )
            .await;
        assert_eq!(partial.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let again = partial.text().await.expect("form");
        assert!(
            again.contains("id=\"heard-fout\"") && again.contains("Fijn gesprek."),
            "kept, named"
        );
        let answered = anyone
            .post_form(
                &links[1],
                &[
                    ("prepared", "4"),
                    ("heard", "5"),
                    ("clear", "3"),
                    ("useful", "4"),
                    ("remark", "Fijn gesprek."),
                ],
                &[],
            )
            .await;
        assert_eq!(answered.status(), StatusCode::OK);
        assert!(answered
            .text()
            .await
            .expect("thanks")
            .contains("Dank u wel"));
        let twice = anyone
            .post_form(
                &links[1],
                &[
                    ("prepared", "1"),
                    ("heard", "1"),
                    ("clear", "1"),
                    ("useful", "1"),
                ],
                &[],
            )
            .await;
        assert_eq!(twice.status(), StatusCode::CONFLICT, "one time only");
        assert_eq!(
            anyone.get("/feedback/nonsense").await.status(),
            StatusCode::NOT_FOUND
        );

        // Stored with region and half-year only; the remark sealed.
        let stored: Vec<(String, String, String, Option<String>)> =
            sqlx::query_as("SELECT region_id, half_year, respondent, remark FROM feedback_answers")
                .fetch_all(&app.state.store.pool)
                .await
                .expect("answers");
        assert_eq!(stored.len(), 1);
        assert_eq!(
            (
                stored[0].0.as_str(),
                stored[0].1.as_str(),
                stored[0].2.as_str()
            ),
            ("food-valley", "2026-H2", "parents")
        );
        assert!(stored[0]
            .3
            .as_deref()
            .is_some_and(|r| r.starts_with("v1:") && !r.contains("Fijn")));
        let columns: Vec<String> = sqlx::query_scalar("SELECT region_id FROM feedback_tokens")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("tokens");
        assert_eq!(columns.len(), 2);
    }
);
