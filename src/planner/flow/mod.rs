//! An exact min-cost flow: a primal network simplex on integer weights.
//!
//! The basis is a spanning tree (`tree::Tree`); every arc outside it
//! sits at its lower bound (0) or its capacity. A pivot brings in an arc
//! whose reduced cost shows the flow can get cheaper, pushes flow around
//! the cycle it closes in the tree and drops a blocking arc of that cycle.
//!
//! - **Pricing** (`pricing.rs`): block search. Arcs are scanned in blocks
//!   of about `sqrt(arcs)`, continuing where the last scan stopped, and
//!   the most violating arc of the first block that has one enters. Cheaper
//!   per pivot than scanning everything, with far fewer pivots than taking
//!   the first violating arc. The block's next most violating arcs go on a
//!   shortlist that is tried (reduced costs checked anew) before the next
//!   scan: more pivots, but far fewer scans (overload: 13% more pivots,
//!   a third less time).
//! - **No cycling**: the tree is kept *strongly feasible* (from every node
//!   flow can be pushed to the root along the tree), by starting from such
//!   a tree and choosing as leaving arc the last blocking arc of the cycle
//!   in flow direction, counted from the cycle's apex (Cunningham's rule).
//!   Degenerate pivots then cannot repeat a basis, so the method ends.
//! - **Optimality**: it ends when no arc has a violating reduced cost,
//!   i.e. the potentials are dual feasible and complementary slackness
//!   holds: the flow is a minimum-cost flow, exactly (integer arithmetic
//!   throughout, see [`super::weights`] for why nothing overflows).
//!
//! Arcs may be added between [`Network::optimise`] calls (they enter at
//! their lower bound, so the basis stays feasible): the planner prices arcs
//! it left out against the final potentials and adds the violating ones.

mod pricing;
mod tree;

use super::weights::Weight;
use tree::{Tree, NONE};

/// Capacity of an arc without an upper bound.
pub const UNBOUNDED: u32 = u32::MAX;

/// Where a non-tree arc rests, or that it is in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Lower,
    Tree,
    Upper,
}

/// The network simplex could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The given starting tree is not a spanning tree or breaks a bound.
    #[error("invalid starting basis: {0}")]
    Basis(String),
    /// A cycle of unbounded capacity and negative weight: the problem has
    /// no optimum. Impossible for the planner's networks.
    #[error("the flow problem is unbounded")]
    Unbounded,
}

/// A directed network with integer capacities and exact weights.
#[derive(Debug, Default, Clone)]
pub struct Network {
    tail: Vec<u32>,
    head: Vec<u32>,
    weight: Vec<Weight>,
    cap: Vec<u32>,
    flow: Vec<u32>,
    state: Vec<State>,
    nodes: usize,
    tree: Tree,
    /// Next arc the block search looks at.
    cursor: usize,
    /// The most violating arcs of the last block scanned, tried again
    /// (reduced costs checked anew) before the next scan.
    shortlist: Vec<u32>,
    /// Pricing near the changes ([`Network::optimise_near`]): the arcs at
    /// each node, empty until [`Network::track_changes`].
    adjacent: Vec<Vec<u32>>,
    /// Nodes whose arcs may violate optimality: their potential changed,
    /// or an arc was added at them, since they were last found clean.
    dirty: Marks,
    /// Nodes whose potential went up (or was set anew) since
    /// [`Network::take_changed`].
    raised: Marks,
    /// Nodes whose potential went down (or was set anew) since then.
    lowered: Marks,
    /// Pivots made so far (degenerate ones included).
    pub pivots: u64,
}

impl Network {
    /// A network of `nodes` nodes and no arcs.
    pub fn new(nodes: usize) -> Network {
        Network {
            nodes,
            ..Network::default()
        }
    }

    /// Adds an arc at flow 0 (its lower bound) and returns its index.
    pub fn add_arc(&mut self, tail: usize, head: usize, weight: Weight, cap: u32) -> usize {
        self.tail.push(tail as u32);
        self.head.push(head as u32);
        self.weight.push(weight);
        self.cap.push(cap);
        self.flow.push(0);
        self.state.push(State::Lower);
        let a = self.tail.len() - 1;
        if !self.adjacent.is_empty() {
            let top = tail.max(head) + 1;
            if self.adjacent.len() < top {
                self.adjacent.resize(top, Vec::new());
            }
            for v in [tail, head] {
                self.adjacent[v].push(a as u32);
                self.dirty.mark(v as u32);
            }
        }
        a
    }

    /// Adds a node hung in the tree under `parent` by a new arc from the
    /// node to `parent` carrying `flow` (the node's supply, for the tree's
    /// flows to balance), and returns `(node, arc)`. The basis stays
    /// strongly feasible when `flow > 0`: flow can still be pushed from the
    /// new node to the root. Used to add a referral to a solved network
    /// without starting over.
    pub fn add_leaf(
        &mut self,
        parent: usize,
        weight: Weight,
        cap: u32,
        flow: u32,
    ) -> (usize, usize) {
        let node = self.nodes;
        self.nodes += 1;
        let arc = self.add_arc(node, parent, weight, cap);
        self.flow[arc] = flow;
        self.state[arc] = State::Tree;
        self.tree.push_leaf(parent as u32, arc as u32, weight);
        if self.tracks_changes() {
            self.raised.mark(node as u32);
            self.lowered.mark(node as u32);
        }
        (node, arc)
    }

    /// Room for `nodes` more nodes and `arcs` more arcs, so adding them
    /// later does not copy every array (amortised all the same).
    pub fn reserve(&mut self, nodes: usize, arcs: usize) {
        for v in [
            &mut self.tail,
            &mut self.head,
            &mut self.cap,
            &mut self.flow,
        ] {
            v.reserve(arcs);
        }
        self.weight.reserve(arcs);
        self.state.reserve(arcs);
        self.tree.reserve(nodes);
        if self.tracks_changes() {
            self.adjacent.reserve(nodes);
        }
    }

    /// Is [`Network::track_changes`] on?
    pub fn tracks_changes(&self) -> bool {
        !self.adjacent.is_empty()
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Changes the weights of arcs (`(arc, weight)`) of a solved network
    /// and recomputes every potential from `root`, so tree arcs keep a
    /// zero reduced cost; the basis stays feasible, possibly no longer
    /// optimal ([`Network::optimise`] goes on from it).
    pub fn reweigh(&mut self, root: usize, changes: impl IntoIterator<Item = (usize, Weight)>) {
        for (a, w) in changes {
            self.weight[a] = w;
        }
        let weight = &self.weight;
        self.tree.refresh_from(root as u32, |a| weight[a as usize]);
        self.absorb_shifts();
    }

    /// Number of arcs.
    pub fn arcs(&self) -> usize {
        self.tail.len()
    }

    /// Flow on arc `a`.
    pub fn flow(&self, a: usize) -> u32 {
        self.flow[a]
    }

    /// Sets the flow of arc `a` before [`Network::set_basis`].
    pub fn set_flow(&mut self, a: usize, flow: u32) {
        self.flow[a] = flow;
    }

    /// Potential of node `v` under the current basis.
    #[inline]
    pub fn potential(&self, v: usize) -> Weight {
        self.tree.pi[v]
    }

    /// Reduced cost of an arc (in the network or not) from `tail` to
    /// `head` of weight `weight`; negative means it would lower the cost.
    #[inline]
    pub fn reduced_cost(&self, tail: usize, head: usize, weight: Weight) -> Weight {
        weight + self.tree.pi[tail] - self.tree.pi[head]
    }

    /// Takes the starting basis: `pred[v]` is the tree arc joining `v` to
    /// its parent (`None` for `root` only); flows set through
    /// [`Network::set_flow`] must balance the supplies and leave every
    /// non-tree arc at 0 or its capacity. The tree must be strongly
    /// feasible (see the module docs); the caller builds it so.
    pub fn set_basis(&mut self, root: usize, pred: &[Option<usize>]) -> Result<(), FlowError> {
        if pred.len() != self.nodes || pred[root].is_some() {
            return Err(FlowError::Basis(
                "one tree arc per node but the root".into(),
            ));
        }
        let mut parent = vec![NONE; self.nodes];
        let mut arc_of = vec![NONE; self.nodes];
        let mut up = vec![false; self.nodes];
        for a in 0..self.arcs() {
            self.state[a] = match self.flow[a] {
                0 => State::Lower,
                f if f == self.cap[a] => State::Upper,
                _ => State::Tree, // checked below: must be a tree arc
            };
        }
        for (v, p) in pred.iter().enumerate() {
            let Some(a) = *p else { continue };
            let (t, h) = (self.tail[a] as usize, self.head[a] as usize);
            if t != v && h != v {
                return Err(FlowError::Basis(format!("arc {a} does not touch node {v}")));
            }
            up[v] = t == v;
            parent[v] = if up[v] { h as u32 } else { t as u32 };
            arc_of[v] = a as u32;
            self.state[a] = State::Tree;
        }
        let tree_arcs = self.state.iter().filter(|&&s| s == State::Tree).count();
        if tree_arcs != self.nodes - 1 {
            return Err(FlowError::Basis(format!(
                "{tree_arcs} tree arcs (or arcs strictly between bounds) for {} nodes",
                self.nodes
            )));
        }
        self.tree = Tree::new(parent, arc_of, up);
        let weight = &self.weight;
        let reached = self.tree.refresh_from(root as u32, |a| weight[a as usize]);
        if reached != self.nodes {
            return Err(FlowError::Basis(format!(
                "the tree reaches {reached} of {} nodes",
                self.nodes
            )));
        }
        self.cursor = 0;
        Ok(())
    }

    /// From now on, keeps the arcs at each node and which nodes changed,
    /// for [`Network::optimise_near`] and [`Network::take_changed`]. Call
    /// on an optimal basis: every node starts clean.
    pub fn track_changes(&mut self) {
        if !self.adjacent.is_empty() {
            return;
        }
        self.adjacent = vec![Vec::new(); self.nodes.max(1)];
        for a in 0..self.arcs() {
            self.adjacent[self.tail[a] as usize].push(a as u32);
            self.adjacent[self.head[a] as usize].push(a as u32);
        }
        self.dirty = Marks::new(self.adjacent.len());
        self.raised = Marks::new(self.adjacent.len());
        self.lowered = Marks::new(self.adjacent.len());
        self.tree.shifted = Some(Vec::new());
    }

    /// Moves the nodes the tree shifted into `dirty`, `raised` and
    /// `lowered`.
    fn absorb_shifts(&mut self) {
        let Some(mut shifted) = self.tree.shifted.take() else {
            return;
        };
        for &(v, sign) in &shifted {
            self.dirty.mark(v);
            if sign >= 0 {
                self.raised.mark(v);
            }
            if sign <= 0 {
                self.lowered.mark(v);
            }
        }
        shifted.clear();
        self.tree.shifted = Some(shifted);
    }

    /// The nodes whose potential went up, and those whose potential went
    /// down, since the last call (with [`Network::track_changes`] on;
    /// otherwise none), forgetting them. A node that went both ways is in
    /// both; one added since counts as both.
    pub fn take_changed(&mut self) -> (Vec<u32>, Vec<u32>) {
        (self.raised.take(), self.lowered.take())
    }

    /// Changes the weights of arcs of a solved network with
    /// [`Network::track_changes`] on: only the subtrees below changed tree
    /// arcs get new potentials, and the nodes that may now have violating
    /// arcs are marked, for [`Network::optimise_near`].
    pub fn reweigh_near(&mut self, changes: impl IntoIterator<Item = (usize, Weight)>) {
        for (a, w) in changes {
            self.weight[a] = w;
            let (tail, head) = (self.tail[a], self.head[a]);
            match self.tree.below(a as u32, tail, head) {
                Some(v) if self.state[a] == State::Tree => {
                    let weight = &self.weight;
                    self.tree.refresh_from(v, |a| weight[a as usize]);
                }
                _ => {
                    self.dirty.mark(tail);
                    self.dirty.mark(head);
                }
            }
        }
        self.absorb_shifts();
    }

    /// Residual capacity for more flow along arc `a`.
    fn room(&self, a: usize) -> u64 {
        match self.cap[a] {
            UNBOUNDED => u64::MAX,
            c => u64::from(c - self.flow[a]),
        }
    }

    /// One pivot with `entering` (see the module docs for the rules).
    fn pivot(&mut self, entering: usize) -> Result<(), FlowError> {
        let at_lower = self.state[entering] == State::Lower;
        let (tail, head) = (self.tail[entering], self.head[entering]);
        // Flow goes along the entering arc from `first` to `second`, then
        // back through the tree: up from `second` to the apex and down to
        // `first`.
        let (first, second) = if at_lower { (tail, head) } else { (head, tail) };
        let apex = self.tree.join(first, second);
        let mut delta = if at_lower {
            self.room(entering)
        } else {
            u64::from(self.flow[entering])
        };
        // The leaving arc: the last blocking one in flow direction from the
        // apex. On the first side (walked against the flow) the first
        // strict minimum is the last in flow order; the entering arc comes
        // after that side, and the second side after it.
        let mut out: Option<(u32, bool)> = None;
        let mut v = first;
        while v != apex {
            let a = self.tree.pred[v as usize] as usize;
            let d = if self.tree.up[v as usize] {
                u64::from(self.flow[a])
            } else {
                self.room(a)
            };
            if d < delta {
                delta = d;
                out = Some((v, true));
            }
            v = self.tree.parent[v as usize];
        }
        let mut v = second;
        while v != apex {
            let a = self.tree.pred[v as usize] as usize;
            let d = if self.tree.up[v as usize] {
                self.room(a)
            } else {
                u64::from(self.flow[a])
            };
            if d <= delta {
                delta = d;
                out = Some((v, false));
            }
            v = self.tree.parent[v as usize];
        }
        if delta == u64::MAX {
            return Err(FlowError::Unbounded);
        }
        if delta > 0 {
            self.augment(entering, at_lower, first, second, apex, delta as u32);
        }
        let Some((out, on_first)) = out else {
            // The entering arc blocks itself: it moves to its other bound.
            self.state[entering] = if at_lower { State::Upper } else { State::Lower };
            return Ok(());
        };
        let leaving = self.tree.pred[out as usize] as usize;
        let (low, high) = if on_first {
            (first, second)
        } else {
            (second, first)
        };
        // `low`'s side gets potentials shifted so the entering arc's
        // reduced cost becomes 0.
        let rc = self.weight[entering] + self.tree.pi[tail as usize] - self.tree.pi[head as usize];
        let shift = if low == tail { -rc } else { rc };
        self.tree
            .rehang(low, high, entering as u32, low == tail, out);
        self.tree.shift_from(low, shift);
        self.state[entering] = State::Tree;
        self.state[leaving] = if self.flow[leaving] == 0 {
            State::Lower
        } else {
            State::Upper
        };
        Ok(())
    }

    /// Pushes `delta` units around the cycle of `entering`.
    fn augment(
        &mut self,
        entering: usize,
        at_lower: bool,
        first: u32,
        second: u32,
        apex: u32,
        delta: u32,
    ) {
        if at_lower {
            self.flow[entering] += delta;
        } else {
            self.flow[entering] -= delta;
        }
        // First side: flow runs from parent down to the node.
        let mut v = first;
        while v != apex {
            let a = self.tree.pred[v as usize] as usize;
            if self.tree.up[v as usize] {
                self.flow[a] -= delta;
            } else {
                self.flow[a] += delta;
            }
            v = self.tree.parent[v as usize];
        }
        // Second side: flow runs from the node up to its parent.
        let mut v = second;
        while v != apex {
            let a = self.tree.pred[v as usize] as usize;
            if self.tree.up[v as usize] {
                self.flow[a] += delta;
            } else {
                self.flow[a] -= delta;
            }
            v = self.tree.parent[v as usize];
        }
    }
}

/// A set of nodes with a list, for marking and walking them.
#[derive(Debug, Default, Clone)]
struct Marks {
    list: Vec<u32>,
    marked: Vec<bool>,
}

impl Marks {
    fn new(nodes: usize) -> Marks {
        Marks {
            list: Vec::new(),
            marked: vec![false; nodes],
        }
    }

    fn mark(&mut self, v: u32) {
        let v_us = v as usize;
        if v_us >= self.marked.len() {
            self.marked.resize(v_us + 1, false);
        }
        if !self.marked[v_us] {
            self.marked[v_us] = true;
            self.list.push(v);
        }
    }

    /// Unmarks the `k`-th listed node (the last one takes its place).
    fn unmark_at(&mut self, k: usize) {
        let v = self.list.swap_remove(k);
        self.marked[v as usize] = false;
    }

    /// The marked nodes, unmarking them all. The list keeps its room for
    /// the next ones: growing it again, reallocation by reallocation, was
    /// a tenth of a warm run.
    fn take(&mut self) -> Vec<u32> {
        for &v in &self.list {
            self.marked[v as usize] = false;
        }
        let room = Vec::with_capacity(self.list.capacity());
        std::mem::replace(&mut self.list, room)
    }
}

#[cfg(test)]
mod tests;
