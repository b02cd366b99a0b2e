//! The greedy start: each referral in turn takes its cheapest allowed
//! class that still has room. On an overloaded scenario most classes fill
//! up early, so full classes are skipped in O(1) amortised rather than
//! looked at again by every later referral.

use super::{Candidate, Market};

/// Room left per class, and per region a "next class with room" link
/// (union-find with path halving over the positions of
/// [`Market::by_region`]).
pub(super) struct Rooms<'a, 's> {
    market: &'a Market<'s>,
    room: Vec<usize>,
    /// `next[g][p]`: a position at or after `p` whose class may have room;
    /// `next[g][p] == p` when it has. The end of the list is its own root.
    next: Vec<Vec<u32>>,
    /// Position of each class in its region's list.
    position: Vec<u32>,
}

impl<'a, 's> Rooms<'a, 's> {
    /// Starts from `room` (per class) as it is now.
    pub(super) fn new(market: &'a Market<'s>, room: Vec<usize>) -> Self {
        let mut position = vec![0; market.classes.len()];
        let next = market
            .by_region
            .iter()
            .map(|list| {
                let mut next: Vec<u32> = (0..=list.len() as u32).collect();
                for (p, &c) in list.iter().enumerate() {
                    position[c as usize] = p as u32;
                    if room[c as usize] == 0 {
                        next[p] = p as u32 + 1;
                    }
                }
                next
            })
            .collect();
        Rooms {
            market,
            room,
            next,
            position,
        }
    }

    /// The first position at or after `p` in region `g` with room.
    fn find(&mut self, g: usize, mut p: u32) -> u32 {
        let next = &mut self.next[g];
        while next[p as usize] != p {
            let up = next[next[p as usize] as usize];
            next[p as usize] = up;
            p = up;
        }
        p
    }

    /// Gives free referral `i` its cheapest allowed class with room (ties
    /// by class) and returns it; `None` when every allowed class is full.
    pub(super) fn take_cheapest(&mut self, i: usize) -> Option<usize> {
        let market = self.market;
        let referral = market.view(i);
        let mut best: Option<Candidate> = None;
        let mut consider = |cand: Candidate| {
            if best.is_none_or(|b| (cand.cost, cand.class) < (b.cost, b.class)) {
                best = Some(cand);
            }
        };
        for lane in market.lanes_of(i) {
            let (g, list) = (
                lane.region as usize,
                &market.by_region[lane.region as usize],
            );
            for &c in &list[lane.early as usize..lane.start as usize] {
                let c = c as usize;
                if self.room[c] > 0 && referral.allows(c) {
                    consider(Candidate {
                        class: c,
                        cost: referral.cost(c),
                    });
                }
            }
            // The lane's first allowed class with room is its cheapest.
            let mut p = self.find(g, lane.start);
            while p < lane.end {
                let c = list[p as usize] as usize;
                if referral.allows(c) {
                    consider(Candidate {
                        class: c,
                        cost: referral.cost(c),
                    });
                    break;
                }
                p = self.find(g, p + 1);
            }
        }
        let c = best?.class;
        self.room[c] -= 1;
        if self.room[c] == 0 {
            let (g, p) = (market.classes[c].region, self.position[c]);
            self.next[g][p as usize] = p + 1;
        }
        Some(c)
    }
}
