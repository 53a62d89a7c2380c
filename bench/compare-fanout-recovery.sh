#!/usr/bin/env bash
# The fan-out benchmark with connection state recovery on, on both sides:
#   bash bench/compare-fanout-recovery.sh [CLIENTS] [BURST]        (from the repository root)
# Runs ../shared/bench/compare-fanout.sh from a scratch copy whose server.js is bench/server.js (the
# Node peer with connectionStateRecovery behind BENCH_RECOVERY=1), and our bench/fanout_server.py
# with BENCH_RECOVERY=1 too. Prints what compare-fanout.sh prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$root/../shared/bench}
[ -d "$shared" ] || shared=/work/shared/bench  # a worktree under /work/wt/NAME
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$shared"/compare-fanout.sh "$shared"/fanout.js "$shared"/package.json "$scratch"/
cp "$root"/bench/server.js "$scratch"/server.js
export BENCH_RECOVERY=1
export BENCH_WORK=${BENCH_WORK:-/tmp/atendimento-bench-recovery}
# Reuse the peer's node_modules of a previous plain run when there is one (saves an npm install).
if [ ! -d "$BENCH_WORK/node_modules/socket.io" ] && [ -d /tmp/atendimento-bench/node_modules/socket.io ]; then
  mkdir -p "$BENCH_WORK" && cp -r /tmp/atendimento-bench/node_modules "$BENCH_WORK"/
fi
cd "$root"
bash "$scratch"/compare-fanout.sh "$root/.venv/bin/python bench/fanout_server.py" "${1:-1000}" "${2:-100}"
