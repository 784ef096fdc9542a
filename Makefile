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
		cd tests/interop && ([ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error); \
		cd "$(CURDIR)/tests/fixtures/gen2-project" && (test -d node_modules/@aws-amplify/backend || \
			(npm ci --no-audit --no-fund --loglevel=error && \
			npm install --no-save --no-audit --no-fund --loglevel=error @aws-amplify/backend@1.25.1)); \
		for dir in tests/e2e examples/vue-todo examples/react-realestate; do \
			(cd "$(CURDIR)/$$dir" && ([ node_modules/.package-lock.json -nt package-lock.json ] || \
				npm ci --no-audit --no-fund --loglevel=error)) || exit 1; \
		done; \
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
	$(PY) -m pytest -q -m "not interop and not e2e" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) tests/interop/node_modules tests/e2e/node_modules examples/vue-todo/node_modules examples/react-realestate/node_modules tests/fixtures/gen2-project/node_modules .pytest_cache .mypy_cache .ruff_cache

## Benchmarks, not part of `make test`: ampbase vs AWS's AppSync simulator (the peer, from
## ../shared/tools/peer or $AMPBASE_PEER_DIR) vs a bare ASGI baseline. Needs wrk, node, java 17.
## Options: make bench BENCH_ARGS="--seconds 5 --rounds 1 --workloads get,list". See bench/README.md.
.PHONY: bench
bench: $(DEVSTAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

## Soak, not part of `make test` (~10 minutes): mixed queries and mutations plus 1,000 live
## AppSync-protocol subscriptions on one server; RSS and fds must stay flat and no event may be
## lost. Options: make soak SOAK_ARGS="--minutes 3 --json bench/results/soak.json". See bench/README.md.
.PHONY: soak
soak: $(DEVSTAMP)
	$(PY) bench/soak.py $(SOAK_ARGS)
