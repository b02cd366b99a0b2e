//! Crash: `kill -9` of the real server while 200 writes are in flight
//! (registrations, confirmed bookings, offer acceptances), then a restart
//! on the same database. Every write that was answered 2xx is there, once
//! and whole; every other one either happened whole or not at all, and a
//! retry completes it; on SQLite `PRAGMA integrity_check` says ok.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jbt::config::{RegionId, RegionsConfig};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Row};

use crate::helpers::Db;
use crate::server::{Instance, Server};

/// Writes fired at once.
const WRITES: usize = 200;
/// The server is killed once this many have been answered: well into the
/// burst, with most of it still in flight.
const KILL_AFTER: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    crash_mid_flight(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(db) = Db::postgres() else { return };
    crash_mid_flight(db).await;
}

/// A client of one server with one user's token.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(server: &Server, token: &str) -> Api {
        Api {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            base: server.base.clone(),
            token: token.to_string(),
        }
    }

    fn as_user(&self, token: &str) -> Api {
        Api {
            token: token.to_string(),
            ..self.clone()
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> reqwest::Result<(StatusCode, Value, bool)> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            replayed,
        ))
    }

    async fn post_ok(&self, path: &str, body: &Value) -> Value {
        let (status, answer, _) = self.post(path, body, None).await.expect("POST");
        assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
        answer
    }
}

fn registration(case_ref: &str, municipality: &str) -> Value {
    json!({
        "case_ref": case_ref,
        "municipality": municipality,
        "kind": "vtb",
        "referrer_kind": "local_team",
        "referrer_org": "Sociaal Team",
        "referrer_email": "professional@sociaalteam.example.org",
        "safety_plan": true,
        "parents_informed": true,
        "child_12_plus": false
    })
}

/// One write of the burst.
#[derive(Debug, Clone)]
enum Write {
    Register {
        case_ref: String,
        municipality: String,
    },
    Book {
        referral: i64,
        slot: String,
    },
    Accept {
        offer: i64,
        chair: String,
    },
}

impl Write {
    fn key(&self, n: usize) -> String {
        format!("crash-{n}")
    }
}

/// What the client saw: an answer, or the connection failing under it.
#[derive(Debug)]
enum Seen {
    Answer(StatusCode, Value),
    Lost,
}

async fn wait_for_slots(api: &Api, region: &str) -> Vec<Value> {
    for _ in 0..600 {
        let slots = api
            .get(&format!("/api/v1/slots?region={region}&weeks=8"))
            .await;
        let slots = slots.as_array().cloned().unwrap_or_default();
        if !slots.is_empty() {
            return slots;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no slots for {region}: the start-up slot job did not run");
}

async fn crash_mid_flight(db: Db) {
    let regions = RegionsConfig::builtin().expect("regions");
    let instance = Instance::new(&db, "crash").await;
    let coordinator = instance.user_add("coordinator", None, "coordinator@example.org");
    let mut server = instance.start();
    let api = Api::new(&server, &coordinator);

    // Centraal Gelderland loses its sessions of the next weeks, so referrals
    // from Arnhem are offered to neighbouring tables.
    let home_slots = wait_for_slots(&api, "centraal-gelderland").await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
        .to_string();
    let dates: BTreeSet<String> = home_slots
        .iter()
        .filter_map(|s| s["date"].as_str().map(String::from))
        .filter(|d| *d > today)
        .take(8)
        .collect();
    for date in &dates {
        api.post_ok(
            "/api/v1/slots/sessions/cancel",
            &json!({"region": "centraal-gelderland", "date": date, "reason": "test"}),
        )
        .await;
    }
    for n in 0..20 {
        api.post_ok(
            "/api/v1/referrals",
            &registration(&format!("CRASH-ARN-{n:02}"), "Arnhem"),
        )
        .await;
    }
    api.post_ok("/api/v1/plan/run", &json!({})).await;
    let offers = api.get("/api/v1/offers?status=open").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!offers.is_empty(), "no offers to accept");
    let mut chairs: HashMap<String, String> = HashMap::new();
    for offer in &offers {
        let to = offer["to_region"]["id"]
            .as_str()
            .expect("region")
            .to_string();
        if let std::collections::hash_map::Entry::Vacant(entry) = chairs.entry(to.clone()) {
            entry.insert(instance.user_add("chair", Some(&to), &format!("chair@{to}.example.org")));
        }
    }

    // Referrals from Ede to book, and slots of FoodValley and its
    // neighbours for them: most to one slot each, some two to a slot.
    let mut to_book = Vec::new();
    for n in 0..60 {
        let referral = api
            .post_ok(
                "/api/v1/referrals",
                &registration(&format!("CRASH-EDE-{n:02}"), "Ede"),
            )
            .await;
        to_book.push(referral["id"].as_i64().expect("id"));
    }
    let offered: BTreeSet<&str> = offers
        .iter()
        .filter_map(|o| o["slot"]["id"].as_str())
        .collect();
    let home = regions
        .region(&RegionId::parse("food-valley").expect("id"))
        .expect("FoodValley");
    let mut free = Vec::new();
    for region in std::iter::once(&home.id).chain(home.neighbours.iter()) {
        let slots = api
            .get(&format!("/api/v1/slots?region={}&weeks=8", region.as_str()))
            .await;
        for slot in slots.as_array().into_iter().flatten() {
            let id = slot["id"].as_str().unwrap_or_default();
            let usable = matches!(slot["state"].as_str(), Some("free" | "tentative"))
                && slot["minutes"].as_i64().unwrap_or(0) >= 90
                && slot["date"].as_str().unwrap_or_default() > today.as_str()
                && !offered.contains(id);
            if usable {
                free.push(id.to_string());
            }
        }
    }
    assert!(free.len() >= 50, "only {} free slots", free.len());

    let municipalities: Vec<String> = regions
        .regions
        .iter()
        .flat_map(|r| r.municipalities.iter().map(|m| m.name.clone()))
        .collect();
    let mut writes = Vec::new();
    for (n, referral) in to_book.iter().enumerate() {
        // 40 alone in their slot, 20 in pairs.
        let slot = if n < 40 {
            &free[n]
        } else {
            &free[40 + (n - 40) / 2]
        };
        writes.push(Write::Book {
            referral: *referral,
            slot: slot.clone(),
        });
    }
    for offer in &offers {
        let to = offer["to_region"]["id"].as_str().expect("region");
        writes.push(Write::Accept {
            offer: offer["id"].as_i64().expect("id"),
            chair: chairs[to].clone(),
        });
    }
    let mut n = 0;
    while writes.len() < WRITES {
        writes.push(Write::Register {
            case_ref: format!("CRASH-NEW-{n:03}"),
            municipality: municipalities[n % municipalities.len()].clone(),
        });
        n += 1;
    }
    writes.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(6));

    // The burst, and SIGKILL in the middle of it.
    let answered = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    for (n, write) in writes.iter().cloned().enumerate() {
        let api = api.clone();
        let answered = answered.clone();
        let enough = enough.clone();
        tasks.spawn(async move {
            let key = write.key(n);
            let result = match &write {
                Write::Register {
                    case_ref,
                    municipality,
                } => {
                    api.post(
                        "/api/v1/referrals",
                        &registration(case_ref, municipality),
                        Some(&key),
                    )
                    .await
                }
                Write::Book { referral, slot } => {
                    let body = json!({"referral_id": referral, "slot_id": slot});
                    api.post("/api/v1/bookings", &body, Some(&key)).await
                }
                Write::Accept { offer, chair } => {
                    api.as_user(chair)
                        .post(
                            &format!("/api/v1/offers/{offer}/accept"),
                            &json!({}),
                            Some(&key),
                        )
                        .await
                }
            };
            let seen = match result {
                Ok((status, body, _)) => {
                    if answered.fetch_add(1, Ordering::SeqCst) + 1 >= KILL_AFTER {
                        enough.notify_one();
                    }
                    Seen::Answer(status, body)
                }
                Err(_) => Seen::Lost,
            };
            (n, seen)
        });
    }
    tokio::time::timeout(Duration::from_secs(120), enough.notified())
        .await
        .expect("the first answers of the burst");
    server.kill_9();
    let in_flight_at_kill = WRITES - answered.load(Ordering::SeqCst);
    let mut seen: Vec<(usize, Seen)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        seen.push(done.expect("write task"));
    }
    seen.sort_by_key(|(n, _)| *n);
    let lost = seen.iter().filter(|(_, s)| matches!(s, Seen::Lost)).count();
    // Before the kill: no internal errors. (A 503 is allowed: under this
    // burst a slow machine may time out waiting for a connection, which
    // is load shedding, not a fault; such writes count as not confirmed.)
    let internal: Vec<&(usize, Seen)> = seen
        .iter()
        .filter(|(_, s)| {
            matches!(s, Seen::Answer(status, _)
                if status.is_server_error() && *status != StatusCode::SERVICE_UNAVAILABLE)
        })
        .collect();
    assert!(internal.is_empty(), "no 500s before the kill: {internal:?}");
    assert!(
        lost > 0 && in_flight_at_kill > 0,
        "the kill must hit writes in flight (lost {lost})"
    );
    eprintln!(
        "crash: {} answered before the kill, {lost} lost with the connection",
        WRITES - lost
    );

    // The files survive SIGKILL intact.
    if let Some(file) = instance.sqlite_file() {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("open the SQLite file");
        let integrity: Vec<String> = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .expect("integrity_check")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        assert_eq!(integrity, vec!["ok".to_string()]);
        let orphans = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut conn)
            .await
            .expect("foreign_key_check");
        assert!(
            orphans.is_empty(),
            "{} rows break a foreign key",
            orphans.len()
        );
        conn.close().await.expect("close");
    }

    let mut logs = server.logs();
    let server = instance.start();
    let api = Api::new(&server, &coordinator);
    check_after_restart(&instance, &api, &writes, &seen).await;

    // And it goes on serving, planning included.
    api.post_ok("/api/v1/referrals", &registration("CRASH-AFTER-1", "Ede"))
        .await;
    api.post_ok("/api/v1/plan/run", &json!({})).await;
    logs.extend(server.logs());
    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");

    // What the operator collects from the two processes names no
    // professional and nothing that looks like a BSN or a birth date.
    assert!(logs.iter().any(|l| l.contains("plan run")), "logs captured");
    let findings = crate::scan::personal_data(
        logs.iter().map(String::as_str),
        &["professional@sociaalteam.example.org"],
    );
    assert!(
        findings.is_empty(),
        "personal data in the logs: {findings:#?}"
    );
}

async fn count(pool: &sqlx::AnyPool, sql: &str) -> Vec<i64> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect()
}

async fn check_after_restart(
    instance: &Instance,
    api: &Api,
    writes: &[Write],
    seen: &[(usize, Seen)],
) {
    let url = jbt::store::DatabaseUrl::parse(&instance.database_url).expect("url");
    let store = jbt::store::Store::connect(&url, 2).await.expect("database");
    let pool = &store.pool;

    // Nothing doubled, nothing half written.
    assert_eq!(
        count(pool, "SELECT COUNT(*) FROM (SELECT case_ref FROM referrals GROUP BY case_ref HAVING COUNT(*) > 1) d").await,
        vec![0],
        "a case reference registered twice"
    );
    assert_eq!(
        count(pool, "SELECT COUNT(*) FROM (SELECT booked_slot_id FROM referrals WHERE booked_slot_id IS NOT NULL GROUP BY booked_slot_id HAVING COUNT(*) > 1) d").await,
        vec![0],
        "a slot booked twice"
    );
    let half_written = [
        // A referral without the audit row of its registration.
        "SELECT r.id FROM referrals r WHERE NOT EXISTS
           (SELECT 1 FROM audit_log a WHERE a.referral_id = r.id AND a.action = 'referral.create' AND a.result = 'ok')",
        // Booked without a slot, or a slot without being booked.
        "SELECT id FROM referrals WHERE status = 'booked' AND booked_slot_id IS NULL",
        "SELECT id FROM referrals WHERE status IN ('registered', 'incomplete', 'planned') AND booked_slot_id IS NOT NULL",
        "SELECT id FROM referrals WHERE booked_slot_id IS NOT NULL AND planned_slot_id IS NOT NULL",
        // A booking without its audit row or its calendar invitations,
        // which are written in the booking's transaction.
        "SELECT r.id FROM referrals r WHERE r.status = 'booked' AND NOT EXISTS
           (SELECT 1 FROM audit_log a WHERE a.referral_id = r.id AND a.result = 'ok'
              AND a.action IN ('referral.confirm', 'offer.accept'))",
        "SELECT r.id FROM referrals r WHERE r.status = 'booked' AND NOT EXISTS
           (SELECT 1 FROM outbox o WHERE o.referral_id = r.id AND o.kind = 'invitation')",
        // An accepted offer whose referral is not booked in its slot.
        "SELECT o.id FROM offers o JOIN referrals r ON r.id = o.referral_id
         WHERE o.status = 'accepted' AND (r.booked_slot_id IS NULL OR r.booked_slot_id <> o.slot_id)",
    ];
    for sql in half_written {
        assert_eq!(count(pool, sql).await, Vec::<i64>::new(), "{sql}");
    }

    // Every write answered 2xx is there as answered.
    let mut confirmed = 0;
    for (n, outcome) in seen {
        let Seen::Answer(status, body) = outcome else {
            continue;
        };
        if !status.is_success() {
            continue;
        }
        confirmed += 1;
        match &writes[*n] {
            Write::Register { case_ref, .. } => {
                let row = sqlx::query("SELECT id FROM referrals WHERE case_ref = $1")
                    .bind(case_ref)
                    .fetch_one(pool)
                    .await
                    .unwrap_or_else(|e| panic!("{case_ref} answered {status} but is gone: {e}"));
                assert_eq!(json!(row.get::<i64, _>("id")), body["id"], "{case_ref}");
            }
            Write::Book { referral, slot } => {
                let row = sqlx::query("SELECT status, booked_slot_id FROM referrals WHERE id = $1")
                    .bind(referral)
                    .fetch_one(pool)
                    .await
                    .expect("booked referral");
                assert_eq!(
                    row.get::<String, _>("status"),
                    "booked",
                    "referral {referral}"
                );
                assert_eq!(
                    row.get::<Option<String>, _>("booked_slot_id").as_deref(),
                    Some(slot.as_str())
                );
            }
            Write::Accept { offer, .. } => {
                let row = sqlx::query(
                    "SELECT o.status, o.slot_id, r.booked_slot_id FROM offers o
                     JOIN referrals r ON r.id = o.referral_id WHERE o.id = $1",
                )
                .bind(offer)
                .fetch_one(pool)
                .await
                .expect("offer");
                assert_eq!(row.get::<String, _>("status"), "accepted", "offer {offer}");
                assert_eq!(
                    row.get::<Option<String>, _>("booked_slot_id"),
                    Some(row.get::<String, _>("slot_id"))
                );
            }
        }
    }
    assert!(confirmed > 0, "no write was confirmed before the kill");

    // Registrations answered 2xx replay their answer under the same key;
    // the others go through on a retry, or turn out to have been made
    // whole before the kill. Either way each exists exactly once.
    for (n, outcome) in seen {
        let Write::Register {
            case_ref,
            municipality,
        } = &writes[*n]
        else {
            continue;
        };
        let body = registration(case_ref, municipality);
        match outcome {
            Seen::Answer(status, first) if status.is_success() => {
                let (again, replay, replayed) = api
                    .post("/api/v1/referrals", &body, Some(&writes[*n].key(*n)))
                    .await
                    .expect("retry");
                assert_eq!(
                    (again, replayed),
                    (StatusCode::CREATED, true),
                    "{case_ref}: {replay}"
                );
                assert_eq!(replay["id"], first["id"]);
            }
            _ => {
                // A fresh key: the old one may still be held by the request
                // the kill interrupted (taken over only after two minutes).
                let (again, answer, _) = api
                    .post("/api/v1/referrals", &body, Some(&format!("retry-{n}")))
                    .await
                    .expect("retry");
                // A taken reference is refused without naming the referral
                // it belongs to (no probing): the first attempt got through.
                assert!(
                    again == StatusCode::CREATED
                        || (again == StatusCode::UNPROCESSABLE_ENTITY
                            && answer.to_string().contains("cannot be used")),
                    "{case_ref}: {again} {answer}"
                );
            }
        }
        let rows = sqlx::query("SELECT COUNT(*) FROM referrals WHERE case_ref = $1")
            .bind(case_ref)
            .fetch_one(pool)
            .await
            .expect("count")
            .get::<i64, _>(0);
        assert_eq!(rows, 1, "{case_ref}");
    }
    store.pool.close().await;
}
