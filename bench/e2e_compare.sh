#!/usr/bin/env bash
# Issue 13: ../shared/bench/compare-e2e.sh (the Node contract peer and `atendimento serve` in one
# run) on SQLite or PostgreSQL, with 1 or more workers.
#
#   bench/e2e_compare.sh sqlite|postgres RATE SECONDS [WORKERS] [extra serve flags...]
#
# SQLite: a fresh folder with the demo data. PostgreSQL: a database with a unique name, migrated
# (`atendimento db upgrade`, the app connecting as atendimento_app under RLS) and loaded (`demo`)
# as `postgres` on 127.0.0.1:5432, dropped at the end. WORKERS > 1 adds --redis-url (a key prefix of
# its own is not needed: the bench's rooms are per-run ids). Prints compare-e2e.sh's three lines.
set -euo pipefail
DB=${1:?sqlite|postgres}; RATE=${2:-200}; SECS=${3:-10}; WORKERS=${4:-1}; shift $(( $# < 4 ? $# : 4 ))
here=$(cd "$(dirname "$0")/.." && pwd)
BIN="$here/.venv/bin/atendimento"
export BENCH_WORK=${BENCH_WORK:-/tmp/atendimento-bench-perf}
BENCH=${COMPARE_E2E:-$here/../../shared/bench/compare-e2e.sh}
[ -f "$BENCH" ] || BENCH=/work/shared/bench/compare-e2e.sh
extra="$*"
# The driver is a script posting hundreds of messages a second as one user: far past the default
# per-user and per-tenant limits of message posting (docs/roles.md). Raised, not switched off, so the
# figure still pays for the check; an explicit value in the environment wins.
export ATENDIMENTO_REST_RATE_LIMITS=${ATENDIMENTO_REST_RATE_LIMITS:-mensagem:enviar=10000000/minute}
export ATENDIMENTO_REST_RATE_LIMITS_TENANT=${ATENDIMENTO_REST_RATE_LIMITS_TENANT:-mensagem:enviar=10000000/minute}
if [ "$WORKERS" -gt 1 ]; then extra="$extra --workers $WORKERS --redis-url ${REDIS_URL:-redis://127.0.0.1:6379/0}"; fi
if [ "$DB" = postgres ]; then
  . "$here/bench/pg_demo_db.sh"
  pg_demo_db bench_e2e
  bash "$BENCH" "cd \"\$(mktemp -d)\" && exec $BIN serve --port \$PORT $extra" "$RATE" "$SECS"
else
  bash "$BENCH" "cd \"\$(mktemp -d)\" && $BIN demo >/dev/null && exec $BIN serve --port \$PORT $extra" "$RATE" "$SECS"
fi
