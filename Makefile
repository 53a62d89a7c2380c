# The two commands a fresh machine needs: `make serve` and `make test`.
# Each creates .venv and installs what it needs, pinned, the first time: `serve` the runtime
# dependencies (requirements.lock), `test` the test tools as well (requirements-dev.lock).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: serve test test-fast lint types unit demo bench clean lock console console-if-npm admin-ui

# The agent console (console/, served at /): npm installs the pinned socket.io-client and esbuild from
# console/package-lock.json, esbuild bundles into atendimento/console/static/ (never committed).
CONSOLE_DEPS := console/node_modules/.installed
CONSOLE_OUT := atendimento/console/static/app.js

# Two stamps: `serve` needs the runtime dependencies only, `test` the test tools as well.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $(DEV_STAMP)

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	@touch $(CONSOLE_DEPS)

$(CONSOLE_OUT): $(CONSOLE_DEPS) console/build.mjs $(wildcard console/src/*)
	cd console && node build.mjs

## Build the agent console (needs node and npm).
console: $(CONSOLE_OUT)

# `serve` builds the console when npm is there; without npm (or with a failed build) the product
# still serves everything else, and / shows a front door page instead of the console.
console-if-npm:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory console || \
	  echo "make: the console did not build; serving without it"; \
	else echo "make: npm not found; serving without the agent console (/ shows the front door)"; fi

## Serve on 127.0.0.1:3001 with the embedded default (SQLite in ./data, in-process fan-out).
serve: $(STAMP) console-if-npm
	$(BIN)/atendimento serve

## Load the demo data of ../shared/contract.md into the embedded database.
demo: $(STAMP)
	$(BIN)/atendimento demo

## The whole suite: lint, types, unit and integration tests (needs PostgreSQL and Redis up: see .ci/run).
test: $(DEV_STAMP) console lint types unit

## The fast lane: no PostgreSQL, Redis, node, Chromium nor child processes (tests/faixa_rapida.py); both
## servers are pointed at a closed port, so a test that needs one and slipped in fails instead of waiting.
## It runs on up to 4 cores (pytest-xdist): each test has its own database and ports already. Bytecode
## is cached even where the environment says not to: pytest's assertion rewriting of every test module
## is otherwise redone on every run (about a fifth of the lane's CPU).
test-fast: $(DEV_STAMP)
	env -u PYTHONDONTWRITEBYTECODE \
	  ATENDIMENTO_TEST_SEM_SERVICOS=1 ATENDIMENTO_TEST_PG=postgresql://postgres@127.0.0.1:9 \
	  ATENDIMENTO_TEST_REDIS_URL=redis://127.0.0.1:9/0 ATENDIMENTO_FUZZ_EXAMPLES=30 \
	  $(BIN)/pytest --fast -q -n auto --maxprocesses 4

# lint includes the import contracts (pyproject.toml) and mypy --strict (the types target).
lint: $(DEV_STAMP) types
	$(BIN)/ruff check atendimento tests examples bench
	$(BIN)/ruff format --check atendimento tests examples bench
	$(BIN)/lint-imports

types: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest

## The official Socket.IO Admin UI (npm @socket.io/admin-ui, pinned in tools/admin-ui; not committed),
## served at /admin-ui/ by `atendimento serve --admin-ui` (docs/monitoring.md).
ADMIN_UI_DIST := tools/admin-ui/node_modules/@socket.io/admin-ui/ui/dist/index.html
admin-ui: $(ADMIN_UI_DIST)
$(ADMIN_UI_DIST): tools/admin-ui/package.json tools/admin-ui/package-lock.json
	cd tools/admin-ui && npm ci --no-audit --no-fund
	@touch $@

## Side by side with the Node peer (needs node and npm): see docs/benchmarks.md.
bench: $(DEV_STAMP)
	bash ../shared/bench/compare-fanout.sh '$(BIN)/python bench/fanout_server.py' 1000 100

## Re-resolve both lock files from requirements.in and requirements-dev.in (exact pins there).
lock:
	rm -rf /tmp/atendimento-lock && $(PYTHON) -m venv /tmp/atendimento-lock
	/tmp/atendimento-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Runtime dependencies, fully resolved and pinned (make lock)."; \
	  /tmp/atendimento-lock/bin/pip freeze; } > requirements.lock
	/tmp/atendimento-lock/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Runtime and test dependencies, fully resolved and pinned (make lock)."; \
	  /tmp/atendimento-lock/bin/pip freeze; } > requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache console/node_modules atendimento/console/static
