# The two commands a fresh machine needs: `make serve` and `make test`.
# Each creates .venv and installs the pinned dependencies (requirements.lock) the first time.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint types unit demo bench clean lock

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

## Serve on 127.0.0.1:3001 with the embedded default (SQLite in ./data, in-process fan-out).
serve: $(STAMP)
	$(BIN)/atendimento serve

## Load the demo data of ../shared/contract.md into the embedded database.
demo: $(STAMP)
	$(BIN)/atendimento demo

## The whole suite: lint, types, unit and integration tests (needs PostgreSQL and Redis up: see .ci/run).
test: $(STAMP) lint types unit

lint: $(STAMP)
	$(BIN)/ruff check atendimento tests examples bench
	$(BIN)/ruff format --check atendimento tests examples bench

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## Side by side with the Node peer (needs node and npm): see docs/benchmarks.md.
bench: $(STAMP)
	bash ../shared/bench/compare-fanout.sh '$(BIN)/python bench/fanout_server.py' 1000 100

## Re-resolve requirements.lock from requirements-dev.in (pinned).
lock:
	rm -rf /tmp/atendimento-lock && $(PYTHON) -m venv /tmp/atendimento-lock
	/tmp/atendimento-lock/bin/pip install --quiet -r requirements-dev.in
	/tmp/atendimento-lock/bin/pip freeze > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
