//! The planning scenario (format v1, see `README.md`): parsing and validation.
//!
//! A [`ScenarioFile`] is the file as written (serde, both ways); a
//! [`Scenario`] is what the planner works on: every id resolved to an index,
//! every instant turned into a local date, every rule already checked. The
//! only way from one to the other is [`Scenario::from_file`], which reports
//! every problem at once, each naming where it is.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Default slot length a referral needs when the scenario does not say.
pub const DEFAULT_MINUTES: u32 = 90;

/// The scenario as it stands in a JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFile {
    pub version: u32,
    pub now: String,
    pub timezone: String,
    pub norm_days: u32,
    pub regions: Vec<RegionFile>,
    #[serde(default)]
    pub slots: Vec<SlotFile>,
    #[serde(default)]
    pub referrals: Vec<ReferralFile>,
    #[serde(default)]
    pub pinned: Vec<PinFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionFile {
    pub id: String,
    #[serde(default)]
    pub neighbours: Vec<String>,
    /// Display name, used in explanations; optional extension of the format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotFile {
    pub id: String,
    pub region: String,
    pub start: String,
    pub minutes: u32,
    /// Extension: only referrals of the slot's own region may take it (a
    /// slot that starts too soon for a neighbouring table's chair to answer
    /// an offer). Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub own_region_only: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralFile {
    pub id: String,
    pub region: String,
    pub registered: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region: Option<bool>,
    /// Extension: tables this referral may not go to, its own included
    /// (an offer that table declined, or a table that does not hold this
    /// kind of conversation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinFile {
    pub referral: String,
    pub slot: String,
}

/// One thing wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path into the document, e.g. `referrals[3].region`; empty for the whole file.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// Every problem found in a scenario; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<Problem>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A region (table) in a validated scenario.
#[derive(Debug, Clone)]
pub struct Region {
    pub id: String,
    pub name: String,
    /// Indexes into [`Scenario::regions`].
    pub neighbours: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub id: String,
    pub region: usize,
    pub start: DateTime<Utc>,
    /// Local calendar date of the start, in the scenario's time zone.
    pub date: NaiveDate,
    pub minutes: u32,
    /// Only referrals of `region` may take this slot.
    pub own_region_only: bool,
}

#[derive(Debug, Clone)]
pub struct Referral {
    pub id: String,
    pub region: usize,
    pub registered: DateTime<Utc>,
    /// Local calendar date of `registered`.
    pub registered_date: NaiveDate,
    pub due: NaiveDate,
    pub earliest: Option<NaiveDate>,
    pub unavailable: BTreeSet<NaiveDate>,
    pub minutes: u32,
    pub cross_region: bool,
    /// Region indexes this referral may not be held in.
    pub excluded: Vec<usize>,
}

/// A scenario whose every rule has been checked; see the module docs.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub now: DateTime<Utc>,
    pub timezone: Tz,
    pub norm_days: u32,
    pub regions: Vec<Region>,
    pub slots: Vec<Slot>,
    pub referrals: Vec<Referral>,
    /// `(referral index, slot index)` of confirmed bookings.
    pub pinned: Vec<(usize, usize)>,
    /// The local date counted for unplanned referrals: the day after the last slot.
    pub unplanned_date: NaiveDate,
}

/// Where a referral may go: the reasons a slot is refused, in the order a
/// chair would check them. Used by the planner and the explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Excluded,
    OtherRegion,
    NoCrossRegion,
    OwnRegionOnly,
    BeforeNow,
    BeforeEarliest,
    Unavailable,
    TooShort,
}

impl Scenario {
    /// Parses a scenario from JSON text. Unknown fields are ignored but
    /// reported through `warn`, so a typo like `cross_regoin` does not pass
    /// silently.
    pub fn parse_json(
        text: &str,
        warn: &mut dyn FnMut(String),
    ) -> Result<Scenario, ScenarioErrors> {
        let file = parse::parse_file(text, warn)?;
        Scenario::from_file(&file)
    }

    /// Validates a scenario file, reporting every problem at once.
    pub fn from_file(file: &ScenarioFile) -> Result<Scenario, ScenarioErrors> {
        build::Builder::default().build(file)
    }

    /// Is slot `s` a valid place for referral `r`? The placement rules of the
    /// format. `new_placement` adds the rules that bind only placements the
    /// planner makes, not confirmed bookings (pins): the slot starts at or
    /// after `now`, and an `own_region_only` slot goes to its own region's
    /// referrals only (a booking made through an accepted offer stays valid
    /// when its slot is later marked so).
    pub fn refusal(&self, r: usize, s: usize, new_placement: bool) -> Option<Refusal> {
        let referral = &self.referrals[r];
        let slot = &self.slots[s];
        if referral.excluded.contains(&slot.region) {
            return Some(Refusal::Excluded);
        }
        if slot.region != referral.region {
            if !self.regions[referral.region]
                .neighbours
                .contains(&slot.region)
            {
                return Some(Refusal::OtherRegion);
            }
            if !referral.cross_region {
                return Some(Refusal::NoCrossRegion);
            }
            if new_placement && slot.own_region_only {
                return Some(Refusal::OwnRegionOnly);
            }
        }
        if new_placement && slot.start < self.now {
            return Some(Refusal::BeforeNow);
        }
        if referral.earliest.is_some_and(|e| slot.date < e) {
            return Some(Refusal::BeforeEarliest);
        }
        if referral.unavailable.contains(&slot.date) {
            return Some(Refusal::Unavailable);
        }
        if slot.minutes < referral.minutes {
            return Some(Refusal::TooShort);
        }
        None
    }

    /// Regions a referral may be held in: its own first, then its neighbours
    /// when it may cross.
    pub fn allowed_regions(&self, r: usize) -> Vec<usize> {
        let referral = &self.referrals[r];
        let mut regions = vec![referral.region];
        if referral.cross_region {
            regions.extend(self.regions[referral.region].neighbours.iter().copied());
        }
        regions.retain(|g| !referral.excluded.contains(g));
        regions
    }

    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }

    pub fn region_index(&self, id: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.id == id)
    }
}

/// Parses the JSON text into a [`ScenarioFile`], naming the place of a
mod build;
mod parse;

pub use parse::parse_file;

/// Why slot `s` is refused for referral `r`, in English (for error messages).
pub fn refusal_text(scenario: &Scenario, r: usize, s: usize, refusal: Refusal) -> String {
    let referral = &scenario.referrals[r];
    let slot = &scenario.slots[s];
    let region = &scenario.regions[slot.region].id;
    let home = &scenario.regions[referral.region].id;
    match refusal {
        Refusal::Excluded => format!("{region} is excluded for this referral"),
        Refusal::OtherRegion => format!("{region} is neither {home} nor one of its neighbours"),
        Refusal::NoCrossRegion => format!("the referral may not leave {home}"),
        Refusal::OwnRegionOnly => format!("the slot is kept for referrals of {region}"),
        Refusal::BeforeNow => "the slot starts before now".into(),
        Refusal::BeforeEarliest => format!(
            "{} is before the earliest date {}",
            slot.date,
            referral.earliest.map(|d| d.to_string()).unwrap_or_default()
        ),
        Refusal::Unavailable => format!("the family cannot come on {}", slot.date),
        Refusal::TooShort => {
            format!(
                "the slot is {} minutes, {} are needed",
                slot.minutes, referral.minutes
            )
        }
    }
}

#[cfg(test)]
mod tests;
