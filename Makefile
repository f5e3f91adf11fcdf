# Jiuzhu — every target installs what it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help run test lint bench fuzz soak clean

help: ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## start PostgreSQL (embedded unless DATABASE_URL), migrate, seed, 3 services + gateway
	$(BIN)/jiuzhu up

# One worker per core (at most 4), each with its own embedded PostgreSQL and template. In one
# process the suite kept about one of 2 cores busy (13.8 min of CPU in 14.3 min, install included),
# much of it tests waiting on processes they started; on two workers it takes ~8 min.
# `.venv/bin/python -m pytest tests/x.py` runs in one process, as before.
test: $(STAMP) ## run the whole suite against a real PostgreSQL
	$(BIN)/python -m pytest -n auto --maxprocesses 4

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) ## benchmarks: gateway overhead, quota summary and work-log batch, writes, a keyed write's SQL, a write's SQL on the real schema, the gateway alone, ledger, exports (print tables)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/quota_summary.py
	$(BIN)/python bench/writes.py
	$(BIN)/python bench/keyed_sql.py
	$(BIN)/python bench/write_sql.py
	$(BIN)/python bench/proxy.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/exports.py

fuzz: $(STAMP) ## schemathesis, every check, against the running stack's merged API document
	$(BIN)/python fuzz/api.py

soak: $(STAMP) ## a province's day in miniature at a fixed rate (MINUTES=10), through the gateway
	$(BIN)/python bench/soak.py --minutes $(or $(MINUTES),10)

clean: ## remove the virtualenv and local data (database, keys)
	rm -rf $(VENV) var
