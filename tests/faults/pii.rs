//! Personal data: a busy day (registrations, refused registrations that
//! carry a BSN, a birth date or a name, offers accepted and declined,
//! bookings, a withdrawal and a cancellation with reasons, an outcome with
//! its notes, delay alerts, invitations, mails written out), then every
//! log line (at debug level for the service's own code, spans included)
//! and every mail (outbox rows and `.eml` files) is searched. Nothing but
//! case references may identify a family there: no BSN-like number, no
//! birth date, none of the names or notes typed into free-text fields,
//! and no professional's address outside the mails sent to them.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, Utc};
use jbt::auth::Role;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{json, StatusCode, TestApp, TestUser};
use crate::scan::personal_data;

/// Names and notes typed into free-text fields, each containing personal
/// data a human might type there.
const WITHDRAW_REASON: &str = "Gezin verhuisd; moeder Fatima Yilmaz, BSN 111222333";
const CANCEL_REASON: &str = "Vader Piet Dekker weigert elk contact";
const ROUTE: &str = "Via gezinsvoogd Annemiek Smits";
const HELP: &str = "Ouderbegeleiding voor Fatima, oma geboren 05-03-1961";
const SAFETY: &str = "Kind (geboren 2014-03-05) slaapt bij tante Joke Bakker";
/// What those notes give away; none of it may show up.
const CANARIES: [&str; 9] = [
    "Fatima",
    "Yilmaz",
    "Piet Dekker",
    "Annemiek",
    "Smits",
    "Joke Bakker",
    "weigert",
    "verhuisd",
    "gezinsvoogd",
];
/// The professional's address: personal data too, allowed only in the
/// mails that go to that professional.
/// Typed into a report, its safety agreements and a reaction: sealed at
/// rest, so never in the database file or a table in plain text.
const REPORT_CANARIES: [&str; 3] = [
    "Sanne de Vries logeert bij oom Kees",
    "Opa Henk Jansen haalt de kinderen",
    "Wij herkennen Sanne niet in dit verslag",
];
const REFERRER_EMAIL: &str = "w.de.graaf@sociaalteam-ede.example.org";

/// Log lines of this test binary, captured from tracing; `None` when
/// `TEST_LOG` had the helpers install their own subscriber first.
fn captured() -> Option<Arc<Mutex<Vec<u8>>>> {
    static LOGS: OnceLock<Option<Arc<Mutex<Vec<u8>>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let installed = tracing_subscriber::fmt()
            .with_env_filter("info,jbt=trace,tower_http=debug,sqlx=warn")
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::NEW)
            .with_ansi(false)
            .without_time()
            .with_writer(move || Capture(sink.clone()))
            .try_init();
        match installed {
            Ok(()) => Some(logs),
            Err(_) if std::env::var("TEST_LOG").is_ok() => None,
            Err(err) => panic!("another tracing subscriber was installed first: {err}"),
        }
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn registration(case_ref: &str, municipality: &str) -> Value {
    json!({
        "case_ref": case_ref,
        "municipality": municipality,
        "kind": "vtb",
        "referrer_kind": "local_team",
        "referrer_org": "Sociaal Team Ede",
        "referrer_email": REFERRER_EMAIL,
        "safety_plan": true,
        "parents_informed": true,
        "child_12_plus": false,
        "unavailable": ["2026-12-09"]
    })
}

async fn created(app: &TestApp, user: &TestUser, path: &str, body: &Value) -> Value {
    let response = app.post(user, path, body).await;
    let status = response.status();
    let body = json(response).await;
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

async fn register(app: &TestApp, user: &TestUser, case_ref: &str, municipality: &str) -> i64 {
    created(
        app,
        user,
        "/api/v1/referrals",
        &registration(case_ref, municipality),
    )
    .await["id"]
        .as_i64()
        .expect("id")
}

/// A booking; on PostgreSQL one colliding with a plan run in flight may be
/// refused as changed meanwhile, and the client tries again (as in
/// `offers.rs`).
async fn book(app: &TestApp, chair: &TestUser, referral: i64, slot: &str) {
    let body = json!({"referral_id": referral, "slot_id": slot});
    let mut refusals = Vec::new();
    for _ in 0..3 {
        let response = app.post(chair, "/api/v1/bookings", &body).await;
        if response.status() == StatusCode::CREATED {
            return;
        }
        refusals.push(json(response).await);
        app.replan().await;
    }
    panic!("booking refused: {refusals:?}");
}

/// The first free slot of a region after now: (id, start).
async fn free_slot(app: &TestApp, region: &str) -> (String, DateTime<Utc>) {
    let row = sqlx::query(
        "SELECT s.id, s.start_at FROM slots s
         WHERE s.region_id = $1 AND s.start_at > $2 AND s.minutes >= 90 AND s.cancelled_at IS NULL
           AND s.local_date <> '2026-12-09'
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.booked_slot_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.slot_id = s.id AND o.status = 'open')
         ORDER BY s.start_at, s.id LIMIT 1",
    )
    .bind(region)
    .bind(app.state.now().timestamp_millis())
    .fetch_one(&app.state.store.pool)
    .await
    .expect("a free slot");
    let start: i64 = row.try_get("start_at").expect("start");
    (
        row.try_get("id").expect("id"),
        DateTime::from_timestamp_millis(start).expect("instant"),
    )
}

/// Works the outbox off (no SMTP server: `.eml` files).
async fn drain(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        jbt::mail::worker::run_once(&app.state)
            .await
            .expect("worker round");
        let pending: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1",
        )
        .bind(app.state.now().timestamp_millis())
        .fetch_one(&app.state.store.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

crate::story!(logs_and_mails_of_a_busy_day_carry_no_personal_data, |app| {
    let logs = captured();
    let coordinator = app.user(Role::Coordinator, None).await;
    let referrer = app
        .user_named(Role::Referrer, Some("Sociaal Team Ede"), REFERRER_EMAIL)
        .await;
    let mut chairs = std::collections::HashMap::new();
    for region in &app.state.regions.regions {
        let id = region.id.as_str().to_string();
        chairs.insert(id.clone(), app.user(Role::Chair, Some(&id)).await);
    }

    // Refused: personal data where a case reference belongs, or in a field
    // that does not exist. The refusal must not write it anywhere either.
    for (case_ref, extra) in [
        ("123456782", None),
        ("kind-05-03-2014", None),
        ("ST-EDE-0001", Some(("child_name", "Fatima Yilmaz"))),
    ] {
        let mut body = registration(case_ref, "Ede");
        if let Some((field, value)) = extra {
            body[field] = json!(value);
        }
        let response = app.post(&referrer, "/api/v1/referrals", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case_ref}"
        );
    }

    // Centraal Gelderland cannot make the norm: offers and delay alerts.
    for date in [
        "2026-11-30",
        "2026-12-02",
        "2026-12-07",
        "2026-12-09",
        "2026-12-14",
    ] {
        let body =
            json!({"region": "centraal-gelderland", "date": date, "reason": "voorzitter ziek"});
        created(&app, &coordinator, "/api/v1/slots/sessions/cancel", &body).await;
    }
    let mut arnhem = Vec::new();
    for n in 0..6 {
        arnhem.push(register(&app, &referrer, &format!("PII-ARN-{n}"), "Arnhem").await);
    }
    let mut ede = Vec::new();
    for n in 0..4 {
        ede.push(register(&app, &referrer, &format!("PII-EDE-{n}"), "Ede").await);
    }
    app.replan().await;
    let offers = json(app.get(&coordinator, "/api/v1/offers?status=open").await).await;
    let offers = offers["items"].as_array().cloned().unwrap_or_default();
    assert!(offers.len() >= 2, "offers to answer: {offers:?}");
    for (n, offer) in offers.iter().take(2).enumerate() {
        let chair = &chairs[offer["to_region"]["id"].as_str().expect("region")];
        let id = offer["id"].as_i64().expect("id");
        if n == 0 {
            created(
                &app,
                chair,
                &format!("/api/v1/offers/{id}/accept"),
                &json!({}),
            )
            .await;
        } else {
            let body = json!({"reason": "Geen voorzitter beschikbaar"});
            created(&app, chair, &format!("/api/v1/offers/{id}/decline"), &body).await;
        }
    }
    app.replan().await;

    // Bookings with invitations; an edit; a withdrawal and a cancellation
    // with reasons; a held conversation with an outcome and its notes.
    let fv = &chairs["food-valley"];
    let mut booked = Vec::new();
    for id in &ede[..3] {
        let (slot, start) = free_slot(&app, "food-valley").await;
        book(&app, fv, *id, &slot).await;
        booked.push((*id, start));
    }
    let edit = app
        .patch(
            &referrer,
            &format!("/api/v1/referrals/{}", ede[3]),
            &json!({"unavailable": ["2026-12-10"]}),
        )
        .await;
    assert_eq!(edit.status(), StatusCode::OK);
    created(
        &app,
        &referrer,
        &format!("/api/v1/referrals/{}/withdraw", booked[0].0),
        &json!({"reason": WITHDRAW_REASON}),
    )
    .await;
    created(
        &app,
        fv,
        &format!("/api/v1/referrals/{}/cancel", booked[1].0),
        &json!({"reason": CANCEL_REASON}),
    )
    .await;
    let (held, start) = booked[2];
    app.clock.set(start + Span::hours(2));
    created(
        &app,
        fv,
        &format!("/api/v1/referrals/{held}/held"),
        &json!({}),
    )
    .await;
    let outcome = json!({
        "outcome": "voluntary_binding",
        "route": ROUTE,
        "help": HELP,
        "safety_agreements": SAFETY,
        "evaluation_date": "2027-03-01"
    });
    created(
        &app,
        fv,
        &format!("/api/v1/referrals/{held}/outcome"),
        &outcome,
    )
    .await;
    // Its report, with agreements and a reaction: case content at its most
    // sensitive.
    let report = json!({
        "text": REPORT_CANARIES[0],
        "agreements": [{ "what": REPORT_CANARIES[1], "who": "moeder", "by": null }],
        "participants": ["parents"],
        "professionals": [],
    });
    let path = format!("/api/v1/referrals/{held}/report");
    assert_eq!(app.put(fv, &path, &report).await.status(), StatusCode::OK);
    assert_eq!(
        app.post(fv, &format!("{path}/send"), &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let reaction = json!({ "from": "parents", "text": REPORT_CANARIES[2] });
    created(&app, &referrer, &format!("{path}/reactions"), &reaction).await;
    // Time passes: unanswered offers expire, the plan moves on, and every
    // mail is written out.
    jbt::offers::expire_due(&app.state).await.expect("expiry");
    app.replan().await;
    drain(&app).await;

    // The mails: the files written, then the outbox rows (read after the
    // files: plan runs still settling may add mail, never remove it).
    let dir = app.state.settings.data_dir.join("mail");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("mail dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).expect("eml"))
        .collect();
    let rows =
        sqlx::query("SELECT message_id, recipient, subject, body_text, body_html, ics FROM outbox")
            .fetch_all(&app.state.store.pool)
            .await
            .expect("outbox");
    assert!(rows.len() >= 10, "a busy day sends mail: {}", rows.len());
    let mut mail_text = Vec::new();
    let mut not_to_referrer = Vec::new();
    let mut message_ids = std::collections::HashSet::new();
    for row in &rows {
        let recipient: String = row.try_get("recipient").expect("recipient");
        message_ids.insert(format!(
            "Message-ID: <{}@127.0.0.1>",
            row.try_get::<String, _>("message_id").expect("message id")
        ));
        let mut text = vec![
            row.try_get::<String, _>("subject").expect("subject"),
            row.try_get::<String, _>("body_text").expect("text"),
            row.try_get::<String, _>("body_html").expect("html"),
        ];
        text.extend(row.try_get::<Option<String>, _>("ics").expect("ics"));
        if recipient != REFERRER_EMAIL {
            not_to_referrer.extend(text.iter().cloned());
        }
        mail_text.extend(text);
    }
    assert!(!files.is_empty());
    for file in &files {
        assert!(
            file.lines().any(|l| message_ids.contains(l.trim())),
            "a written mail that is not in the outbox: {}",
            file.lines().take(10).collect::<Vec<_>>().join("\n")
        );
    }
    let kinds: Vec<String> = sqlx::query("SELECT DISTINCT kind FROM outbox ORDER BY kind")
        .fetch_all(&app.state.store.pool)
        .await
        .expect("kinds")
        .iter()
        .map(|r| r.try_get("kind").expect("kind"))
        .collect();
    for kind in [
        "delay_alert",
        "invitation",
        "offer",
        "offer_accepted",
        "offer_declined",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} mail among {kinds:?}"
        );
    }
    // Encoded parts are decoded so nothing hides in quoted-printable.
    let eml_lines: Vec<String> = files.iter().flat_map(|f| decoded_lines(f)).collect();
    let mail_lines: Vec<&str> = mail_text
        .iter()
        .flat_map(|t| t.lines())
        .chain(eml_lines.iter().map(String::as_str))
        .collect();
    let mut canaries: Vec<&str> = CANARIES.to_vec();
    canaries.extend(REPORT_CANARIES);
    let findings = personal_data(mail_lines, &canaries);
    assert!(findings.is_empty(), "personal data in mails: {findings:#?}");
    let leaked: Vec<&String> = not_to_referrer
        .iter()
        .filter(|t| t.contains(REFERRER_EMAIL))
        .collect();
    assert!(
        leaked.is_empty(),
        "the professional's address in mails to others: {leaked:#?}"
    );

    database_holds_no_report_text(&app).await;

    // The logs.
    if let Some(logs) = logs {
        let text =
            String::from_utf8_lossy(&logs.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.iter().any(|l| l.contains("/api/v1/referrals")),
            "the capture sees the service's logs ({} lines)",
            lines.len()
        );
        let mut words: Vec<&str> = canaries.clone();
        words.push(REFERRER_EMAIL);
        let findings = personal_data(lines.iter().copied(), &words);
        assert!(findings.is_empty(), "personal data in logs: {findings:#?}");
        eprintln!(
            "pii: scanned {} log lines and {} mails ({})",
            lines.len(),
            rows.len(),
            kinds.join(", ")
        );
    } else {
        eprintln!("pii: logs not scanned: TEST_LOG shows them instead");
    }
});

/// Every text column of every table of the test's database, and for
/// SQLite the database file and its write-ahead log as bytes: none may
/// hold a report canary in plain text.
async fn database_holds_no_report_text(app: &TestApp) {
    let url = app.state.settings.database_url.expose().to_string();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        for file in [path.to_string(), format!("{path}-wal")] {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for canary in REPORT_CANARIES {
                let found = bytes.windows(canary.len()).any(|w| w == canary.as_bytes());
                assert!(!found, "{canary:?} in plain text in {file}");
            }
        }
    }
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND p.type = 'TEXT'",
    )
    .fetch_all(&app.state.store.pool)
    .await
    .or(sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')",
    )
    .fetch_all(&app.state.store.pool)
    .await)
    .expect("the text columns");
    assert!(columns.iter().any(|(t, _)| t == "reports"), "{columns:?}");
    for (table, column) in &columns {
        for canary in REPORT_CANARIES {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"
            ))
            .bind(format!("%{canary}%"))
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count");
            assert_eq!(n, 0, "{canary:?} in plain text in {table}.{column}");
        }
    }
}

/// The lines of an `.eml` file with soft line breaks joined and
/// quoted-printable and base64 parts decoded.
fn decoded_lines(eml: &str) -> Vec<String> {
    use base64::Engine as _;
    let text = eml.replace("\r\n", "\n");
    let mut out: Vec<String> = text.lines().map(String::from).collect();
    // Quoted-printable: undo soft breaks and =XX escapes.
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut qp = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                qp.push(b);
                i += 3;
            }
            (c, _) => {
                qp.push(c);
                i += 1;
            }
        }
    }
    out.extend(String::from_utf8_lossy(&qp).lines().map(String::from));
    // Base64 blocks: runs of lines of the base64 alphabet.
    let mut block = String::new();
    for line in text.lines().chain(std::iter::once("")) {
        let is_b64 = line.len() >= 16
            && line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if is_b64 {
            block.push_str(line);
        } else if !block.is_empty() {
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(&block) {
                out.extend(String::from_utf8_lossy(&decoded).lines().map(String::from));
            }
            block.clear();
        }
    }
    out
}
