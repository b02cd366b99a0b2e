//! Pricing the referral x class pairs left out of the network: every
//! pair in a cold run ([`FlowModel::price_left_out`]), only those a change
//! can have made negative in a warm one ([`FlowModel::price_changed`]).
//! See the module docs of [`super`] for why this proves optimality.

use super::{Candidate, FlowModel, Weight, ADD_PER_ROUND};

impl FlowModel<'_, '_> {
    /// For every region (of those marked in `only`, if given; the others
    /// get an empty list), the largest class potential at or after each
    /// position of [`Market::by_region`]: with it, a whole lane's reduced
    /// costs are bounded from below.
    pub(super) fn suffix_max_potentials(&self, only: Option<&[bool]>) -> Vec<Vec<Weight>> {
        self.market
            .by_region
            .iter()
            .enumerate()
            .map(|(g, list)| {
                if only.is_some_and(|only| !only[g]) {
                    return Vec::new();
                }
                let mut max = Weight::MIN;
                let mut out: Vec<Weight> = list
                    .iter()
                    .rev()
                    .map(|&c| {
                        max = max.max(self.net.potential(self.class_node(c as usize)));
                        max
                    })
                    .collect();
                out.reverse();
                out
            })
            .collect()
    }

    /// Adds left-out candidate arcs with a negative reduced cost (at most
    /// [`ADD_PER_ROUND`] per referral, cheapest first) and returns how
    /// many. Arcs in the network have a reduced cost of at least 0 after
    /// [`Network::optimise`], so a negative one is always a new arc.
    pub(super) fn price_left_out(&mut self) -> usize {
        let n = self.market.free.len();
        let suffix_max = self.suffix_max_potentials(None);
        let mut found: Vec<Candidate> = Vec::new();
        let mut added = 0;
        for i in 0..n {
            found.clear();
            self.price_referral(i, &suffix_max, &mut found);
            added += self.add_cheapest(i, &mut found);
        }
        added
    }

    /// Adds the cheapest [`ADD_PER_ROUND`] of `found` (violating candidates
    /// of referral `i`, not in the network), in the order of the
    /// referral's full candidate list, `(cost, class)`; returns how many.
    fn add_cheapest(&mut self, i: usize, found: &mut [Candidate]) -> usize {
        found.sort_unstable_by_key(|cand| (cand.cost, cand.class));
        let take = found.len().min(ADD_PER_ROUND);
        for &cand in &found[..take] {
            self.add(i, cand);
        }
        take
    }

    /// As [`FlowModel::price_left_out`], for the pairs whose reduced cost
    /// `F + pi[i] - pi[c]` may have become negative since all pairs were
    /// last priced: every pair of a referral whose potential went down (or
    /// of one in `also`), and the pair of every referral that may use a
    /// class whose potential went up. Every other pair's reduced cost did
    /// not fall, and it was not negative (see [`Network::take_changed`]).
    pub(super) fn price_changed(&mut self, also: &[usize]) -> usize {
        if !self.net.tracks_changes() {
            // Nothing recorded what changed: every pair, then.
            return self.price_left_out();
        }
        let market = self.market;
        let n = market.free.len();
        self.note_users();
        let (raised, lowered) = self.net.take_changed();
        let mut whole = vec![false; n];
        for &i in also.iter().chain(&std::mem::take(&mut self.reprice)) {
            whole[i] = true;
        }
        for v in lowered {
            if let Some(i) = self.referral_of_node(v as usize) {
                whole[i] = true;
            }
        }
        let mut regions = vec![false; self.region_users.len()];
        for i in (0..n).filter(|&i| whole[i]) {
            for lane in market.lanes_of(i) {
                regions[lane.region as usize] = true;
            }
        }
        let suffix_max = self.suffix_max_potentials(Some(&regions));
        let mut raised_pairs = self.raised_pairs(&raised, &whole);
        raised_pairs.sort_unstable_by_key(|&(i, _)| i);
        let mut raised_pairs = raised_pairs.into_iter().peekable();
        let mut found: Vec<Candidate> = Vec::new();
        let mut added = 0;
        for (i, &whole) in whole.iter().enumerate() {
            found.clear();
            if whole {
                self.price_referral(i, &suffix_max, &mut found);
            }
            while let Some((_, cand)) = raised_pairs.next_if(|&(j, _)| j as usize == i) {
                found.push(cand);
            }
            if found.is_empty() {
                continue;
            }
            added += self.add_cheapest(i, &mut found);
            // Only the cheapest were taken (here and per lane): the rest
            // are looked at again next round, when no change marks them.
            self.reprice.push(i);
        }
        added
    }

    /// The violating pairs of referrals not in `whole` with a class whose
    /// potential went up (nodes `raised`): one pair per user of the class.
    fn raised_pairs(&self, raised: &[u32], whole: &[bool]) -> Vec<(u32, Candidate)> {
        let market = self.market;
        let mut found = Vec::new();
        for c in raised
            .iter()
            .filter_map(|&v| self.class_of_node(v as usize))
        {
            let g = market.classes[c].region;
            for &i in &self.region_users[g] {
                let i = i as usize;
                if whole[i] {
                    continue;
                }
                let view = market.view(i);
                if !view.allows(c) {
                    continue;
                }
                let cand = Candidate {
                    class: c,
                    cost: view.cost(c),
                };
                let (from, to) = (self.referral_node(i), self.class_node(c));
                if self.net.reduced_cost(from, to, self.weight(i, cand)) < 0 {
                    found.push((i as u32, cand));
                }
            }
        }
        found
    }

    /// Fills [`FlowModel::region_users`] when it is empty.
    pub(super) fn note_users(&mut self) {
        if self.region_users.is_empty() {
            self.region_users = vec![Vec::new(); self.market.scenario().regions.len()];
            for i in 0..self.market.free.len() {
                self.note_user(i);
            }
        }
    }

    /// Records free referral `i` in [`FlowModel::region_users`].
    pub(super) fn note_user(&mut self, i: usize) {
        for lane in self.market.lanes_of(i) {
            self.region_users[lane.region as usize].push(i as u32);
        }
    }

    /// Pushes into `found` candidates of referral `i` with a negative
    /// reduced cost: per lane its first [`ADD_PER_ROUND`] (later ones of
    /// the lane come after them in cost order), all of the classes dated
    /// before the registration (not sorted).
    fn price_referral(&self, i: usize, suffix_max: &[Vec<Weight>], found: &mut Vec<Candidate>) {
        let market = self.market;
        if market.is_gone(i) {
            return;
        }
        let referral = market.view(i);
        let node = self.referral_node(i);
        let pi_i = self.net.potential(node);
        let rc = |cand: Candidate| {
            self.net
                .reduced_cost(node, self.class_node(cand.class), self.weight(i, cand))
        };
        for lane in market.lanes_of(i) {
            let list = &market.by_region[lane.region as usize];
            for &c in &list[lane.early as usize..lane.start as usize] {
                let c = c as usize;
                if referral.allows(c) {
                    let cand = Candidate {
                        class: c,
                        cost: referral.cost(c),
                    };
                    if rc(cand) < 0 {
                        found.push(cand);
                    }
                }
            }
            let bound = &suffix_max[lane.region as usize];
            let mut here = 0;
            for pos in lane.start as usize..lane.end as usize {
                let c = list[pos] as usize;
                let cost = referral.cost(c);
                // A lower bound of the reduced cost of this class and every
                // later one of the lane: costs only grow along a lane, the
                // suffix maximum of the potentials only shrinks.
                if self.weights.fold_score(cost) + pi_i - bound[pos] >= 0 {
                    break;
                }
                if !referral.allows(c) {
                    continue;
                }
                let cand = Candidate { class: c, cost };
                if rc(cand) < 0 {
                    found.push(cand);
                    here += 1;
                    if here == ADD_PER_ROUND {
                        break;
                    }
                }
            }
        }
    }
}
