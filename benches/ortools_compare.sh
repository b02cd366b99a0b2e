#!/usr/bin/env bash
# `jbt plan` end to end against OR-Tools' min-cost flow solve alone, on the
# same network, one preset after the other in one run (by hand, not by CI).
#
#     pip install ortools
#     cargo build --release
#     benches/ortools_compare.sh [presets...]      # default: all four
#
# For each preset: the scenario (`jbt scenario`), its full referral x class
# network with the planner's exact weights (`jbt plan --export-network`),
# OR-Tools' Solve() timed by benches/ortools_mcf.py (graph built before the
# clock), then `jbt plan` timed as a whole process (start, JSON in,
# validation, solve, JSON out) with /usr/bin/time. Prints one Markdown row
# per preset: medians, and the ratio OR-Tools / jbt.
set -euo pipefail
cd "$(dirname "$0")/.."

jbt=${JBT_BIN:-target/release/jbt}
[ -x "$jbt" ] || { echo "build first: cargo build --release" >&2; exit 1; }
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(gelderland national stress overload)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Wall time of one run of a command, in ms, median of 7.
wall_ms() {
    : >"$work/floor"
    for _ in $(seq 7); do
        start=$EPOCHREALTIME
        "$@" >/dev/null
        end=$EPOCHREALTIME
        awk -v s="$start" -v e="$end" 'BEGIN {print (e - s) * 1000}' >>"$work/floor"
    done
    median <"$work/floor" | awk '{printf "%.2f", $1}'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The floor of any end-to-end time here: starting a process at all, and
# starting jbt (a large binary) without planning.
echo "process start: /bin/true $(wall_ms /bin/true) ms, jbt --version $(wall_ms "$jbt" --version) ms"
echo "| preset | OR-Tools solve, median (min) | jbt plan end to end, median | jbt peak memory | OR-Tools / jbt |"
echo "|---|--:|--:|--:|--:|"
for p in "${presets[@]}"; do
    case $p in stress | overload) runs=3 ;; *) runs=7 ;; esac
    "$jbt" scenario --preset "$p" -o "$work/$p.json" >/dev/null
    "$jbt" plan --scenario "$work/$p.json" --export-network "$work/$p.net" >/dev/null
    ortools=$(python3 benches/ortools_mcf.py "$work/$p.net" --repeats "$runs")
    or_median=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' <<<"$ortools")
    or_min=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' <<<"$ortools")
    : >"$work/times"
    : >"$work/rss"
    for _ in $(seq "$runs"); do
        # Wall time from the shell's microsecond clock (time(1) rounds to
        # 10 ms); peak memory from a second, separate run.
        start=$EPOCHREALTIME
        "$jbt" plan --scenario "$work/$p.json" >/dev/null
        end=$EPOCHREALTIME
        awk -v s="$start" -v e="$end" 'BEGIN {print e - s}' >>"$work/times"
        /usr/bin/time -f "%M" -o "$work/one" "$jbt" plan --scenario "$work/$p.json" >/dev/null
        cat "$work/one" >>"$work/rss"
    done
    jbt_ms=$(median <"$work/times" | awk '{v = $1 * 1000; printf (v < 10 ? "%.1f" : "%.0f"), v}')
    rss_mib=$(median <"$work/rss" | awk '{printf "%.0f", $1 / 1024}')
    ratio=$(awk -v a="$or_median" -v b="$jbt_ms" 'BEGIN { printf "%.2fx", a / b }')
    echo "| $p | $or_median ms ($or_min) | $jbt_ms ms | $rss_mib MiB | $ratio |"
    grep -E '^total weight' <<<"$ortools" | sed "s/^/    $p: /" >&2 || true
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
