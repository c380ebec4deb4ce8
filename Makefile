# tablebook — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-clock test-venue lint format migrate bench bench-scale soak clean

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own database and
# Redis prefix, whole test files at a time; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Two installs, each with its stamp: `make run` needs only what serving needs and the
# embedded servers (RUN_STAMP); the tests, linters and benchmarks need the dev extras
# (DEV_STAMP), which include everything `make run` needs, so a venv made by `make test`
# serves `make run` as it is. pip shows what it collects and installs as it goes.
# The serving install skips pip's bytecode compilation of every file (a third of its
# time, much of it on modules serving never imports) and compiles what serving imports
# by importing it once.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check
SERVING_MODULES := tablebook.cli, tablebook.dev, tablebook.embedded._session

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tablebook needs Python 3.11 or newer")'
	@echo "creating $(VENV) (a virtual environment for tablebook)"
	@$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@if [ $(DEV_STAMP) -nt pyproject.toml ]; then touch $@; else \
		echo "installing tablebook with what serving needs and the embedded servers (.[embedded])" && \
		$(PIP_INSTALL) --no-compile -e '.[embedded]' && \
		echo "compiling the modules serving imports" && \
		env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -c 'import $(SERVING_MODULES)' && \
		touch $@; fi

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing tablebook with the development tools (.[dev]: tests, linters, browsers' driver)"
	@$(PIP_INSTALL) -e '.[dev]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/tablebook dev

test: $(DEV_STAMP)
	$(PYTEST)

# The whole suite with the application's and the tests' clock moved by CLOCK (a faketime
# offset: +365d, -365d); the database servers keep the machine's.
CLOCK ?= +365d
test-clock: $(DEV_STAMP)
	@command -v faketime >/dev/null || { echo "make test-clock needs faketime (apt-get install faketime)" >&2; exit 1; }
	faketime -f '$(CLOCK)' $(PYTEST)

# The whole suite against a venue other than the default one: its stories, commands and
# API requests address that venue, whose streams, rows and keys carry its id.
TEST_VENUE ?= ven_5e1ec7ed0a4b4c8e9d2f3a1b6c7d8e9f
test-venue: $(DEV_STAMP)
	TABLEBOOK_TEST_VENUE=$(TEST_VENUE) $(PYTEST)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(RUN_STAMP)
	$(BIN)/tablebook db upgrade

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# The store filled to 10,000,000 events in stages and measured at each (docs/performance.md,
# "Scale curve"), the rebuilds setting its length. BENCH_SCALE_STAGES=0,200000 tries it small.
bench-scale: $(DEV_STAMP)
	$(BIN)/python -m bench scale

soak: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m slow --run-slow

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
