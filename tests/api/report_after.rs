//! Stories: after the report is sent (issue 15): its PDF (scope, audit,
//! the agreements in the text), the retention purge (content gone, the
//! fact kept), and the half-yearly evaluation (figures, feedback, scope,
//! page, PDF and `.xlsx`).

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::Duration;
use jbt::auth::Role;
use jbt::reports::evaluation::HalfYear;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::*;
use crate::reports::{draft, held_all, mails, send, TEXT};
use crate::story;

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&app.state.store.pool)
        .await
        .expect("audit")
}

fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    // Words may be set apart by the layout; compare on single spaces.
    pdf_extract::extract_text_from_mem(bytes)
        .expect("text from the PDF")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

story!(
    a_sent_report_downloads_as_a_pdf_and_its_content_goes_after_retention,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (ids, chair) = held_all(&app, &coordinator, &["PDF-0001", "PDF-0002"]).await;
        let (id, unsent) = (ids[0], ids[1]);
        // The second one only ever gets a draft.
        let unsent_path = format!("/api/v1/referrals/{unsent}/report");
        assert_eq!(
            app.put(&chair, &unsent_path, &draft()).await.status(),
            StatusCode::OK
        );
        send(&app, &chair, id).await;
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        let reaction = json!({ "from": "parents", "text": "Wij zien het anders." });
        let reacted = app
            .post(
                &referrer,
                &format!("/api/v1/referrals/{id}/report/reactions"),
                &reaction,
            )
            .await;
        assert_eq!(reacted.status(), StatusCode::CREATED);

        let mut browser = Browser::new(&app);
        browser.login(&referrer).await;
        let reads = audited(&app, "report.read").await;
        let pdf = browser.get(&format!("/referrals/{id}/verslag.pdf")).await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(
            pdf.headers()[CONTENT_DISPOSITION],
            "attachment; filename=\"verslag-PDF-0001-versie-2.pdf\""
        );
        assert_eq!(pdf.headers()["cache-control"], "no-store");
        let text = pdf_text(&pdf.bytes().await.expect("pdf"));
        for expected in [
            "Verslag van de bespreking PDF-0001",
            "Dagelijks contact met school. Verantwoordelijk: moeder",
            "Besproken: de zorgen van school.",
            "Reactie van de ouders",
            "Wij zien het anders.",
            "ouders, verwijzende professional",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
        assert_eq!(
            audited(&app, "report.read").await,
            reads + 1,
            "the read is audited"
        );
        // Version 1 has no reaction; a version that is no number is named.
        let first = browser
            .get(&format!("/referrals/{id}/verslag.pdf?versie=1"))
            .await;
        let first = pdf_text(&first.bytes().await.expect("pdf"));
        assert!(
            first.contains(TEXT.split('.').next().unwrap_or(TEXT)) && !first.contains("Wij zien")
        );
        let bad = browser
            .get(&format!("/referrals/{id}/verslag.pdf?versie=twee"))
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A coordinator knows it exists, but does not get its content.
        let mut theirs = Browser::new(&app);
        theirs.login(&coordinator).await;
        let refused = theirs.get(&format!("/referrals/{id}/verslag.pdf")).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);

        // Not yet past retention: nothing goes.
        assert_eq!(
            jbt::reports::retention::purge(&app.state)
                .await
                .expect("purge"),
            0
        );
        app.clock.advance(Duration::days(370));
        assert_eq!(
            jbt::reports::retention::purge(&app.state)
                .await
                .expect("purge"),
            3,
            "two sent versions and a draft"
        );
        // The draft nobody sent is gone too, and no longer late: nobody
        // could send it now.
        let gone = json(app.get(&coordinator, &unsent_path).await).await;
        assert_eq!(gone["late"], false, "{gone}");
        assert!(gone["purged_on"].is_string(), "{gone}");
        let send = app
            .post(&chair, &format!("{unsent_path}/send"), &json!({}))
            .await;
        assert_eq!(send.status(), StatusCode::CONFLICT);
        let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT body, sent_at, purged_at FROM reports WHERE referral_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&app.state.store.pool)
        .await
        .expect("rows");
        assert_eq!(rows.len(), 2, "the versions stay");
        assert!(rows
            .iter()
            .all(|(body, sent, purged)| body.is_empty() && sent.is_some() && purged.is_some()));
        assert_eq!(audited(&app, "report.purge").await, 1);

        let path = format!("/api/v1/referrals/{id}/report");
        let view = json(app.get(&referrer, &path).await).await;
        assert_eq!(view["sent"], true, "that it was sent stays");
        assert_eq!(view["versions"], json!([]));
        assert!(view["purged_on"].is_string(), "{view}");
        // A year on, the session is long gone: sign in again.
        browser.login(&referrer).await;
        let gone = browser.get(&format!("/referrals/{id}/verslag.pdf")).await;
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
        let page = browser
            .get(&format!("/referrals/{id}/verslag"))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("bewaartermijn van 12 maanden"), "{page}");
        assert_eq!(
            app.put(&chair, &path, &draft()).await.status(),
            StatusCode::CONFLICT
        );
        // A second run finds nothing more.
        assert_eq!(
            jbt::reports::retention::purge(&app.state)
                .await
                .expect("purge"),
            0
        );
    }
);

/// The half-year and the waits (days) of the held referrals `ids`.
async fn held_facts(app: &TestApp, user: &TestUser, ids: &[i64]) -> (HalfYear, Vec<i64>) {
    let mut half = None;
    let mut waits = Vec::new();
    for id in ids {
        let referral = json(app.get(user, &format!("/api/v1/referrals/{id}")).await).await;
        let start: chrono::DateTime<chrono::Utc> = referral["booked_slot"]["start"]
            .as_str()
            .expect("booked")
            .parse()
            .expect("instant");
        let registered: chrono::DateTime<chrono::Utc> = referral["registered_at"]
            .as_str()
            .expect("registered")
            .parse()
            .expect("instant");
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive()
        };
        half = Some(HalfYear::of(local(start)));
        waits.push((local(start) - local(registered)).num_days());
    }
    (half.expect("held"), waits)
}

story!(
    the_half_yearly_evaluation_counts_and_opens_only_for_the_coordinator_and_the_chairs,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let (ids, chair) = held_all(&app, &coordinator, &["EVA-0001", "EVA-0002"]).await;
        let (half, mut waits) = held_facts(&app, &coordinator, &ids).await;
        send(&app, &chair, ids[0]).await;
        let outcome = json!({ "outcome": "voluntary_binding", "route": "r", "help": "h" });
        let recorded = app
            .post(
                &chair,
                &format!("/api/v1/referrals/{}/outcome", ids[1]),
                &outcome,
            )
            .await;
        assert_eq!(recorded.status(), StatusCode::CREATED);
        let referrer = app.user(Role::Referrer, Some("Sociaal Team Ede")).await;
        let reaction = json!({ "from": "professional", "text": "Aanvulling." });
        let path = format!("/api/v1/referrals/{}/report/reactions", ids[0]);
        assert_eq!(
            app.post(&referrer, &path, &reaction).await.status(),
            StatusCode::CREATED
        );
        // Both feedback forms filled in, one with a remark.
        let mail = mails(&app, "feedback").await;
        let links: Vec<String> = mail[0]
            .1
            .split_whitespace()
            .filter_map(|w| w.find("/feedback/").map(|at| w[at..].to_string()))
            .collect();
        let anyone = Browser::new(&app);
        for (link, score, remark) in [
            (&links[0], "4", ""),
            (&links[1], "2", "Spannend, maar duidelijk."),
        ] {
            let answers = [
                ("prepared", score),
                ("heard", score),
                ("clear", "5"),
                ("useful", score),
                ("remark", remark),
            ];
            let answered = anyone.post_form(link, &answers, &[]).await;
            assert_eq!(answered.status(), StatusCode::OK);
        }

        let url = format!("/api/v1/evaluation?region=food-valley&half_year={half}");
        let evaluation = json(app.get(&chair, &url).await).await;
        assert_eq!(evaluation["held"], 2, "{evaluation}");
        assert_eq!(evaluation["name"], "FoodValley");
        assert_eq!(
            evaluation["outcomes"][1],
            json!({ "outcome": "voluntary_binding", "count": 1 })
        );
        assert_eq!(evaluation["without_outcome"], 1);
        assert_eq!(evaluation["reports_sent"], 1);
        assert_eq!(evaluation["reports_on_time"], 1);
        assert_eq!(evaluation["reactions"], 1);
        waits.sort_unstable();
        let median = (waits[0] + waits[1]) as f64 / 2.0;
        assert_eq!(evaluation["median_wait_days"], json!(median));
        let scores = evaluation["scores"].as_array().expect("scores");
        assert_eq!(
            scores[0],
            json!({ "respondent": "professional", "forms": 1, "means": [4.0, 4.0, 5.0, 4.0] })
        );
        assert_eq!(scores[1]["respondent"], "parents");
        assert_eq!(
            evaluation["open_answers"],
            json!([{ "respondent": "parents", "text": "Spannend, maar duidelijk." }])
        );
        let everywhere = json(
            app.get(
                &coordinator,
                &format!("/api/v1/evaluation?half_year={half}"),
            )
            .await,
        )
        .await;
        assert_eq!(everywhere["name"], "Gelderland");
        assert_eq!(everywhere["region"], Value::Null);
        assert!(everywhere["held"].as_u64().expect("held") >= 2);
        // Elsewhere nothing of FoodValley counts.
        let achterhoek = json(
            app.get(
                &coordinator,
                &format!("/api/v1/evaluation?region=achterhoek&half_year={half}"),
            )
            .await,
        )
        .await;
        assert_eq!(achterhoek["held"], 0);
        assert_eq!(achterhoek["open_answers"], json!([]));

        // Scope and bad input.
        let stranger = app.user(Role::Chair, Some("achterhoek")).await;
        assert_eq!(
            app.get(&stranger, &url).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(&chair, "/api/v1/evaluation").await.status(),
            StatusCode::FORBIDDEN,
            "not all of Gelderland"
        );
        let bad = app
            .get(&coordinator, "/api/v1/evaluation?half_year=2026-H3")
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().await.expect("body").contains("half_year"));
        assert_eq!(
            app.get(&coordinator, "/api/v1/evaluation?region=atlantis")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let refused: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'evaluation.read' AND result = 'forbidden'")
        .fetch_one(&app.state.store.pool)
        .await
        .expect("audit");
        assert_eq!(refused, 2);

        // The page, the PDF and the workbook say the same.
        let mut browser = Browser::new(&app);
        browser.login(&chair).await;
        let page = browser.get(&format!("/evaluatie?halfjaar={half}")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.expect("page");
        assert!(
            page.contains("Jeugdbeschermingstafel FoodValley")
                && page.contains("Spannend, maar duidelijk."),
            "{page}"
        );
        assert!(page.contains("1 van 2 (50%)"), "reports sent: {page}");
        let pdf = browser
            .get(&format!("/evaluatie.pdf?regio=food-valley&halfjaar={half}"))
            .await;
        assert_eq!(pdf.headers()[CONTENT_TYPE], "application/pdf");
        let text = pdf_text(&pdf.bytes().await.expect("pdf"));
        assert!(
            text.contains("Gesprekken gehouden: 2")
                && text.contains("Ouders: Spannend, maar duidelijk."),
            "{text}"
        );
        let xlsx = browser
            .get(&format!(
                "/evaluatie.xlsx?regio=food-valley&halfjaar={half}"
            ))
            .await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        let mut book: Xlsx<_> =
            open_workbook_from_rs(Cursor::new(xlsx.bytes().await.expect("xlsx").to_vec()))
                .expect("opens");
        assert_eq!(
            book.sheet_names(),
            ["Cijfers", "Feedback", "Open antwoorden"]
        );
        let figures = book.worksheet_range("Cijfers").expect("figures");
        let first: Vec<&Data> = figures.rows().nth(1).expect("a row").iter().collect();
        assert_eq!(
            first,
            [
                &Data::String("Gesprekken gehouden".into()),
                &Data::Float(2.0)
            ]
        );
        // The report of the conversation with an outcome starts from it.
        let form = browser
            .get(&format!("/referrals/{}/verslag", ids[1]))
            .await
            .text()
            .await
            .expect("report page");
        assert!(
            form.contains("Uitkomst: vrijwillig met bindende afspraken.\nRoute: r\nHulp: h"),
            "{form}"
        );
        // A new version starts from the one sent.
        let next = browser
            .get(&format!("/referrals/{}/verslag", ids[0]))
            .await
            .text()
            .await
            .expect("report page");
        assert!(
            next.contains("Nieuwe versie (concept)") && next.contains("moeder | 2027-01-15"),
            "{next}"
        );
        let other = browser
            .get(&format!("/evaluatie?regio=achterhoek&halfjaar={half}"))
            .await;
        assert_eq!(other.status(), StatusCode::FORBIDDEN);
    }
);

story!(the_demo_history_fills_the_half_yearly_evaluation, |app| {
    jbt::demo::seed(&app.state).await.expect("demo data");
    let coordinator = app.user(Role::Coordinator, None).await;
    let evaluation = json(app.get(&coordinator, "/api/v1/evaluation").await).await;
    assert!(
        evaluation["held"].as_u64().expect("held") > 100,
        "{evaluation}"
    );
    assert!(evaluation["reports_sent"].as_u64().expect("sent") > 0);
    let scores = evaluation["scores"].as_array().expect("scores");
    assert_eq!(scores.len(), 2, "professionals and parents: {evaluation}");
    assert!(!evaluation["open_answers"]
        .as_array()
        .expect("answers")
        .is_empty());
});

story!(
    conversations_held_at_a_neighbouring_table_count_on_both_sides,
    |app| {
        let coordinator = app.user(Role::Coordinator, None).await;
        let id = crate::planning::register(&app, &coordinator, "NBR-0001", "Ede").await;
        // Booked by the coordinator at the neighbouring Centraal Gelderland table.
        let (slot, start): (String, i64) = sqlx::query_as(
        "SELECT id, start_at FROM slots WHERE region_id = 'centraal-gelderland' AND start_at > $1
         AND cancelled_at IS NULL ORDER BY start_at LIMIT 1",
    )
    .bind(app.state.now().timestamp_millis())
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a slot");
        let booking = json!({ "referral_id": id, "slot_id": slot });
        let booked = app.post(&coordinator, "/api/v1/bookings", &booking).await;
        assert_eq!(booked.status(), StatusCode::CREATED);
        let start = chrono::DateTime::from_timestamp_millis(start).expect("instant");
        app.clock
            .advance(start - app.state.now() + Duration::hours(2));
        let chair = app.user(Role::Chair, Some("centraal-gelderland")).await;
        let done = app
            .post(&chair, &format!("/api/v1/referrals/{id}/held"), &json!({}))
            .await;
        assert_eq!(done.status(), StatusCode::OK);
        let half = HalfYear::of(
            start
                .with_timezone(&chrono_tz::Europe::Amsterdam)
                .date_naive(),
        );

        let figures = |region: &str| format!("/api/v1/evaluation?region={region}&half_year={half}");
        let home = json(app.get(&coordinator, &figures("food-valley")).await).await;
        assert_eq!(
            (home["held"].clone(), home["sent_to_neighbours"].clone()),
            (json!(0), json!(1))
        );
        assert_eq!(home["received_from_neighbours"], 0);
        let table = json(app.get(&coordinator, &figures("centraal-gelderland")).await).await;
        assert_eq!(
            (
                table["held"].clone(),
                table["received_from_neighbours"].clone()
            ),
            (json!(1), json!(1))
        );
        assert_eq!(table["sent_to_neighbours"], 0);
        let all = json(app.get(&coordinator, &figures("")).await).await;
        assert_eq!(
            (
                all["received_from_neighbours"].clone(),
                all["sent_to_neighbours"].clone()
            ),
            (json!(1), json!(1))
        );
    }
);
