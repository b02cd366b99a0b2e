//! Where each free referral and class of the market is in the network.
//!
//! A cold run numbers them by arithmetic: the `n0` free referrals are
//! nodes `0..n0` with unplanned arcs `0..n0`; the `m0` classes are nodes
//! and capacity arcs `n0..n0 + m0`; the sink `T` is node `n0 + m0`. What a
//! warm run adds later (referrals, stand-ins holding the places of slots
//! that left, classes of new sessions) gets the next free node, recorded
//! here, so nothing already built moves.

/// Node and arc numbering of a [`super::FlowModel`]; see the module docs.
#[derive(Debug, Clone, Default)]
pub(super) struct Layout {
    /// Free referrals of the first solve.
    n0: usize,
    /// Classes of the first solve.
    m0: usize,
    /// Node and unplanned arc of free referral `n0 + k`.
    later_referrals: Vec<(u32, u32)>,
    /// Node of class `m0 + k`.
    later_classes: Vec<u32>,
    /// What node `n0 + m0 + 1 + k` is.
    later_nodes: Vec<Later>,
}

/// A node added after the first solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Later {
    Referral(u32),
    Class(u32),
}

impl Layout {
    /// The layout of a cold run with `n` free referrals and `m` classes.
    pub fn new(n: usize, m: usize) -> Layout {
        Layout {
            n0: n,
            m0: m,
            ..Layout::default()
        }
    }

    /// Node of the sink `T`.
    #[inline]
    pub fn root(&self) -> usize {
        self.n0 + self.m0
    }

    /// The first arc after the unplanned and capacity arcs of the first
    /// solve.
    pub fn first_candidate_arc(&self) -> usize {
        self.n0 + self.m0
    }

    /// The node of free referral `i`.
    #[inline]
    pub fn referral_node(&self, i: usize) -> usize {
        match i.checked_sub(self.n0) {
            None => i,
            Some(k) => self.later_referrals[k].0 as usize,
        }
    }

    /// The node of class `c`.
    #[inline]
    pub fn class_node(&self, c: usize) -> usize {
        match c.checked_sub(self.m0) {
            None => self.n0 + c,
            Some(k) => self.later_classes[k] as usize,
        }
    }

    /// The arc from free referral `i` straight to `T`.
    pub fn unplanned_arc(&self, i: usize) -> usize {
        match i.checked_sub(self.n0) {
            None => i,
            Some(k) => self.later_referrals[k].1 as usize,
        }
    }

    /// Class of node `v`, if it is a class's node.
    pub fn class_of_node(&self, v: usize) -> Option<usize> {
        match v {
            v if v < self.n0 => None,
            v if v < self.root() => Some(v - self.n0),
            v if v == self.root() => None,
            v => match self.later_nodes[v - self.root() - 1] {
                Later::Class(c) => Some(c as usize),
                Later::Referral(_) => None,
            },
        }
    }

    /// Free referral of node `v`, if it is a referral's node.
    pub fn referral_of_node(&self, v: usize) -> Option<usize> {
        match v {
            v if v < self.n0 => Some(v),
            v if v <= self.root() => None,
            v => match self.later_nodes[v - self.root() - 1] {
                Later::Referral(i) => Some(i as usize),
                Later::Class(_) => None,
            },
        }
    }

    /// Free referrals placed so far (the next one is this index).
    pub fn referrals(&self) -> usize {
        self.n0 + self.later_referrals.len()
    }

    /// Classes placed so far (the next one is this index).
    pub fn classes(&self) -> usize {
        self.m0 + self.later_classes.len()
    }

    /// Records the next free referral at `node` with unplanned arc `arc`
    /// (`node` the next node of the network).
    pub fn push_referral(&mut self, node: usize, arc: usize) {
        debug_assert_eq!(node, self.root() + 1 + self.later_nodes.len());
        let i = self.referrals() as u32;
        self.later_referrals.push((node as u32, arc as u32));
        self.later_nodes.push(Later::Referral(i));
    }

    /// Records the next class at `node` (the next node of the network).
    pub fn push_class(&mut self, node: usize) {
        debug_assert_eq!(node, self.root() + 1 + self.later_nodes.len());
        let c = self.classes() as u32;
        self.later_classes.push(node as u32);
        self.later_nodes.push(Later::Class(c));
    }

    /// Room for `more` later nodes.
    pub fn reserve(&mut self, more: usize) {
        self.later_referrals.reserve(more);
        self.later_nodes.reserve(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node maps back to what it was placed for, later ones
    /// interleaved.
    #[test]
    fn nodes_map_both_ways() {
        let mut layout = Layout::new(3, 2);
        assert_eq!(layout.root(), 5);
        layout.push_referral(6, 40);
        layout.push_class(7);
        layout.push_referral(8, 41);
        for i in 0..layout.referrals() {
            assert_eq!(layout.referral_of_node(layout.referral_node(i)), Some(i));
            assert_eq!(layout.class_of_node(layout.referral_node(i)), None);
        }
        for c in 0..layout.classes() {
            assert_eq!(layout.class_of_node(layout.class_node(c)), Some(c));
            assert_eq!(layout.referral_of_node(layout.class_node(c)), None);
        }
        assert_eq!(layout.referral_of_node(5), None);
        assert_eq!(layout.class_of_node(5), None);
        assert_eq!(layout.unplanned_arc(4), 41);
        assert_eq!(layout.class_node(2), 7);
    }
}
