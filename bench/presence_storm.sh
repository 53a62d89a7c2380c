#!/usr/bin/env bash
# Presence after a restart: N atendentes of one tenant connect at once (default socket.io-client
# options), ours with the seed's presence ("legado") and with batched presence ("lote"), beside the
# Node contract peer (the seed's presence). One JSON line each (bench/presence_storm.mjs says what).
#
#   bash bench/presence_storm.sh [N] [HANDSHAKES_PER_SECOND]
#
# A throw-away PostgreSQL database on 127.0.0.1:5432 (bench/pg_demo_db.sh); one `serve` process,
# restarted before each mode so that every mode starts from nobody online. HANDSHAKES_PER_SECOND
# (default: the setting's default) is passed as ATENDIMENTO_HANDSHAKES_PER_SECOND; 0 turns the
# budget off, which is how the default was sized (docs/deploying.md).
set -euo pipefail
N=${1:-2000}
here=$(cd "$(dirname "$0")/.." && pwd)
BIN="$here/.venv/bin/atendimento"
PY="$here/.venv/bin/python"
SHARED=${SHARED_BENCH:-/work/shared/bench}
work=$(mktemp -d /tmp/presence-storm.XXXXXX)
[ -n "${2:-}" ] && export ATENDIMENTO_HANDSHAKES_PER_SECOND=$2
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 600); do curl -fsS -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null && return; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }
storm() { (cd "$here/tests/node" && timeout 600 node "$here/bench/presence_storm.mjs" "http://127.0.0.1:$1" "$2" "$3") | tail -1; }

. "$here/bench/pg_demo_db.sh"
pg_demo_db presence_storm
"$PY" "$here/bench/presence_storm_equipe.py" ours "$N" >"$work/ours.tokens"
"$PY" "$here/bench/presence_storm_equipe.py" peer "$N" >"$work/peer.tokens"

for mode in legado lote; do
  port=$(free_port)
  (cd "$work" && exec "$BIN" serve --port "$port") >"$work/serve-$mode.log" 2>&1 & pid=$!
  wait_up "$port"
  echo "ours $(storm "$port" "$work/ours.tokens" "$mode")"
  kill -TERM $pid; wait $pid 2>/dev/null || true
done

peer=${BENCH_WORK:-/tmp/atendimento-bench-perf}  # the peer's own dependencies (socket.io, jsonwebtoken)
mkdir -p "$peer"; cp "$SHARED/contract_peer.js" "$SHARED/package.json" "$peer"/
( cd "$peer" && [ -d node_modules/socket.io ] || npm install --no-audit --no-fund --silent >/dev/null 2>&1 )
port=$(free_port)
(cd "$peer" && PORT=$port exec node contract_peer.js) >"$work/peer.log" 2>&1 & pid=$!
wait_up "$port"
echo "node-peer $(storm "$port" "$work/peer.tokens" legado)"
kill $pid; wait $pid 2>/dev/null || true
