//! Open-loop load driver for a running `jbt serve`/`jbt demo` (see
//! `tools/load.sh` and BENCHMARKS.md, "Service under load").
//!
//! Why a driver of our own next to wrk: wrk measures the most requests a
//! closed loop of connections gets through, but at a fixed rate it cannot
//! (wrk2 is not in Debian, oha is not either). This sends requests on a
//! fixed schedule, whether earlier ones have answered or not, and measures
//! each latency from the moment the request was *due*, so a stall of the
//! server shows up in the percentiles instead of silently lowering the rate
//! (no coordinated omission). It can also start a re-plan (`POST
//! /api/v1/plan/run`) in the middle and report latencies before, during and
//! after it, and how long the re-plan took to apply.
//!
//! Run with `cargo bench --bench load -- --help`. It is a bench target so
//! that it may use the dev-dependency reqwest without adding an HTTP client
//! to the service binary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const USAGE: &str = "usage: load --base URL --credentials FILE [--mix board|api] [--rate N] \
[--duration SECONDS] [--warmup SECONDS] [--replan-at SECONDS] [--label TEXT]";

#[derive(Debug, Clone)]
struct Args {
    base: String,
    credentials: String,
    mix: String,
    rate: f64,
    duration: f64,
    warmup: f64,
    replan_at: Option<f64>,
    label: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        base: "http://127.0.0.1:8080".into(),
        credentials: "data/demo-credentials.json".into(),
        mix: "board".into(),
        rate: 500.0,
        duration: 30.0,
        warmup: 3.0,
        replan_at: None,
        label: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` passes `--bench` to every bench binary.
        if flag == "--bench" {
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--base" => args.base = value.trim_end_matches('/').to_string(),
            "--credentials" => args.credentials = value,
            "--mix" if value == "board" || value == "api" => args.mix = value,
            "--rate" => args.rate = number(&value)?,
            "--duration" => args.duration = number(&value)?,
            "--warmup" => args.warmup = number(&value)?,
            "--replan-at" => args.replan_at = Some(number(&value)?),
            "--label" => args.label = value,
            _ => return Err(format!("unknown flag or value: {flag} {value}\n{USAGE}")),
        }
    }
    if !(args.rate > 0.0 && args.duration > 0.0) {
        return Err("--rate and --duration must be positive".into());
    }
    Ok(args)
}

/// The demo users' tokens: the coordinator, and the chair of each region.
struct Tokens {
    coordinator: String,
    chairs: Vec<(String, String)>,
}

fn tokens(path: &str) -> Result<Tokens, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let users: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut coordinator = None;
    let mut chairs = Vec::new();
    for u in &users {
        let token = u["token"].as_str().unwrap_or_default().to_string();
        let email = u["email"].as_str().unwrap_or_default();
        match u["role"].as_str() {
            Some("coordinator") => coordinator = Some(token),
            Some("chair") => {
                // voorzitter.<region>@demo.example.org
                let region = email
                    .strip_prefix("voorzitter.")
                    .and_then(|r| r.split('@').next())
                    .unwrap_or_default();
                chairs.push((region.to_string(), token));
            }
            _ => {}
        }
    }
    Ok(Tokens {
        coordinator: coordinator.ok_or("no coordinator in the credentials")?,
        chairs,
    })
}

#[derive(Debug, Clone)]
enum Call {
    Get(String),
    Patch(String, Value),
    Post(String, Value),
}

/// One request of the mix, with the token it is sent with and its kind (for the report).
fn pick(
    mix: &str,
    rng: &mut SmallRng,
    t: &Tokens,
    ids: &[i64],
    today: chrono::NaiveDate,
    n: u64,
) -> (&'static str, Call, String) {
    let (region, chair) = &t.chairs[rng.random_range(0..t.chairs.len())];
    let roll: f64 = rng.random();
    let board_slots = || Call::Get(format!("/api/v1/slots?region={region}&weeks=4"));
    let board_referrals = || {
        Call::Get(format!(
            "/api/v1/referrals?region={region}&status=registered,planned,booked"
        ))
    };
    if mix == "board" {
        // A chair's board: the table's slots and the region's referrals.
        return if roll < 0.5 {
            ("GET slots", board_slots(), chair.clone())
        } else {
            ("GET referrals", board_referrals(), chair.clone())
        };
    }
    // The referral API: mostly reads, some changes and registrations.
    let id = ids[rng.random_range(0..ids.len())];
    let coordinator = t.coordinator.clone();
    if roll < 0.35 {
        ("GET referrals", board_referrals(), chair.clone())
    } else if roll < 0.65 {
        (
            "GET referral",
            Call::Get(format!("/api/v1/referrals/{id}")),
            coordinator,
        )
    } else if roll < 0.85 {
        ("GET slots", board_slots(), chair.clone())
    } else if roll < 0.95 {
        let date = today + chrono::Days::new(rng.random_range(3..30));
        let body = json!({ "unavailable": [date.to_string()] });
        (
            "PATCH referral",
            Call::Patch(format!("/api/v1/referrals/{id}"), body),
            coordinator,
        )
    } else {
        let municipalities = [
            "Ede",
            "Arnhem",
            "Apeldoorn",
            "Nijmegen",
            "Tiel",
            "Harderwijk",
            "Doetinchem",
        ];
        let municipality = municipalities[rng.random_range(0..municipalities.len())];
        let body = json!({
            "case_ref": format!("LOAD-{}-{n}", std::process::id()),
            "municipality": municipality,
            "kind": "vtb",
            "referrer_kind": "local_team",
            "referrer_org": "Sociaal Team Load",
            "referrer_email": "professional@load.example.org",
            "safety_plan": true,
            "parents_informed": true,
            "child_12_plus": rng.random_bool(0.25),
        });
        (
            "POST referral",
            Call::Post("/api/v1/referrals".into(), body),
            coordinator,
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// When the request was due, from the start of the measurement.
    due: Duration,
    latency: Duration,
    status: u16,
    kind: &'static str,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 1e2
}

fn summary(samples: &[Sample], seconds: f64) -> Value {
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for s in samples {
        *statuses.entry(s.status.to_string()).or_default() += 1;
    }
    json!({
        "requests": samples.len(),
        "rate": ((samples.len() as f64 / seconds.max(1e-9)) * 10.0).round() / 10.0,
        "p50_ms": ms(percentile(&latencies, 50.0)),
        "p90_ms": ms(percentile(&latencies, 90.0)),
        "p99_ms": ms(percentile(&latencies, 99.0)),
        "max_ms": ms(latencies.last().copied().unwrap_or_default()),
        "statuses": statuses,
    })
}

async fn send(client: &reqwest::Client, base: &str, call: &Call, token: &str) -> u16 {
    let request = match call {
        Call::Get(path) => client.get(format!("{base}{path}")),
        Call::Patch(path, body) => client.patch(format!("{base}{path}")).json(body),
        Call::Post(path, body) => client.post(format!("{base}{path}")).json(body),
    };
    match request.bearer_auth(token).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the body: the latency includes the whole answer.
            let _ = response.bytes().await;
            status
        }
        // Connection errors count as status 0.
        Err(_) => 0,
    }
}

async fn referral_ids(client: &reqwest::Client, args: &Args, t: &Tokens) -> Vec<i64> {
    let url = format!(
        "{}/api/v1/referrals?status=registered,planned,incomplete&limit=500",
        args.base
    );
    let listed: Value = match client.get(url).bearer_auth(&t.coordinator).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    listed["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let t = match tokens(&args.credentials) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let ids = Arc::new(referral_ids(&client, &args, &t).await);
    if ids.is_empty() && args.mix == "api" {
        eprintln!("no referrals to read or change at {}", args.base);
        std::process::exit(1);
    }
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive();

    let samples: Arc<Mutex<Vec<Sample>>> = Arc::new(Mutex::new(Vec::new()));
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let total = args.warmup + args.duration;
    let count = (total * args.rate).round() as u64;
    let warmup = Duration::from_secs_f64(args.warmup);
    let start = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);

    let replan = args.replan_at.map(|at| {
        let (client, base, token) = (client.clone(), args.base.clone(), t.coordinator.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until((start + warmup + Duration::from_secs_f64(at)).into()).await;
            let began = Instant::now();
            let response = client
                .post(format!("{base}/api/v1/plan/run"))
                .bearer_auth(&token)
                .send()
                .await;
            let (status, body) = match response {
                Ok(r) => (
                    r.status().as_u16(),
                    r.json::<Value>().await.unwrap_or(Value::Null),
                ),
                Err(_) => (0, Value::Null),
            };
            (began - start - warmup, began.elapsed(), status, body)
        })
    });

    let mut tasks = Vec::with_capacity(count as usize);
    for n in 0..count {
        let due = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let (kind, call, token) = pick(&args.mix, &mut rng, &t, &ids, today, n);
        let (client, base, samples) = (client.clone(), args.base.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            let status = send(&client, &base, &call, &token).await;
            let latency = due.elapsed();
            if let Some(due) = (due - start).checked_sub(warmup) {
                let sample = Sample {
                    due,
                    latency,
                    status,
                    kind,
                };
                samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(sample);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();

    let mut report = json!({
        "label": args.label,
        "base": args.base,
        "mix": args.mix,
        "target_rate": args.rate,
        "seconds": args.duration,
        "all": summary(&samples, args.duration),
    });
    let mut kinds: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
    for s in &samples {
        kinds.entry(s.kind).or_default().push(*s);
    }
    report["by_kind"] = kinds
        .iter()
        .map(|(k, v)| (k.to_string(), summary(v, args.duration)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    if let Some(handle) = replan {
        if let Ok((at, took, status, body)) = handle.await {
            let end = at + took;
            let window = |from: Duration, to: Duration| -> Vec<Sample> {
                samples
                    .iter()
                    .filter(|s| s.due >= from && s.due < to)
                    .copied()
                    .collect()
            };
            let before = window(Duration::ZERO, at);
            let during = window(at, end);
            let after = window(end, Duration::from_secs_f64(args.duration));
            report["replan"] = json!({
                "status": status,
                "applied_ms": ms(took),
                "solve_ms": body["solve_millis"],
                "referrals": body["referrals"],
                "moved": body["moved"].as_array().map(Vec::len),
                "before": summary(&before, at.as_secs_f64()),
                "during": summary(&during, took.as_secs_f64()),
                "after": summary(&after, (args.duration - end.as_secs_f64()).max(1e-9)),
            });
        }
    }
    println!("{}", serde_json::to_string(&report).expect("JSON"));
}
