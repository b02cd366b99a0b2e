//! The spanning tree of a network simplex basis: parent links, node
//! potentials and depths, with child lists so a subtree can be walked.
//!
//! Children are kept in doubly linked sibling lists (`first_child`,
//! `next`, `prev`), so cutting a node from its parent and hanging it under
//! another is O(1); a pivot then costs the length of the cycle plus the
//! size of the subtree that moves.

use super::super::weights::Weight;

/// "No node": the root's parent, the end of a sibling list.
pub(super) const NONE: u32 = u32::MAX;

/// A rooted spanning tree over nodes `0..n`.
#[derive(Debug, Default, Clone)]
pub(super) struct Tree {
    /// Parent node; `NONE` for the root.
    pub parent: Vec<u32>,
    /// The tree arc to the parent.
    pub pred: Vec<u32>,
    /// `pred` is directed from the node to its parent (else parent to node).
    pub up: Vec<bool>,
    pub depth: Vec<u32>,
    /// Node potentials: every tree arc `(a -> b)` has `cost + pi[a] - pi[b] = 0`.
    pub pi: Vec<Weight>,
    first_child: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Scratch stack for subtree walks.
    stack: Vec<u32>,
    /// When on, [`Tree::shift_from`] and [`Tree::refresh_from`] append
    /// every node whose potential they set, with the sign of the change
    /// (`0`: not known, set anew).
    pub shifted: Option<Vec<(u32, i8)>>,
}

impl Tree {
    /// A tree of `n` nodes with the given links (`parent[root] == NONE`);
    /// depths and potentials are computed by [`Tree::refresh_from`].
    pub fn new(parent: Vec<u32>, pred: Vec<u32>, up: Vec<bool>) -> Tree {
        let n = parent.len();
        let mut tree = Tree {
            parent,
            pred,
            up,
            depth: vec![0; n],
            pi: vec![0; n],
            first_child: vec![NONE; n],
            next: vec![NONE; n],
            prev: vec![NONE; n],
            stack: Vec::new(),
            shifted: None,
        };
        for v in 0..n {
            let p = tree.parent[v];
            if p != NONE {
                tree.attach(v as u32, p);
            }
        }
        tree
    }

    /// Room for `more` nodes beyond those there are, so
    /// [`Tree::push_leaf`] does not copy the arrays.
    pub fn reserve(&mut self, more: usize) {
        self.parent.reserve(more);
        self.pred.reserve(more);
        self.up.reserve(more);
        self.depth.reserve(more);
        self.pi.reserve(more);
        self.first_child.reserve(more);
        self.next.reserve(more);
        self.prev.reserve(more);
    }

    /// Adds node `n` (the next index) as a leaf under `parent`, joined by
    /// `arc` directed from the leaf to `parent` with weight `weight`.
    pub fn push_leaf(&mut self, parent: u32, arc: u32, weight: Weight) {
        let v = self.parent.len() as u32;
        let p = parent as usize;
        self.parent.push(parent);
        self.pred.push(arc);
        self.up.push(true);
        self.depth.push(self.depth[p] + 1);
        // weight + pi[v] - pi[parent] = 0
        self.pi.push(self.pi[p] - weight);
        self.first_child.push(NONE);
        self.next.push(NONE);
        self.prev.push(NONE);
        self.attach(v, parent);
    }

    /// Hangs `v` first in `p`'s child list (does not set `parent`).
    fn attach(&mut self, v: u32, p: u32) {
        let head = self.first_child[p as usize];
        self.next[v as usize] = head;
        self.prev[v as usize] = NONE;
        if head != NONE {
            self.prev[head as usize] = v;
        }
        self.first_child[p as usize] = v;
    }

    /// Takes `v` out of its parent's child list (does not clear `parent`).
    fn detach(&mut self, v: u32) {
        let (prev, next) = (self.prev[v as usize], self.next[v as usize]);
        if prev != NONE {
            self.next[prev as usize] = next;
        } else {
            let p = self.parent[v as usize];
            self.first_child[p as usize] = next;
        }
        if next != NONE {
            self.prev[next as usize] = prev;
        }
    }

    /// Sets depth and potential of every node below `top` from its parent's,
    /// `arc_cost(arc)` giving each tree arc's weight. Returns how many nodes
    /// were visited (`top` included).
    pub fn refresh_from(&mut self, top: u32, arc_cost: impl Fn(u32) -> Weight) -> usize {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push(top);
        let mut visited = 0;
        while let Some(v) = stack.pop() {
            visited += 1;
            let vi = v as usize;
            if let Some(shifted) = &mut self.shifted {
                shifted.push((v, 0));
            }
            let p = self.parent[vi];
            if p != NONE {
                let cost = arc_cost(self.pred[vi]);
                self.depth[vi] = self.depth[p as usize] + 1;
                // Tree arcs have zero reduced cost: cost + pi[tail] - pi[head] = 0.
                self.pi[vi] = if self.up[vi] {
                    self.pi[p as usize] - cost
                } else {
                    self.pi[p as usize] + cost
                };
            }
            let mut c = self.first_child[vi];
            while c != NONE {
                stack.push(c);
                c = self.next[c as usize];
            }
        }
        self.stack = stack;
        visited
    }

    /// Adds `delta` to the potential of every node below `top` and sets
    /// their depths from their parents'.
    pub fn shift_from(&mut self, top: u32, delta: Weight) {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push(top);
        while let Some(v) = stack.pop() {
            let vi = v as usize;
            self.pi[vi] += delta;
            if let Some(shifted) = &mut self.shifted {
                shifted.push((v, delta.signum() as i8));
            }
            self.depth[vi] = self.depth[self.parent[vi] as usize] + 1;
            let mut c = self.first_child[vi];
            while c != NONE {
                stack.push(c);
                c = self.next[c as usize];
            }
        }
        self.stack = stack;
    }

    /// The node whose tree arc is `arc`, if `arc` is a tree arc between
    /// `tail` and `head`.
    pub fn below(&self, arc: u32, tail: u32, head: u32) -> Option<u32> {
        [tail, head]
            .into_iter()
            .find(|&v| self.parent[v as usize] != NONE && self.pred[v as usize] == arc)
    }

    /// The nearest common ancestor of `a` and `b`.
    pub fn join(&self, mut a: u32, mut b: u32) -> u32 {
        while a != b {
            let (da, db) = (self.depth[a as usize], self.depth[b as usize]);
            if da >= db {
                a = self.parent[a as usize];
            }
            if db >= da {
                b = self.parent[b as usize];
            }
        }
        a
    }

    /// Replaces the tree arc above `out` by `arc` from `low` to `high`:
    /// `low` lies in the subtree of `out` and becomes its new top, hung
    /// under `high`; the parent links on the path from `low` up to `out`
    /// are reversed. `low_is_tail`: `arc` is directed from `low` to `high`.
    pub fn rehang(&mut self, low: u32, high: u32, arc: u32, low_is_tail: bool, out: u32) {
        let (mut child, mut new_parent, mut new_arc, mut new_up) = (low, high, arc, low_is_tail);
        loop {
            let ci = child as usize;
            let (old_parent, old_arc, old_up) = (self.parent[ci], self.pred[ci], self.up[ci]);
            self.detach(child);
            self.parent[ci] = new_parent;
            self.pred[ci] = new_arc;
            self.up[ci] = new_up;
            self.attach(child, new_parent);
            if child == out {
                break;
            }
            // The old parent hangs below `child` now, through the same arc
            // seen from the other end.
            new_parent = child;
            new_arc = old_arc;
            new_up = !old_up;
            child = old_parent;
        }
    }
}
