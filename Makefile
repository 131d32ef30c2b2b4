# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs what it needs into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PKG_DIRS := bus agents orchestrator observability
# Strict editable installs link each module file; relinking picks up new modules.
PKG_FILES := $(shell find $(PKG_DIRS) -name '*.py' -o -name 'py.typed' 2>/dev/null)

.PHONY: demo test lint typecheck pytest bench clean

demo: $(VENV)/.linked
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

bench: $(VENV)/.bench $(VENV)/.linked
	$(BIN)/python benchmarks/bus_throughput.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=75"

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --config-settings editable_mode=strict
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[bench]' --config-settings editable_mode=strict
	touch $@

$(VENV)/.linked: $(VENV)/.base $(PKG_FILES)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . \
		--config-settings editable_mode=strict
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .hypothesis
