//! The trade-off: per number of sessions k, the k sessions whose plan has
//! the lowest score, by branch and bound.
//!
//! Two facts keep it exact and small:
//! - **The score only improves as sessions are added** (every plan of a
//!   set is still a plan of a larger one, and the day counted for
//!   unplanned referrals stays put). So the plan with every remaining
//!   candidate added bounds a branch from below.
//! - **Dominance.** Session `a` dominates `b` when both are at the same
//!   table on one day each, `a` no later, with at least as many places of
//!   at least the same length, and every free referral that may take `b`
//!   may take `a`. Swapping `b` for `a` (when `a` is not already chosen)
//!   moves `b`'s referrals to `a`, each no later at the same table: no
//!   level of the score gets worse. So some best set holds, with each of
//!   its sessions, every session that dominates it; the search skips the
//!   other sets. (Ties are broken by the pool order, which lists a
//!   dominating session first.)

use std::collections::HashSet;

use super::evaluate::{keep_lower, order_key, Evaluation, Evaluator};
use super::AdviceError;
use crate::planner::Scenario;

/// Referral indexes that are not pinned.
pub(super) fn free_referrals(scenario: &Scenario) -> Vec<usize> {
    let pinned: HashSet<usize> = scenario.pinned.iter().map(|&(r, _)| r).collect();
    (0..scenario.referrals.len())
        .filter(|r| !pinned.contains(r))
        .collect()
}

/// For k = 1 ..= `max_extra` (at most the pool's size), the best set of k
/// sessions from `pool`; `seen[k]`, a set of k planned before, is a first
/// incumbent. When the budget runs out, the best found so far (and the
/// sets seen before for the sizes not reached).
pub(super) fn best_per_size(
    ev: &mut Evaluator,
    pool: &[usize],
    max_extra: usize,
    seen: Vec<Option<Evaluation>>,
) -> Result<Vec<Evaluation>, AdviceError> {
    let dominated = dominance(ev, pool);
    let mut out: Vec<Evaluation> = Vec::new();
    let sizes = seen.into_iter().enumerate();
    for (size, mut seed) in sizes.skip(1).take(max_extra.min(pool.len())) {
        if let (Some(previous), false) = (out.last(), ev.exhausted()) {
            if let Some(grown) = grown(ev, pool, &previous.set)? {
                keep_lower(&mut seed, &grown);
            }
        }
        let mut search = Branch {
            ev: &mut *ev,
            pool,
            dominated: &dominated,
            size,
            set: Vec::new(),
            forbidden: vec![false; pool.len()],
            best: seed,
        };
        search.extend(0)?;
        let best = search.best;
        match best {
            Some(found) => out.push(found),
            None => break,
        }
    }
    Ok(out)
}

/// A first set of one size more: `set` with the first pool candidate it
/// lacks. Its score is at most that of `set`, so it is a fair incumbent.
fn grown(
    ev: &mut Evaluator,
    pool: &[usize],
    set: &[usize],
) -> Result<Option<Evaluation>, AdviceError> {
    let Some(&extra) = pool.iter().find(|c| !set.contains(c)) else {
        return Ok(None);
    };
    let mut grown = set.to_vec();
    grown.push(extra);
    ev.evaluate(&grown)
}

/// `dominated[i]`: pool positions whose session the one at position `i`
/// dominates (see the module docs).
fn dominance(ev: &Evaluator, pool: &[usize]) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..ev.candidates.len()).collect();
    let scenario = ev.scenario_with(&all);
    let free = free_referrals(&scenario);
    let mut first = ev.base.slots.len();
    let mut first_slot = Vec::new();
    for slots in &ev.extra {
        first_slot.push(first);
        first += slots.len();
    }
    // A session is comparable when its places are alike for every rule:
    // one date, none before `now`.
    let uniform = |c: usize| {
        let slots = &ev.extra[c];
        slots
            .iter()
            .all(|s| s.date == slots[0].date && s.start >= scenario.now)
    };
    let takers: Vec<Option<Vec<bool>>> = pool
        .iter()
        .map(|&c| {
            uniform(c).then(|| {
                free.iter()
                    .map(|&r| scenario.refusal(r, first_slot[c], true).is_none())
                    .collect()
            })
        })
        .collect();
    (0..pool.len())
        .map(|i| {
            (i + 1..pool.len())
                .filter(|&j| dominates(ev, pool[i], pool[j], &takers[i], &takers[j]))
                .collect()
        })
        .collect()
}

/// Does `a` (earlier in the pool) dominate `b`?
fn dominates(
    ev: &Evaluator,
    a: usize,
    b: usize,
    takers_a: &Option<Vec<bool>>,
    takers_b: &Option<Vec<bool>>,
) -> bool {
    let (Some(ta), Some(tb)) = (takers_a, takers_b) else {
        return false;
    };
    let (ca, cb) = (&ev.candidates[a], &ev.candidates[b]);
    debug_assert!(order_key(ev, a) < order_key(ev, b));
    ev.extra[a][0].region == ev.extra[b][0].region
        && ev.extra[a][0].date <= ev.extra[b][0].date
        && ca.slots >= cb.slots
        && ca.slot_minutes >= cb.slot_minutes
        && ta.iter().zip(tb).all(|(&a_ok, &b_ok)| a_ok || !b_ok)
}

/// Branch and bound over the sets of one size, in pool order (positions).
struct Branch<'s, 'a> {
    ev: &'s mut Evaluator<'a>,
    pool: &'s [usize],
    dominated: &'s [Vec<usize>],
    size: usize,
    /// Pool positions chosen so far.
    set: Vec<usize>,
    /// Positions dominated by a session left out: not to be chosen.
    forbidden: Vec<bool>,
    best: Option<Evaluation>,
}

impl Branch<'_, '_> {
    fn candidates(&self, positions: &[usize]) -> Vec<usize> {
        positions.iter().map(|&p| self.pool[p]).collect()
    }

    /// Tries every completion of `set` from the positions `from..` that
    /// are not forbidden; each position left out forbids what it dominates.
    fn extend(&mut self, from: usize) -> Result<(), AdviceError> {
        if self.set.len() == self.size {
            let set = self.candidates(&self.set);
            if let Some(evaluation) = self.ev.evaluate(&set)? {
                self.keep(evaluation);
            }
            return Ok(());
        }
        let open: Vec<usize> = (from..self.pool.len())
            .filter(|&p| !self.forbidden[p])
            .collect();
        if open.len() < self.size - self.set.len() || self.bound_cuts(&open)? {
            return Ok(());
        }
        let mut newly = Vec::new();
        for p in open {
            if self.forbidden[p] {
                continue;
            }
            if self.ev.stop() {
                break;
            }
            self.set.push(p);
            self.extend(p + 1)?;
            self.set.pop();
            for &q in &self.dominated[p] {
                if !self.forbidden[q] {
                    self.forbidden[q] = true;
                    newly.push(q);
                }
            }
        }
        for q in newly {
            self.forbidden[q] = false;
        }
        Ok(())
    }

    /// Plans `set` plus every `open` position: when even that is no better
    /// than the best set so far, no completion is. Not tried at the root
    /// (nothing to compare with yet, or always the same plan) nor when
    /// only one completion is left (it is planned itself).
    fn bound_cuts(&mut self, open: &[usize]) -> Result<bool, AdviceError> {
        let Some(best) = &self.best else {
            return Ok(false);
        };
        let best = best.lateness.score;
        if self.set.is_empty() || self.set.len() + open.len() == self.size {
            return Ok(false);
        }
        let mut everything = self.candidates(&self.set);
        everything.extend(self.candidates(open));
        Ok(match self.ev.evaluate(&everything)? {
            Some(bound) => !bound.lateness.score.better_than(&best),
            None => true,
        })
    }

    fn keep(&mut self, evaluation: Evaluation) {
        keep_lower(&mut self.best, &evaluation);
    }
}
