#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md, one after the other, in a quiet moment:
#   bash bench/run_all.sh [OUT_DIR]        (from the repository root; default OUT_DIR /tmp/atendimento-bench-results)
# Each script's table goes to OUT_DIR/<name>.txt and its raw figures to OUT_DIR/<name>.json. Needs node and
# npm, PostgreSQL on 127.0.0.1:5432 (superuser postgres) and Redis on 127.0.0.1:6379. Set PYSPY to a py-spy
# binary to add the profile of the server under the issue-5 load. Takes about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/atendimento-bench-results}
mkdir -p "$out"
py=.venv/bin/python
failed=0
run() { # name, script, args...: a failing script is reported and the next one runs
  local name=$1; shift
  echo "== $name ($(cut -d' ' -f1-3 /proc/loadavg) load)"
  if "$py" "$@" --json "$out/$name.json" >"$out/$name.txt" 2>"$out/$name.log"; then
    grep -v '^bench:' "$out/$name.txt"
  else
    echo "FAILED: see $out/$name.log"; failed=1
  fi
}
run compare_full bench/compare_full.py
run gateway_fanout bench/gateway_fanout.py
run mensagens_200 bench/mensagens_latency.py --rate 200
for rate in 50 100 150; do run "mensagens_pg_$rate" bench/mensagens_latency.py --db postgres --rate "$rate"; done
run mensagens_breakdown bench/mensagens_breakdown.py
run cluster_fanout bench/cluster_fanout.py
if [ -n "${PYSPY:-}" ]; then
  run mensagens_pg_profile bench/mensagens_latency.py --db postgres --duration 15 --profile
fi
echo "== done; results in $out"
exit $failed
