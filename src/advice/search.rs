//! The search for the fewest sessions that meet the norm; the trade-off
//! when none do is in [`super::tradeoff`].

use super::evaluate::{keep_lower, order_key, Evaluation, Evaluator};
use super::matching::OnTime;
use super::tradeoff;
use super::{Advice, AdviceError};

/// The part of the budget the search for the norm may use.
const NORM_SHARE: f64 = 0.75;

/// Plans the base, looks for the fewest sessions that meet the norm, and
/// gives the trade-off when it finds none.
pub(super) fn run(ev: &mut Evaluator, max_extra: usize) -> Result<Advice, AdviceError> {
    let base = ev.plan(&[])?;
    let pool = usable_pool(ev);
    let before = base.lateness;
    let mut seen = vec![None; max_extra + 1];
    let chosen = if before.can_make_it_late == 0 {
        Some(base)
    } else {
        // A quarter of the budget stays for the trade-off, should this
        // search use up the rest without an answer.
        ev.set_share(NORM_SHARE);
        let chosen = meet_norm(ev, &pool, max_extra, &mut seen)?;
        ev.set_share(1.0);
        chosen
    };
    let tradeoff = match chosen {
        Some(_) => Vec::new(),
        None => tradeoff::best_per_size(ev, &pool, max_extra, seen)?,
    };
    Ok(Advice {
        before,
        chosen: chosen.map(|e| ev.choice(&e)),
        tradeoff: tradeoff.iter().map(|e| ev.choice(e)).collect(),
        usable_candidates: pool.len(),
        proven_optimal: !ev.was_cut(),
        evaluations: ev.evaluations(),
    })
}

/// Candidates in scope that some free referral may take, in the order the searches use:
/// earliest first, then more and longer places (a linear extension of
/// [`tradeoff`]'s dominance, and early sessions tend to help most, so good
/// sets come early when the budget is tight). A session no one may take
/// changes no plan.
fn usable_pool(ev: &Evaluator) -> Vec<usize> {
    let all: Vec<usize> = (0..ev.candidates.len()).collect();
    let scenario = ev.scenario_with(&all);
    let free = tradeoff::free_referrals(&scenario);
    let mut at = ev.base.slots.len();
    let mut pool = Vec::new();
    for (c, slots) in ev.extra.iter().enumerate() {
        let range = at..at + slots.len();
        at += slots.len();
        let takers = range
            .clone()
            .any(|s| free.iter().any(|&r| scenario.refusal(r, s, true).is_none()));
        if takers && ev.in_scope(c) {
            pool.push(c);
        }
    }
    pool.sort_by_key(|&c| order_key(ev, c));
    pool
}

/// The fewest sessions from `pool` whose plan leaves no target referral
/// late, lowest score among those; `None` when no set of up to `max_extra`
/// does it (or the budget ran out first). `seen[k]` gets the set of k
/// sessions with the lowest score planned on the way, meeting the norm or
/// not: a first answer for the trade-off.
fn meet_norm(
    ev: &mut Evaluator,
    pool: &[usize],
    max_extra: usize,
    seen: &mut [Option<Evaluation>],
) -> Result<Option<Evaluation>, AdviceError> {
    let on_time = OnTime::new(ev);
    if on_time.fit(&on_time.capacity(pool.iter().copied())) < on_time.targets() {
        return Ok(None); // not even every candidate gives them all a place in time
    }
    let mut search = NormSearch {
        ev,
        on_time: &on_time,
        pool,
        size: 0,
        set: Vec::new(),
        best: None,
        seen,
    };
    for size in 1..=max_extra.min(pool.len()) {
        if search.ev.stop() {
            break;
        }
        search.size = size;
        search.extend(0)?;
        if search.best.is_some() {
            break;
        }
    }
    Ok(search.best)
}

/// Depth-first enumeration of the sets of one size, in pool order.
struct NormSearch<'s, 'a> {
    ev: &'s mut Evaluator<'a>,
    on_time: &'s OnTime,
    pool: &'s [usize],
    size: usize,
    set: Vec<usize>,
    best: Option<Evaluation>,
    seen: &'s mut [Option<Evaluation>],
}

impl NormSearch<'_, '_> {
    /// Tries every completion of `set` from `pool[from..]`.
    fn extend(&mut self, from: usize) -> Result<(), AdviceError> {
        if self.cannot_fit(from) {
            return Ok(());
        }
        if self.set.len() == self.size {
            return self.judge();
        }
        for i in from..self.pool.len() {
            if self.ev.stop() {
                break;
            }
            self.set.push(self.pool[i]);
            self.extend(i + 1)?;
            self.set.pop();
        }
        Ok(())
    }

    /// True when no completion of `set` from `pool[from..]` can give every
    /// target referral a place in time: too few candidates left, too few
    /// places in the largest ones that remain, or not even all of them.
    fn cannot_fit(&self, from: usize) -> bool {
        let need = self.size - self.set.len();
        let rest = &self.pool[from..];
        if rest.len() < need {
            return true;
        }
        let targets = self.on_time.targets();
        let fitted = self
            .on_time
            .fit(&self.on_time.capacity(self.set.iter().copied()));
        if fitted == targets {
            return false;
        }
        let mut places: Vec<u32> = rest
            .iter()
            .filter(|&&c| self.on_time.useful(c))
            .map(|&c| self.ev.candidates[c].slots)
            .collect();
        places.sort_unstable_by(|a, b| b.cmp(a));
        let most: usize = places.iter().take(need).map(|&n| n as usize).sum();
        if fitted + most < targets {
            return true;
        }
        let everything = self.set.iter().chain(rest).copied();
        self.on_time.fit(&self.on_time.capacity(everything)) < targets
    }

    /// Plans a complete set and keeps it when it meets the norm with the
    /// lowest score so far (the first such set on ties).
    fn judge(&mut self) -> Result<(), AdviceError> {
        let Some(evaluation) = self.ev.evaluate(&self.set)? else {
            return Ok(());
        };
        keep_lower(&mut self.seen[self.size], &evaluation);
        if evaluation.lateness.can_make_it_late == 0 {
            keep_lower(&mut self.best, &evaluation);
        }
        Ok(())
    }
}
