//! End to end in a real browser: headless Chromium driven over WebDriver
//! (chromedriver + fantoccini), against the service with the demo data.
//!
//! Covers what a person does: the coordinator logs in and sees the board;
//! a chair accepts an offer in the inbox and sees it booked on the board;
//! a chair cannot open another region's referral; logout ends the session.
//! On each main page axe-core must find no serious or critical
//! accessibility violation. The screenshots in `docs/screenshots/` are
//! written by this test, so they show the pages as they are.
//!
//! Needs `/usr/bin/chromium`, `/usr/bin/chromedriver` and axe-core
//! (`npm install --prefix target/e2e axe-core@4`); `.ci/run` installs them.
//! Without them the test is skipped, unless `JBT_REQUIRE_E2E=1` (CI).

#[allow(dead_code, unused_imports)]
#[path = "api/helpers.rs"]
mod helpers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use helpers::{spawn_app, Db, TestApp};
use jbt::auth::Role;
use serde_json::{json, Value};
use sqlx::Row;

#[path = "e2e/advice.rs"]
mod advice;
#[path = "e2e/after.rs"]
mod after;
#[path = "e2e/professional.rs"]
mod professional;
#[path = "e2e/working_day.rs"]
mod working_day;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn axe_path() -> PathBuf {
    std::env::var_os("JBT_AXE_JS").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/e2e/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    )
}

/// Whether the browser tools are here; with `JBT_REQUIRE_E2E=1` their
/// absence fails the test instead of skipping it.
fn tools_present() -> bool {
    let missing: Vec<String> = [
        PathBuf::from(CHROMIUM),
        PathBuf::from(CHROMEDRIVER),
        axe_path(),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("JBT_REQUIRE_E2E").as_deref() != Ok("1"),
        "JBT_REQUIRE_E2E=1 but missing: {missing:?}"
    );
    eprintln!("skipped: missing {missing:?}");
    false
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    // Owned by `Driver` at once, so every path below kills and reaps it.
    let driver = Driver {
        child: Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
        port,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000", "--lang=nl-NL",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// What a browser test starts from: axe-core, a fresh app (SQLite) reached
/// as `localhost`, chromedriver and a folder for browser profiles.
struct Stage {
    axe: String,
    app: TestApp,
    base: String,
    driver: Driver,
    profiles: tempfile::TempDir,
}

/// The [`Stage`]; `None` (the test is skipped) without the browser tools.
async fn stage() -> Option<Stage> {
    if !tools_present() {
        return None;
    }
    let app = spawn_app(Db::Sqlite).await;
    Some(Stage {
        axe: std::fs::read_to_string(axe_path()).expect("axe-core"),
        base: app.address.replace("127.0.0.1", "localhost"),
        app,
        driver: start_driver().await,
        profiles: tempfile::tempdir().expect("profiles"),
    })
}

/// The app with the demo data, planned, reached as `localhost` (a secure
/// context for the browser, so the `__Host-` cookie is accepted over http).
async fn demo_app() -> (TestApp, String) {
    let app = spawn_app(Db::Sqlite).await;
    jbt::demo::seed(&app.state).await.expect("demo data");
    jbt::jobs::replan_now(&app.state, "e2e")
        .await
        .expect("plan");
    let base = app.address.replace("127.0.0.1", "localhost");
    (app, base)
}

/// Clicks the element `css` finds.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Types `value` into the element `css` finds.
async fn type_into(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(value)
        .await
        .expect("type");
}

/// Plans now, as the service would after a change.
async fn replan(app: &TestApp) {
    jbt::jobs::replan_now(&app.state, "e2e")
        .await
        .expect("plan");
}

async fn login(client: &Client, base: &str, email: &str, password: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");
    client
        .find(Locator::Id("email"))
        .await
        .expect("email")
        .send_keys(email)
        .await
        .expect("type");
    client
        .find(Locator::Id("password"))
        .await
        .expect("password")
        .send_keys(password)
        .await
        .expect("type");
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    wait_for_path_not(client, "/login").await;
}

async fn wait_for_path_not(client: &Client, path: &str) {
    for _ in 0..50 {
        let url = client.current_url().await.expect("url");
        if url.path() != path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let source = client.source().await.unwrap_or_default();
    panic!("still on {path}: {source}");
}

/// The page's text once it contains `wanted` (or after five seconds).
async fn text_with(client: &Client, wanted: &str) -> String {
    let mut page = String::new();
    for _ in 0..50 {
        page = text(client).await;
        if page.contains(wanted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    page
}

/// The page's text; waits out a page still being replaced (after a form
/// post and its redirect the old body goes stale).
async fn text(client: &Client) -> String {
    let mut last = None;
    for _ in 0..50 {
        match client.find(Locator::Css("body")).await {
            Ok(body) => match body.text().await {
                Ok(text) => return text,
                Err(err) => last = Some(err),
            },
            Err(err) => last = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no page text: {last:?}");
}

/// Runs axe-core on the current page; panics on any violation (of any
/// impact), listing them.
async fn assert_accessible(client: &Client, axe: &str, page: &str) {
    client.execute(axe, vec![]).await.expect("inject axe-core");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
                .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }))))
                .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: 0 }]));",
            vec![],
        )
        .await
        .expect("axe.run");
    let violations: Vec<&Value> = result.as_array().expect("violations").iter().collect();
    assert!(
        violations.is_empty(),
        "{page}: accessibility violations {violations:#?}"
    );
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// An open offer of the demo data: (offer id, case reference, receiving region).
async fn an_open_offer(app: &TestApp) -> (i64, String, String) {
    let row = sqlx::query(
        "SELECT o.id, r.case_ref, o.to_region FROM offers o JOIN referrals r ON r.id = o.referral_id
         WHERE o.status = 'open' ORDER BY o.id LIMIT 1",
    )
    .fetch_one(&app.state.store.pool)
    .await
    .expect("the demo data has open offers");
    (
        row.try_get("id").expect("id"),
        row.try_get("case_ref").expect("case_ref"),
        row.try_get("to_region").expect("to_region"),
    )
}

/// A referral whose home is not `region` and that is not booked there.
async fn referral_elsewhere(app: &TestApp, region: &str) -> i64 {
    sqlx::query(
        "SELECT r.id FROM referrals r LEFT JOIN slots s ON s.id = r.booked_slot_id
         WHERE r.region_id <> $1 AND (s.region_id IS NULL OR s.region_id <> $1) ORDER BY r.id LIMIT 1",
    )
    .bind(region)
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a referral of another region")
    .try_get("id")
    .expect("id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_and_a_chair_work_through_the_browser() {
    if !tools_present() {
        return;
    }
    let axe = std::fs::read_to_string(axe_path()).expect("axe-core");
    let (app, base) = demo_app().await;
    let driver = start_driver().await;
    let profiles = tempfile::tempdir().expect("profiles");

    // The coordinator sees the board with the demo data.
    let coordinator = app.user(Role::Coordinator, None).await;
    let client = browser(&driver, &profiles.path().join("coordinator")).await;
    client.goto(&format!("{base}/")).await.expect("home");
    assert_eq!(client.current_url().await.expect("url").path(), "/login");
    assert_accessible(&client, &axe, "login").await;
    login(&client, &base, &coordinator.email, &coordinator.password).await;
    assert_eq!(client.current_url().await.expect("url").path(), "/board");
    let board = text(&client).await;
    for expected in [
        "Planbord",
        "FoodValley",
        "Centraal Gelderland",
        "geboekt",
        "Wachtrij",
    ] {
        assert!(board.contains(expected), "board lacks {expected:?}");
    }
    assert_accessible(&client, &axe, "board").await;
    screenshot(&client, "board").await;
    client
        .goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    assert!(text(&client).await.contains("Verwachte wachttijd"));
    assert_accessible(&client, &axe, "dashboard").await;
    screenshot(&client, "dashboard").await;

    // A chair accepts an offer and sees it booked on the board; the
    // coordinator's board, open meanwhile, picks it up by itself.
    let (offer, case_ref, region) = an_open_offer(&app).await;
    client
        .goto(&format!("{base}/board?weeks=12"))
        .await
        .expect("board");
    let chip = format!("//a[text()='{case_ref}']/ancestor::li[1]");
    let before = client
        .find(Locator::XPath(&chip))
        .await
        .expect("the offered case on the coordinator's board")
        .attr("class")
        .await
        .expect("class")
        .unwrap_or_default();
    assert!(before.contains("s-offered"), "{before}");
    let chair = app.user(Role::Chair, Some(&region)).await;
    let chair_client = browser(&driver, &profiles.path().join("chair")).await;
    login(&chair_client, &base, &chair.email, &chair.password).await;
    chair_client
        .goto(&format!("{base}/inbox"))
        .await
        .expect("inbox");
    let inbox = text(&chair_client).await;
    assert!(
        inbox.contains(&case_ref),
        "inbox lacks the offer {case_ref}"
    );
    assert_accessible(&chair_client, &axe, "inbox").await;
    screenshot(&chair_client, "inbox").await;
    // Accepting asks for confirmation: without the box ticked nothing is sent.
    let accept = chair_client
        .find(Locator::Css(&format!(
            "form[action='/inbox/{offer}/accept'] button"
        )))
        .await
        .expect("accept button");
    accept.click().await.expect("accept unticked");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        chair_client.current_url().await.expect("url").path(),
        "/inbox"
    );
    assert!(!text(&chair_client)
        .await
        .contains("Aanbieding geaccepteerd"));
    chair_client
        .find(Locator::Id(&format!("zeker-{offer}")))
        .await
        .expect("confirmation box")
        .click()
        .await
        .expect("tick");
    accept.click().await.expect("accept");
    let answered = text_with(&chair_client, "Aanbieding geaccepteerd").await;
    assert!(answered.contains("Aanbieding geaccepteerd"), "{answered}");
    chair_client
        .goto(&format!("{base}/board?weeks=12"))
        .await
        .expect("board");
    let booked = chair_client
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'s-booked')][.//a[text()='{case_ref}']]"
        )))
        .await;
    assert!(
        booked.is_ok(),
        "{case_ref} is not shown as booked on the chair's board"
    );

    // No reload: the board script swaps in the new board within seconds.
    let mut refreshed = String::new();
    for _ in 0..60 {
        if let Ok(element) = client.find(Locator::XPath(&chip)).await {
            refreshed = element
                .attr("class")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            if refreshed.contains("s-booked") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        refreshed.contains("s-booked"),
        "the open board did not refresh: {refreshed}"
    );

    // A chair cannot open another region's referral.
    let foreign = referral_elsewhere(&app, &region).await;
    chair_client
        .goto(&format!("{base}/referrals/{foreign}"))
        .await
        .expect("page");
    let refused = text(&chair_client).await;
    assert!(refused.contains("Niet gevonden"), "{refused}");

    // Logout ends the session: the board sends back to the login page.
    chair_client
        .goto(&format!("{base}/inbox"))
        .await
        .expect("inbox");
    chair_client
        .find(Locator::Css("form.logout button"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("logout");
    // Let the logout finish first: a navigation started while its POST is
    // still in flight can cut it off (seen once in CI).
    wait_for_path_not(&chair_client, "/inbox").await;
    chair_client
        .goto(&format!("{base}/board"))
        .await
        .expect("board");
    assert_eq!(
        chair_client.current_url().await.expect("url").path(),
        "/login"
    );

    // An admin deactivates the chair, who had logged in again: the chair's
    // open browser is sent to the login page at the next step.
    login(&chair_client, &base, &chair.email, &chair.password).await;
    let admin = app.user(Role::Admin, None).await;
    let admin_client = browser(&driver, &profiles.path().join("admin")).await;
    login(&admin_client, &base, &admin.email, &admin.password).await;
    assert_eq!(
        admin_client.current_url().await.expect("url").path(),
        "/admin"
    );
    assert_accessible(&admin_client, &axe, "admin").await;
    admin_client
        .find(Locator::Css(&format!(
            "button[aria-label='{} deactiveren']",
            chair.email
        )))
        .await
        .expect("deactivate button")
        .click()
        .await
        .expect("deactivate");
    let reactivate = format!("button[aria-label='{} weer activeren']", chair.email);
    admin_client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&reactivate))
        .await
        .expect("the chair is now inactive");
    chair_client
        .goto(&format!("{base}/inbox"))
        .await
        .expect("inbox");
    assert_eq!(
        chair_client.current_url().await.expect("url").path(),
        "/login"
    );

    admin_client.close().await.expect("close");
    chair_client.close().await.expect("close");
    client.close().await.expect("close");
    app.stop().await;
}

/// Types `value` into the field with id `id` and submits its form.
async fn fill_and_submit(client: &Client, id: &str, value: &str) {
    let field = client.find(Locator::Id(id)).await.expect("field");
    field.send_keys(value).await.expect("type");
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chair_enrols_a_second_factor_and_signs_in_with_a_code() {
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
    let chair = app.user(Role::Chair, Some("food-valley")).await;
    let client = browser(&driver, &profiles.path().join("chair")).await;
    login(&client, &base, &chair.email, &chair.password).await;

    // Mijn account -> Instellen: a QR code and the key to type over.
    client
        .goto(&format!("{base}/account"))
        .await
        .expect("account");
    assert!(text(&client).await.contains("niet ingesteld"));
    assert_accessible(&client, &axe, "account").await;
    client
        .find(Locator::LinkText("Instellen"))
        .await
        .expect("the enrol link")
        .click()
        .await
        .expect("click");
    wait_for_path_not(&client, "/account").await;
    assert_accessible(&client, &axe, "second factor").await;
    let secret = client
        .find(Locator::Id("totp-secret"))
        .await
        .expect("the key")
        .text()
        .await
        .expect("text");
    let code_now = |app: &TestApp| {
        let now = u64::try_from(app.state.now().timestamp()).expect("after 1970");
        jbt::auth::second_factor::code_at(&secret, now).expect("a code")
    };
    fill_and_submit(&client, "code", &code_now(&app)).await;
    assert!(text_with(&client, "ingesteld")
        .await
        .contains("De tweede factor is ingesteld"));

    // Logged out and in again: the password alone is not enough.
    client
        .find(Locator::Css("form.logout button"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("logout");
    wait_for_path_not(&client, "/account").await;
    app.clock.advance(chrono::Duration::seconds(30));
    login(&client, &base, &chair.email, &chair.password).await;
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/login/code"
    );
    assert_accessible(&client, &axe, "code").await;
    fill_and_submit(&client, "code", &code_now(&app)).await;
    wait_for_path_not(&client, "/login/code").await;
    assert_eq!(client.current_url().await.expect("url").path(), "/board");

    client.close().await.expect("close");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referrer_registers_a_family_through_the_form() {
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
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/mijn-aanmeldingen"
    );
    assert_accessible(&client, &axe, "mine (empty)").await;

    client
        .goto(&format!("{base}/aanmelden"))
        .await
        .expect("form");
    assert_accessible(&client, &axe, "register").await;
    screenshot(&client, "register").await;
    // The browser itself asks for the required fields; the server checks
    // the rest: an earliest date in the past comes back with the input
    // kept and the Dutch message at the field and in the summary.
    client
        .find(Locator::Css("#municipality option[value='GM0228']"))
        .await
        .expect("Ede")
        .click()
        .await
        .expect("choose");
    for box_id in ["safety_plan", "parents_informed"] {
        client
            .find(Locator::Id(box_id))
            .await
            .expect("box")
            .click()
            .await
            .expect("check");
    }
    client
        .execute(
            "document.getElementById('earliest').value = '2020-01-06';",
            vec![],
        )
        .await
        .expect("a past date");
    client
        .find(Locator::Css("form.register button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    let refused = text_with(&client, "Controleer de invoer").await;
    assert!(refused.contains("Controleer de invoer"), "{refused}");
    let kept = client
        .execute(
            "return [document.getElementById('municipality').value, document.getElementById('safety_plan').checked,
                     document.getElementById('earliest').value];",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        kept,
        serde_json::json!(["GM0228", true, "2020-01-06"]),
        "the input is kept"
    );
    // Each message stands next to its field too, and the field points to it.
    let unlinked = client
        .execute(
            "const errors = [...document.querySelectorAll('.field-error')];
             const described = [...document.querySelectorAll('[aria-describedby]')]
               .flatMap(e => e.getAttribute('aria-describedby').split(' '));
             return [errors.map(e => e.id), errors.filter(e => !described.includes(e.id)).map(e => e.id)];",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        unlinked[0],
        serde_json::json!(["earliest-fout"]),
        "the message at the field"
    );
    assert_eq!(
        unlinked[1],
        serde_json::json!([]),
        "every message is tied to its field"
    );
    assert_accessible(&client, &axe, "register with problems").await;
    client
        .execute("document.getElementById('earliest').value = '';", vec![])
        .await
        .expect("clear");
    client
        .find(Locator::Css("form.register button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    let page = text_with(&client, "De aanmelding is ontvangen").await;
    assert!(page.contains("JBT-"), "{page}");
    assert!(client
        .current_url()
        .await
        .expect("url")
        .path()
        .starts_with("/referrals/"));
    assert_accessible(&client, &axe, "referral for the referrer").await;
    client
        .goto(&format!("{base}/mijn-aanmeldingen"))
        .await
        .expect("mine");
    assert!(text(&client).await.contains("JBT-"));
    assert_accessible(&client, &axe, "mine").await;
    client.close().await.expect("close");
    app.stop().await;
}
