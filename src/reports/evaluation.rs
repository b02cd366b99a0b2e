//! The half-yearly evaluation (issue 15; section 12 of the working
//! agreement: every region evaluates at least twice a year with the local
//! teams and safety partners): per table, or for all of Gelderland, the
//! conversations held in a half-year, their outcomes, the share held within
//! the norm and the median wait, referrals received from and sent to
//! neighbouring tables, reports sent on time, reactions, and the feedback
//! forms' scores and open answers.
//!
//! Figures only, counted from the database; no case reference leaves this
//! module. The coordinator opens it for any table or all of them, a chair
//! for the own table; every opening is audited (`evaluation.read`).

use std::collections::HashMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::feedback::QUESTIONS;
use super::service::working_days_after;
use crate::auth::audit::{record, AuditEntry};
use crate::auth::{CurrentUser, Role};
use crate::config::RegionId;
use crate::error::{Error, FieldError, Result};
use crate::referrals::domain::OutcomeKind;
use crate::referrals::norm::local_date;
use crate::state::AppState;
use crate::store::time::{from_date_text, from_millis, to_date_text};

/// A half-year: January to June (`2026-H1`) or July to December
/// (`2026-H2`), in local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct HalfYear {
    /// The year.
    pub year: i32,
    /// 1 or 2.
    pub half: u8,
}

impl HalfYear {
    /// The half-year `date` falls in.
    pub fn of(date: NaiveDate) -> HalfYear {
        HalfYear {
            year: date.year(),
            half: if date.month() <= 6 { 1 } else { 2 },
        }
    }

    /// `2026-H2` (as [`fmt::Display`] writes it).
    ///
    /// # Errors
    /// [`Error::Invalid`] on the field `half_year` for any other text.
    pub fn parse(text: &str) -> Result<HalfYear> {
        let problem = || {
            Error::Invalid(vec![FieldError::both(
                "half_year",
                "must be a half-year like 2026-H2",
                "Kies een halfjaar, zoals 2026-H2.",
            )])
        };
        let (year, half) = text.trim().split_once("-H").ok_or_else(problem)?;
        let year: i32 = year.parse().map_err(|_| problem())?;
        let half: u8 = half.parse().map_err(|_| problem())?;
        if !(2000..=2100).contains(&year) || !matches!(half, 1 | 2) {
            return Err(problem());
        }
        Ok(HalfYear { year, half })
    }

    /// The first and the last day.
    pub fn days(self) -> (NaiveDate, NaiveDate) {
        let (from, to) = if self.half == 1 {
            ((1, 1), (6, 30))
        } else {
            ((7, 1), (12, 31))
        };
        let day = |(m, d)| NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or_default();
        (day(from), day(to))
    }

    /// The half-year before this one.
    pub fn previous(self) -> HalfYear {
        match self.half {
            2 => HalfYear {
                year: self.year,
                half: 1,
            },
            _ => HalfYear {
                year: self.year - 1,
                half: 2,
            },
        }
    }

    /// In Dutch: "eerste halfjaar 2026".
    pub fn dutch(self) -> String {
        let which = if self.half == 1 { "eerste" } else { "tweede" };
        format!("{which} halfjaar {}", self.year)
    }
}

impl fmt::Display for HalfYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-H{}", self.year, self.half)
    }
}

/// The mean scores of one kind of respondent.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Scores {
    /// `professional` or `parents`.
    pub respondent: String,
    /// How many forms were filled in.
    pub forms: usize,
    /// The mean per question (1 to 5, one decimal), in the order of
    /// `feedback::QUESTIONS`: prepared, heard, clear, useful.
    pub means: Vec<f64>,
}

/// An open answer of a feedback form, without anything that links it to
/// a referral.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenAnswer {
    /// `professional` or `parents`.
    pub respondent: String,
    /// The remark as written.
    pub text: String,
}

/// How many conversations had one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OutcomeCount {
    /// `voluntary_local_team`, `voluntary_binding`, `voluntary_binding_raad`
    /// or `raad_investigation`.
    pub outcome: String,
    /// How many.
    pub count: usize,
}

/// The half-yearly evaluation of one table or of all of them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evaluation {
    /// The table's region id; `None` for all of Gelderland.
    pub region: Option<String>,
    /// The table's name, or "Gelderland".
    pub name: String,
    /// `2026-H2`.
    pub half_year: String,
    /// Conversations held (the table where they were held).
    pub held: usize,
    /// Outcomes recorded, per outcome, in the order of `OutcomeKind::ALL`.
    pub outcomes: Vec<OutcomeCount>,
    /// Held ones whose outcome is not recorded yet.
    pub without_outcome: usize,
    /// Held on or before the referral's due date (the norm).
    pub within_norm: usize,
    /// The median wait from registration to the conversation, in calendar
    /// days; `None` when none was held.
    pub median_wait_days: Option<f64>,
    /// Conversations held at this table for referrals of another region
    /// (for all of Gelderland: held at another region's table).
    pub received_from_neighbours: usize,
    /// Referrals of this region whose conversation was held at another
    /// table (for all of Gelderland: the same count as received).
    pub sent_to_neighbours: usize,
    /// Held ones whose report was sent.
    pub reports_sent: usize,
    /// Of those sent, sent within the report norm (`reports.norm_working_days`).
    pub reports_on_time: usize,
    /// Reactions added to the reports (parents and professionals).
    pub reactions: usize,
    /// Feedback forms' mean scores, professionals first.
    pub scores: Vec<Scores>,
    /// The open answers of the feedback forms.
    pub open_answers: Vec<OpenAnswer>,
}

/// The evaluation of `region` (`None`: all tables) for `half`, as `user`
/// may see it; the opening is audited.
///
/// # Errors
/// [`Error::NotAllowed`] for roles other than coordinator and chair, and
/// for a chair asking for another table or all of them; [`Error::NotFound`]
/// for an unknown region; no key for sealed answers (refused); storage
/// errors.
pub async fn evaluate(
    state: &AppState,
    user: &CurrentUser,
    region: Option<&str>,
    half: HalfYear,
) -> Result<Evaluation> {
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(text) => {
            let id = RegionId::parse(text).map_err(|_| Error::NotFound)?;
            state.regions.region(&id).ok_or(Error::NotFound)?;
            Some(id.as_str().to_string())
        }
    };
    let allowed = match user.role {
        Role::Coordinator => true,
        Role::Chair => {
            region.is_some() && user.region.as_ref().map(|r| r.as_str()) == region.as_deref()
        }
        _ => false,
    };
    if !allowed {
        let refused = Error::NotAllowed(
            "the coordinator and the table's chairs open the half-yearly evaluation".into(),
        );
        let entry = audit_entry(state, user, region.as_deref(), half, "forbidden");
        return Err(crate::auth::audit::refusal(&state.store, entry, refused).await);
    }
    let evaluation = count(state, region.as_deref(), half).await?;
    let mut tx = state.store.write().await?;
    record(
        &mut tx,
        audit_entry(state, user, region.as_deref(), half, "ok"),
    )
    .await?;
    tx.commit().await?;
    Ok(evaluation)
}

fn audit_entry<'a>(
    state: &AppState,
    user: &'a CurrentUser,
    region: Option<&str>,
    half: HalfYear,
    result: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: state.now(),
        user: Some(user),
        action: "evaluation.read",
        referral_id: None,
        result,
        detail: Some(format!("{} {half}", region.unwrap_or("gelderland"))),
    }
}

/// One held conversation, as counted.
struct Held {
    table: String,
    /// The referral's own region.
    home: String,
    date: NaiveDate,
    registered: NaiveDate,
    due: NaiveDate,
    report_due: NaiveDate,
    outcome: Option<String>,
    first_sent: Option<NaiveDate>,
    reactions: i64,
}

async fn count(state: &AppState, region: Option<&str>, half: HalfYear) -> Result<Evaluation> {
    let (from, to) = half.days();
    let all = held_in(state, from, to).await?;
    // Held elsewhere than at the referral's own table: counted from the
    // conversations themselves, so an offer accepted but not held (a
    // cancelled session, a withdrawal) does not count.
    let away = |h: &&Held| h.home != h.table;
    let received = all
        .iter()
        .filter(away)
        .filter(|h| region.is_none_or(|r| h.table == r))
        .count();
    let sent = all
        .iter()
        .filter(away)
        .filter(|h| region.is_none_or(|r| h.home == r))
        .count();
    let held: Vec<Held> = all
        .into_iter()
        .filter(|h| region.is_none_or(|r| h.table == r))
        .collect();
    let (scores, open_answers) = feedback(state, region, half).await?;
    let mut waits: Vec<i64> = held
        .iter()
        .map(|h| (h.date - h.registered).num_days())
        .collect();
    waits.sort_unstable();
    let outcomes = OutcomeKind::ALL
        .iter()
        .map(|k| {
            let n = held
                .iter()
                .filter(|h| h.outcome.as_deref() == Some(k.as_str()))
                .count();
            OutcomeCount {
                outcome: k.as_str().to_string(),
                count: n,
            }
        })
        .collect();
    Ok(Evaluation {
        region: region.map(str::to_string),
        name: region.map_or_else(
            || "Gelderland".to_string(),
            |r| state.regions.region_name(r),
        ),
        half_year: half.to_string(),
        held: held.len(),
        outcomes,
        without_outcome: held.iter().filter(|h| h.outcome.is_none()).count(),
        within_norm: held.iter().filter(|h| h.date <= h.due).count(),
        median_wait_days: median(&waits),
        received_from_neighbours: received,
        sent_to_neighbours: sent,
        reports_sent: held.iter().filter(|h| h.first_sent.is_some()).count(),
        reports_on_time: held
            .iter()
            .filter(|h| h.first_sent.is_some_and(|d| d <= h.report_due))
            .count(),
        reactions: held
            .iter()
            .map(|h| usize::try_from(h.reactions).unwrap_or(0))
            .sum(),
        scores,
        open_answers,
    })
}

/// The median of sorted `values`, `None` for none.
fn median(values: &[i64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2] as f64),
        _ => Some((values[n / 2 - 1] + values[n / 2]) as f64 / 2.0),
    }
}

/// Conversations held from `from` to `to` (local dates), every table.
async fn held_in(state: &AppState, from: NaiveDate, to: NaiveDate) -> Result<Vec<Held>> {
    let mut conn = state.store.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT s.region_id, r.region_id AS home, s.local_date, s.start_at, r.registered_at,
                r.due_date, o.outcome,
                (SELECT MIN(p.sent_at) FROM reports p
                  WHERE p.referral_id = r.id AND p.sent_at IS NOT NULL) AS first_sent,
                (SELECT COUNT(*) FROM reports p
                  WHERE p.referral_id = r.id AND p.reaction_from IS NOT NULL) AS reactions
         FROM referrals r
         JOIN slots s ON s.id = r.booked_slot_id
         LEFT JOIN outcomes o ON o.referral_id = r.id
         WHERE r.status IN ('held', 'outcome_recorded')
           AND s.local_date >= $1 AND s.local_date <= $2",
    )
    .bind(to_date_text(from))
    .bind(to_date_text(to))
    .fetch_all(&mut *conn)
    .await?;
    let tz = state.regions.timezone;
    let norm = state.settings.reports.norm_working_days;
    let mut held = Vec::with_capacity(rows.len());
    for row in rows {
        let start = from_millis(row.try_get("start_at")?);
        held.push(Held {
            table: row.try_get("region_id")?,
            home: row.try_get("home")?,
            date: from_date_text(&row.try_get::<String, _>("local_date")?)?,
            registered: local_date(from_millis(row.try_get("registered_at")?), tz),
            due: from_date_text(&row.try_get::<String, _>("due_date")?)?,
            report_due: working_days_after(state, start, norm),
            outcome: row.try_get("outcome")?,
            first_sent: row
                .try_get::<Option<i64>, _>("first_sent")?
                .map(|t| local_date(from_millis(t), tz)),
            reactions: row.try_get("reactions")?,
        });
    }
    Ok(held)
}

type Feedback = (Vec<Scores>, Vec<OpenAnswer>);

/// The feedback forms of the half-year: mean scores per respondent and
/// the open answers (opened; sealed at rest).
async fn feedback(state: &AppState, region: Option<&str>, half: HalfYear) -> Result<Feedback> {
    let mut conn = state.store.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT region_id, respondent, prepared, heard, clear, useful, remark
         FROM feedback_answers WHERE half_year = $1 AND ($2 IS NULL OR region_id = $2)
         ORDER BY id",
    )
    .bind(half.to_string())
    .bind(region)
    .fetch_all(&mut *conn)
    .await?;
    let mut sums: HashMap<String, (usize, [i64; 4])> = HashMap::new();
    let mut open_answers = Vec::new();
    for row in rows {
        let respondent: String = row.try_get("respondent")?;
        let entry = sums.entry(respondent.clone()).or_insert((0, [0; 4]));
        entry.0 += 1;
        for (i, (id, _)) in QUESTIONS.iter().enumerate() {
            entry.1[i] += row.try_get::<i64, _>(*id)?;
        }
        if let Some(sealed) = row.try_get::<Option<String>, _>("remark")? {
            let region: String = row.try_get("region_id")?;
            let aad = format!("feedback:{region}:{half}");
            let text = state
                .cipher()?
                .open(&sealed, &aad)
                .map_err(|e| Error::Internal(e.into()))?;
            open_answers.push(OpenAnswer {
                respondent,
                text: text.to_string(),
            });
        }
    }
    let scores = ["professional", "parents"]
        .into_iter()
        .filter_map(|who| {
            let (forms, totals) = sums.get(who)?;
            let means = totals
                .iter()
                .map(|t| (*t as f64 / *forms as f64 * 10.0).round() / 10.0)
                .collect();
            Some(Scores {
                respondent: who.to_string(),
                forms: *forms,
                means,
            })
        })
        .collect();
    Ok((scores, open_answers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_years_parse_and_cover_the_year() {
        let h = HalfYear::parse(" 2026-H2 ").expect("valid");
        assert_eq!(h.to_string(), "2026-H2");
        assert_eq!(
            h.days().0,
            NaiveDate::from_ymd_opt(2026, 7, 1).expect("date")
        );
        assert_eq!(
            h.days().1,
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
        );
        assert_eq!(
            h.previous().previous(),
            HalfYear {
                year: 2025,
                half: 2
            }
        );
        assert_eq!(
            HalfYear::of(NaiveDate::from_ymd_opt(2026, 6, 30).expect("date")).half,
            1
        );
        for bad in ["2026-H3", "2026", "H1-2026", "1999-H1", ""] {
            assert!(HalfYear::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_middle_pair_averaged() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3, 5, 9]), Some(5.0));
        assert_eq!(median(&[3, 5, 9, 20]), Some(7.0));
    }
}
