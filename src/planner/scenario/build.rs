//! Validation: from a [`ScenarioFile`] to a [`Scenario`], every problem at
//! once, each with its place.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{
    refusal_text, PinFile, Problem, Referral, Region, RegionFile, Scenario, ScenarioErrors,
    ScenarioFile, Slot, SlotFile, DEFAULT_MINUTES,
};

/// Collects the problems of one validation.
#[derive(Default)]
pub(super) struct Builder {
    problems: Vec<Problem>,
}

impl Builder {
    fn problem(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.into(),
            message: message.into(),
        });
    }

    pub(super) fn build(mut self, file: &ScenarioFile) -> Result<Scenario, ScenarioErrors> {
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
