# The two commands: `make run` serves the portal on SQLite with its scheduler; `make test` runs every test on
# SQLite and on PostgreSQL. Everything else here is what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# two processes: the suite waits on the databases and the browser as much as it computes
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres install install-test translations messages chromium bench lint contracts clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

translations: | $(BIN)/activate
	$(BIN)/pybabel -q compile -d translations

# Re-extract the messages after changing strings, then translate the new ones in translations/vi.
messages:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving http://127.0.0.1:5000 (the scheduler runs beside it; Ctrl+C stops both)"
	@trap 'kill $$scheduler 2>/dev/null' EXIT; \
	$(FLASK) scheduler run & scheduler=$$!; \
	$(FLASK) run --host 127.0.0.1 --port 5000

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install-test chromium
	$(MAKE) --no-print-directory contracts
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "=== tests on SQLite"
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres:
	@echo "=== tests on PostgreSQL"
	TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/pages.py

lint: install-test
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory contracts

# Which way imports may point ([tool.importlinter] in pyproject.toml; README: "Which way dependencies point, and why").
contracts: install-test
	@echo "=== import contracts"
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache
