//! The coordinator's working day in the browser (issue 14): the worklist
//! count in the menu, a booked conversation moved from the referral page
//! with its invitation updated, the print stylesheet hiding the menu, and
//! no sideways scrolling at 320 px (WCAG 1.4.10).

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use super::*;

/// A Chrome DevTools command through chromedriver (media and viewport
/// emulation, which WebDriver itself lacks).
async fn cdp(driver: &Driver, client: &Client, cmd: &str, params: Value) {
    let session = client.session_id().await.expect("session").expect("an id");
    let url = format!(
        "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
        driver.port
    );
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "cmd": cmd, "params": params }))
        .send()
        .await
        .expect("cdp");
    assert!(
        response.status().is_success(),
        "{cmd}: {}",
        response.status()
    );
}

async fn script(client: &Client, code: &str) -> Value {
    client.execute(code, vec![]).await.expect("script")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_moves_a_booking_prints_and_reads_at_320_px() {
    if !tools_present() {
        return;
    }
    let axe = std::fs::read_to_string(axe_path()).expect("axe-core");
    let (app, base) = demo_app().await;
    let driver = start_driver().await;
    let profiles = tempfile::tempdir().expect("profiles");
    let coordinator = app.user(Role::Coordinator, None).await;
    let client = browser(&driver, &profiles.path().join("day")).await;
    login(&client, &base, &coordinator.email, &coordinator.password).await;

    // The menu counts what waits on Te doen, as many as the page lists.
    let menu = client
        .find(Locator::Css("nav a[href='/te-doen']"))
        .await
        .expect("menu entry")
        .text()
        .await
        .expect("text");
    let counted: usize = menu
        .trim_start_matches("Te doen (")
        .trim_end_matches(')')
        .parse()
        .unwrap_or_else(|_| panic!("a count in {menu:?}"));
    assert!(counted > 0, "the demo has work to do");
    client
        .goto(&format!("{base}/te-doen"))
        .await
        .expect("worklist");
    let listed = script(
        &client,
        "return new Set([...document.querySelectorAll('main table a[href^=\"/referrals/\"]')].map(a => a.getAttribute('href').split('/')[2])).size;",
    )
    .await;
    assert_eq!(listed.as_u64(), Some(counted as u64), "menu and page agree");
    assert_accessible(&client, &axe, "te doen").await;

    // A booked conversation of FoodValley, moved to another slot there.
    let booked: i64 = sqlx::query_scalar(
        "SELECT r.id FROM referrals r JOIN slots s ON s.id = r.booked_slot_id
         WHERE r.status = 'booked' AND r.region_id = 'food-valley' AND s.start_at > $1
         ORDER BY s.start_at LIMIT 1",
    )
    .bind(app.state.now().timestamp_millis())
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a booking in the demo");
    client
        .goto(&format!("{base}/referrals/{booked}"))
        .await
        .expect("referral page");
    assert_accessible(&client, &axe, "referral with move form").await;
    let chosen = script(
        &client,
        "const s = document.getElementById('move-slot'); s.selectedIndex = s.options.length - 1; return s.value;",
    )
    .await;
    let chosen = chosen.as_str().expect("a slot").to_string();
    client
        .find(Locator::Css("form[action$='/verplaatsen'] button"))
        .await
        .expect("move button")
        .click()
        .await
        .expect("move");
    let page = text_with(&client, "De afspraak is verplaatst").await;
    assert!(page.contains("De afspraak is verplaatst"), "{page}");
    let now_booked: String =
        sqlx::query_scalar("SELECT booked_slot_id FROM referrals WHERE id = $1")
            .bind(booked)
            .fetch_one(&app.state.store.pool)
            .await
            .expect("booking");
    assert_eq!(now_booked, chosen);
    let updated: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE referral_id = $1 AND kind = 'invitation' AND subject LIKE 'Gewijzigd:%'",
    )
    .bind(booked)
    .fetch_one(&app.state.store.pool)
    .await
    .expect("outbox");
    assert!(updated >= 1, "the invitation is updated");

    // Search: the queue narrows to the case, the board marks it.
    let formula = "-9-B1";
    let body = json!({
        "case_ref": formula, "municipality": "Ede", "kind": "vtb",
        "referrer_kind": "local_team", "referrer_org": "Sociaal Team Ede",
        "referrer_email": "p@sociaalteam-ede.example.org", "safety_plan": true,
        "parents_informed": true, "child_12_plus": false,
    });
    assert_eq!(
        app.post(&coordinator, "/api/v1/referrals", &body)
            .await
            .status()
            .as_u16(),
        201
    );
    app.replan().await;
    client.goto(&format!("{base}/board")).await.expect("board");
    client
        .find(Locator::Id("f-zaak"))
        .await
        .expect("search field")
        .send_keys("9-b1")
        .await
        .expect("type");
    client
        .find(Locator::Css("form.filters button[type=submit]"))
        .await
        .expect("show")
        .click()
        .await
        .expect("search");
    text_with(&client, "gefilterd").await;
    let queue = script(
        &client,
        "return [...document.querySelectorAll('.queue tbody tr td:first-child a')].map(a => a.textContent);",
    )
    .await;
    assert_eq!(queue, json!([formula]), "only the case searched for");
    let marked = script(
        &client,
        "return document.querySelectorAll('.slot.found').length;",
    )
    .await;
    assert_eq!(marked, json!(1), "marked on the board");

    // The export opens as a workbook; the formula-like reference is text.
    let encoded = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/board/planbord.xlsx', { credentials: 'same-origin' })
               .then(r => r.arrayBuffer())
               .then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); done(btoa(s)); });",
            vec![],
        )
        .await
        .expect("download");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_str().expect("base64"))
        .expect("bytes");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx that opens");
    use calamine::Reader;
    let queue = book.worksheet_range("Wachtrij").expect("the queue sheet");
    assert!(
        queue
            .rows()
            .any(|row| row[0] == calamine::Data::String(format!("'{formula}"))),
        "neutralised"
    );

    // Several tentative slots confirmed at once from the queue.
    client
        .goto(&format!("{base}/board?weeks=12"))
        .await
        .expect("board");
    let ticked = script(
        &client,
        "const boxes = [...document.querySelectorAll('.queue input[type=checkbox][name^=confirm_]')].slice(0, 2);
         boxes.forEach(b => b.click()); return boxes.length;",
    )
    .await;
    assert_eq!(ticked, json!(2), "the demo has tentative slots to confirm");
    client
        .find(Locator::Css("form[action='/board/bevestigen'] button"))
        .await
        .expect("confirm button")
        .click()
        .await
        .expect("confirm");
    let done = text_with(&client, "voorlopige plekken bevestigd").await;
    assert!(done.contains("2 voorlopige plekken bevestigd"), "{done}");

    // The explanation says what the state is: a booked one is booked.
    client
        .goto(&format!("{base}/referrals/{booked}"))
        .await
        .expect("referral");
    let page = text(&client).await;
    assert!(
        page.contains("De afspraak is bevestigd en blijft staan zoals geboekt"),
        "{page}"
    );

    // The new pages pass axe too: overview, a session's agenda, the trend.
    let today = app.state.now().format("%Y-%m-%d").to_string();
    for (path, name) in [
        ("/board?weergave=overzicht".to_string(), "overview"),
        (
            format!("/zitting?region=food-valley&datum={today}"),
            "agenda",
        ),
        (
            "/dashboard?van=2026-09-01".to_string(),
            "dashboard with trend",
        ),
    ] {
        client.goto(&format!("{base}{path}")).await.expect("page");
        assert_accessible(&client, &axe, name).await;
    }

    // On paper: no menu, no filters, the print line shown.
    client.goto(&format!("{base}/board")).await.expect("board");
    cdp(
        &driver,
        &client,
        "Emulation.setEmulatedMedia",
        json!({ "media": "print" }),
    )
    .await;
    let printed = script(
        &client,
        "return [getComputedStyle(document.querySelector('header.top')).display,
                 getComputedStyle(document.querySelector('form.filters')).display,
                 getComputedStyle(document.querySelector('.print-only')).display];",
    )
    .await;
    assert_eq!(printed, json!(["none", "none", "block"]));
    cdp(
        &driver,
        &client,
        "Emulation.setEmulatedMedia",
        json!({ "media": "" }),
    )
    .await;

    // At 320 px nothing scrolls sideways (tables scroll within themselves).
    cdp(
        &driver,
        &client,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    for path in [
        "/te-doen",
        "/board",
        "/dashboard",
        &format!("/referrals/{booked}"),
        "/inbox",
        "/account",
    ] {
        client.goto(&format!("{base}{path}")).await.expect("page");
        let widths = script(
            &client,
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
        )
        .await;
        let (scroll, client_width) = (widths[0].as_u64(), widths[1].as_u64());
        assert!(
            scroll <= client_width,
            "{path} scrolls sideways at 320 px: {widths}"
        );
    }
    client.close().await.expect("close");

    // The administrator's pages, with the audit log read and filtered.
    let admin = app.user(Role::Admin, None).await;
    let desk = browser(&driver, &profiles.path().join("admin")).await;
    login(&desk, &base, &admin.email, &admin.password).await;
    for (path, name) in [
        ("/admin", "users"),
        ("/admin/audit?actie=referral.move", "audit log"),
    ] {
        desk.goto(&format!("{base}{path}")).await.expect("page");
        assert_accessible(&desk, &axe, name).await;
    }
    let audit = text(&desk).await;
    assert!(
        audit.contains("met de hand verplaatst"),
        "the move in words: {audit}"
    );
    desk.close().await.expect("close");

    // The chair of FoodValley writes a report in the browser: the form,
    // then a sent version (axe on both).
    let held: i64 = sqlx::query_scalar(
        "SELECT r.id FROM referrals r JOIN slots s ON s.id = r.booked_slot_id
         WHERE r.status = 'held' AND s.region_id = 'food-valley'
           AND NOT EXISTS (SELECT 1 FROM reports p WHERE p.referral_id = r.id)
         ORDER BY s.start_at DESC LIMIT 1",
    )
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a held conversation without a report in the demo");
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let table = browser(&driver, &profiles.path().join("chair")).await;
    login(&table, &base, &chair.email, &chair.password).await;
    table
        .goto(&format!("{base}/referrals/{held}/verslag"))
        .await
        .expect("report page");
    assert_accessible(&table, &axe, "report draft form").await;
    table
        .find(Locator::Id("verslag-tekst"))
        .await
        .expect("text")
        .send_keys("Besproken en besloten: vrijwillige hulp.")
        .await
        .expect("type");
    table
        .find(Locator::Id("verslag-afspraken"))
        .await
        .expect("agreements")
        .send_keys("Wekelijks contact | ouders | 2027-01-15")
        .await
        .expect("type");
    table
        .find(Locator::Css("form[action$='/verslag'] button"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    text_with(&table, "Het concept is bewaard").await;
    table
        .find(Locator::Css("form[action$='/versturen'] button"))
        .await
        .expect("send")
        .click()
        .await
        .expect("send");
    let sent = text_with(&table, "vastgesteld en verstuurd").await;
    assert!(
        sent.contains("Versie 1") && sent.contains("Wekelijks contact"),
        "{sent}"
    );
    assert_accessible(&table, &axe, "report sent").await;
    table.close().await.expect("close");
}
