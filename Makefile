# Two entry points (see README): `make demo` and `make test`. Everything else is a step.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VA_CACHE ?= $(HOME)/.cache/videoannotator
export VA_CACHE

.PHONY: demo test test-postgres test-fast lint format-check setup media system-deps bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build on these machines; a bare torch pulls CUDA.
	$(BIN)/pip install -q torch==2.13.0

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

media: setup
	$(BIN)/python scripts/fetch-sample-media

system-deps:
	bash scripts/install-system-deps

# Lint and types first (a minute at most), then every test except the benchmarks (pyproject.toml
# leaves out the `bench` marker) twice: on SQLite (the default catalog), then on PostgreSQL.
test: setup lint media system-deps
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-postgres

# The suite again with the catalog on PostgreSQL: scripts/start-postgres starts Debian's server
# (data under /tmp/va-postgres, 127.0.0.1:55432), VA_CATALOG_URL points at it (one schema per
# workspace), and the server is stopped and its data deleted afterwards, pass or fail.
# Tests about SQLite itself, and files of computation or page tests, run once (tests/conftest.py:
# SQLITE_ONLY, ONE_PASS). PYTEST_ARGS narrows it
# (e.g. PYTEST_ARGS=tests/test_catalog_postgres.py); VA_PG_DATA / VA_PG_PORT move the server.
PYTEST_ARGS ?=
test-postgres: setup media system-deps
	@url=$$(bash scripts/start-postgres start) && echo "catalog: $$url" && \
		VA_CATALOG_URL=$$url $(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
		bash scripts/start-postgres stop; exit $$rc

# The tests not marked slow (no real model, no browser; some read the sample videos): a few minutes.
test-fast: setup media system-deps
	$(BIN)/python -m pytest -q -m "not slow and not bench"

# ruff's default rules and its formatter's check (ruff pinned in the test extra; settings in
# pyproject.toml), then mypy on src/videoannotator (strict on learn/, catalog/, vectors/, search/;
# see [tool.mypy]). `ruff format src tests` fixes what format-check reports.
lint: setup format-check
	$(BIN)/ruff check src tests
	$(BIN)/mypy

format-check: setup
	$(BIN)/ruff format --check src tests

demo: setup media
	$(BIN)/va --home $(VA_CACHE)/demo-home ingest $(VA_CACHE)/media
	$(BIN)/va --home $(VA_CACHE)/demo-home info
	@echo "open http://127.0.0.1:8765 (Ctrl-C stops the server)"
	$(BIN)/va --home $(VA_CACHE)/demo-home serve

# Every benchmark, one after the other, then one JSON object on stdout ({"ingest": ..., "loop": ...,
# "annotate": ..., "browser": ...}; each part also in $(BENCH_OUT)/NAME.json). About 4 minutes on
# 2 shared cores: ingest of the six sample videos ~15 s (half of it loading the model), Build +
# search at 500k clips ~100 s, annotation load (20 writers x 500, 2 rounds, SQLite FULL and NORMAL
# and PostgreSQL from scripts/start-postgres, stopped after) ~130 s, scoring by
# deployed versions (va bench score, 100k new clips x 3 labels) ~30 s, the pytest
# `bench` marker (the browser benchmark in Chromium: ingest + page measurements) ~40 s.
# docs/benchmarks.md has the figures and what they mean.
BENCH_OUT ?= test-artifacts/bench
bench: setup media system-deps
	mkdir -p $(BENCH_OUT)
	$(BIN)/va --home $$(mktemp -d) bench ingest --json $(VA_CACHE)/media > $(BENCH_OUT)/ingest.json
	$(BIN)/va bench loop --json > $(BENCH_OUT)/loop.json
	url=$$(bash scripts/start-postgres start) && VA_CATALOG_URL=$$url $(BIN)/va bench annotate --json \
		> $(BENCH_OUT)/annotate.json; rc=$$?; bash scripts/start-postgres stop; exit $$rc
	$(BIN)/va bench score --json > $(BENCH_OUT)/score.json
	$(BIN)/python -m pytest -q -m bench
	cp test-artifacts/browser-bench.json $(BENCH_OUT)/browser.json
	@$(BIN)/python -c 'import json, pathlib, sys; out = pathlib.Path(sys.argv[1]); print(json.dumps(\
		{p: json.loads((out / f"{p}.json").read_text()) for p in sys.argv[2:]}, indent=2))' $(BENCH_OUT) ingest loop annotate score browser

clean:
	rm -rf $(VENV) build *.egg-info
