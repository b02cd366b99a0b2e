#!/usr/bin/env bash
# Load test of the service (BENCHMARKS.md, "Service under load").
#
# Starts `jbt demo` (the release build: `jbt serve` plus the demo data) on a
# fresh database, SQLite and/or PostgreSQL, and loads it from a second
# process on loopback:
#   1. wrk, closed loop: the most board reads per second (2 threads, 32 connections);
#   2. benches/load.rs, open loop at a fixed rate: board reads at 500 req/s;
#   3. the referral API mix (reads, changes, registrations) at 100 req/s;
#   4. board reads at 500 req/s with a re-plan (POST /api/v1/plan/run) 10 s in.
# Results go to target/load/results.jsonl, one JSON object per run, and
# to standard output.
#
#   tools/load.sh                 # SQLite, and PostgreSQL when reachable
#   tools/load.sh sqlite          # one backend
#   DURATION=60 RATE=500 tools/load.sh postgres
#   JBT_BIN=/path/to/other/jbt tools/load.sh   # the same load against another build
#
# Needs wrk (apt-get install -y wrk). PostgreSQL: PGHOST/PGPORT/PGUSER
# (default 127.0.0.1:5432, postgres), as in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30}
RATE=${RATE:-500}
API_RATE=${API_RATE:-100}
PORT=${PORT:-18080}
PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
backends=("$@")
if [ ${#backends[@]} -eq 0 ]; then
    backends=(sqlite)
    pg_isready -h "$PGHOST" -p "$PGPORT" -t 3 >/dev/null 2>&1 && backends+=(postgres)
fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

echo "== building (release)"
cargo build --release --quiet
cargo bench --bench load --no-run --quiet 2>/dev/null
target_dir=${CARGO_TARGET_DIR:-target}
bin=${JBT_BIN:-$target_dir/release/jbt}
driver=$(ls -t "$target_dir"/release/deps/load-* | grep -v '\.d$' | head -1)
mkdir -p "$target_dir/load"
results="$target_dir/load/results.jsonl"

server_pid=""
work=""
pg_db=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    [ -n "$pg_db" ] && psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
    [ -n "$work" ] && rm -rf "$work"
    server_pid="" pg_db="" work=""
}
trap cleanup EXIT

note() { # adds the backend, the machine and its load to a JSON line
    python3 -c 'import json,sys,os
r=json.loads(sys.argv[1]); r["backend"]=sys.argv[2]; r["loadavg_before"]=sys.argv[3]; r["bin"]=sys.argv[4]
r["loadavg_after"]=open("/proc/loadavg").read().split()[0]; r["cpus"]=os.cpu_count()
print(json.dumps(r))' "$1" "$2" "$3" "$bin"
}

# One fixed-rate run; a run the driver cannot finish (a server that only
# answers errors, say) is recorded as failed and the next run goes on.
drive() { # label, driver arguments...
    local label=$1 out
    shift
    before=$(cut -d' ' -f1 /proc/loadavg)
    if ! out=$("$driver" --base "$base" --credentials "$creds" "$@" --label "$label" 2>"$work/driver.err"); then
        out=$(python3 -c 'import json,sys; print(json.dumps({"label": sys.argv[1], "failed": open(sys.argv[2]).read().strip()}))' \
            "$label" "$work/driver.err")
    fi
    note "$out" "$backend" "$before" | tee -a "$results"
}

for backend in "${backends[@]}"; do
    echo "== $backend"
    work=$(mktemp -d)
    env=(JBT__PLANNING__MORNING_REPLAN=03:00 RUST_LOG=warn)
    if [ "$backend" = postgres ]; then
        pg_db="jbt_load_$$"
        psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -qc "CREATE DATABASE $pg_db" >/dev/null
        env+=(DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$pg_db")
    fi
    env "${env[@]}" "$bin" demo --listen "127.0.0.1:$PORT" --data-dir "$work" \
        >"$work/server.log" 2>&1 &
    server_pid=$!
    base="http://127.0.0.1:$PORT"
    for _ in $(seq 1 120); do
        curl -fs "$base/healthz" >/dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fs "$base/healthz" >/dev/null || { cat "$work/server.log"; exit 1; }
    creds="$work/demo-credentials.json"
    chairs=$(python3 -c 'import json,sys
print(",".join(u["email"].split("@")[0].split(".",1)[1]+"="+u["token"] for u in json.load(open(sys.argv[1])) if u["role"]=="chair"))' "$creds")

    before=$(cut -d' ' -f1 /proc/loadavg)
    echo "-- wrk, board reads, closed loop (2 threads, 32 connections, ${DURATION}s)"
    line=$(JBT_CHAIRS="$chairs" wrk -t2 -c32 -d"${DURATION}s" --latency -s tools/load/board.lua "$base" |
        sed -n 's/^WRK_JSON //p')
    note "{\"label\":\"wrk board closed loop\",\"wrk\":$line}" "$backend" "$before" | tee -a "$results"

    echo "-- board reads at $RATE req/s"
    drive "board at $RATE/s" --mix board --rate "$RATE" --duration "$DURATION"

    echo "-- referral API mix at $API_RATE req/s"
    drive "api mix at $API_RATE/s" --mix api --rate "$API_RATE" --duration "$DURATION"

    echo "-- board reads at $RATE req/s, re-plan 10 s in"
    drive "board at $RATE/s with a re-plan" --mix board --rate "$RATE" --duration "$DURATION" --replan-at 10
    cleanup
done
echo "== results appended to $results"
