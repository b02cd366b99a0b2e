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
    /// Format version; always `1`.
    pub version: u32,
    /// The planning moment, an RFC 3339 instant (any offset). Slots that start
    /// before it are not used for new placements.
    pub now: String,
    /// IANA zone name (e.g. `Europe/Amsterdam`); every local date in the file
    /// is a calendar date in this zone.
    pub timezone: String,
    /// The norm, in calendar days: a referral should be discussed within this
    /// many days of registration. Gives the default `due`.
    pub norm_days: u32,
    /// The regions (tables) and their neighbours.
    pub regions: Vec<RegionFile>,
    /// The slots, one conversation each; default none.
    #[serde(default)]
    pub slots: Vec<SlotFile>,
    /// The referrals to plan; default none.
    #[serde(default)]
    pub referrals: Vec<ReferralFile>,
    /// Confirmed bookings, kept exactly as they are and counted in the score;
    /// default none.
    #[serde(default)]
    pub pinned: Vec<PinFile>,
}

/// A region (table) as written in the file: an element of `regions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionFile {
    /// Unique region id, e.g. `food-valley`.
    pub id: String,
    /// Ids of the regions a referral of this region may overflow to; default
    /// none.
    #[serde(default)]
    pub neighbours: Vec<String>,
    /// Display name, used in explanations; optional extension of the format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A slot as written in the file: an element of `slots[]`, one
/// conversation (capacity 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotFile {
    /// Unique slot id.
    pub id: String,
    /// Id of the region whose table holds the slot.
    pub region: String,
    /// Start, an RFC 3339 instant (any offset).
    pub start: String,
    /// Length in minutes.
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

/// A referral as written in the file: an element of `referrals[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralFile {
    /// Unique referral id, e.g. `R-1001`.
    pub id: String,
    /// Id of the referral's own region.
    pub region: String,
    /// When the referral was registered, an RFC 3339 instant.
    pub registered: String,
    /// Local date (`YYYY-MM-DD`) by which it should be discussed; default: the
    /// local date of `registered` plus `norm_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Local date before which it cannot be held; default none (`now` still
    /// applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<String>,
    /// Local dates on which the family cannot come; default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<String>,
    /// Minimum slot length in minutes; default [`DEFAULT_MINUTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// May it be held at a neighbouring region's table? Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region: Option<bool>,
    /// Extension: tables this referral may not go to, its own included
    /// (an offer that table declined, or a table that does not hold this
    /// kind of conversation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_regions: Vec<String>,
}

/// A confirmed booking as written in the file: an element of `pinned[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinFile {
    /// Id of the booked referral.
    pub referral: String,
    /// Id of the slot it holds.
    pub slot: String,
}

/// One thing wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path into the document, e.g. `referrals[3].region`; empty for the whole file.
    pub at: String,
    /// What is wrong, in English.
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
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Region id, as in the file.
    pub id: String,
    /// Display name; the id when the file gives none.
    pub name: String,
    /// Indexes into [`Scenario::regions`].
    pub neighbours: Vec<usize>,
}

/// A slot in a validated scenario: one conversation, capacity 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Slot id, as in the file.
    pub id: String,
    /// Index into [`Scenario::regions`] of the table that holds it.
    pub region: usize,
    /// Start instant, in UTC.
    pub start: DateTime<Utc>,
    /// Local calendar date of the start, in the scenario's time zone.
    pub date: NaiveDate,
    /// Length in minutes.
    pub minutes: u32,
    /// Only referrals of `region` may take this slot.
    pub own_region_only: bool,
}

/// A referral in a validated scenario, with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    /// Referral id, as in the file.
    pub id: String,
    /// Index into [`Scenario::regions`] of its own region.
    pub region: usize,
    /// When it was registered, in UTC.
    pub registered: DateTime<Utc>,
    /// Local calendar date of `registered`.
    pub registered_date: NaiveDate,
    /// Local date by which it should be held (the file's `due`, or the local
    /// date of `registered` plus `norm_days`); every day after it is a late day.
    pub due: NaiveDate,
    /// Local date before which it cannot be held, if any.
    pub earliest: Option<NaiveDate>,
    /// Local dates on which it cannot be held.
    pub unavailable: BTreeSet<NaiveDate>,
    /// Minimum slot length in minutes.
    pub minutes: u32,
    /// May it be held at a neighbouring region's table?
    pub cross_region: bool,
    /// Region indexes this referral may not be held in.
    pub excluded: Vec<usize>,
}

/// A scenario whose every rule has been checked; see the module docs.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The planning moment, in UTC.
    pub now: DateTime<Utc>,
    /// The zone in which every local date is taken.
    pub timezone: Tz,
    /// The norm, in calendar days from the local date of registration.
    pub norm_days: u32,
    /// The regions (tables); every region index points into this.
    pub regions: Vec<Region>,
    /// The slots, in file order; every slot index points into this.
    pub slots: Vec<Slot>,
    /// The referrals, in file order; every referral index points into this.
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
    /// The slot's region is one of the referral's excluded regions.
    Excluded,
    /// The slot's region is neither the referral's own nor a neighbour of it.
    OtherRegion,
    /// The slot is at a neighbour's table and the referral may not cross.
    NoCrossRegion,
    /// The slot is kept for its own region's referrals (new placements only).
    OwnRegionOnly,
    /// The slot starts before `now` (new placements only).
    BeforeNow,
    /// The slot's local date is before the referral's `earliest`.
    BeforeEarliest,
    /// The family cannot come on the slot's local date.
    Unavailable,
    /// The slot is shorter than the referral needs.
    TooShort,
}

impl Scenario {
    /// Parses a scenario from JSON text. Unknown fields are ignored but
    /// reported through `warn`, so a typo like `cross_regoin` does not pass
    /// silently.
    ///
    /// # Errors
    ///
    /// Every problem found, syntax, types or rules, each naming where it is.
    pub fn parse_json(
        text: &str,
        warn: &mut dyn FnMut(String),
    ) -> Result<Scenario, ScenarioErrors> {
        let file = parse::parse_file(text, warn)?;
        Scenario::from_file(&file)
    }

    /// Validates a scenario file, reporting every problem at once.
    ///
    /// # Errors
    ///
    /// Every broken rule (unknown region or slot, duplicate id, bad pin,
    /// unknown time zone, malformed date or instant, ...), each naming where
    /// it is.
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

    /// Per slot: is it free to plan (not booked, not starting before
    /// `now`)?
    pub fn free_to_plan(&self) -> Vec<bool> {
        let mut free: Vec<bool> = self.slots.iter().map(|s| s.start >= self.now).collect();
        for &(_, s) in &self.pinned {
            free[s] = false;
        }
        free
    }

    /// The pinned slot of each referral (by index), `None` for the rest.
    pub fn pin_of(&self) -> Vec<Option<usize>> {
        let mut pin_of = vec![None; self.referrals.len()];
        for &(r, s) in &self.pinned {
            pin_of[r] = Some(s);
        }
        pin_of
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

    /// The local calendar date of `instant` in the scenario's time zone.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }

    /// Index into [`Scenario::regions`] of the region with id `id`, if any.
    pub fn region_index(&self, id: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.id == id)
    }
}

mod build;
mod parse;

/// Parses the JSON text into a [`ScenarioFile`], naming the place of a
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
