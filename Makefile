# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs what it needs into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PKG_DIRS := bus agents orchestrator observability
# Strict editable installs link each module file; relinking picks up new modules.
PKG_FILES := $(shell find $(PKG_DIRS) -name '*.py' -o -name 'py.typed' -o -name '*.toml' -o -name '*.html' -o -name '*.js' -o -name '*.css' 2>/dev/null)

.PHONY: demo demo-bus test lint typecheck pytest bench clean

demo: $(VENV)/.linked
	rm -rf out && mkdir -p out
	$(BIN)/salesbus run examples/leads.csv --campaign examples/campaign.toml \
		--db out/demo.db --llm offline
	$(BIN)/salesbus export --db out/demo.db --status completed --format csv -o out/outreach.csv
	$(BIN)/salesbus export --db out/demo.db --format jsonl -o out/all.jsonl
	@echo "Results: out/outreach.csv (CRM-ready drafts), out/all.jsonl (every company, state, reason)."
	@echo "Inspect: $(BIN)/salesbus status --db out/demo.db ; $(BIN)/salesbus metrics --db out/demo.db"

demo-bus: $(VENV)/.linked
	$(BIN)/python examples/embed_bus.py

test: $(VENV)/.dev $(VENV)/.linked
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(VENV)/.dev $(VENV)/.linked
	$(BIN)/mypy

pytest: $(VENV)/.dev $(VENV)/.linked
	$(BIN)/pytest

# The benchmark's peers (autogen-core pins protobuf ~=5.29) cannot share .venv with
# the OTLP exporter's newest protobuf, so they live in their own venv, .venv-bench,
# which installs salesbus editable with the `bench` extra. `make test` never sees it.
# Extra script flags: make bench BENCH_ARGS="--markdown --events 50000"
BENCH_VENV := .venv-bench
BENCH_BIN  := $(BENCH_VENV)/bin
BENCH_ARGS ?=

bench: $(BENCH_VENV)/.installed
	$(BENCH_BIN)/python benchmarks/bus_throughput.py $(BENCH_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=75"

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --config-settings editable_mode=strict
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	touch $@

$(BENCH_BIN)/python:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install --quiet --upgrade pip "setuptools>=75"

# A plain (not strict) editable install maps salesbus.bus to bus/ itself, so new
# modules there are picked up without relinking.
$(BENCH_VENV)/.installed: pyproject.toml | $(BENCH_BIN)/python
	$(BENCH_BIN)/python -m pip install --quiet -e '.[bench]'
	$(BENCH_BIN)/python -m pip check
	touch $@

$(VENV)/.linked: $(VENV)/.base $(PKG_FILES)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . \
		--config-settings editable_mode=strict
	touch $@

clean:
	rm -rf $(VENV) .venv-bench build out *.egg-info .mypy_cache .ruff_cache .hypothesis
