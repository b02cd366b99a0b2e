//! Capacity advice (issue 16): the fewest extra sessions that bring every
//! referral that can still make the norm back within it.
//!
//! Pure, like [`crate::planner`]: no I/O, no clock, no database. The only
//! judge of a set of extra sessions is the planner itself: the scenario
//! with those sessions added is planned by [`planner::plan()`], and what that
//! plan leaves late is what the advice promises (`evaluate`).
//!
//! The search (`search`) is exact and deterministic:
//! - **Meeting the norm**: candidate sets in increasing size. A set is only
//!   planned when the referrals that can still make it could all be matched
//!   to distinct on-time places in it (`matching`), a condition every
//!   set that meets the norm fulfils; branches whose remaining candidates
//!   cannot complete such a matching are cut. The first size with a set
//!   whose plan leaves none of them late is the answer; among the sets of
//!   that size, the one with the lowest planner score.
//! - **Trade-off** (when no set of up to `max_extra` sessions does it): per
//!   size k, the k sessions with the lowest planner score, by branch and
//!   bound: the score only improves when sessions are added, so the plan
//!   with every remaining candidate added bounds a branch; and a session
//!   that is no earlier, shorter or smaller than another of the same table
//!   (and open to no referral the other is closed to) need only be tried
//!   together with that other one.
//!
//! Work is counted in planner evaluations (`Options::budget`), not time,
//! so the same input always gives the same answer; when the budget runs
//! out the best sets found are returned with `proven_optimal = false`.

mod candidates;
mod evaluate;
mod matching;
mod report;
mod search;
mod tradeoff;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_brute;

pub use candidates::from_scenario_file;
pub use report::render_table;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::planner::{self, PlanError, ScenarioErrors, ScenarioFile};

/// A possible extra session: `slots` conversations of `slot_minutes` each,
/// back to back from `start`, at the table of `region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Unique id; the session's slots are `advice:<id>:<n>`, n from 1.
    pub id: String,
    /// Id of the region whose table would hold the session.
    pub region: String,
    /// Start of the first conversation.
    pub start: DateTime<Utc>,
    /// Length of each conversation, in minutes.
    pub slot_minutes: u32,
    /// Number of conversations in the session.
    pub slots: u32,
}

/// What to advise on, and how hard to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most extra sessions in one answer.
    pub max_extra: usize,
    /// Most planner evaluations; the deterministic stand-in for a time limit.
    pub budget: u64,
    /// Advice for one region (its id): only its referrals count, and only
    /// sessions at its own table or a neighbour's are tried. `None`: every
    /// region, every candidate.
    pub region: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_extra: 3,
            budget: 20_000,
            region: None,
        }
    }
}

/// Late days of one plan, counted as the planner's score counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lateness {
    /// Referrals held (or left unplanned) after their due date.
    pub late_referrals: u32,
    /// Days past the due date, summed over all referrals.
    pub late_days: u64,
    /// Days past the due date, squared, summed (the score's second level).
    pub late_days_sq: u64,
    /// Late referrals whose due date had not passed at `now` and that some
    /// place (existing or candidate) could hold in time, of the region
    /// advised on ([`Options::region`]): the ones the advice is about.
    pub can_make_it_late: u32,
    /// Referrals without a slot.
    pub unplanned: u32,
    /// The planner's score of the plan.
    pub score: planner::Score,
}

/// Referrals of one home region placed in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCount {
    /// Home region id of the referrals.
    pub region: String,
    /// How many of them the session holds.
    pub referrals: u32,
}

/// What one advised session would take in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTakes {
    /// Index into the candidates given to [`advise`].
    pub candidate: usize,
    /// The session itself.
    pub session: Candidate,
    /// Referrals placed in it, per home region (region id order).
    pub by_region: Vec<RegionCount>,
}

/// A set of extra sessions and the plan it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Candidate indexes, ascending.
    pub sessions: Vec<usize>,
    /// Lateness of the plan with these sessions added.
    pub after: Lateness,
    /// Per session (in `sessions` order): what it takes.
    pub takes: Vec<SessionTakes>,
}

/// The answer of [`advise`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advice {
    /// Lateness of the plan without extra sessions.
    pub before: Lateness,
    /// The fewest sessions that leave no referral late that can still make
    /// the norm (lowest score among sets of that size); an empty set when
    /// the plan already does; `None` when no set of up to `max_extra`
    /// sessions was found to do it.
    pub chosen: Option<Choice>,
    /// When `chosen` is `None`: for k = 1, 2, ... `max_extra`, the k
    /// sessions with the lowest score (shorter when the budget ran out or
    /// fewer candidates can be used).
    pub tradeoff: Vec<Choice>,
    /// Candidates some referral still to plan could take, at the tables in
    /// scope (the others change no plan, or are out of scope, and are not
    /// searched).
    pub usable_candidates: usize,
    /// `false` when the budget ran out before the search was complete: the
    /// answer is the best found, not proven the best.
    pub proven_optimal: bool,
    /// Planner evaluations made.
    pub evaluations: u64,
}

/// Why no advice was given.
#[derive(Debug, thiserror::Error)]
pub enum AdviceError {
    /// The base scenario is not valid.
    #[error("invalid scenario:\n{0}")]
    Scenario(#[from] ScenarioErrors),
    /// A candidate session is not usable as given.
    #[error("candidate {index} ({id}): {message}")]
    Candidate {
        /// Index in the candidate list.
        index: usize,
        /// Its id.
        id: String,
        /// What is wrong, in English.
        message: String,
    },
    /// [`Options::region`] names no region of the scenario.
    #[error("unknown region {0:?}")]
    Region(String),
    /// `max_extra` out of range.
    #[error("max_extra must be between 1 and {MAX_EXTRA}, not {0}")]
    MaxExtra(usize),
    /// The planner failed on a scenario with extra sessions.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The largest `max_extra` accepted: the number of sets grows as
/// candidates^k.
pub const MAX_EXTRA: usize = 10;

/// The fewest extra sessions among `candidates` that bring within the norm
/// every referral of `base` that can still make it; see the module docs.
///
/// # Errors
///
/// An invalid scenario, an unusable candidate (unknown region, no slots,
/// duplicate id, after the scenario's last slot date), `max_extra` out of
/// range, an unknown `region`, or a planner failure.
pub fn advise(
    base: &ScenarioFile,
    candidates: &[Candidate],
    options: Options,
) -> Result<Advice, AdviceError> {
    if options.max_extra == 0 || options.max_extra > MAX_EXTRA {
        return Err(AdviceError::MaxExtra(options.max_extra));
    }
    let scenario = planner::Scenario::from_file(base)?;
    let scope = match &options.region {
        Some(id) => Some(
            scenario
                .region_index(id)
                .ok_or_else(|| AdviceError::Region(id.clone()))?,
        ),
        None => None,
    };
    let mut evaluator = evaluate::Evaluator::new(scenario, candidates, options.budget, scope)?;
    search::run(&mut evaluator, options.max_extra)
}
