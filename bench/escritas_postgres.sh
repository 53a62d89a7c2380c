#!/usr/bin/env bash
# bench/escritas_postgres.py on a throw-away PostgreSQL database (pg_demo_db.sh), once per checkout
# given (PYTHONPATH=CHECKOUT; none: this repository), alternating, three rounds.
#
#   bash bench/escritas_postgres.sh [RATE] [SECONDS] [CHECKOUT...]
set -euo pipefail
RATE=${1:-200}; SECS=${2:-10}; shift $(( $# < 2 ? $# : 2 ))
here=$(cd "$(dirname "$0")/.." && pwd)
BIN="$here/.venv/bin/atendimento"
. "$here/bench/pg_demo_db.sh"
pg_demo_db bench_escritas
checkouts=("$@"); [ ${#checkouts[@]} -gt 0 ] || checkouts=("$here")
for _ in 1 2 3; do
  for c in "${checkouts[@]}"; do
    PYTHONPATH="$c" "$here/.venv/bin/python" "$here/bench/escritas_postgres.py" --rate "$RATE" --duration "$SECS" --label "$c"
  done
done
