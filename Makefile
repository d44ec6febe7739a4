# The two commands of the quick start are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
# The project runs on Python 3.11; prefer that interpreter by name when the machine has several.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Development defaults; the environment may override any of them.
export DEBUG ?= true

.PHONY: demo test bench lint services check-migrations clean

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "OKRSignal needs Python 3.11; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

# The embedded default: SQLite under var/, tasks in-process, the demo organisation, a server on :8000.
demo: $(INSTALLED)
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --no-input
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py create_demo
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py runserver 127.0.0.1:8000

# PostgreSQL, Redis and Chromium up (bin/services-up), then the whole suite against them, in
# $(TEST_WORKERS) processes (each test file in one of them; tests/settings.py gives each its own Redis).
TEST_WORKERS ?= 2
test: $(INSTALLED) services
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Every registered benchmark (manage.py bench --list), each in its own process and in a scratch database
# made anew for it: benchmarks leave their data behind, the large ones delete a million rows as they
# finish, and what the database does after that (vacuuming, writing the changes out) must not run beside
# the next benchmark; a fresh database also keeps one run's figures comparable with the next.
# BENCH_NAMES=ingest runs only those named; BENCH_ARGS=--check fails the run when a target is missed.
# Redis holds the drift engine's pending set, as in a deployment.
BENCH_DB ?= okrsignal_bench
BENCH_SERVER ?= postgres://okrsignal:okrsignal@127.0.0.1:5432
BENCH_REDIS ?= redis://127.0.0.1:6379/14
bench: $(INSTALLED) services
	set -e; names="$(or $(BENCH_NAMES),$$(env -u DATABASE_URL $(BIN)/python manage.py bench --list))"; \
	export DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB) REDIS_URL=$(BENCH_REDIS) CACHE_URL=$(BENCH_REDIS); \
	for name in $$names; do \
		psql "$(BENCH_SERVER)/postgres" -q -v ON_ERROR_STOP=1 \
			-c "DROP DATABASE IF EXISTS $(BENCH_DB) WITH (FORCE)" -c "CREATE DATABASE $(BENCH_DB)"; \
		$(BIN)/python manage.py migrate --no-input -v 0; \
		$(BIN)/python manage.py bench $$name $(BENCH_ARGS); \
	done

services:
	bin/services-up

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check-migrations: $(INSTALLED)
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/okrsignal.sqlite3 var/static
