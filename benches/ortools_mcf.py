#!/usr/bin/env python3
"""OR-Tools' min-cost flow on the planner's own network, timed (by hand,
not by CI).

    pip install ortools
    jbt scenario --preset national -o national.json
    jbt plan --scenario national.json --export-network national.net > /dev/null
    python3 benches/ortools_mcf.py national.net [--repeats 3]

The network file (`jbt plan --export-network`, see src/planner/export.rs)
holds every referral x slot-class arc with the planner's exact folded
weights and the planner's optimal total. This script builds OR-Tools'
SimpleMinCostFlow on it and times Solve() alone (building the graph is not
timed), then checks OR-Tools' total against the planner's.

OR-Tools takes int64 costs and its cost scaling multiplies them by about the
node count, so weights above 2**62 / nodes cannot be given exactly. Then the
weights are divided by the smallest power of two that makes them fit, which
keeps the network and the cost range OR-Tools works on (so the timing stays
comparable) but no longer the exact lexicographic order; the report says so
and shows OR-Tools' total under the exact weights next to the planner's.
"""

import argparse
import sys
import time

from ortools.graph.python import min_cost_flow


def read_network(path):
    nodes, supplies, arcs, optimum = 0, [], [], None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            kind = parts[0]
            if kind == "arc":
                arcs.append((int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4])))
            elif kind == "supply":
                supplies.append((int(parts[1]), int(parts[2])))
            elif kind == "nodes":
                nodes = int(parts[1])
            elif kind == "optimum":
                optimum = int(parts[1])
    return nodes, supplies, arcs, optimum


def solve_once(nodes, supplies, arcs, shift):
    smcf = min_cost_flow.SimpleMinCostFlow()
    for tail, head, cap, weight in arcs:
        smcf.add_arc_with_capacity_and_unit_cost(tail, head, cap, weight >> shift)
    for node, amount in supplies:
        smcf.set_node_supply(node, amount)
    started = time.perf_counter()
    status = smcf.solve()
    seconds = time.perf_counter() - started
    if status == smcf.BAD_COST_RANGE:
        return None
    if status != smcf.OPTIMAL:
        sys.exit(f"OR-Tools did not find an optimum: status {status}")
    flows = [smcf.flow(a) for a in range(len(arcs))]
    return seconds, flows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    nodes, supplies, arcs, optimum = read_network(args.network)
    largest = max(w for _, _, _, w in arcs)
    limit = 2**62 // (nodes + 1)
    shift = 0
    while (largest >> shift) > limit:
        shift += 1
    times, flows = [], None
    while len(times) < args.repeats:
        solved = solve_once(nodes, supplies, arcs, shift)
        if solved is None:
            # OR-Tools' own range check is stricter than the bound above.
            shift += 1
            times = []
            continue
        seconds, flows = solved
        times.append(seconds)
    times.sort()
    total = sum(f * w for f, (_, _, _, w) in zip(flows, arcs))
    exact = "exact weights" if shift == 0 else f"weights / 2**{shift} (timing only, not exact)"
    print(f"network: {nodes} nodes, {len(arcs)} arcs; {exact}")
    print(f"OR-Tools solve: median {times[len(times) // 2] * 1e3:.1f} ms, "
          f"min {times[0] * 1e3:.1f} ms, max {times[-1] * 1e3:.1f} ms ({args.repeats} runs)")
    if optimum is not None:
        same = "equal" if total == optimum else f"differs by {total - optimum}"
        print(f"total weight: OR-Tools {total}, jbt {optimum}: {same}")


if __name__ == "__main__":
    main()
