#!/usr/bin/env bash
# Sizing the handshake budget: for each RATE, a fresh `serve` (PostgreSQL demo, budget off), RATE
# new socket.io-client connections per second for SECONDS (each an atendente of the demo tenant:
# token checked, rooms joined, presence counted), while another process asks GET /health every
# 20 ms; its latency over the idle one is the event loop's lag. The default of
# ATENDIMENTO_HANDSHAKES_PER_SECOND is the highest rate whose worst /health stays under 100 ms.
#
#   bash bench/handshake_rate.sh [SECONDS] RATE...        e.g. bash bench/handshake_rate.sh 5 50 100 200 400
set -euo pipefail
SECS=${1:-5}; shift
here=$(cd "$(dirname "$0")/.." && pwd)
BIN="$here/.venv/bin/atendimento"
work=$(mktemp -d /tmp/handshake-rate.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
. "$here/bench/pg_demo_db.sh"
pg_demo_db handshake_rate
max=0; for r in "$@"; do [ "$r" -gt "$max" ] && max=$r; done
"$here/.venv/bin/python" "$here/bench/presence_storm_equipe.py" ours $((max * SECS)) >"$work/tokens"
export ATENDIMENTO_HANDSHAKES_PER_SECOND=0
for rate in "$@"; do
  port=$(free_port)
  (cd "$work" && exec "$BIN" serve --port "$port") >"$work/serve-$rate.log" 2>&1 & pid=$!
  for _ in $(seq 600); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  python3 - "$port" $((SECS + 2)) >"$work/probe-$rate.json" <<'PY' & probe=$!
import json, sys, time, urllib.request
port, secs = sys.argv[1], float(sys.argv[2])
lat, end = [], time.monotonic() + secs
while time.monotonic() < end:
    t0 = time.monotonic()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read()
    lat.append((time.monotonic() - t0) * 1000)
    time.sleep(0.02)
lat.sort()
print(json.dumps({"healthP50Ms": round(lat[len(lat) // 2]), "healthP99Ms": round(lat[int(len(lat) * 0.99)]), "healthMaxMs": round(lat[-1])}))
PY
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  out=$(cd "$here/tests/node" && node "$here/bench/handshake_rate.mjs" "http://127.0.0.1:$port" "$work/tokens" "$rate" "$SECS")
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  wait $probe
  # The server's CPU per connection (clock ticks of 10 ms; the idle process spends next to none).
  cpu=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(round(($t1-$t0)*10/max(1,r['connected']), 2))" "$out")
  echo "$out $(cat "$work/probe-$rate.json") {\"serverCpuMsPerConnection\": $cpu}"
  kill -TERM $pid; wait $pid 2>/dev/null || true
done
