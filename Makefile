# Harambee: set up, run and test.  `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
FLASK := $(BIN)/flask --app webapp
PYTEST_ARGS ?=
SQLITE_TEST_URL ?= sqlite:///:memory:

export HARAMBEE_ENV ?= development

.PHONY: help venv install test-deps translations run test test-sqlite test-pg services

help:
	@echo "make run          set up, migrate, load the demo data and serve on http://127.0.0.1:5000"
	@echo "make test         the test suite on SQLite, then on PostgreSQL (both must pass)"
	@echo "make test-sqlite  the test suite on SQLite only"
	@echo "make test-pg      the test suite on PostgreSQL only"
	@echo "                  PYTEST_ARGS='-k login -x' is passed to pytest"
	@echo "make venv         create .venv and install requirements.txt"
	@echo "make test-deps    also install requirements-test.txt and Debian's chromium"
	@echo "make translations compile the message catalogs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	@touch $@

$(TEST_STAMP): requirements-test.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

venv install: $(RUNTIME_STAMP)

# The browser tests drive Debian's chromium; Playwright never downloads a browser here.
test-deps: $(RUNTIME_STAMP) $(TEST_STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

translations: $(RUNTIME_STAMP)
	@if find webapp/translations -name '*.po' 2>/dev/null | grep -q .; then \
	  $(BIN)/pybabel -q compile -d webapp/translations -f; \
	fi

run: export HARAMBEE_ENV = development
run: $(RUNTIME_STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) demo load
	HARAMBEE_IN_PROCESS_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port 5000

services:
	@scripts/ensure-services.sh >/dev/null

# The two passes run one after the other, each spread over pytest-xdist processes: 2 (this machine's
# cores; SQLITE_TEST_WORKERS and PG_TEST_WORKERS set each, TEST_WORKERS=N both, 0 runs in one process).
# A third PostgreSQL process ran a third of the suite faster (152 s -> 120 s) but the whole pass slower
# (448 s with 2, 494 s with 3, on a machine whose speed varied by 15 % between runs), so 2 it is. Side by side, the SQLite pass ended long before the
# PostgreSQL one and left a core idle for the rest; spread, each pass keeps both busy. The workers share
# nothing: SQLite in memory, a PostgreSQL schema, a Redis database and free ports per process
# (tests/conftest.py). --dist worksteal: a worker that runs dry takes half of what the other has left, so
# the long files (the route fuzzer, the permission tables) end on both; each process builds a world once.
# make test fails if either pass fails, and says how long each took.
TEST_WORKERS ?=
SQLITE_TEST_WORKERS ?= $(or $(TEST_WORKERS),2)
PG_TEST_WORKERS ?= $(or $(TEST_WORKERS),2)
xdist = $(if $(filter 0,$(1)),,-n $(1) --dist worksteal)
test: test-deps translations
	@scripts/ensure-services.sh >/dev/null; \
	status=0; started=$$(date +%s); \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	sqlite_done=$$(date +%s); \
	$(MAKE) --no-print-directory test-pg || status=1; \
	echo "make test: SQLite pass $$(( sqlite_done - started )) s, PostgreSQL pass $$(( $$(date +%s) - sqlite_done )) s," \
	     "$$(( $$(date +%s) - started )) s in all"; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see the SQLite and PostgreSQL runs above)"; fi; \
	exit $$status

test-sqlite: export HARAMBEE_ENV = test
test-sqlite: test-deps translations
	@services="$$(scripts/ensure-services.sh)"; eval "$$services"; \
	echo "=== pytest on SQLite ($(SQLITE_TEST_URL)) ==="; \
	TEST_DATABASE_URL='$(SQLITE_TEST_URL)' $(BIN)/python -m pytest $(call xdist,$(SQLITE_TEST_WORKERS)) $(PYTEST_ARGS)

test-pg: export HARAMBEE_ENV = test
test-pg: test-deps translations
	@services="$$(scripts/ensure-services.sh)"; eval "$$services"; \
	if [ -z "$$HARAMBEE_PG_URL" ]; then \
	  echo "SKIPPED: PostgreSQL run — PostgreSQL is unavailable (see the banner above)"; exit 0; \
	fi; \
	echo "=== pytest on PostgreSQL ($$HARAMBEE_PG_URL) ==="; \
	TEST_DATABASE_URL="$$HARAMBEE_PG_URL" $(BIN)/python -m pytest $(call xdist,$(PG_TEST_WORKERS)) $(PYTEST_ARGS)
