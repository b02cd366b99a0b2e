//! Demo data for `jbt demo`: users of every role and a realistic backlog of
//! referrals from the scenario generator, seeded once per database.

use std::path::PathBuf;

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::users::{create_user, NewUser};
use crate::auth::Role;
use crate::config::{Email, ReferralKind, RegionId};
use crate::generator::{self, GeneratorOptions, RegionSet};
use crate::referrals::domain::{CaseRef, ReferrerKind};
use crate::referrals::lifecycle::{Event, Status};
use crate::referrals::store::{self, NewReferral};
use crate::state::AppState;

/// A demo user as printed at start-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    /// The role's name (`coordinator`, `chair`, ...).
    pub role: String,
    /// The login address, under `example.org`.
    pub email: String,
    /// The generated password, in plain text (demo only).
    pub password: String,
    /// The user's initial API token (bearer), in plain text (demo only).
    pub token: String,
}

fn credentials_file(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("demo-credentials.json")
}

/// Seeds users and referrals when the database has none; returns the demo
/// users (read back from the data directory on later starts).
///
/// # Errors
/// Storage errors, a demo user or referral that cannot be created, a
/// scenario that cannot be generated, or the credentials file cannot be
/// written.
pub async fn seed(state: &AppState) -> anyhow::Result<Vec<DemoUser>> {
    let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&state.store.pool)
        .await?
        .try_get("n")?;
    let demo_users = if users == 0 {
        let created = create_demo_users(state).await?;
        let path = credentials_file(state);
        std::fs::create_dir_all(&state.settings.data_dir).ok();
        std::fs::write(&path, serde_json::to_string_pretty(&created)?)
            .with_context(|| format!("writing {}", path.display()))?;
        created
    } else {
        std::fs::read_to_string(credentials_file(state))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    };
    let referrals: i64 = sqlx::query("SELECT COUNT(*) AS n FROM referrals")
        .fetch_one(&state.store.pool)
        .await?
        .try_get("n")?;
    if referrals == 0 {
        let creator =
            sqlx::query("SELECT id FROM users WHERE role = 'coordinator' ORDER BY id LIMIT 1")
                .fetch_one(&state.store.pool)
                .await?
                .try_get("id")?;
        seed_history(state, creator).await?;
        seed_referrals(state, creator).await?;
    }
    Ok(demo_users)
}

async fn create_demo_users(state: &AppState) -> anyhow::Result<Vec<DemoUser>> {
    let user = |role, email: &str| -> anyhow::Result<NewUser> {
        Ok(NewUser {
            email: Email::parse(email)?,
            role,
            region: None,
            organisation: None,
            municipality: None,
        })
    };
    let mut wanted = vec![
        user(Role::Coordinator, "coordinator@demo.example.org")?,
        user(Role::Admin, "beheer@demo.example.org")?,
        NewUser {
            organisation: Some("Sociaal Team Ede".into()),
            ..user(Role::Referrer, "professional@sociaalteam-ede.example.org")?
        },
    ];
    for region in &state.regions.regions {
        wanted.push(NewUser {
            region: Some(region.id.clone()),
            ..user(
                Role::Chair,
                &format!("voorzitter.{}@demo.example.org", region.id.as_str()),
            )?
        });
    }
    if let Some((region, _)) = state.regions.municipality("Ede") {
        wanted.push(NewUser {
            region: Some(region.id.clone()),
            ..user(Role::Secretary, "secretariaat.food-valley@demo.example.org")?
        });
    }
    if let Some((_, arnhem)) = state.regions.municipality("Arnhem") {
        wanted.push(NewUser {
            municipality: Some(arnhem.cbs.clone()),
            ..user(Role::MunicipalContact, "jeugd@arnhem.example.org")?
        });
    }
    let mut out = Vec::new();
    for new in wanted {
        let (role, email) = (new.role, new.email.as_str().to_string());
        let created = create_user(
            &state.store,
            new,
            state.settings.web.token_days,
            state.now(),
        )
        .await?;
        out.push(DemoUser {
            role: role.as_str().into(),
            email,
            password: created.password,
            token: created.token,
        });
    }
    Ok(out)
}

/// The open backlog of a generated Gelderland scenario, as referrals.
async fn seed_referrals(state: &AppState, creator: i64) -> anyhow::Result<()> {
    let tz = state.regions.timezone;
    let now = state.now();
    let options = GeneratorOptions {
        seed: 2026,
        weeks: state.settings.horizon_weeks,
        regions: RegionSet::Gelderland,
        load: 1.0,
        now: now.with_timezone(&tz).fixed_offset(),
        ..GeneratorOptions::default()
    };
    let scenario = generator::generate(&state.regions, &options)?;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let pinned: std::collections::HashMap<&str, &str> = scenario
        .pinned
        .iter()
        .map(|p| (p.referral.as_str(), p.slot.as_str()))
        .collect();
    let mut tx = state.store.write().await?;
    for (n, r) in scenario.referrals.iter().enumerate() {
        let region_id = RegionId::parse(&r.region)?;
        let region = state
            .regions
            .region(&region_id)
            .context("generated region not in config")?;
        let municipality = &region.municipalities[rng.random_range(0..region.municipalities.len())];
        let registered =
            chrono::DateTime::parse_from_rfc3339(&r.registered)?.with_timezone(&chrono::Utc);
        let due = registered.with_timezone(&tz).date_naive()
            + chrono::Days::new(u64::from(state.regions.norm_days));
        let roll: f64 = rng.random();
        let kind = if roll < 0.08 {
            "evaluation"
        } else if roll < 0.2 && region.handles(crate::config::ReferralKind::OtsEnd) {
            "ots_end"
        } else {
            "vtb"
        };
        let referrer_kind = [
            "local_team",
            "local_team",
            "local_team",
            "veilig_thuis",
            "certified_institution",
            "attendance_officer",
            "care_provider",
        ][rng.random_range(0..7)];
        let complete = rng.random_bool(0.93);
        let booked = pinned.get(r.id.as_str()).copied();
        let minutes = r.minutes.unwrap_or(90);
        let new = NewReferral {
            case_ref: CaseRef::parse(&format!(
                "JBT-{}-{:04}",
                now.with_timezone(&tz).format("%y"),
                n + 1
            ))?,
            municipality: municipality.cbs.clone(),
            region: region_id.clone(),
            kind: ReferralKind::parse(kind).context("demo kind")?,
            referrer_kind: ReferrerKind::parse(referrer_kind).context("demo referrer kind")?,
            referrer_org: format!("Sociaal Team {}", municipality.name),
            referrer_email: Email::parse(&format!(
                "professional@sociaalteam-{}.example.org",
                slug(&municipality.name)
            ))?,
            safety_plan: complete || booked.is_some(),
            parents_informed: complete || booked.is_some() || rng.random_bool(0.5),
            child_12_plus: minutes >= 120,
            unavailable: r
                .unavailable
                .iter()
                .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
                .collect::<Result<_, _>>()?,
            earliest: r
                .earliest
                .as_deref()
                .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
                .transpose()?,
            cross_region: r.cross_region.unwrap_or(true),
            due,
            parent_referral_id: None,
        };
        // Through the referrals store and its lifecycle, as any referral:
        // registered back then, booked where the generator pinned it.
        let id = store::insert(&mut tx, &new, creator, registered)
            .await
            .with_context(|| format!("seeding referral {}", r.id))?;
        if let Some(slot) = booked {
            anyhow::ensure!(
                store::confirm(&mut tx, id, slot, registered).await?,
                "seeding the booking of {} in {slot}",
                r.id
            );
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Weeks of past conversations the demo starts with.
const HISTORY_WEEKS: u64 = 12;

/// Twelve weeks of conversations that took place, so the dashboard has a
/// history: past template slots, most of them held (outcomes still to be
/// recorded), after waits that differ per region (Centraal Gelderland, the
/// busiest table, waits longest).
async fn seed_history(state: &AppState, creator: i64) -> anyhow::Result<()> {
    let tz = state.regions.timezone;
    let now = state.now();
    let today = now.with_timezone(&tz).date_naive();
    let from = today - chrono::Days::new(HISTORY_WEEKS * 7);
    let slots = crate::calendar::generate_slots(&state.regions, from, today - chrono::Days::new(1));
    let mut rng = ChaCha8Rng::seed_from_u64(1812);
    let mut tx = state.store.write().await?;
    for (n, slot) in slots.iter().enumerate() {
        crate::slots::horizon::insert(&mut tx, slot, "template", now).await?;
        if !rng.random_bool(0.85) {
            continue;
        }
        let region = state
            .regions
            .region(&slot.region)
            .context("slot of an unknown region")?;
        let busiest = region.id.as_str() == "centraal-gelderland";
        let wait = if busiest {
            rng.random_range(8..=26)
        } else {
            rng.random_range(4..=18)
        };
        let registered_on = slot.date - chrono::Days::new(wait);
        let registered = crate::calendar::local_to_utc(
            tz,
            registered_on.and_hms_opt(10, 0, 0).unwrap_or_default(),
        );
        let due = registered_on + chrono::Days::new(u64::from(state.regions.norm_days));
        let municipality = &region.municipalities[rng.random_range(0..region.municipalities.len())];
        let new = NewReferral {
            case_ref: CaseRef::parse(&format!("JBT-H-{:04}", n + 1))?,
            municipality: municipality.cbs.clone(),
            region: region.id.clone(),
            kind: ReferralKind::Vtb,
            referrer_kind: ReferrerKind::LocalTeam,
            referrer_org: format!("Sociaal Team {}", municipality.name),
            referrer_email: Email::parse(&format!(
                "professional@sociaalteam-{}.example.org",
                slug(&municipality.name)
            ))?,
            safety_plan: true,
            parents_informed: true,
            child_12_plus: slot.minutes >= 120,
            unavailable: Vec::new(),
            earliest: None,
            cross_region: true,
            due,
            parent_referral_id: None,
        };
        // Registered, booked and held, each step through the lifecycle.
        let id = store::insert(&mut tx, &new, creator, registered)
            .await
            .with_context(|| format!("seeding past conversation in {}", slot.id))?;
        anyhow::ensure!(
            store::confirm(&mut tx, id, &slot.id, registered).await?,
            "seeding the booking of past conversation {}",
            slot.id
        );
        anyhow::ensure!(
            store::transition(&mut tx, id, Status::Held, Event::Hold, slot.start).await?,
            "marking past conversation {} held",
            slot.id
        );
        // Reports went out for all but the last week's conversations, so
        // the worklist shows only those still to write.
        if slot.date + chrono::Days::new(7) < today {
            seed_report(state, &mut tx, id, creator, slot.start).await?;
            seed_feedback(state, &mut tx, slot, &mut rng).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A sent demo report (no real content) for the conversation at `held`.
async fn seed_report(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    referral_id: i64,
    creator: i64,
    held: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let content = crate::reports::ReportContent {
        text:
            "Demo-verslag: de zorgen en de stappen zijn besproken; vrijwillige hulp met afspraken."
                .into(),
        agreements: vec![crate::reports::Agreement {
            what: "Wekelijks contact met het lokale team".into(),
            who: "ouders en lokaal team".into(),
            by: None,
        }],
        participants: vec!["parents".into(), "referrer".into()],
        professionals: Vec::new(),
        reactions: Vec::new(),
    };
    let body = crate::reports::service::seal(state, referral_id, 1, &content)?;
    let sent = held + chrono::Duration::days(2);
    let new = crate::reports::store::NewVersion {
        referral_id,
        version: 1,
        body: &body,
        user_id: creator,
        sent_at: Some(sent),
        reaction_from: None,
    };
    crate::reports::store::insert(tx, &new, sent).await?;
    Ok(())
}

/// Open answers the demo's feedback forms draw from (no names, as the form
/// asks).
const DEMO_REMARKS: [&str; 5] = [
    "Goed voorbereid, maar het gesprek begon later dan gepland.",
    "Duidelijke afspraken; ik weet wat ik moet doen.",
    "Spannend, maar we voelden ons gehoord.",
    "Graag het verslag sneller.",
    "Fijn dat de school erbij was.",
];

/// Some of the forms sent with a report come back: the referring
/// professional's often, the parents' less often, a few with a remark.
async fn seed_feedback(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    slot: &crate::calendar::CalendarSlot,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<()> {
    for (respondent, chance) in [("professional", 0.4), ("parents", 0.2)] {
        if !rng.random_bool(chance) {
            continue;
        }
        let mut scores = [0; 4];
        for score in &mut scores {
            *score = rng.random_range(2..=5);
        }
        let remark = rng
            .random_bool(0.3)
            .then(|| DEMO_REMARKS[rng.random_range(0..DEMO_REMARKS.len())]);
        let answer = crate::reports::feedback::Answer {
            region: slot.region.as_str().to_string(),
            half_year: crate::reports::feedback::half_year(slot.date),
            respondent: respondent.to_string(),
            scores,
            remark,
        };
        crate::reports::feedback::store_answer(tx, state, &answer).await?;
    }
    Ok(())
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
