//! Choosing the entering arc: block search with a shortlist over every
//! arc ([`Network::optimise`]), or only the arcs at nodes that changed
//! ([`Network::optimise_near`]).

use super::{FlowError, Network, State, Weight};

/// Arcs kept for minor iterations after a block scan, besides the one
/// that enters ([`Network::find_entering`]).
const SHORTLIST: usize = 8;

impl Network {
    /// As [`Network::optimise`], but looking only at the arcs of nodes
    /// that changed since the basis was last optimal (see
    /// [`Network::track_changes`]; without it, the same as `optimise`).
    /// After a small change (a node and a few arcs added) the optimum is
    /// near: a pivot shifts the potentials of one subtree, so only arcs at
    /// the shifted nodes can have become violating, and they are marked.
    /// Ends when no marked node has a violating arc: then no arc has one.
    pub fn optimise_near(&mut self) -> Result<(), FlowError> {
        if self.adjacent.is_empty() {
            return self.optimise();
        }
        loop {
            let mut best: Option<usize> = None;
            let mut best_violation: Weight = 0;
            let mut k = 0;
            while k < self.dirty.list.len() {
                let v = self.dirty.list[k] as usize;
                let mut violated = false;
                for &a in &self.adjacent[v] {
                    let x = self.violation(a as usize);
                    if x < 0 {
                        violated = true;
                        if x < best_violation {
                            best_violation = x;
                            best = Some(a as usize);
                        }
                    }
                }
                if violated {
                    k += 1;
                } else {
                    self.dirty.unmark_at(k);
                }
            }
            let Some(entering) = best else {
                return Ok(());
            };
            self.pivot(entering)?;
            self.pivots += 1;
            self.absorb_shifts();
        }
    }

    /// Pivots until no arc violates its reduced-cost condition: then the
    /// flow is optimal for the arcs in the network.
    pub fn optimise(&mut self) -> Result<(), FlowError> {
        while let Some(entering) = self.find_entering() {
            self.pivot(entering)?;
            self.pivots += 1;
            self.absorb_shifts();
        }
        // Optimal: no node has a violating arc.
        self.dirty.take();
        Ok(())
    }

    /// How much arc `a` violates optimality: negative when it should enter.
    pub(super) fn violation(&self, a: usize) -> Weight {
        let rc = || {
            self.weight[a] + self.tree.pi[self.tail[a] as usize]
                - self.tree.pi[self.head[a] as usize]
        };
        match self.state[a] {
            State::Lower => rc(),
            State::Upper => -rc(),
            State::Tree => 0,
        }
    }

    /// Block search: the most violating arc of the first block (from the
    /// cursor on, wrapping) that has one. The block's next most violating
    /// arcs are kept on a shortlist and, while any of them still violates,
    /// the most violating of those enters instead of a new scan (partial
    /// pricing with minor iterations). Only a scan of every arc that finds
    /// none ends the search, so the result is still proven optimal.
    fn find_entering(&mut self) -> Option<usize> {
        if let Some(a) = self.best_of_shortlist() {
            return Some(a);
        }
        let m = self.arcs();
        if m == 0 {
            return None;
        }
        let block = ((m as f64).sqrt() as usize).max(16);
        let mut found: Vec<(Weight, u32)> = Vec::new();
        let mut in_block = 0;
        let mut a = self.cursor.min(m - 1);
        for _ in 0..m {
            let v = self.violation(a);
            if v < 0 {
                found.push((v, a as u32));
            }
            a += 1;
            if a == m {
                a = 0;
            }
            in_block += 1;
            if in_block == block {
                if !found.is_empty() {
                    break;
                }
                in_block = 0;
            }
        }
        self.cursor = a;
        if found.len() > SHORTLIST {
            found.select_nth_unstable(SHORTLIST);
            found.truncate(SHORTLIST + 1);
        }
        let (_, best) = *found.iter().min()?;
        self.shortlist.clear();
        self.shortlist
            .extend(found.iter().map(|&(_, a)| a).filter(|&a| a != best));
        Some(best as usize)
    }

    /// The most violating arc of the shortlist, dropping those that no
    /// longer violate; `None` when none does.
    fn best_of_shortlist(&mut self) -> Option<usize> {
        let mut best: Option<(Weight, usize)> = None;
        let mut k = 0;
        while k < self.shortlist.len() {
            let a = self.shortlist[k] as usize;
            let v = self.violation(a);
            if v >= 0 {
                self.shortlist.swap_remove(k);
                continue;
            }
            if best.is_none_or(|(b, _)| v < b) {
                best = Some((v, k));
            }
            k += 1;
        }
        let (_, k) = best?;
        Some(self.shortlist.swap_remove(k) as usize)
    }
}
