# tablebook — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-clock test-venue lint format migrate bench soak clean

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own database and
# Redis prefix, whole test files at a time; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tablebook needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tablebook dev

test: $(STAMP)
	$(PYTEST)

# The whole suite with the application's and the tests' clock moved by CLOCK (a faketime
# offset: +365d, -365d); the database servers keep the machine's.
CLOCK ?= +365d
test-clock: $(STAMP)
	@command -v faketime >/dev/null || { echo "make test-clock needs faketime (apt-get install faketime)" >&2; exit 1; }
	faketime -f '$(CLOCK)' $(PYTEST)

# The whole suite against a venue other than the default one: its stories, commands and
# API requests address that venue, whose streams, rows and keys carry its id.
TEST_VENUE ?= ven_5e1ec7ed0a4b4c8e9d2f3a1b6c7d8e9f
test-venue: $(STAMP)
	TABLEBOOK_TEST_VENUE=$(TEST_VENUE) $(PYTEST)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)
	$(BIN)/tablebook db upgrade

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python -m pytest -q -m slow --run-slow

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
