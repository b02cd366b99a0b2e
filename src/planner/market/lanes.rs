//! One referral's candidates in cost order: a merge of its lanes (one per
//! region it may use, each sorted by cost already, see the module docs of
//! [`super`]) and of the few classes dated before its registration.

use super::{Candidate, Lane, Market};

/// The head of one lane: the next allowed class and its cost.
#[derive(Debug, Clone, Copy)]
struct Head {
    lane: Lane,
    /// Position in `by_region[lane.region]`.
    pos: u32,
    cand: Candidate,
}

/// Free referral `i`'s candidate classes, cheapest first, ties by class
/// (the order of `(cost, class)`), generated as they are read.
pub struct Candidates<'m, 's> {
    market: &'m Market<'s>,
    i: usize,
    heads: Vec<Head>,
    /// Classes dated before the registration, sorted, read from `early_at`.
    early: Vec<Candidate>,
    early_at: usize,
}

impl<'m, 's> Candidates<'m, 's> {
    pub(super) fn new(market: &'m Market<'s>, i: usize) -> Self {
        let mut c = Candidates {
            market,
            i,
            heads: Vec::new(),
            early: Vec::new(),
            early_at: 0,
        };
        c.restart(i);
        c
    }

    /// Starts over with free referral `i`, keeping the buffers.
    pub fn restart(&mut self, i: usize) {
        let market = self.market;
        self.i = i;
        self.heads.clear();
        self.early.clear();
        self.early_at = 0;
        for &lane in market.lanes_of(i) {
            let list = &market.by_region[lane.region as usize];
            for &c in &list[lane.early as usize..lane.start as usize] {
                if market.allowed_in_lane(i, c as usize) {
                    let cost = market.cost(i, c as usize);
                    self.early.push(Candidate {
                        class: c as usize,
                        cost,
                    });
                }
            }
            if let Some(head) = self.head_from(lane, lane.start) {
                self.heads.push(head);
            }
        }
        self.early.sort_by_key(|cand| (cand.cost, cand.class));
    }

    /// The first allowed class of `lane` at or after position `pos`.
    fn head_from(&self, lane: Lane, mut pos: u32) -> Option<Head> {
        let market = self.market;
        let list = &market.by_region[lane.region as usize];
        while pos < lane.end {
            let c = list[pos as usize] as usize;
            if market.allowed_in_lane(self.i, c) {
                let cost = market.cost(self.i, c);
                let cand = Candidate { class: c, cost };
                return Some(Head { lane, pos, cand });
            }
            pos += 1;
        }
        None
    }

    /// The next candidate, dropping first every lane whose head fails
    /// `keep(region, position, cost)`: the caller promises that no later
    /// class of that lane is wanted either (a bound that only grows along
    /// a lane). Classes dated before the registration are never dropped.
    pub fn next_bounded(
        &mut self,
        keep: impl Fn(usize, usize, super::Cost) -> bool,
    ) -> Option<Candidate> {
        self.heads
            .retain(|h| keep(h.lane.region as usize, h.pos as usize, h.cand.cost));
        let best = self
            .heads
            .iter()
            .enumerate()
            .min_by_key(|(_, h)| (h.cand.cost, h.cand.class))
            .map(|(k, h)| (k, h.cand));
        let early = self.early.get(self.early_at).copied();
        match (best, early) {
            (Some((_, lane)), Some(e)) if (e.cost, e.class) < (lane.cost, lane.class) => {
                self.early_at += 1;
                Some(e)
            }
            (Some((k, cand)), _) => {
                let head = self.heads[k];
                match self.head_from(head.lane, head.pos + 1) {
                    Some(next) => self.heads[k] = next,
                    None => {
                        self.heads.swap_remove(k);
                    }
                }
                Some(cand)
            }
            (None, Some(e)) => {
                self.early_at += 1;
                Some(e)
            }
            (None, None) => None,
        }
    }
}

impl Iterator for Candidates<'_, '_> {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        self.next_bounded(|_, _, _| true)
    }
}
