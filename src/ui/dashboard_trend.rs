//! The dashboard's trend (issue 14): per week of a chosen period and per
//! region, the share of conversations within the norm and the median wait;
//! and, for coordinators and admins, the mails that could not be delivered
//! (who, what kind, why; never the subject or body).

use chrono::{Datelike, Days, Duration, NaiveDate};
use sqlx::Row;

use super::waits::{history_between, median, percent};
use super::{format, PageError, Said, Viewer};
use crate::auth::Role;
use crate::referrals::norm;
use crate::state::AppState;
use crate::store::time::from_millis;

/// The default period: the last twelve weeks.
const DEFAULT_WEEKS: u64 = 12;
/// The longest period: a year.
const MAX_DAYS: i64 = 366;
/// The most undeliverable mails listed.
const DEAD_LIMIT: i64 = 50;

/// The period as typed (`van`, `tot`: local dates `YYYY-MM-DD`).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TrendQuery {
    #[serde(default)]
    pub(super) van: String,
    #[serde(default)]
    pub(super) tot: String,
}

/// One week of the trend.
pub struct TrendWeek {
    /// "week 45 (02-11-2026)".
    pub label: String,
    /// Per region (in the order of [`Trend::regions`]): "83% · 9 d" or "–".
    pub cells: Vec<String>,
}

/// The trend table and the period it covers.
pub struct Trend {
    /// The period as shown in the form (`YYYY-MM-DD`).
    pub van: String,
    pub tot: String,
    /// The column heads: region names.
    pub regions: Vec<String>,
    /// The weeks, oldest first.
    pub weeks: Vec<TrendWeek>,
}

/// A mail the outbox gave up on.
pub struct DeadMail {
    pub created: String,
    pub kind: &'static str,
    pub recipient: String,
    pub attempts: i64,
    pub error: String,
}

impl TrendQuery {
    /// The period: from `van` to `tot` (both included), by default the last
    /// twelve weeks up to today.
    ///
    /// # Errors
    /// [`PageError::Invalid`] naming the field: not a date, `tot` before
    /// `van`, or longer than a year.
    pub fn period(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), PageError> {
        let date = |text: &str, field: &str| -> Result<Option<NaiveDate>, PageError> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    PageError::Invalid(Said::nl(format!(
                        "{field} moet een datum zijn (jjjj-mm-dd), niet {text:?}"
                    )))
                })
        };
        let to = date(&self.tot, "tot")?.unwrap_or(today);
        let from = date(&self.van, "van")?.unwrap_or_else(|| to - Days::new(DEFAULT_WEEKS * 7 - 1));
        if to < from {
            return Err(PageError::Invalid(Said::nl("tot ligt vóór van")));
        }
        if (to - from).num_days() > MAX_DAYS {
            return Err(PageError::Invalid(Said::nl(
                "kies een periode van hoogstens een jaar",
            )));
        }
        Ok((from, to))
    }
}

/// The trend over `from..=to`, per ISO week (Monday first) and region.
///
/// # Errors
/// Storage errors.
pub async fn trend(state: &AppState, from: NaiveDate, to: NaiveDate) -> Result<Trend, PageError> {
    let tz = state.regions.timezone;
    let start = crate::calendar::local_to_utc(tz, from.and_time(chrono::NaiveTime::MIN));
    let end =
        crate::calendar::local_to_utc(tz, to.and_time(chrono::NaiveTime::MIN)) + Duration::days(1);
    let held = history_between(state, start, end).await?;
    let first_monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
    let mut weeks = Vec::new();
    let mut monday = first_monday;
    while monday <= to {
        let sunday = monday + Days::new(6);
        let cells = state
            .regions
            .regions
            .iter()
            .map(|region| {
                let waits: Vec<_> = held
                    .iter()
                    .filter(|h| {
                        h.region == region.id.as_str() && (monday..=sunday).contains(&h.date)
                    })
                    .filter(|h| (from..=to).contains(&h.date))
                    .collect();
                let within = waits.iter().filter(|h| h.within_norm).count();
                match (
                    percent(within, waits.len()),
                    median(waits.iter().map(|h| h.wait_days).collect()),
                ) {
                    (Some(p), Some(m)) => format!("{p}% · {m} d"),
                    _ => "–".to_string(),
                }
            })
            .collect();
        weeks.push(TrendWeek {
            label: format!(
                "week {} ({})",
                monday.iso_week().week(),
                format::date(monday.max(from))
            ),
            cells,
        });
        monday = monday + Days::new(7);
    }
    Ok(Trend {
        van: from.format("%Y-%m-%d").to_string(),
        tot: to.format("%Y-%m-%d").to_string(),
        regions: state
            .regions
            .regions
            .iter()
            .map(|r| r.name.clone())
            .collect(),
        weeks,
    })
}

/// The undeliverable mails, newest first, for coordinators and admins
/// (empty for other roles: recipients are not figures).
///
/// # Errors
/// Storage errors.
pub async fn dead_mails(state: &AppState, viewer: &Viewer) -> Result<Vec<DeadMail>, PageError> {
    if !matches!(viewer.user.role, Role::Coordinator | Role::Admin) {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT kind, recipient, attempts, last_error, created_at FROM outbox
         WHERE status = 'dead' ORDER BY id DESC LIMIT $1",
    )
    .bind(DEAD_LIMIT)
    .fetch_all(&state.store.pool)
    .await?;
    let tz = state.regions.timezone;
    rows.iter()
        .map(|row| {
            Ok(DeadMail {
                created: format::moment(from_millis(row.try_get("created_at")?), tz),
                kind: mail_kind(&row.try_get::<String, _>("kind")?),
                recipient: row.try_get("recipient")?,
                attempts: row.try_get("attempts")?,
                error: row
                    .try_get::<Option<String>, _>("last_error")?
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(PageError::from)
}

/// A mail kind in Dutch.
fn mail_kind(kind: &str) -> &'static str {
    match kind {
        "delay_alert" => "melding wachttijd",
        "delay_all_clear" => "wachttijd weer binnen de norm",
        "forecast_digest" => "dagoverzicht verwachting",
        "invitation" => "uitnodiging",
        "offer" => "aanbod",
        "offer_accepted" => "aanbod aangenomen",
        "offer_declined" => "aanbod afgewezen",
        "offer_expired" => "aanbod verlopen",
        "offer_withdrawn" => "aanbod ingetrokken",
        "offers_exhausted" => "geen tafel gevonden",
        "info_request" => "vraag van de tafel",
        "info_answer" => "antwoord op een vraag",
        "report" => "verslag",
        "report_reaction" => "reactie op een verslag",
        "feedback" => "vragenlijst na het gesprek",
        _ => "bericht",
    }
}

/// Today's local date.
pub fn today(state: &AppState) -> NaiveDate {
    norm::local_date(state.now(), state.regions.timezone)
}
