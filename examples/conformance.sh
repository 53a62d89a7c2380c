#!/usr/bin/env bash
# Run the Socket.IO project's official protocol test suites against examples/conformance_server.py.
#
# usage: examples/conformance.sh DOCS_DIR [socketio|engineio|both]
#   DOCS_DIR: the docs/ folder of a checkout of github.com/socketio/socket.io (not vendored here), i.e.
#   the folder holding socket.io-protocol/v5-test-suite and engine.io-protocol/v4-test-suite.
# Each suite is a mocha test file that talks to 127.0.0.1:3000; its npm packages install in place.
set -euo pipefail
docs=${1:?usage: conformance.sh DOCS_DIR [socketio|engineio|both]}; which=${2:-both}
repo=$(cd "$(dirname "$0")/.." && pwd)
python=$repo/.venv/bin/python

run_suite() { # kind, suite folder
  local kind=$1 suite=$2 pid
  (cd "$suite" && [ -d node_modules ] || npm ci --no-audit --no-fund --silent)
  "$python" "$repo/examples/conformance_server.py" "$kind" >"/tmp/conformance-$kind.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null && break; sleep 0.1; done
  local status=0
  (cd "$suite" && npx mocha test-suite.js) || status=$?
  kill "$pid"; wait "$pid" 2>/dev/null || true
  return $status
}

status=0
if [ "$which" != engineio ]; then run_suite socketio "$docs/socket.io-protocol/v5-test-suite" || status=1; fi
if [ "$which" != socketio ]; then run_suite engineio "$docs/engine.io-protocol/v4-test-suite" || status=1; fi
exit $status
