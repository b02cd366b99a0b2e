//! The planning scenario (format v1, see `README.md`): parsing and validation.
//!
//! A [`ScenarioFile`] is the file as written (serde, both ways); a
//! [`Scenario`] is what the planner works on: every id resolved to an index,
//! every instant turned into a local date, every rule already checked. The
//! only way from one to the other is [`Scenario::from_file`], which reports
//! every problem at once, each naming where it is.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Days, NaiveDate, Utc};
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
        let file = parse_file(text, warn)?;
        Scenario::from_file(&file)
    }

    /// Validates a scenario file, reporting every problem at once.
    pub fn from_file(file: &ScenarioFile) -> Result<Scenario, ScenarioErrors> {
        Builder::default().build(file)
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
/// syntax or type error.
pub fn parse_file(
    text: &str,
    warn: &mut dyn FnMut(String),
) -> Result<ScenarioFile, ScenarioErrors> {
    // serde reads a struct from an array too (by position); a scenario is
    // an object with named fields, so anything else is refused up front.
    let first = text.trim_start().chars().next();
    if first.is_some_and(|c| c != '{') && serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return Err(ScenarioErrors(vec![Problem {
            at: String::new(),
            message: "the scenario must be a JSON object".into(),
        }]));
    }
    let json = &mut serde_json::Deserializer::from_str(text);
    let mut ignored = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
    let tracked = serde_ignored::Deserializer::new(json, &mut note);
    let parsed: Result<ScenarioFile, _> = serde_path_to_error::deserialize(tracked);
    match parsed {
        Ok(file) => {
            for path in ignored {
                warn(format!("{}: unknown field, ignored", json_path(&path)));
            }
            Ok(file)
        }
        Err(err) => {
            let at = json_path(&err.path().to_string());
            let inner = err.into_inner();
            let message = match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    format!("not valid JSON: {inner}")
                }
                _ => inner.to_string(),
            };
            Err(ScenarioErrors(vec![Problem {
                at: if at == "." { String::new() } else { at },
                message,
            }]))
        }
    }
}

/// serde_path_to_error writes `referrals[3].region`; serde_ignored writes
/// `referrals.3.region`. Both become the former.
fn json_path(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        if part.is_empty() {
            continue;
        }
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

#[derive(Default)]
struct Builder {
    problems: Vec<Problem>,
}

impl Builder {
    fn problem(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.into(),
            message: message.into(),
        });
    }

    fn build(mut self, file: &ScenarioFile) -> Result<Scenario, ScenarioErrors> {
        if file.version != 1 {
            self.problem(
                "version",
                format!("unsupported version {}, expected 1", file.version),
            );
        }
        let timezone = match file.timezone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.problem("timezone", format!("unknown time zone {:?}", file.timezone));
                None
            }
        };
        let now = self.instant("now", &file.now);
        if file.norm_days == 0 {
            self.problem("norm_days", "must be at least 1");
        }
        let regions = self.regions(&file.regions);
        let region_ix: HashMap<&str, usize> = file
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let tz = timezone.unwrap_or(chrono_tz::UTC);
        let slots = self.slots(&file.slots, &region_ix, tz);
        let referrals = self.referrals(file, &region_ix, tz);

        // Stop before the cross-checks when the pieces themselves are wrong:
        // a pin check against a slot that failed to parse says nothing useful.
        let (Some(timezone), Some(now)) = (timezone, now) else {
            return Err(ScenarioErrors(self.problems));
        };
        if !self.problems.is_empty() {
            return Err(ScenarioErrors(self.problems));
        }
        let unplanned_date = slots
            .iter()
            .map(|s| s.date)
            .max()
            .unwrap_or_else(|| now.with_timezone(&timezone).date_naive())
            .checked_add_days(Days::new(1))
            .unwrap_or(NaiveDate::MAX);
        let mut scenario = Scenario {
            now,
            timezone,
            norm_days: file.norm_days,
            regions,
            slots,
            referrals,
            pinned: Vec::new(),
            unplanned_date,
        };
        scenario.pinned = self.pins(&file.pinned, &scenario);
        if self.problems.is_empty() {
            Ok(scenario)
        } else {
            Err(ScenarioErrors(self.problems))
        }
    }

    fn instant(&mut self, at: &str, text: &str) -> Option<DateTime<Utc>> {
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                self.problem(at, format!("not an RFC 3339 instant {text:?} ({e})"));
                None
            }
        }
    }

    fn date(&mut self, at: &str, text: &str) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) if text.len() == 10 => Some(d),
            _ => {
                self.problem(at, format!("not a date (YYYY-MM-DD) {text:?}"));
                None
            }
        }
    }

    fn regions(&mut self, files: &[RegionFile]) -> Vec<Region> {
        let mut seen = HashSet::new();
        for (i, r) in files.iter().enumerate() {
            if r.id.trim().is_empty() {
                self.problem(format!("regions[{i}].id"), "empty region id");
            } else if !seen.insert(r.id.as_str()) {
                self.problem(
                    format!("regions[{i}].id"),
                    format!("duplicate region id {:?}", r.id),
                );
            }
        }
        let index: HashMap<&str, usize> = files
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        files
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut neighbours = Vec::new();
                for (j, n) in r.neighbours.iter().enumerate() {
                    let at = format!("regions[{i}].neighbours[{j}]");
                    match index.get(n.as_str()) {
                        None => self.problem(at, format!("unknown region {n:?}")),
                        Some(&k) if k == i => self.problem(at, "a region is not its own neighbour"),
                        Some(&k) if neighbours.contains(&k) => {
                            self.problem(at, format!("neighbour {n:?} listed twice"))
                        }
                        Some(&k) => neighbours.push(k),
                    }
                }
                Region {
                    id: r.id.clone(),
                    name: r.name.clone().unwrap_or_else(|| r.id.clone()),
                    neighbours,
                }
            })
            .collect()
    }

    fn region_ref(&mut self, at: String, id: &str, index: &HashMap<&str, usize>) -> Option<usize> {
        let found = index.get(id).copied();
        if found.is_none() {
            self.problem(at, format!("unknown region {id:?}"));
        }
        found
    }

    fn slots(&mut self, files: &[SlotFile], index: &HashMap<&str, usize>, tz: Tz) -> Vec<Slot> {
        let mut seen = HashSet::new();
        let mut slots = Vec::new();
        for (i, s) in files.iter().enumerate() {
            let at = |field: &str| format!("slots[{i}].{field}");
            if s.id.is_empty() {
                self.problem(at("id"), "empty slot id");
            } else if !seen.insert(s.id.as_str()) {
                self.problem(at("id"), format!("duplicate slot id {:?}", s.id));
            }
            let region = self.region_ref(at("region"), &s.region, index);
            let start = self.instant(&at("start"), &s.start);
            if s.minutes == 0 {
                self.problem(at("minutes"), "must be at least 1");
            }
            if let (Some(region), Some(start)) = (region, start) {
                slots.push(Slot {
                    id: s.id.clone(),
                    region,
                    start,
                    date: start.with_timezone(&tz).date_naive(),
                    minutes: s.minutes,
                    own_region_only: s.own_region_only,
                });
            }
        }
        slots
    }

    fn referrals(
        &mut self,
        file: &ScenarioFile,
        index: &HashMap<&str, usize>,
        tz: Tz,
    ) -> Vec<Referral> {
        let mut seen = HashSet::new();
        let mut referrals = Vec::new();
        for (i, r) in file.referrals.iter().enumerate() {
            let at = |field: &str| format!("referrals[{i}].{field}");
            if r.id.is_empty() {
                self.problem(at("id"), "empty referral id");
            } else if !seen.insert(r.id.as_str()) {
                self.problem(at("id"), format!("duplicate referral id {:?}", r.id));
            }
            let region = self.region_ref(at("region"), &r.region, index);
            let registered = self.instant(&at("registered"), &r.registered);
            let due = r.due.as_deref().map(|d| self.date(&at("due"), d));
            let earliest = r.earliest.as_deref().map(|d| self.date(&at("earliest"), d));
            let mut unavailable = BTreeSet::new();
            for (j, d) in r.unavailable.iter().enumerate() {
                if let Some(d) = self.date(&format!("referrals[{i}].unavailable[{j}]"), d) {
                    unavailable.insert(d);
                }
            }
            let mut excluded = Vec::new();
            for (j, id) in r.excluded_regions.iter().enumerate() {
                let at = format!("referrals[{i}].excluded_regions[{j}]");
                if let Some(g) = self.region_ref(at, id, index) {
                    excluded.push(g);
                }
            }
            let minutes = r.minutes.unwrap_or(DEFAULT_MINUTES);
            if minutes == 0 {
                self.problem(at("minutes"), "must be at least 1");
            }
            let (Some(region), Some(registered)) = (region, registered) else {
                continue;
            };
            let registered_date = registered.with_timezone(&tz).date_naive();
            let due = match due {
                Some(Some(d)) => d,
                Some(None) => continue,
                None => match registered_date.checked_add_days(Days::new(file.norm_days.into())) {
                    Some(d) => d,
                    None => {
                        self.problem(at("registered"), "date out of range");
                        continue;
                    }
                },
            };
            let earliest = match earliest {
                Some(None) => continue,
                Some(e) => e,
                None => None,
            };
            referrals.push(Referral {
                id: r.id.clone(),
                region,
                registered,
                registered_date,
                due,
                earliest,
                unavailable,
                minutes,
                cross_region: r.cross_region.unwrap_or(true),
                excluded,
            });
        }
        referrals
    }

    fn pins(&mut self, files: &[PinFile], scenario: &Scenario) -> Vec<(usize, usize)> {
        let referral_ix: HashMap<&str, usize> = scenario
            .referrals
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let slot_ix: HashMap<&str, usize> = scenario
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut by_referral = HashSet::new();
        let mut by_slot = HashSet::new();
        let mut pins = Vec::new();
        for (i, p) in files.iter().enumerate() {
            let r = referral_ix.get(p.referral.as_str()).copied();
            let s = slot_ix.get(p.slot.as_str()).copied();
            if r.is_none() {
                self.problem(
                    format!("pinned[{i}].referral"),
                    format!("unknown referral {:?}", p.referral),
                );
            }
            if s.is_none() {
                self.problem(
                    format!("pinned[{i}].slot"),
                    format!("unknown slot {:?}", p.slot),
                );
            }
            let (Some(r), Some(s)) = (r, s) else { continue };
            if !by_referral.insert(r) {
                self.problem(
                    format!("pinned[{i}].referral"),
                    format!("referral {:?} is pinned twice", p.referral),
                );
                continue;
            }
            if !by_slot.insert(s) {
                self.problem(
                    format!("pinned[{i}].slot"),
                    format!("slot {:?} is pinned twice", p.slot),
                );
                continue;
            }
            if let Some(refusal) = scenario.refusal(r, s, false) {
                self.problem(
                    format!("pinned[{i}]"),
                    format!(
                        "{} may not be held in slot {}: {}",
                        p.referral,
                        p.slot,
                        refusal_text(scenario, r, s, refusal)
                    ),
                );
                continue;
            }
            pins.push((r, s));
        }
        pins
    }
}

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
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/example-scenario.json");

    fn parse(text: &str) -> Result<Scenario, ScenarioErrors> {
        Scenario::parse_json(text, &mut |_| {})
    }

    fn lines(err: ScenarioErrors) -> Vec<String> {
        err.0.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_example_scenario_parses_with_local_dates() {
        let s = parse(EXAMPLE).expect("valid");
        assert_eq!(
            s.slots[1].date,
            NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
        );
        let r1001 = &s.referrals[0];
        assert_eq!(r1001.due.to_string(), "2026-12-08");
        // R-0999 has no due date: registered 2026-11-20 + 14 days.
        assert_eq!(s.referrals[1].due.to_string(), "2026-12-04");
        assert_eq!(s.referrals[2].minutes, 120);
        assert_eq!(s.pinned, vec![(1, 0)]);
        assert_eq!(s.unplanned_date.to_string(), "2026-12-04");
    }

    #[test]
    fn a_late_evening_utc_registration_counts_on_the_next_local_day() {
        let text = EXAMPLE.replace("2026-11-24T14:30:00+01:00", "2026-11-24T23:30:00Z");
        let s = parse(&text).expect("valid");
        assert_eq!(s.referrals[0].registered_date.to_string(), "2026-11-25");
    }

    #[test]
    fn unknown_regions_are_named_with_their_place() {
        let text = EXAMPLE.replace(
            "\"region\": \"centraal-gelderland\"",
            "\"region\": \"food-valey\"",
        );
        let err = parse(&text).expect_err("invalid");
        assert_eq!(
            lines(err),
            vec!["referrals[1].region: unknown region \"food-valey\""]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = EXAMPLE
            .replace("Europe/Amsterdam", "Europe/Amsterdan")
            .replace("\"2026-12-08\"", "\"2026-13-08\"")
            .replace(
                "\"fv-1203-a\",\n      \"region\"",
                "\"fv-1202-a\",\n      \"region\"",
            );
        let got = lines(parse(&text).expect_err("invalid"));
        assert!(
            got.contains(&"timezone: unknown time zone \"Europe/Amsterdan\"".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"referrals[0].due: not a date (YYYY-MM-DD) \"2026-13-08\"".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"slots[1].id: duplicate slot id \"fv-1202-a\"".to_string()),
            "{got:?}"
        );
    }

    #[test]
    fn syntax_errors_give_one_clear_line() {
        let err = parse("{\"version\": 1,").expect_err("invalid");
        assert_eq!(err.0.len(), 1);
        assert!(err.0[0].message.starts_with("not valid JSON"), "{err}");
        let err = parse(&EXAMPLE.replace("\"minutes\": 90,", "\"minutes\": \"ninety\","))
            .expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("referrals[0].minutes: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn pins_that_break_the_rules_are_rejected() {
        // R-1001 cannot come before 2026-12-02; pin it on a 2026-12-01 slot.
        let text = EXAMPLE
            .replace("2026-12-02T09:00:00+01:00", "2026-12-01T09:00:00+01:00")
            .replace("\"referral\": \"R-0999\"", "\"referral\": \"R-1001\"");
        let got = lines(parse(&text).expect_err("invalid"));
        assert_eq!(
            got,
            vec!["pinned[0]: R-1001 may not be held in slot fv-1202-a: 2026-12-01 is before the earliest date 2026-12-02"]
        );
    }

    #[test]
    fn unknown_fields_are_warned_about_not_fatal() {
        let text = EXAMPLE.replace("\"cross_region\": true", "\"cross_regoin\": true");
        let mut warnings = Vec::new();
        let s = Scenario::parse_json(&text, &mut |w| warnings.push(w)).expect("valid");
        assert!(s.referrals[0].cross_region);
        assert_eq!(
            warnings,
            vec!["referrals[0].cross_regoin: unknown field, ignored"]
        );
    }
}
