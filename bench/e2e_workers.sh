#!/usr/bin/env bash
# Issue 13: `serve --workers N` under ../shared/bench's e2e driver, beside the Node contract peer, in
# one run. compare-e2e.sh reads the CPU of the one process it started, which with workers is the
# supervisor (it does nothing); this reads the whole process tree (supervisor + workers) instead.
#
#   bench/e2e_workers.sh WORKERS RATE SECONDS [SOCKETS]
#
# PostgreSQL (a throw-away database on 127.0.0.1:5432, migrated and loaded with the demo data as in
# e2e_compare.sh) and Redis on 127.0.0.1:6379, both required by --workers above 1. Prints one line
# per server (p50/p99/max ms, deliveries, CPU ms per request) and the ratios, like compare-e2e.sh.
set -euo pipefail
WORKERS=${1:?workers}; RATE=${2:-200}; SECS=${3:-10}; NS=${4:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
BIN="$here/.venv/bin/atendimento"
SHARED=${SHARED_BENCH:-$here/../shared/bench}
[ -d "$SHARED" ] || SHARED=/work/shared/bench
work=${BENCH_WORK:-/tmp/atendimento-bench-perf}
# A script posting hundreds of messages a second as one user: the message limits raised (as in
# e2e_compare.sh), so the figure pays for the check without being refused by it.
export ATENDIMENTO_REST_RATE_LIMITS=${ATENDIMENTO_REST_RATE_LIMITS:-mensagem:enviar=10000000/minute}
export ATENDIMENTO_REST_RATE_LIMITS_TENANT=${ATENDIMENTO_REST_RATE_LIMITS_TENANT:-mensagem:enviar=10000000/minute}
mkdir -p "$work"; cp "$SHARED"/contract_peer.js "$SHARED"/e2e-latency.mjs "$SHARED"/package.json "$work"/
( cd "$work" && [ -d node_modules/socket.io ] || npm install --no-audit --no-fund --silent >/dev/null 2>&1 )

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# utime + stime (clock ticks) of a process and all its descendants.
tree_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14+$15}' "/proc/$p/stat")))
  done
  echo "$total"
}
run_one() { # name port command...
  local name=$1 port=$2; shift 2
  "$@" >"$work/$name-workers.log" 2>&1 & local pid=$!
  for _ in $(seq 300); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.1; done
  sleep 1  # every worker up, not only the first to answer
  local a b out; a=$(tree_ticks $pid)
  out=$(cd "$work" && timeout 300 node e2e-latency.mjs "http://127.0.0.1:$port" "$RATE" "$SECS" "$NS" | tail -1) || true
  b=$(tree_ticks $pid); kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  python3 -c 'import json,sys; r=json.loads(sys.argv[2]); t=int(sys.argv[3]); print(sys.argv[1], "p50_ms", r["p50_ms"], "p99_ms", r["p99_ms"], "max_ms", r["max_ms"], "delivered", str(r["delivered"]) + "/" + str(r["expected"]), "cpu_ms_per_request", round(t*10/r["requests"], 2))' "$name" "$out" "$((b-a))"
}

. "$here/bench/pg_demo_db.sh"
pg_demo_db bench_workers

p1=$(free_port); peer=$(run_one node-peer "$p1" env PORT=$p1 node "$work/contract_peer.js")
p2=$(free_port); ours=$(run_one "workers-$WORKERS" "$p2" bash -c "cd \"\$(mktemp -d)\" && exec $BIN serve --port $p2 --workers $WORKERS --redis-url ${REDIS_URL:-redis://127.0.0.1:6379/0}")
echo "$peer"; echo "$ours"
python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print("ratio_yours_over_node p99", round(float(b[4])/float(a[4]),2), "cpu_per_request", round(float(b[10])/float(a[10]),2))' "$peer" "$ours"
