//! The region forecast: how long would a referral registered today wait
//! at each table? When that is longer than the norm, the region's municipal
//! contacts and the coordinators get one digest a day.

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use crate::config::RegionConfig;
use crate::mail::{compose, dagen, dutch_date, enqueue, recipient_tag};
use crate::referrals::domain::STANDARD_MINUTES;
use crate::state::AppState;
use crate::store::time::{from_date_text, to_date_text, to_millis};

/// The wait at one table for a referral registered today.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionForecast {
    /// The region's id.
    pub region: String,
    /// The first free slot of a standard conversation, from tomorrow on.
    pub first_free: Option<NaiveDate>,
    /// Days from today to `first_free`; without a free slot, one more than
    /// the horizon reaches (a lower bound).
    pub wait_days: i64,
    /// No free slot within the slots generated so far.
    pub beyond_horizon: bool,
    /// Referrals registered for this region in the last four weeks.
    pub arrivals_4_weeks: i64,
    /// Slots of an ordinary week.
    pub weekly_slots: u32,
}

/// Forecasts one region's wait from the slots and referrals tables: the
/// first slot long enough for a standard conversation that is not
/// cancelled, not planned or booked, and not held for an open offer.
///
/// # Errors
/// Storage errors, or a date in the database that is not `YYYY-MM-DD`.
pub async fn region_forecast(
    conn: &mut AnyConnection,
    region: &RegionConfig,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<RegionForecast> {
    let id = region.id.as_str();
    let first_free = sqlx::query(
        "SELECT s.local_date FROM slots s
         WHERE s.region_id = $1 AND s.cancelled_at IS NULL AND s.minutes >= $2 AND s.local_date > $3
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.planned_slot_id = s.id OR r.booked_slot_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.slot_id = s.id AND o.status = 'open')
         ORDER BY s.local_date, s.start_at LIMIT 1",
    )
    .bind(id)
    .bind(i64::from(STANDARD_MINUTES))
    .bind(to_date_text(today))
    .fetch_optional(&mut *conn)
    .await
    .context("finding the first free slot")?
    .map(|row| from_date_text(&row.try_get::<String, _>("local_date")?))
    .transpose()?;
    let (wait_days, beyond_horizon) = match first_free {
        Some(date) => ((date - today).num_days(), false),
        None => {
            let last = sqlx::query("SELECT local_date FROM slots WHERE region_id = $1 ORDER BY local_date DESC LIMIT 1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .context("finding the end of the horizon")?
                .map(|row| from_date_text(&row.try_get::<String, _>("local_date")?))
                .transpose()?;
            let reach = last.map_or(0, |last| (last - today).num_days().max(0));
            (reach + 1, true)
        }
    };
    let since = now - chrono::Duration::days(28);
    let arrivals: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM referrals WHERE region_id = $1 AND registered_at >= $2",
    )
    .bind(id)
    .bind(to_millis(since))
    .fetch_one(&mut *conn)
    .await
    .context("counting recent referrals")?
    .try_get("n")?;
    Ok(RegionForecast {
        region: id.to_string(),
        first_free,
        wait_days,
        beyond_horizon,
        arrivals_4_weeks: arrivals,
        weekly_slots: region.weekly_slots(),
    })
}

/// Whether the digest of region `region_id` already went on local date
/// `today` (then its advice need not be searched again today).
///
/// # Errors
/// Storage errors.
pub async fn digest_sent(
    conn: &mut sqlx::AnyConnection,
    region_id: &str,
    today: NaiveDate,
) -> anyhow::Result<bool> {
    let sent: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM forecast_digests WHERE region_id = $1 AND local_date = $2",
    )
    .bind(region_id)
    .bind(to_date_text(today))
    .fetch_one(conn)
    .await
    .context("reading the forecast digests")?;
    Ok(sent > 0)
}

/// For every region whose forecast wait exceeds the norm, one digest per
/// local day to its municipal contacts and every coordinator. Safe to call
/// as often as wanted and from several instances: the `forecast_digests`
/// row is inserted first, in the transaction that enqueues the mails, and
/// only the one that inserts it sends. `advice` holds, per region id, the
/// capacity advice in Dutch (counts and dates only), which the digest
/// quotes. Returns the number of digests.
///
/// # Errors
/// Storage errors; digests already committed for other regions stay sent.
pub async fn forecast_digest(
    state: &AppState,
    advice: &std::collections::HashMap<String, String>,
) -> anyhow::Result<usize> {
    let now = state.now();
    let tz = state.regions.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let norm = i64::from(state.regions.norm_days);
    let mut digests = 0;
    for region in &state.regions.regions {
        let forecast = {
            let mut conn = state.store.pool.acquire().await.context("forecast")?;
            region_forecast(&mut conn, region, today, now).await?
        };
        if forecast.wait_days <= norm {
            continue;
        }
        let mut tx = state.store.write().await.context("forecast digest")?;
        let first = sqlx::query(
            "INSERT INTO forecast_digests (region_id, local_date, forecast_days, sent_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (region_id, local_date) DO NOTHING",
        )
        .bind(region.id.as_str())
        .bind(to_date_text(today))
        .bind(forecast.wait_days)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .context("recording the forecast digest")?;
        if first.rows_affected() == 0 {
            continue; // already sent today
        }
        let coordinators = sqlx::query(
            "SELECT email FROM users WHERE role = 'coordinator' AND active = $1 ORDER BY id",
        )
        .bind(true)
        .fetch_all(&mut *tx)
        .await
        .context("reading the coordinators")?;
        let mut recipients: Vec<String> = region
            .municipalities
            .iter()
            .map(|m| AsRef::<str>::as_ref(&m.contact).to_string())
            .collect();
        for row in &coordinators {
            recipients.push(row.try_get("email")?);
        }
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|r| seen.insert(r.to_ascii_lowercase()));
        let (subject, mut paragraphs) = digest_text(state, region, &forecast, today);
        if let Some(sentence) = advice.get(region.id.as_str()) {
            // Before the closing line about how often this mail comes.
            let at = paragraphs.len().saturating_sub(1);
            paragraphs.insert(at, format!("Advies van JBT-planner: {sentence}"));
        }
        let link = format!("{}/plan", state.settings.public_url);
        for recipient in &recipients {
            let mail = compose(
                "forecast_digest",
                recipient,
                &subject,
                &paragraphs,
                Some(("Bekijk de planning in JBT-planner", link.clone())),
                format!(
                    "forecast-{}-{}-{}",
                    region.id.as_str(),
                    to_date_text(today),
                    recipient_tag(recipient)
                ),
                None,
            );
            enqueue(&mut tx, &mail, now)
                .await
                .context("enqueueing a forecast digest")?;
        }
        tx.commit()
            .await
            .context("committing the forecast digest")?;
        digests += 1;
    }
    Ok(digests)
}

fn digest_text(
    state: &AppState,
    region: &RegionConfig,
    forecast: &RegionForecast,
    today: NaiveDate,
) -> (String, Vec<String>) {
    let norm = state.regions.norm_days;
    let name = &region.name;
    let mut paragraphs = Vec::new();
    match forecast.first_free {
        Some(date) if !forecast.beyond_horizon => paragraphs.push(format!(
            "Een aanmelding die vandaag wordt aangemeld bij de Jeugdbeschermingstafel {name}, kan naar verwachting pas op {} worden besproken: na {}, terwijl de norm {norm} dagen is.",
            dutch_date(date),
            dagen(forecast.wait_days)
        )),
        _ => {
            let horizon = today.checked_add_days(Days::new(forecast.wait_days.saturating_sub(1).unsigned_abs())).unwrap_or(today);
            paragraphs.push(format!(
                "Een aanmelding die vandaag wordt aangemeld bij de Jeugdbeschermingstafel {name}, kan in de huidige planning (tot en met {}) niet meer worden besproken: de wachttijd is meer dan {}, terwijl de norm {norm} dagen is.",
                dutch_date(horizon),
                dagen(forecast.wait_days - 1)
            ));
        }
    }
    let per_week = format!("{:.1}", forecast.arrivals_4_weeks as f64 / 4.0).replace('.', ",");
    paragraphs.push(format!(
        "Ter vergelijking: de afgelopen vier weken kwamen er gemiddeld {per_week} nieuwe aanmeldingen per week binnen ({} in totaal); de tafel heeft in een gewone week {} plekken.",
        forecast.arrivals_4_weeks, forecast.weekly_slots
    ));
    let neighbours: Vec<String> = region
        .neighbours
        .iter()
        .filter_map(|id| state.regions.region(id).map(|r| r.name.clone()))
        .collect();
    paragraphs.push(if neighbours.is_empty() {
        "Mogelijke maatregel: een extra zitting van de tafel.".to_string()
    } else {
        format!(
            "Mogelijke maatregelen: een extra zitting van de tafel, of aanmeldingen laten bespreken aan een buurtafel ({}).",
            neighbours.join(", ")
        )
    });
    paragraphs.push(
        "U ontvangt dit overzicht hooguit één keer per dag, zolang de verwachte wachttijd boven de norm ligt.".to_string(),
    );
    (
        format!("Wachttijd boven de norm verwacht: Jeugdbeschermingstafel {name}"),
        paragraphs,
    )
}
