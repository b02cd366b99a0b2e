//! The board's filters: the query string as text (so each bad value is
//! named) and what it means: region, weeks, first Monday; the queue's own
//! filters are [`super::queue::QueueFilter`].

use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use super::{PageError, Said};
use crate::config::RegionId;
use crate::state::AppState;

const DEFAULT_WEEKS: u32 = 4;
const MAX_WEEKS: u32 = 12;
pub(super) const WEEK_CHOICES: [u32; 6] = [1, 2, 4, 6, 8, 12];

/// The board's query string, as text: `region` (a region id; default all
/// the viewer may see), `weeks` (how many weeks), `from` (a local date
/// `YYYY-MM-DD`; its week's Monday is the first column).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct BoardQuery {
    pub(super) region: Option<String>,
    pub(super) weeks: Option<String>,
    pub(super) from: Option<String>,
    /// Case reference (or part of one) to find in the queue.
    pub(super) zaak: Option<String>,
    /// The queue's filters and order (see [`QueueFilter::parse`]).
    pub(super) norm: Option<String>,
    pub(super) soort: Option<String>,
    pub(super) tafel: Option<String>,
    pub(super) sorteer: Option<String>,
    /// `overzicht`: counts per region and week instead of every slot.
    pub(super) weergave: Option<String>,
    /// The live update: only these regions' rows (comma-separated ids).
    pub(super) alleen: Option<String>,
    /// After a bulk confirmation: how many were confirmed, how many not.
    pub(super) bevestigd: Option<u32>,
    pub(super) niet: Option<u32>,
}

impl BoardQuery {
    /// The filters as a query string (`region=...&weeks=...`), for the
    /// export links; the bulk confirmation's result is left out.
    /// The board of one region for the week of `date` (for a session's
    /// agenda).
    pub(super) fn for_week(region: &str, date: chrono::NaiveDate) -> BoardQuery {
        BoardQuery {
            region: Some(region.to_string()),
            weeks: Some("1".into()),
            from: Some(date.format("%Y-%m-%d").to_string()),
            ..BoardQuery::default()
        }
    }

    /// The regions whose rows are asked for (`alleen=a,b`); `None` for all.
    pub(super) fn only(&self) -> Option<Vec<&str>> {
        let text = self.alleen.as_deref()?.trim();
        (!text.is_empty()).then(|| text.split(',').map(str::trim).collect())
    }

    /// Whether the compact overview is asked for (`weergave=overzicht`).
    pub(super) fn overview(&self) -> bool {
        self.weergave.as_deref().map(str::trim) == Some("overzicht")
    }

    pub(super) fn filters_query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("region", &self.region),
            ("weeks", &self.weeks),
            ("from", &self.from),
            ("zaak", &self.zaak),
            ("norm", &self.norm),
            ("soort", &self.soort),
            ("tafel", &self.tafel),
            ("sorteer", &self.sorteer),
            ("weergave", &self.weergave),
        ] {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }
}

/// The board's parameters, read from the query (bad values say what is
/// wrong rather than silently showing something else).
pub(super) struct Filters {
    pub(super) region: Option<RegionId>,
    pub(super) weeks: u32,
    /// A Monday.
    pub(super) from: NaiveDate,
}

impl Filters {
    pub(super) fn parse(
        query: &BoardQuery,
        state: &AppState,
        today: NaiveDate,
    ) -> Result<Filters, PageError> {
        let region = match query
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => None,
            Some(text) => Some(
                RegionId::parse(text)
                    .ok()
                    .filter(|id| state.regions.region(id).is_some())
                    .ok_or_else(|| {
                        PageError::Invalid(Said::nl(format!("onbekende regio {text:?}")))
                    })?,
            ),
        };
        let weeks = match query
            .weeks
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            None => DEFAULT_WEEKS,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=MAX_WEEKS).contains(w))
                .ok_or_else(|| {
                    PageError::Invalid(Said::nl(format!(
                        "weken moet 1 tot en met {MAX_WEEKS} zijn, niet {text:?}"
                    )))
                })?,
        };
        let from = match query
            .from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            None => today,
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                PageError::Invalid(Said::nl(format!(
                    "vanaf moet een datum zijn (JJJJ-MM-DD), niet {text:?}"
                )))
            })?,
        };
        Ok(Filters {
            region,
            weeks,
            from: monday_of(from),
        })
    }

    pub(super) fn to(&self) -> NaiveDate {
        self.from + Days::new(u64::from(self.weeks) * 7 - 1)
    }
}

pub(super) fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}
