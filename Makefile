# Two entry points (see README): `make demo` and `make test`. Everything else is a step.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VA_CACHE ?= $(HOME)/.cache/videoannotator
export VA_CACHE

.PHONY: demo test setup media system-deps bench clean

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

test: setup media system-deps
	$(BIN)/python -m pytest -q

demo: setup media
	$(BIN)/va --home $(VA_CACHE)/demo-home ingest $(VA_CACHE)/media
	$(BIN)/va --home $(VA_CACHE)/demo-home info
	@echo "open http://127.0.0.1:8765 (Ctrl-C stops the server)"
	$(BIN)/va --home $(VA_CACHE)/demo-home serve

bench: setup media
	$(BIN)/va --home $$(mktemp -d) bench ingest --json $(VA_CACHE)/media

clean:
	rm -rf $(VENV) build *.egg-info
