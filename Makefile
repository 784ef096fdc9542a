# ampbase developer entry points. Two commands matter: `make sandbox` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
SCHEMA ?= examples/todo/amplify/data/resource.py
PORT ?= 4443

.PHONY: sandbox test lint typecheck unit interop-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev,postgres,redis]'
	touch $(STAMP) $@

## Serve the example Todo schema on SQLite and write amplify_outputs.json.
sandbox: $(STAMP)
	$(VENV)/bin/ampbase sandbox $(SCHEMA) --port $(PORT) --outputs amplify_outputs.json

interop-deps:
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/interop && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error); \
	else echo "npm not found: interop tests will be skipped"; fi

lint: $(DEVSTAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(DEVSTAMP)
	$(VENV)/bin/mypy

## Install dev dependencies and run the whole suite (lint, types, unit, interop).
test: $(DEVSTAMP) interop-deps
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q $(PYTEST_ARGS)

unit: $(DEVSTAMP)
	$(PY) -m pytest -q -m "not interop" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) tests/interop/node_modules .pytest_cache .mypy_cache .ruff_cache
