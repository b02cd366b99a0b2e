//! The network simplex against enumeration on small transportation problems.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// `n` sources of one unit, `m` sinks with capacities, every source either
/// to a sink it may use or to the "none" arc.
struct Transport {
    cost: Vec<Vec<Option<Weight>>>,
    none: Vec<Weight>,
    cap: Vec<u32>,
}

fn random(seed: u64) -> Transport {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(1..6);
    let m = rng.random_range(1..5);
    Transport {
        cost: (0..n)
            .map(|_| {
                (0..m)
                    .map(|_| rng.random_bool(0.7).then(|| rng.random_range(-5..40)))
                    .collect()
            })
            .collect(),
        none: (0..n).map(|_| rng.random_range(0..60)).collect(),
        cap: (0..m).map(|_| rng.random_range(1..3)).collect(),
    }
}

fn brute(t: &Transport, i: usize, load: &mut Vec<u32>) -> Weight {
    if i == t.cost.len() {
        return 0;
    }
    let mut best = t.none[i] + brute(t, i + 1, load);
    for (c, cost) in t.cost[i].iter().enumerate() {
        if let Some(cost) = cost {
            if load[c] < t.cap[c] {
                load[c] += 1;
                best = best.min(cost + brute(t, i + 1, load));
                load[c] -= 1;
            }
        }
    }
    best
}

/// Solves from the all-"none" tree and returns the cost of the flow.
fn simplex(t: &Transport) -> Weight {
    let (n, m) = (t.cost.len(), t.cap.len());
    let root = n + m;
    let mut net = Network::new(n + m + 1);
    let mut pred = vec![None; n + m + 1];
    for (i, &w) in t.none.iter().enumerate() {
        let a = net.add_arc(i, root, w, UNBOUNDED);
        net.set_flow(a, 1);
        pred[i] = Some(a);
    }
    for (c, &cap) in t.cap.iter().enumerate() {
        pred[n + c] = Some(net.add_arc(n + c, root, 0, cap));
    }
    for (i, row) in t.cost.iter().enumerate() {
        for (c, cost) in row.iter().enumerate() {
            if let Some(w) = cost {
                net.add_arc(i, n + c, *w, UNBOUNDED);
            }
        }
    }
    net.set_basis(root, &pred).expect("basis");
    net.optimise().expect("optimum");
    let mut total = 0;
    let mut out = vec![0u32; n];
    let mut load = vec![0u32; m];
    for a in 0..net.arcs() {
        let f = net.flow(a);
        total += Weight::from(f) * net.weight[a];
        let (tail, head) = (net.tail[a] as usize, net.head[a] as usize);
        if tail < n {
            out[tail] += f;
        }
        if head >= n && head < n + m {
            load[head - n] += f;
        }
    }
    assert!(out.iter().all(|&o| o == 1), "every source sends one unit");
    assert!(load.iter().zip(&t.cap).all(|(l, c)| l <= c), "capacities");
    for a in 0..net.arcs() {
        assert!(net.violation(a) >= 0, "optimality conditions hold");
    }
    total
}

#[test]
fn the_network_simplex_finds_the_enumerated_optimum() {
    for seed in 0..500 {
        let t = random(seed);
        let expected = brute(&t, 0, &mut vec![0; t.cap.len()]);
        assert_eq!(simplex(&t), expected, "seed {seed}");
    }
}

#[test]
fn a_basis_that_misses_a_node_is_refused() {
    let mut net = Network::new(3);
    let a = net.add_arc(0, 2, 1, UNBOUNDED);
    net.set_flow(a, 1);
    let err = net.set_basis(2, &[Some(a), None, None]);
    assert!(matches!(err, Err(FlowError::Basis(_))), "{err:?}");
}
