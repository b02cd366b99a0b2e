//! The exact judge of a set of extra sessions: the base scenario with those
//! sessions added, planned by [`planner::plan`]; and what that plan means
//! for lateness.

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;

use super::{AdviceError, Candidate, Choice, Lateness, RegionCount, SessionTakes};
use crate::planner::{self, scenario::Slot, Scenario};

/// A planned set of sessions.
#[derive(Debug, Clone)]
pub(super) struct Evaluation {
    /// Candidate indexes, ascending: the order their slots were added in.
    pub set: Vec<usize>,
    /// Lateness of the plan.
    pub lateness: Lateness,
    /// Slot index per referral in the scenario with the set added.
    pub slot_of: Vec<Option<usize>>,
}

/// The base scenario, the candidates' slots, and the count of evaluations.
pub(super) struct Evaluator<'a> {
    /// The validated base scenario.
    pub base: Scenario,
    /// The candidates as given.
    pub candidates: &'a [Candidate],
    /// The slots of each candidate, ready to append.
    pub extra: Vec<Vec<Slot>>,
    /// Per referral: free (not pinned), of the region in scope, its due
    /// date not passed at `now`, and some place (existing or candidate)
    /// could hold it in time.
    pub target: Vec<bool>,
    /// The region advised on, if one ([`super::Options::region`]).
    pub scope: Option<usize>,
    budget: u64,
    /// Evaluations allowed in the current phase (at most `budget`).
    limit: u64,
    evaluations: u64,
    /// An evaluation was refused for want of budget.
    cut: bool,
}

impl<'a> Evaluator<'a> {
    /// Checks the candidates and prepares their slots.
    pub fn new(
        base: Scenario,
        candidates: &'a [Candidate],
        budget: u64,
        scope: Option<usize>,
    ) -> Result<Self, AdviceError> {
        let extra = candidate_slots(&base, candidates)?;
        let mut evaluator = Evaluator {
            base,
            candidates,
            extra,
            target: Vec::new(),
            scope,
            budget,
            limit: budget,
            evaluations: 0,
            cut: false,
        };
        evaluator.target = evaluator.targets();
        Ok(evaluator)
    }

    /// Planner evaluations made so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// May candidate `c` be tried: is its table the region in scope or
    /// one of its neighbours (any table when no region is)?
    pub fn in_scope(&self, c: usize) -> bool {
        let table = self.extra[c][0].region;
        self.scope
            .is_none_or(|g| g == table || self.base.regions[g].neighbours.contains(&table))
    }

    /// Has the budget (or the current phase's share of it) run out?
    pub fn exhausted(&self) -> bool {
        self.evaluations >= self.limit
    }

    /// Should a search with work still to do stop here? True when the
    /// budget (or the phase's share) has run out, and then the search is
    /// marked cut short.
    pub fn stop(&mut self) -> bool {
        self.cut |= self.exhausted();
        self.exhausted()
    }

    /// Lets the current phase use `share` of the whole budget (clamped to
    /// 0..=1), counted from the start: the search for the norm leaves some
    /// for the trade-off.
    pub fn set_share(&mut self, share: f64) {
        self.limit = (self.budget as f64 * share.clamp(0.0, 1.0)) as u64;
    }

    /// Was an evaluation refused for want of budget (so the search was
    /// cut short)?
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// The base scenario with the sessions of `set` added, in `set` order.
    /// The day counted for unplanned referrals stays the base's: candidates
    /// lie within its horizon ([`candidate_slots`]), so a file with the
    /// same slots added validates to this very scenario.
    pub fn scenario_with(&self, set: &[usize]) -> Scenario {
        let mut scenario = self.base.clone();
        for &c in set {
            scenario.slots.extend(self.extra[c].iter().cloned());
        }
        scenario
    }

    /// Plans the base with `set` added; `None` when the budget has run out.
    pub fn evaluate(&mut self, set: &[usize]) -> Result<Option<Evaluation>, AdviceError> {
        if self.exhausted() {
            self.cut = true;
            return Ok(None);
        }
        self.plan(set).map(Some)
    }

    /// Plans the base with `set` added, budget or not (the base plan is
    /// always needed: it is the "before"). The sessions are added in
    /// candidate order whatever the order of `set`, so the promise can be
    /// checked by adding them, in the order listed, to the file.
    pub fn plan(&mut self, set: &[usize]) -> Result<Evaluation, AdviceError> {
        self.evaluations += 1;
        let mut set = set.to_vec();
        set.sort_unstable();
        let scenario = self.scenario_with(&set);
        let outcome = planner::plan(&scenario, planner::Options::default())?;
        let lateness = lateness(&scenario, &outcome.slot_of, &self.target);
        Ok(Evaluation {
            set,
            lateness,
            slot_of: outcome.slot_of,
        })
    }

    /// The answer's form of an evaluated set: sessions and what each takes.
    pub fn choice(&self, evaluation: &Evaluation) -> Choice {
        let mut first = self.base.slots.len();
        let takes = evaluation
            .set
            .iter()
            .map(|&c| {
                let slots = first..first + self.extra[c].len();
                first = slots.end;
                let mut by_region: BTreeMap<&str, u32> = BTreeMap::new();
                for (r, slot) in evaluation.slot_of.iter().enumerate() {
                    if slot.is_some_and(|s| slots.contains(&s)) {
                        let home = &self.base.regions[self.base.referrals[r].region].id;
                        *by_region.entry(home).or_default() += 1;
                    }
                }
                SessionTakes {
                    candidate: c,
                    session: self.candidates[c].clone(),
                    by_region: by_region
                        .into_iter()
                        .map(|(region, referrals)| RegionCount {
                            region: region.to_owned(),
                            referrals,
                        })
                        .collect(),
                }
            })
            .collect();
        Choice {
            sessions: evaluation.set.clone(),
            after: evaluation.lateness,
            takes,
        }
    }

    /// See [`Evaluator::target`]. A referral no place could hold in time,
    /// even with every candidate added, is left out: counting it would make
    /// every advice impossible without saying anything new.
    fn targets(&self) -> Vec<bool> {
        let all: Vec<usize> = (0..self.candidates.len()).collect();
        let scenario = self.scenario_with(&all);
        let today = scenario.local_date(scenario.now);
        let pinned: HashSet<usize> = scenario.pinned.iter().map(|&(r, _)| r).collect();
        (0..scenario.referrals.len())
            .map(|r| {
                let due = scenario.referrals[r].due;
                !pinned.contains(&r)
                    && self.scope.is_none_or(|g| scenario.referrals[r].region == g)
                    && due >= today
                    && (0..scenario.slots.len()).any(|s| {
                        scenario.slots[s].date <= due && scenario.refusal(r, s, true).is_none()
                    })
            })
            .collect()
    }
}

/// Lateness of a plan (`slot_of`) of `scenario`, counted as the score counts.
pub(super) fn lateness(
    scenario: &Scenario,
    slot_of: &[Option<usize>],
    target: &[bool],
) -> Lateness {
    let mut out = Lateness {
        score: planner::Plan::score_of(scenario, slot_of),
        ..Lateness::default()
    };
    for (r, slot) in slot_of.iter().enumerate() {
        let date = slot.map_or(scenario.unplanned_date, |s| scenario.slots[s].date);
        let late = (date - scenario.referrals[r].due)
            .num_days()
            .max(0)
            .unsigned_abs();
        out.unplanned += u32::from(slot.is_none());
        if late > 0 {
            out.late_referrals += 1;
            out.late_days += late;
            out.late_days_sq += late * late;
            out.can_make_it_late += u32::from(target[r]);
        }
    }
    out
}

/// The slots of every candidate, checked: a known region, at least one
/// slot of at least one minute, a unique id whose slot ids are new, and no
/// slot after the base's last slot date (a later one would move the day
/// counted for unplanned referrals, and so change what "late" means).
fn candidate_slots(
    base: &Scenario,
    candidates: &[Candidate],
) -> Result<Vec<Vec<Slot>>, AdviceError> {
    let mut ids: HashSet<String> = base.slots.iter().map(|s| s.id.clone()).collect();
    let mut seen = HashSet::new();
    let horizon = base
        .unplanned_date
        .pred_opt()
        .unwrap_or(base.unplanned_date);
    candidates
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let wrong = |message: String| AdviceError::Candidate {
                index,
                id: c.id.clone(),
                message,
            };
            let region = base
                .region_index(&c.region)
                .ok_or_else(|| wrong(format!("unknown region {:?}", c.region)))?;
            if c.slots == 0 || c.slot_minutes == 0 {
                return Err(wrong(
                    "needs at least one slot of at least one minute".into(),
                ));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(wrong("duplicate candidate id".into()));
            }
            let slots: Vec<Slot> = (0..c.slots)
                .map(|n| {
                    let start = c.start + Duration::minutes(i64::from(n * c.slot_minutes));
                    Slot {
                        id: format!("advice:{}:{}", c.id, n + 1),
                        region,
                        start,
                        date: base.local_date(start),
                        minutes: c.slot_minutes,
                        own_region_only: false,
                    }
                })
                .collect();
            for slot in &slots {
                if !ids.insert(slot.id.clone()) {
                    return Err(wrong(format!("slot id {} is already taken", slot.id)));
                }
                if slot.date > horizon {
                    return Err(wrong(format!(
                        "{} is after the scenario's last slot date {horizon}",
                        slot.date
                    )));
                }
            }
            Ok(slots)
        })
        .collect()
}

/// Sort key of candidate `c`: date, then more places, longer places, index.
pub(super) fn order_key(
    ev: &Evaluator,
    c: usize,
) -> (
    chrono::NaiveDate,
    std::cmp::Reverse<u32>,
    std::cmp::Reverse<u32>,
    usize,
) {
    let candidate = &ev.candidates[c];
    (
        ev.extra[c][0].date,
        std::cmp::Reverse(candidate.slots),
        std::cmp::Reverse(candidate.slot_minutes),
        c,
    )
}

/// Keeps `candidate` in `best` when its score is lower (the first on ties).
pub(super) fn keep_lower(best: &mut Option<Evaluation>, candidate: &Evaluation) {
    let lower = best
        .as_ref()
        .is_none_or(|b| candidate.lateness.score.better_than(&b.lateness.score));
    if lower {
        *best = Some(candidate.clone());
    }
}
